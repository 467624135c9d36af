//! Protected environments: a database recorded as production, or a run with `ENV` saying so, is
//! never reset without `--allow-production`, and never gets the default admin password.

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::seed;

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

/// Refuses to create a database that would then refuse its admin: a new database records `ENV`,
/// and a protected one may not get the default admin password. Checked before anything is
/// created, so that the refusal leaves nothing behind.
pub fn check_new_database(settings: &Settings) -> Result<()> {
    match protected_by(settings, None) {
        Some(reason) => seed::check_password_allowed(&settings.admin, Some(&reason)),
        None => Ok(()),
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
