use facedb::cli;

fn main() {
    let cli = cli::parse();
    let json = cli.json();
    let code = match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            cli::print_error(&error, json);
            error.exit_code()
        }
    };
    std::process::exit(code.into());
}
