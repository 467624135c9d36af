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

    /// Show what would be dropped and change nothing: no wait for another facedb, a missing database is not
    /// created. Exits 5 when an object facedb does not own would stop the reset.
    #[arg(long)]
    pub dry_run: bool,

    /// Drop the columns facedb's schema does not have (and the sequences, indexes and other
    /// objects that use them) instead of refusing: they cannot be carried over.
    #[arg(long)]
    pub drop_unknown_columns: bool,
}

impl Args {
    /// The reset `fresh --force` is: one that asks nothing.
    pub fn reset(&self) -> reset::Args {
        reset::Args {
            force: true,
            allow_production: self.allow_production,
            seed: self.seed.clone(),
            dry_run: self.dry_run,
            drop_unknown_columns: self.drop_unknown_columns,
        }
    }
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<ResetReport> {
    if !args.force {
        return Err(Error::Refused(format!(
            "fresh drops every facedb table in {} without asking; pass --force to do that, or run `facedb reset`, which asks first",
            settings.target.display()
        )));
    }
    let mut report = reset::run(settings, &args.reset(), progress)?;
    report.command = "fresh";
    Ok(report)
}
