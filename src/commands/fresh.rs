//! `facedb fresh --force`: reset without a prompt, for CI scripts and Makefiles.

use crate::commands::reset::{self, ResetReport};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::progress::Progress;

pub fn run(settings: &Settings, args: &reset::Args, progress: &Progress) -> Result<ResetReport> {
    if !args.force {
        return Err(Error::Refused(format!(
            "fresh drops every facedb table in {} without asking; pass --force to do that, or run `facedb reset`, which asks first",
            settings.target.display()
        )));
    }
    let mut report = reset::run(settings, args, progress)?;
    report.command = "fresh";
    Ok(report)
}
