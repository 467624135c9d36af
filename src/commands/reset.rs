//! `facedb reset`: show what will be lost, ask, then drop everything facedb owns and set the
//! database up again, all in one transaction.

use std::io::IsTerminal;

use serde::Serialize;

use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::commands::{set_up, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::connection;
use crate::error::{Error, Result};
use crate::guard;
use crate::inventory::{self, Dependent, TableCount, TenantRows};
use crate::migrations;
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    /// Allow resetting a production database (ENV or the recorded environment is prod,
    /// production or staging).
    #[arg(long)]
    pub allow_production: bool,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// Show what would be dropped and change nothing: no prompt, no lock, a missing database
    /// is not created. Exits 5 when an object facedb does not own would stop the reset.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResetReport {
    pub command: &'static str,
    pub target: String,
    pub backend: &'static str,
    /// Rows per table before the reset.
    pub dropped: Vec<TableCount>,
    pub created_database: bool,
    #[serde(flatten)]
    pub setup: SetupOutcome,
}

impl std::fmt::Display for ResetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows: i64 = self.dropped.iter().map(|c| c.rows).sum();
        let mut changes = vec![if self.created_database {
            "created the database".to_owned()
        } else {
            format!(
                "dropped {} ({})",
                super::plural(self.dropped.len(), "table"),
                super::plural(rows as usize, "row")
            )
        }];
        changes.extend(self.setup.changes());
        write!(f, "{}: reset: {}", self.target, changes.join(", "))
    }
}

/// Resets the database at `settings` without asking: for library callers such as test set-ups.
pub fn reset(settings: &Settings) -> Result<ResetReport> {
    let args = Args {
        force: true,
        ..Args::default()
    };
    run(settings, &args, &Progress::quiet())
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<ResetReport> {
    let settings = &args.seed.apply(settings)?;
    let target = settings.target.display();
    guard::check_reset(settings, None, args.allow_production)?;
    // Refuse before connecting: a script without a terminal must never wait for an answer.
    if !args.force && !std::io::stdin().is_terminal() {
        return Err(Error::Refused(format!(
            "refusing to reset {target} without confirmation: stdin is not a terminal. Pass --force to reset anyway"
        )));
    }
    progress.start(format!("connecting to {target}"));
    let (mut db, created_database) = connection::open(settings, true, progress)?;
    if created_database {
        progress.done(format!("created database {target}"));
    }
    // The database may say it is production even when ENV does not.
    let recorded = if created_database {
        None
    } else {
        db.read_only(settings.lock_timeout, |db| {
            bookkeeping::recorded(db, ENVIRONMENT_KEY)
        })?
    };
    guard::check_reset(settings, recorded.as_deref(), args.allow_production)?;
    progress.start(format!("counting rows in {target}"));
    // What the prompt shows, read before it: no transaction stays open while a person thinks.
    let (counts, by_tenant) = if created_database {
        (Vec::new(), None)
    } else {
        db.read_only(settings.lock_timeout, |db| {
            let counts = inventory::count_rows(db)?;
            let by_tenant = if !args.force && !counts.is_empty() {
                inventory::tenant_rows(db, &counts)?
            } else {
                None
            };
            Ok((counts, by_tenant))
        })?
    };
    if !args.force && !counts.is_empty() {
        progress.suspend(|| confirm(settings, &counts, by_tenant.as_deref()))?;
    }
    progress.start(format!("resetting {target}"));
    let setup = db.exclusive(settings.lock_timeout, |db| {
        inventory::drop_owned(db, &target)?;
        // The database keeps the environment it was set up for.
        set_up(db, settings, recorded.as_deref())
    })?;
    if !created_database {
        let rows = counts.iter().map(|c| c.rows).sum::<i64>() as usize;
        progress.done(format!(
            "dropped facedb's tables ({})",
            super::plural(rows, "row")
        ));
    }
    setup.report(progress);
    Ok(ResetReport {
        command: "reset",
        target,
        backend: settings.target.backend_key(),
        dropped: counts,
        created_database,
        setup,
    })
}

/// Shows what will be lost and asks, default No. When the database holds more than the seed,
/// the person types the database's name instead of y/N.
fn confirm(
    settings: &Settings,
    counts: &[TableCount],
    by_tenant: Option<&[TenantRows]>,
) -> Result<()> {
    let target = settings.target.display();
    let filled: Vec<&TableCount> = counts.iter().filter(|c| c.rows > 0).collect();
    eprintln!(
        "Reset drops and recreates all {} facedb tables in {target}. Rows that will be lost:",
        counts.len()
    );
    let width = filled.iter().map(|c| c.table.len()).max().unwrap_or(0);
    for count in &filled {
        let approx = if count.estimated { "~" } else { "" };
        eprintln!(
            "  {:<width$}  {approx}{}",
            count.table,
            super::plural(count.rows as usize, "row")
        );
    }
    if filled.is_empty() {
        eprintln!("  none: every table is empty");
    }
    for tenant in by_tenant.unwrap_or_default() {
        let rows: Vec<String> = tenant
            .rows
            .iter()
            .map(|(table, rows)| format!("{table} {rows}"))
            .collect();
        let rows = if rows.is_empty() {
            "no rows".to_owned()
        } else {
            rows.join(", ")
        };
        eprintln!("  tenant {} ({}): {rows}", tenant.tenant_id, tenant.name);
    }
    let cancelled = || Error::Refused(format!("reset cancelled; {target} was not changed"));
    let answer = if inventory::holds_data_beyond_seed(counts) {
        let name = confirmation_name(settings);
        dialoguer::Input::<String>::new()
            .with_prompt(format!(
                "This deletes data. Type the database name ({name}) to confirm"
            ))
            .allow_empty(true)
            .interact_text()
            .map(|typed| typed.trim() == name)
    } else {
        dialoguer::Confirm::new()
            .with_prompt(format!("Reset {target}?"))
            .default(false)
            .interact()
    };
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(cancelled()),
        // Ctrl-C or a closed terminal: nothing has been touched yet.
        Err(_) => {
            let _ = console::Term::stderr().show_cursor();
            Err(cancelled())
        }
    }
}

/// The name a person types to confirm: the PostgreSQL database or the SQLite file's name.
fn confirmation_name(settings: &Settings) -> String {
    match &settings.target {
        crate::config::Target::Postgres(pg) => pg.dbname.clone(),
        crate::config::Target::Sqlite(sqlite) => sqlite
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| sqlite.path.display().to_string()),
    }
}

/// What `reset --dry-run` (or `fresh --dry-run`) found: what the reset would drop, what would stop
/// it, and what it would set up again.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunReport {
    /// `reset` or `fresh`.
    pub command: &'static str,
    pub dry_run: bool,
    pub target: String,
    pub backend: &'static str,
    /// `false`: the reset would create the database.
    pub database_exists: bool,
    pub would_drop: WouldDrop,
    /// Objects facedb does not own that depend on what it owns: the reset would refuse (exit 5).
    pub blockers: Vec<Dependent>,
    pub would_apply_migrations: Vec<String>,
    /// The username of the admin the reset would seed.
    pub would_seed_admin: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WouldDrop {
    /// Rows per facedb table that exists.
    pub tables: Vec<TableCount>,
    pub bookkeeping_tables: Vec<String>,
    /// PostgreSQL enum types (SQLite has none).
    pub types: Vec<String>,
}

impl DryRunReport {
    /// Why the real command would refuse, if it would.
    pub fn refusal(&self) -> Option<String> {
        (!self.blockers.is_empty()).then(|| {
            format!(
                "cannot reset {}: {}. facedb drops only what it owns; drop or change what it names first (dry run: nothing was changed)",
                self.target,
                inventory::describe_all(&self.blockers)
            )
        })
    }
}

impl std::fmt::Display for DryRunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let then = format!(
            "apply {} and seed admin '{}'",
            super::plural(self.would_apply_migrations.len(), "migration"),
            self.would_seed_admin
        );
        let what = if !self.blockers.is_empty() {
            let count = self.blockers.len();
            format!(
                "{} would be refused (exit 5): {} facedb does not own {} on what it owns",
                self.command,
                super::plural(count, "object"),
                if count == 1 { "depends" } else { "depend" }
            )
        } else if !self.database_exists {
            format!(
                "the database does not exist; {} would create it, {then}",
                self.command
            )
        } else {
            let drop = &self.would_drop;
            let rows: i64 = drop.tables.iter().map(|c| c.rows).sum();
            let mut parts = vec![format!(
                "{} ({})",
                super::plural(drop.tables.len(), "table"),
                super::plural(rows as usize, "row")
            )];
            if !drop.bookkeeping_tables.is_empty() {
                parts.push(super::plural(
                    drop.bookkeeping_tables.len(),
                    "bookkeeping table",
                ));
            }
            if !drop.types.is_empty() {
                parts.push(super::plural(drop.types.len(), "type"));
            }
            let last = parts.pop().unwrap_or_default();
            let listed = if parts.is_empty() {
                last
            } else {
                format!("{} and {last}", parts.join(", "))
            };
            format!("{} would drop {listed}, then {then}", self.command)
        };
        write!(f, "{}: dry run: {what}; nothing was changed", self.target)
    }
}

/// Finds what a reset would drop and what would stop it, changing nothing: no prompt, no lock,
/// no transaction that writes, and a missing database is not created.
pub fn dry_run(
    settings: &Settings,
    command: &'static str,
    progress: &Progress,
) -> Result<DryRunReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let db = connection::open_existing(settings, progress)?;
    let database_exists = db.is_some();
    let (would_drop, blockers) = match db {
        Some(mut db) => {
            progress.start(format!("looking at {target}"));
            db.read_only(settings.lock_timeout, |db| {
                db.without_waiting_for_facedb("the dry run", |db| {
                    let would_drop = WouldDrop {
                        tables: inventory::count_rows(db)?,
                        bookkeeping_tables: inventory::existing_bookkeeping_tables(db)?,
                        types: inventory::existing_types(db)?,
                    };
                    Ok((would_drop, inventory::foreign_dependents(db)?))
                })
            })?
        }
        None => (WouldDrop::default(), Vec::new()),
    };
    let report = DryRunReport {
        command,
        dry_run: true,
        target,
        backend: settings.target.backend_key(),
        database_exists,
        would_drop,
        blockers,
        would_apply_migrations: migrations::all_names(settings.target.backend()),
        would_seed_admin: settings.admin.username.clone(),
    };
    report.show(progress);
    Ok(report)
}

impl DryRunReport {
    /// The details, on stderr: each table with its rows, the bookkeeping tables and the types.
    /// What would stop the reset is the error line `cli` prints.
    fn show(&self, progress: &Progress) {
        if !self.database_exists {
            return;
        }
        let drop = &self.would_drop;
        progress.info(format!("{} would drop from {}:", self.command, self.target));
        let names = drop
            .tables
            .iter()
            .map(|c| c.table.as_str())
            .chain(drop.bookkeeping_tables.iter().map(String::as_str));
        let width = names.map(str::len).max().unwrap_or(0);
        for count in &drop.tables {
            let approx = if count.estimated { "~" } else { "" };
            progress.info(format!(
                "  {:<width$}  {approx}{}",
                count.table,
                super::plural(count.rows as usize, "row")
            ));
        }
        for table in &drop.bookkeeping_tables {
            progress.info(format!("  {table:<width$}  (bookkeeping)"));
        }
        for name in &drop.types {
            progress.info(format!("  type {name}"));
        }
    }
}
