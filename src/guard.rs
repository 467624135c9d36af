//! Protected environments: a database recorded as production, or a run with `ENV` saying so, is
//! never reset without `--allow-production`, and never gets the default admin password.

use crate::config::Settings;
use crate::error::{Error, Result};

/// `prod`, `production` and `staging`, in any case.
pub fn is_protected(environment: &str) -> bool {
    matches!(
        environment.trim().to_ascii_lowercase().as_str(),
        "prod" | "production" | "staging"
    )
}

/// Which of `ENV` and the database's recorded environment says production, if any, in words.
pub fn protected_by(settings: &Settings, recorded: Option<&str>) -> Option<String> {
    if is_protected(&settings.environment) {
        Some(format!("ENV is '{}'", settings.environment))
    } else {
        recorded
            .filter(|r| is_protected(r))
            .map(|r| format!("the database was set up with ENV={r}"))
    }
}

/// Refuses a reset of a protected database unless `--allow-production` was given.
pub fn check_reset(
    settings: &Settings,
    recorded: Option<&str>,
    allow_production: bool,
) -> Result<()> {
    match protected_by(settings, recorded) {
        Some(reason) if !allow_production => Err(Error::Refused(format!(
            "refusing to reset {}: {reason}. If you really mean to delete this data, add --allow-production",
            settings.target.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_names() {
        for env in ["prod", "PROD", "Production", "staging", " staging "] {
            assert!(is_protected(env), "{env}");
        }
        for env in ["dev", "test", "", "preprod", "productionish"] {
            assert!(!is_protected(env), "{env}");
        }
    }
}
