//! Protected environments: a database recorded as production, or a run with `ENV` saying so, is
//! never reset without `--allow-production`, and never gets the default admin password.

use crate::config::{SchemaName, Settings};
use crate::db::Db;
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

/// Refuses to create a database that would then refuse its admin: its password breaks the rules,
/// or a new database records `ENV`, and a protected one may not get the default admin password.
/// Checked before anything is created, so that the refusal leaves nothing behind.
pub fn check_new_database(settings: &Settings) -> Result<()> {
    seed::check_admin_password(&settings.admin)?;
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

/// Where the connection's own `search_path` resolves one of facedb's table names to another
/// relation than the one in `schema` (an earlier schema, a role's own `"$user"` schema, a
/// temporary table): the API, connecting the same way, would read that table, not the one facedb
/// manages. One `users resolves to "crm"."users", not "public"."users"` per name. Must run
/// outside facedb's transactions, which pin the search path. SQLite has one schema: none.
pub fn shadows(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    let shadows = db.shadowed_tables(schema, &crate::inventory::TABLES)?;
    Ok(shadows
        .iter()
        .map(|s| {
            format!(
                "{} resolves to {}, not {}",
                s.name,
                s.resolved,
                schema.qualify(&s.name)
            )
        })
        .collect())
}

/// Why `command` refuses to write to `target` when `shadows` is not empty.
pub fn shadowing_refusal(
    shadows: &[String],
    command: &str,
    target: &str,
    schema: &SchemaName,
) -> Option<String> {
    (!shadows.is_empty()).then(|| {
        format!(
            "refusing to {command} {target}: the connection's search_path shows other tables under facedb's names ({}); \
             the API, connecting the same way, would read those, not the ones facedb manages in schema {}. \
             Nothing was changed. Take the other schema out of search_path, or point facedb at it with --schema",
            shadows.join("; "),
            schema.quoted()
        )
    })
}

/// Refuses (exit 5) a command that writes when [`shadows`] finds any.
pub fn check_shadowing(
    db: &mut Db,
    schema: &SchemaName,
    command: &str,
    target: &str,
) -> Result<()> {
    match shadowing_refusal(&shadows(db, schema)?, command, target, schema) {
        Some(refusal) => Err(Error::Schema(refusal)),
        None => Ok(()),
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
