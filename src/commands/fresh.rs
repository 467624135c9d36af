//! `facedb fresh --force`: reset without a prompt, for CI scripts and Makefiles.

use crate::commands::reset::{self, ResetReport};
use crate::commands::SeedArgs;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Required: says that dropping every facedb table without a question is meant.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    /// Allow resetting a production database (ENV or the recorded environment is prod,
    /// production or staging).
    #[arg(long)]
    pub allow_production: bool,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// Show what would be dropped and change nothing: no lock, a missing database is not
    /// created. Exits 5 when an object facedb does not own would stop the reset.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<ResetReport> {
    if !args.force {
        return Err(Error::Refused(format!(
            "fresh drops every facedb table in {} without asking; pass --force to do that, or run `facedb reset`, which asks first",
            settings.target.display()
        )));
    }
    let reset = reset::Args {
        force: true,
        allow_production: args.allow_production,
        seed: args.seed.clone(),
        dry_run: false,
    };
    let mut report = reset::run(settings, &reset, progress)?;
    report.command = "fresh";
    Ok(report)
}
