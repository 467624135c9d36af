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
use crate::inventory::{self, TableCount, TenantRows};
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
        bookkeeping::recorded(&mut db, ENVIRONMENT_KEY)?
    };
    guard::check_reset(settings, recorded.as_deref(), args.allow_production)?;
    progress.start(format!("counting rows in {target}"));
    let counts = if created_database {
        Vec::new()
    } else {
        inventory::count_rows(&mut db)?
    };
    if !args.force && !counts.is_empty() {
        let by_tenant = inventory::tenant_rows(&mut db, &counts)?;
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
