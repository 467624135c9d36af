//! `facedb status`: where the database stands. Reads only, and never creates the database.
//! Exit 0 when it is up to date; 5 when a migration is pending, one of facedb's tables or the
//! system admin is missing, or the database does not exist.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use serde::Serialize;

use crate::backup;
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::commands::{Outcome, Report};
use crate::config::{SchemaName, Settings};
use crate::contract;
use crate::db::{self, Db};
use crate::error::{ExitCode, Result};
use crate::inventory::{self, BOOKKEEPING_TABLES};
use crate::migrations::{self, MigrationState};
use crate::password;
use crate::progress::{printable, quoted, Progress};
use crate::text::shell_word;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {}

pub type StatusReport = Report<StatusOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct StatusOutcome {
    pub database_exists: bool,
    /// `SHOW server_version` or `sqlite_version()`; `null` when the database does not exist.
    pub server_version: Option<String>,
    /// The environment recorded by the first `init`, if any.
    pub environment: Option<String>,
    pub migrations: MigrationState,
    /// facedb's tables, in the order the migrations create them.
    pub tables: Vec<TableStatus>,
    /// Whether a user with role SYSTEM_ADMIN exists; `null` when the users table is missing or
    /// cannot be read.
    pub system_admin: Option<bool>,
    /// The admin facedb seeded, when its password is still the default one (`admin123`): anyone
    /// who can reach the API can log in as it. Only that admin is checked (one hash, whatever
    /// the number of users): no other account got the default password from facedb.
    pub default_password_admins: Vec<String>,
    /// Tables in the database that facedb does not own.
    pub other_tables: Vec<String>,
    /// The tenants and their sites with their ids (what `user create --tenant/--site` take);
    /// `null` when the tables are missing or cannot be read.
    pub tenants: Option<Tenants>,
    /// The backups resets and restores kept (`facedb backups` lists them).
    pub backups: BackupsSummary,
    pub up_to_date: bool,
}

/// How many tenants and sites there are, and, when there are few, which.
#[derive(Debug, Clone, Serialize)]
pub struct Tenants {
    pub tenant_count: i64,
    pub site_count: i64,
    /// Each tenant with its sites, by id; `null` when there are more than `LISTED_AT_MOST`
    /// tenants or sites.
    pub listed: Option<Vec<TenantSites>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantSites {
    pub tenant_id: String,
    pub name: String,
    pub sites: Vec<SiteName>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteName {
    pub site_id: i64,
    pub name: String,
}

/// Up to this many tenants and sites each, `status` lists them; beyond, it counts them.
pub const LISTED_AT_MOST: i64 = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackupsSummary {
    pub count: usize,
    /// What they take on disk, together.
    pub size_bytes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableStatus {
    pub table: String,
    pub present: bool,
    /// `null` when the table is missing.
    pub rows: Option<i64>,
    /// `rows` is the planner's estimate (PostgreSQL, beyond 100,000 rows).
    pub estimated: bool,
}

impl StatusOutcome {
    fn missing_tables(&self) -> usize {
        self.tables.iter().filter(|t| !t.present).count()
    }

    /// Why the database is not up to date, and what to run about it; `command` makes a command
    /// line that reaches this database ([`Report::command_line`]).
    fn verdict(&self, command: impl Fn(&str) -> String) -> String {
        if self.up_to_date {
            return "up to date".to_owned();
        }
        if !self.database_exists {
            return format!(
                "the database does not exist: run `{}` to create it",
                command("init")
            );
        }
        let mut reasons = Vec::new();
        if !self.migrations.pending.is_empty() {
            reasons.push(format!(
                "{} pending",
                crate::text::plural(self.migrations.pending.len(), "migration")
            ));
        }
        let missing = self.missing_tables();
        if missing > 0 {
            reasons.push(format!("{} missing", crate::text::plural(missing, "table")));
        }
        let users_present = self.tables.iter().any(|t| t.table == "users" && t.present);
        match self.system_admin {
            Some(false) => reasons.push("no system admin".to_owned()),
            None if users_present => reasons.push("users.role cannot be read".to_owned()),
            _ => {}
        }
        // A table dropped after its migration ran is not something `init` brings back.
        let hint = if missing > 0 && self.migrations.pending.is_empty() {
            format!("run `{}` to see how the schema differs", command("check"))
        } else {
            format!("run `{}`", command("init"))
        };
        format!("not up to date ({}): {hint}", reasons.join(", "))
    }
}

impl Outcome for StatusOutcome {
    /// A compact block, one `label  value` line per fact, lists continued under the value.
    fn write_text(report: &StatusReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const WIDTH: usize = 14;
        let mut lines: Vec<(String, String)> = Vec::new();
        let mut field = |label: &str, values: Vec<String>| {
            for (n, value) in values.into_iter().enumerate() {
                let label = if n == 0 { label } else { "" };
                lines.push((label.to_owned(), value));
            }
        };
        let outcome = &report.outcome;
        let backend = match (&outcome.server_version, report.backend) {
            (Some(version), "sqlite") => format!("SQLite {version}"),
            (Some(version), _) => format!("PostgreSQL {version}"),
            (None, "sqlite") => "SQLite".to_owned(),
            (None, _) => "PostgreSQL".to_owned(),
        };
        field("target", vec![report.target().to_owned()]);
        field("backend", vec![backend]);
        match &report.database {
            Some(database) if outcome.database_exists && report.backend != "sqlite" => {
                field("schema", vec![database.schema.to_string()]);
            }
            _ => {}
        }
        if outcome.database_exists {
            field(
                "environment",
                vec![outcome
                    .environment
                    .clone()
                    .unwrap_or_else(|| "not recorded".to_owned())],
            );
            let or_none = |names: &[String]| {
                if names.is_empty() {
                    vec!["none".to_owned()]
                } else {
                    names.to_vec()
                }
            };
            field("applied", or_none(&outcome.migrations.applied));
            field("pending", or_none(&outcome.migrations.pending));
            if !outcome.migrations.unknown.is_empty() {
                field(
                    "unknown",
                    outcome
                        .migrations
                        .unknown
                        .iter()
                        .map(|v| format!("{v} (applied by a newer facedb)"))
                        .collect(),
                );
            }
            let admin = match outcome.system_admin {
                Some(true) => "yes",
                Some(false) => "none",
                None => "unknown",
            };
            field(
                "system admin",
                std::iter::once(admin.to_owned())
                    .chain(outcome.default_password_admins.iter().map(|name| {
                        format!(
                            "warning: {} still has the default password: `{}`",
                            quoted(name),
                            report.command_line(&format!(
                                "user reset-password {}",
                                shell_word(&printable(name))
                            ))
                        )
                    }))
                    .collect(),
            );
            let rows: Vec<String> = outcome
                .tables
                .iter()
                .map(|t| match (t.present, t.rows, t.estimated) {
                    (false, _, _) => "missing".to_owned(),
                    (true, Some(rows), true) => format!("~{rows}"),
                    (true, Some(rows), false) => rows.to_string(),
                    (true, None, _) => "?".to_owned(),
                })
                .collect();
            let name_width = outcome
                .tables
                .iter()
                .map(|t| t.table.len())
                .max()
                .unwrap_or(0);
            let rows_width = rows.iter().map(String::len).max().unwrap_or(0);
            field(
                "tables",
                outcome
                    .tables
                    .iter()
                    .zip(&rows)
                    .map(|(t, rows)| format!("{:<name_width$}  {rows:>rows_width$}", t.table))
                    .collect(),
            );
            if let Some(tenants) = &outcome.tenants {
                field("tenants", tenants.lines());
            }
            field(
                "other tables",
                vec![if outcome.other_tables.is_empty() {
                    "none".to_owned()
                } else {
                    outcome.other_tables.join(", ")
                }],
            );
            field(
                "backups",
                vec![format!(
                    "{} ({})",
                    outcome.backups.count,
                    backup::size_text(outcome.backups.size_bytes)
                )],
            );
        }
        field(
            "status",
            vec![outcome.verdict(|command| report.command_line(command))],
        );
        let text: Vec<String> = lines
            .into_iter()
            .map(|(label, value)| format!("{label:<WIDTH$}{value}"))
            .collect();
        write!(f, "{}", text.join("\n"))
    }

    /// 0 when up to date, 5 (schema problem) otherwise.
    fn exit_code(report: &StatusReport) -> ExitCode {
        if report.outcome.up_to_date {
            ExitCode::Success
        } else {
            ExitCode::Schema
        }
    }
}

/// Reports where the database at `settings` stands, without changing anything.
pub fn status(settings: &Settings) -> Result<StatusReport> {
    run(settings, &Args::default(), &Progress::quiet())
}

pub fn run(settings: &Settings, _args: &Args, progress: &Progress) -> Result<StatusReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let mut outcome = StatusOutcome {
        database_exists: false,
        server_version: None,
        environment: None,
        migrations: MigrationState::default(),
        tables: contract::table_names()
            .into_iter()
            .map(|table| TableStatus {
                table: table.to_owned(),
                present: false,
                rows: None,
                estimated: false,
            })
            .collect(),
        system_admin: None,
        default_password_admins: Vec::new(),
        other_tables: Vec::new(),
        tenants: None,
        backups: BackupsSummary::default(),
        up_to_date: false,
    };
    let Some(mut db) = db::open_existing(settings, progress)? else {
        outcome.migrations.pending = migrations::all_names(settings.target.backend());
        return Ok(Report::new("status", settings, outcome));
    };
    progress.start(format!("reading the state of {target}"));
    outcome.database_exists = true;
    let schema = &settings.schema;
    db.read_only(schema, settings.lock_timeout, |db| {
        outcome.server_version = Some(db.server_version()?);
        let names = db.table_names(schema)?;
        let has = |table: &str| names.iter().any(|n| n == table);
        outcome.environment = bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)?;
        outcome.migrations = migrations::state(db, schema)?;
        let counts = inventory::count_rows(db, schema)?;
        for table in &mut outcome.tables {
            if let Some(count) = counts.iter().find(|c| c.table == table.table) {
                table.present = true;
                table.rows = Some(count.rows);
                table.estimated = count.estimated;
            }
        }
        if has("tenants") && has("sites") {
            outcome.tenants = read_tenants(db)?;
        }
        if has("users") {
            outcome.system_admin = system_admin_exists(db, schema)?;
            let seeded = bookkeeping::recorded(db, schema, bookkeeping::SEEDED_ADMIN_KEY)?;
            outcome.default_password_admins =
                seeded_admin_with_default_password(db, schema, seeded.as_deref(), settings);
        }
        outcome.other_tables = names
            .iter()
            .filter(|n| !inventory::TABLES.contains(&n.as_str()))
            .filter(|n| !BOOKKEEPING_TABLES.contains(&n.as_str()))
            .cloned()
            .collect();
        let (count, size_bytes) = backup::summary(db, settings)?;
        outcome.backups = BackupsSummary { count, size_bytes };
        Ok(())
    })?;
    outcome.up_to_date = outcome.migrations.pending.is_empty()
        && outcome.missing_tables() == 0
        && outcome.system_admin == Some(true);
    Ok(Report::new("status", settings, outcome))
}

impl Tenants {
    /// `t-1 (One): site 3 (Main), site 4 (Annex)`, one line per tenant; or the counts.
    fn lines(&self) -> Vec<String> {
        let counts = format!(
            "{}, {}",
            crate::text::plural(self.tenant_count as usize, "tenant"),
            crate::text::plural(self.site_count as usize, "site")
        );
        let Some(listed) = &self.listed else {
            return vec![counts];
        };
        if listed.is_empty() {
            return vec!["none".to_owned()];
        }
        listed
            .iter()
            .map(|tenant| {
                let sites: Vec<String> = tenant
                    .sites
                    .iter()
                    .map(|site| format!("site {} ({})", site.site_id, site.name))
                    .collect();
                let sites = if sites.is_empty() {
                    "no sites".to_owned()
                } else {
                    sites.join(", ")
                };
                format!("{} ({}): {sites}", tenant.tenant_id, tenant.name)
            })
            .collect()
    }
}

/// The tenants and sites ([`Tenants`]); `None` when they cannot be read (a table of another
/// shape). A savepoint keeps the failure from ending the surrounding transaction.
fn read_tenants(db: &mut Db) -> Result<Option<Tenants>> {
    use crate::schema::{sites, tenants};
    let read = diesel::Connection::transaction(db, |db| {
        let tenant_count: i64 = tenants::table.count().get_result(db)?;
        let site_count: i64 = sites::table.count().get_result(db)?;
        let listed = if tenant_count <= LISTED_AT_MOST && site_count <= LISTED_AT_MOST {
            let all_tenants: Vec<(String, String)> = tenants::table
                .select((tenants::tenant_id, tenants::name))
                .order(tenants::tenant_id)
                .load(db)?;
            let all_sites: Vec<(i64, String, String)> = sites::table
                .select((sites::site_id, sites::tenant_id, sites::name))
                .order(sites::site_id)
                .load(db)?;
            Some(
                all_tenants
                    .into_iter()
                    .map(|(tenant_id, name)| TenantSites {
                        sites: all_sites
                            .iter()
                            .filter(|(_, owner, _)| *owner == tenant_id)
                            .map(|(site_id, _, name)| SiteName {
                                site_id: *site_id,
                                name: name.clone(),
                            })
                            .collect(),
                        tenant_id,
                        name,
                    })
                    .collect(),
            )
        } else {
            None
        };
        diesel::QueryResult::Ok(Tenants {
            tenant_count,
            site_count,
            listed,
        })
    });
    match read {
        Ok(tenants) => Ok(Some(tenants)),
        // A lock timeout or a lost connection is no answer about the tenants.
        Err(e) if crate::error::is_lock_timeout(&e) => Err(e.into()),
        Err(
            e @ diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            ),
        ) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = Bool)]
    exists: bool,
}

#[derive(QueryableByName)]
struct Login {
    #[diesel(sql_type = Text)]
    username: String,
    #[diesel(sql_type = Text)]
    password_hash: String,
}

/// The admin facedb seeded (`seeded`, its recorded `user_id`), if its stored hash still
/// verifies the default password: one row read, one hash verified. A database seeded before
/// facedb recorded it: the system admin with the configured seed username, else the oldest (the
/// one seeding made, since it seeds only where there is none). None when the hash cannot be read
/// (a savepoint keeps that from ending the surrounding transaction).
fn seeded_admin_with_default_password(
    db: &mut Db,
    schema: &SchemaName,
    seeded: Option<&str>,
    settings: &Settings,
) -> Vec<String> {
    let literal = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let which = match seeded {
        Some(user_id) => format!("user_id = {}", literal(user_id)),
        None => "TRUE".to_owned(),
    };
    let query = diesel::sql_query(format!(
        "SELECT username, password_hash FROM {} WHERE CAST(role AS TEXT) = 'SYSTEM_ADMIN' AND {which} \
         ORDER BY username = {} DESC, created_at, username LIMIT 1",
        schema.qualify("users"),
        literal(&settings.admin.username)
    ));
    let admin: diesel::QueryResult<Vec<Login>> =
        diesel::Connection::transaction(db, |db| query.load(db));
    admin
        .unwrap_or_default()
        .into_iter()
        .filter(|admin| password::verify(crate::config::DEFAULT_PASSWORD, &admin.password_hash))
        .map(|admin| admin.username)
        .collect()
}

/// Whether a user with role SYSTEM_ADMIN exists; `None` when `users.role` cannot be read. The
/// role is compared as text, so that a renamed enum label is an answer (no) rather than an error.
/// A savepoint keeps the failure from ending the surrounding transaction.
fn system_admin_exists(db: &mut Db, schema: &SchemaName) -> Result<Option<bool>> {
    let query = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE CAST(role AS TEXT) = 'SYSTEM_ADMIN') AS \"exists\"",
        schema.qualify("users")
    ));
    let row: diesel::QueryResult<Exists> =
        diesel::Connection::transaction(db, |db| query.get_result(db));
    match row {
        Ok(row) => Ok(Some(row.exists)),
        // A lock timeout or a lost connection is no answer about the role.
        Err(e) if crate::error::is_lock_timeout(&e) => Err(e.into()),
        Err(
            e @ diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::ClosedConnection,
                _,
            ),
        ) => Err(e.into()),
        Err(_) => Ok(None),
    }
}
