//! `facedb rollback`: revert the newest applied migration (or, with `--to`, every one newer than a
//! given migration) with its `down.sql`, in one transaction under facedb's lock. Guarded like
//! `reset`: it shows what it will run and what the tables hold, and asks.

use serde::Serialize;

use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::commands::{Outcome, Report};
use crate::config::{Backend, SchemaName, Settings};
use crate::db::{self, Db, IfMissing};
use crate::error::{Error, Result};
use crate::guard;
use crate::inventory::{self, TableCount};
use crate::migrations::{self, EMBEDDED, MIGRATIONS_TABLE};
use crate::progress::{say, Progress};
use crate::prompt;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Revert every applied migration newer than this one, keeping it (its version, e.g.
    /// 20261125000000, or its name) [default: revert only the newest applied migration].
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,

    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    /// Allow rolling back a production database (ENV or the recorded environment is prod,
    /// production or staging).
    #[arg(long)]
    pub allow_production: bool,

    /// Print the SQL the rollback would run and change nothing: no prompt, and no wait for
    /// another facedb.
    #[arg(long)]
    pub dry_run: bool,
}

pub type RollbackReport = Report<RollbackOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    pub dry_run: bool,
    /// The migrations reverted (with `--dry-run`: that would be), newest first.
    pub reverted: Vec<String>,
    /// facedb's tables the rollback dropped, with the rows they held before. Empty with
    /// `--dry-run`.
    pub dropped: Vec<TableCount>,
    /// With `--dry-run`, the SQL the rollback would run (what it prints without `--json`).
    pub sql: Option<String>,
}

impl Outcome for RollbackOutcome {
    fn write_text(report: &RollbackReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        if let Some(sql) = &outcome.sql {
            return f.write_str(sql.trim_end());
        }
        if outcome.reverted.is_empty() {
            return write!(f, "{}: rollback: nothing to roll back", report.target());
        }
        let rows: i64 = outcome.dropped.iter().map(|c| c.rows).sum();
        write!(
            f,
            "{}: rollback: reverted {} ({}), dropped {} ({})",
            report.target(),
            crate::text::plural(outcome.reverted.len(), "migration"),
            outcome.reverted.join(", "),
            crate::text::plural(outcome.dropped.len(), "table"),
            crate::text::plural(rows as usize, "row")
        )
    }
}

/// Reverts the newest applied migration at `settings`, or with `to` every one newer than the
/// migration it names, without asking: for library callers.
pub fn rollback(settings: &Settings, to: Option<&str>) -> Result<RollbackReport> {
    let args = Args {
        to: to.map(str::to_owned),
        force: true,
        ..Args::default()
    };
    run(settings, &args, &Progress::quiet())
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<RollbackReport> {
    let target = settings.target.display();
    // A dry run changes nothing, so it needs no permission.
    let allow_production = args.allow_production || args.dry_run;
    check_protected(settings, None, allow_production)?;
    // Refuse before connecting: a script without a terminal must never wait for an answer.
    if let (false, false, Some(stream)) = (args.force, args.dry_run, prompt::not_a_terminal()) {
        return Err(Error::Refused(format!(
            "refusing to roll back {target} without confirmation: the question needs a terminal, and {stream} is not a terminal. {}",
            prompt::instead_of_asking("roll back")
        )));
    }
    progress.start(format!("connecting to {target}"));
    let mut db = if args.dry_run {
        db::open_existing(settings, progress)?.ok_or_else(|| {
            Error::Usage(format!(
                "{target} does not exist: there is nothing to roll back"
            ))
        })?
    } else {
        db::open(settings, IfMissing::Fail, progress)?.0
    };
    let schema = &settings.schema;
    // The dry run predicts this refusal too.
    guard::check_shadowing(&mut db, schema, "roll back", &target)?;
    let look = |db: &mut Db| {
        let recorded = bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)?;
        let planned = plan(db, schema, args.to.as_deref())?;
        if !planned.is_empty() {
            refuse_foreign_dependents(db, schema, &target)?;
        }
        Ok((recorded, planned))
    };
    let (recorded, planned) = if args.dry_run {
        db.glance(schema, settings.lock_timeout, "the dry run", look)?
    } else {
        db.read_only(schema, settings.lock_timeout, look)?
    };
    check_protected(settings, recorded.as_deref(), allow_production)?;
    let backend = settings.target.backend();
    let mut outcome = RollbackOutcome {
        dry_run: args.dry_run,
        reverted: Vec::new(),
        dropped: Vec::new(),
        sql: None,
    };
    if args.dry_run {
        outcome.sql = Some(script(backend, schema, &target, &planned)?);
        outcome.reverted = planned;
        return Ok(Report::new("rollback", settings, outcome));
    }
    if planned.is_empty() {
        return Ok(Report::new("rollback", settings, outcome));
    }
    let counts = db.read_only(schema, settings.lock_timeout, |db| {
        inventory::count_rows(db, schema)
    })?;
    if !args.force {
        progress.suspend(|| confirm(settings, &planned, &counts))?;
    }
    progress.start(format!("rolling back {target}"));
    let remaining = db.exclusive(schema, settings.lock_timeout, |db| {
        // What was shown is what runs: another facedb may have changed the database meanwhile.
        if plan(db, schema, args.to.as_deref())? != planned {
            return Err(Error::Refused(format!(
                "the migrations of {target} changed while rollback was asking; nothing was changed, run rollback again"
            )));
        }
        refuse_foreign_dependents(db, schema, &target)?;
        migrations::revert(db, EMBEDDED, &planned)?;
        let reverted: Vec<String> = migrations::versions(db.backend(), EMBEDDED)?
            .into_iter()
            .filter(|(name, _)| planned.contains(name))
            .map(|(_, version)| version)
            .collect();
        bookkeeping::forget_migrations(db, schema, &reverted)?;
        db.table_names(schema)
    })?;
    for name in &planned {
        progress.done(format!("reverted migration {name}"));
    }
    outcome.dropped = counts
        .into_iter()
        .filter(|c| !remaining.contains(&c.table))
        .collect();
    outcome.reverted = planned;
    Ok(Report::new("rollback", settings, outcome))
}

/// The migrations to revert, newest first (none when the database records none).
fn plan(db: &mut Db, schema: &SchemaName, to: Option<&str>) -> Result<Vec<String>> {
    let state = migrations::state(db, schema)?;
    migrations::to_revert(db.backend(), EMBEDDED, &state, to)
}

/// Refuses (exit 5) when an object facedb does not own depends on one of its tables: a `down.sql`
/// must not break it (SQLite would drop a table under a view without a word).
fn refuse_foreign_dependents(db: &mut Db, schema: &SchemaName, target: &str) -> Result<()> {
    let dependents = inventory::foreign_dependents(db, schema)?;
    if dependents.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "cannot roll back {target}: {}. facedb changes only what it owns; drop or change what it names first (nothing was changed)",
        inventory::describe_all(&dependents)
    )))
}

/// Refuses to roll back a protected database unless `--allow-production` was given.
fn check_protected(
    settings: &Settings,
    recorded: Option<&str>,
    allow_production: bool,
) -> Result<()> {
    match guard::protected_by(settings, recorded) {
        Some(reason) if !allow_production => Err(Error::Refused(format!(
            "refusing to roll back {}: {reason}. If you really mean to revert its schema, add --allow-production",
            settings.target.display()
        ))),
        _ => Ok(()),
    }
}

/// The SQL the rollback runs: each migration's `down.sql`, then the removal of its record, in
/// one transaction under facedb's lock.
fn script(
    backend: Backend,
    schema: &SchemaName,
    target: &str,
    planned: &[String],
) -> Result<String> {
    if planned.is_empty() {
        return Ok(format!(
            "-- {target}: no applied migration: rollback would run nothing (dry run: nothing was changed)\n"
        ));
    }
    let versions = migrations::versions(backend, EMBEDDED)?;
    let mut out = format!(
        "-- What `facedb rollback` would run on {target}, in one transaction under facedb's lock\n\
         -- (dry run: nothing was changed).\n\n"
    );
    for name in planned {
        let down = migrations::down_sql(backend, name).ok_or_else(|| {
            Error::Migration(format!(
                "the down.sql of migration {name} is not embedded; rebuild facedb"
            ))
        })?;
        let version = versions
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, version)| version.as_str())
            .unwrap_or_default();
        out.push_str(&format!("-- revert migration {name}\n"));
        out.push_str(&super::sql::terminated(down));
        out.push_str(&format!(
            "\nDELETE FROM {} WHERE version = '{}';\n\n",
            schema.qualify(MIGRATIONS_TABLE),
            version.replace('\'', "''")
        ));
    }
    Ok(out)
}

/// Shows what will run and what facedb's tables hold, and asks on one Enter-terminated line,
/// default No. When the database holds more than the seed, the person types the database's name.
fn confirm(settings: &Settings, planned: &[String], counts: &[TableCount]) -> Result<()> {
    let target = settings.target.display();
    let backend = settings.target.backend();
    say(format_args!(
        "Rollback reverts {} in {target}, running:",
        crate::text::plural(planned.len(), "migration")
    ));
    for name in planned {
        say(format_args!("  -- {name}: down.sql"));
        for line in migrations::down_sql(backend, name)
            .unwrap_or_default()
            .lines()
        {
            say(format_args!("  {line}"));
        }
    }
    let filled: Vec<&TableCount> = counts.iter().filter(|c| c.rows > 0).collect();
    if filled.is_empty() {
        say("facedb's tables hold no rows.");
    } else {
        say("Rows in facedb's tables:");
        let width = filled.iter().map(|c| c.table.len()).max().unwrap_or(0);
        for count in filled {
            let approx = if count.estimated { "~" } else { "" };
            say(format_args!(
                "  {:<width$}  {approx}{}",
                count.table,
                crate::text::plural(count.rows as usize, "row")
            ));
        }
    }
    super::confirm(
        settings,
        "Roll back",
        "rollback",
        inventory::holds_data_beyond_seed(counts),
    )
}
