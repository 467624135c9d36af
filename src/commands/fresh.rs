//! `facedb fresh --force`: reset without a prompt, for CI scripts and Makefiles.

use crate::commands::reset::{self, DryRunReport, ResetReport};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Required: says that dropping every facedb table without a question is meant.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    #[command(flatten)]
    pub options: reset::Options,
}

impl Args {
    /// The reset `fresh --force` is: one that asks nothing.
    pub fn reset(&self) -> reset::Args {
        reset::Args {
            force: true,
            options: self.options.clone(),
            command: Some("fresh"),
        }
    }
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<ResetReport> {
    if !args.force {
        return Err(Error::Refused(format!(
            "fresh drops every facedb table in {} without asking; pass --force to do that, or run `{}`, which asks first",
            settings.target.display(),
            settings.command("reset")
        )));
    }
    let mut report = reset::run(settings, &args.reset(), progress)?;
    report.command = "fresh";
    Ok(report)
}

/// `fresh --dry-run`: the plan of the reset `fresh --force` is.
pub fn dry_run(settings: &Settings, args: &Args, progress: &Progress) -> Result<DryRunReport> {
    let mut report = reset::dry_run(settings, &args.reset(), progress)?;
    report.command = "fresh";
    Ok(report)
}
