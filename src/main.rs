use clap::Parser;

use facedb::cli::{self, Cli};

fn main() {
    let cli = Cli::parse();
    if let Err(error) = cli::run(cli) {
        eprintln!("error: {error}");
        std::process::exit(error.exit_code().into());
    }
}
