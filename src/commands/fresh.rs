//! `facedb fresh --force`: reset without a prompt, for CI scripts and Makefiles.

use crate::commands::reset::{self, ResetOptions, ResetReport};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::progress::Progress;

pub fn run(
    settings: &Settings,
    options: &ResetOptions,
    progress: &Progress,
) -> Result<ResetReport> {
    if !options.force {
        return Err(Error::Refused(format!(
            "fresh drops every facedb table in {} without asking; pass --force to do that, or run `facedb reset`, which asks first",
            settings.target.display()
        )));
    }
    reset::run(settings, options, progress)
}
