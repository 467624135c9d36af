//! `facedb reset`: show what will be lost, ask, then drop everything facedb owns and set the
//! database up again, all in one transaction. What the dry run prints, the prompt shows and the
//! reset does is one [`ResetPlan`] (`reset_plan`).

use serde::Serialize;

use crate::backup::Ledger;
use crate::carry::CarrySummary;
pub use crate::commands::reset_plan::Options;
use crate::commands::reset_plan::ResetPlan;
use crate::commands::{Outcome, Report, SetupOutcome};
use crate::config::Settings;
use crate::db::{self, Opened};
use crate::error::{Error, ExitCode, Result};
use crate::guard;
use crate::inventory::{self, TableCount, TenantRows};
use crate::migrations;
use crate::progress::{printable, say, Progress};
use crate::prompt;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    #[command(flatten)]
    pub options: Options,

    /// The command the backup is recorded as made by: `reset`, or `fresh`.
    #[arg(skip)]
    pub command: Option<&'static str>,
}

/// What `reset` (or `fresh`: the report's `command` names which) did.
pub type ResetReport = Report<ResetOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct ResetOutcome {
    /// Rows per table before the reset.
    pub dropped: Vec<TableCount>,
    pub created_database: bool,
    #[serde(flatten)]
    pub setup: SetupOutcome,
    /// What people attached to facedb's tables that the reset re-applied, what of facedb's own
    /// objects went back to the schema's definitions, and what it dropped for good (accepted at
    /// the prompt or with --drop-unknown-columns).
    #[serde(flatten)]
    pub carry: CarrySummary,
    /// The id of the backup that keeps what the reset replaced (`facedb restore` brings it
    /// back); `null` with --no-backup, --keep-backups 0 or nothing to keep.
    pub backup: Option<String>,
    /// The ids of older backups the retention dropped.
    pub pruned_backups: Vec<String>,
}

impl Outcome for ResetOutcome {
    fn write_text(report: &ResetReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        let rows: i64 = outcome.dropped.iter().map(|c| c.rows).sum();
        let mut changes = vec![if outcome.created_database {
            "created the database".to_owned()
        } else {
            format!(
                "dropped {} ({})",
                crate::text::plural(outcome.dropped.len(), "table"),
                crate::text::plural(rows as usize, "row")
            )
        }];
        changes.extend(outcome.setup.changes());
        if let Some(id) = &outcome.backup {
            changes.push(format!("kept backup {id}"));
        }
        if !outcome.pruned_backups.is_empty() {
            changes.push(format!(
                "dropped {}",
                crate::text::plural(outcome.pruned_backups.len(), "older backup")
            ));
        }
        if !outcome.carry.carried_over.is_empty() {
            changes.push(format!(
                "carried over {}",
                crate::text::plural(outcome.carry.carried_over.len(), "item")
            ));
        }
        if !outcome.carry.reverted.is_empty() {
            changes.push(format!(
                "reverted {} to the schema",
                crate::text::plural(outcome.carry.reverted.len(), "property")
            ));
        }
        if !outcome.carry.lost.is_empty() {
            changes.push(format!(
                "dropped {} it could not carry over",
                crate::text::plural(outcome.carry.lost.len(), "object")
            ));
        }
        write!(
            f,
            "{}: {}: {}",
            report.target(),
            report.command,
            changes.join(", ")
        )
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
    let settings = &args.options.seed.apply(settings)?;
    let target = settings.target.display();
    guard::check_reset(settings, None, args.options.allow_production)?;
    // Refuse before connecting: a script without a terminal must never wait for an answer.
    if let (false, Some(stream)) = (args.force, prompt::not_a_terminal()) {
        return Err(Error::Refused(format!(
            "refusing to reset {target} without confirmation: the question needs a terminal, and {stream} is not a terminal. {}",
            prompt::instead_of_asking("reset")
        )));
    }
    let Opened {
        mut db,
        created: created_database,
        ..
    } = super::open_or_create(settings, progress, None)?;
    let schema = &settings.schema;
    let lock_timeout = settings.lock_timeout;
    // The connection's own search_path: read before a transaction pins it.
    let shadowed = guard::shadows(&mut db, schema)?;
    let options = &args.options;
    let made_by = args.command.unwrap_or("reset");
    // What the prompt shows, read before it: no transaction stays open while a person thinks.
    let mut shown = None;
    if !args.force && !created_database {
        progress.start(format!("looking at {target}"));
        // A person who confirms accepts the losses shown; everything else refuses before asking.
        let plan = db.rehearse(schema, lock_timeout, "the reset's plan", |db| {
            ResetPlan::read(db, settings, options, shadowed.clone(), true, made_by, None)
        })?;
        if let Some(refusal) = &plan.refused {
            return Err(refusal.to_error());
        }
        if !plan.would_drop.tables.is_empty() {
            let counts = &plan.would_drop.tables;
            let by_tenant = db.read_only(schema, lock_timeout, |db| {
                inventory::tenant_rows(db, schema, counts)
            })?;
            progress.suspend(|| confirm(settings, by_tenant.as_deref(), &plan))?;
            shown = Some(plan);
        }
        // The rehearsal left diesel's cache of type ids on this connection naming the enum
        // types it made and rolled back: the reset runs on a new connection.
        db = super::open_or_create(settings, progress, None)?.db;
    }
    progress.start(format!("resetting {target}"));
    let accept_loss = shown.is_some() || options.drop_unknown_columns;
    // What the reset does to the backups, and to their files once it committed (SQLite).
    let mut ledger = Ledger::default();
    let done = db.exclusive(schema, lock_timeout, |db| {
        if created_database {
            // Nothing to drop or carry: set up the database just created.
            let mut plan = ResetPlan::new(settings);
            plan.setup = Some(super::set_up(
                db,
                settings,
                "reset",
                None,
                None,
                options.seed.with_demo_data,
            )?);
            return Ok(plan);
        }
        // Read again under the lock, by doing it: this is what the reset does.
        ledger = Ledger::open(db, settings)?;
        let plan = ResetPlan::read(
            db,
            settings,
            options,
            shadowed.clone(),
            accept_loss,
            made_by,
            Some(&mut ledger),
        )?;
        if let Some(refusal) = &plan.refused {
            return Err(refusal.to_error());
        }
        match &shown {
            Some(shown) if !plan.same_as(shown) => Err(Error::Schema(format!(
                "cannot reset {target}: what it would do changed while it was asked ({}); nothing was changed, run the reset again",
                plan.differences(shown)
            ))),
            _ => Ok(plan),
        }
    });
    match &done {
        Ok(_) => ledger.settle()?,
        Err(_) => ledger.abandon(),
    }
    let plan = done?;
    let counts = plan.would_drop.tables.clone();
    if !created_database {
        let rows = counts.iter().map(|c| c.rows).sum::<i64>() as usize;
        progress.done(format!(
            "dropped facedb's tables ({})",
            crate::text::plural(rows, "row")
        ));
    }
    let setup = plan.setup.clone().unwrap_or_default();
    setup.report(progress);
    for item in &plan.would_carry_over {
        progress.done(format!("carried over {item}"));
    }
    for item in &plan.would_revert {
        progress.warn(format!("reverted to the schema: {item}"));
    }
    for lost in &plan.would_lose {
        progress.warn(format!("dropped {lost}: it cannot be carried over"));
    }
    if let Some(made) = &ledger.made {
        progress.done(format!(
            "kept backup {} in {} (facedb restore brings it back)",
            made.id, made.location
        ));
    }
    for dropped in &ledger.dropped {
        progress.done(format!("dropped older backup {}", dropped.id));
    }
    let outcome = ResetOutcome {
        dropped: counts,
        created_database,
        setup,
        carry: CarrySummary {
            carried_over: plan.would_carry_over,
            reverted: plan.would_revert,
            lost: plan.would_lose,
        },
        backup: ledger.made.as_ref().map(|b| b.id.clone()),
        pruned_backups: ledger.dropped.iter().map(|b| b.id.clone()).collect(),
    };
    Ok(Report::new("reset", settings, outcome))
}

/// Shows what will be lost and asks, default No. When the database holds more than the seed,
/// or the reset would lose something, the person types the database's name instead of y/N.
fn confirm(settings: &Settings, by_tenant: Option<&[TenantRows]>, plan: &ResetPlan) -> Result<()> {
    let target = settings.target.display();
    let counts = &plan.would_drop.tables;
    let filled: Vec<&TableCount> = counts.iter().filter(|c| c.rows > 0).collect();
    let protected = plan.protected.as_deref();
    let production = protected.map_or(String::new(), |reason| {
        format!(", a PRODUCTION database ({reason})")
    });
    say(format_args!(
        "Reset drops and recreates all {} facedb tables in {target}{production}. Rows that will be lost:",
        counts.len()
    ));
    let width = filled.iter().map(|c| c.table.len()).max().unwrap_or(0);
    for count in &filled {
        let approx = if count.estimated { "~" } else { "" };
        say(format_args!(
            "  {:<width$}  {approx}{}",
            count.table,
            crate::text::plural(count.rows as usize, "row")
        ));
    }
    if filled.is_empty() {
        say("  none: every table is empty");
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
        say(format_args!(
            "  tenant {} ({}): {rows}",
            printable(&tenant.tenant_id),
            printable(&tenant.name)
        ));
    }
    let sections = [
        ("Carried over to the new tables:", &plan.would_carry_over),
        ("Reverted to the schema's definitions:", &plan.would_revert),
        (
            "Lost for good (facedb cannot carry it over):",
            &plan.would_lose,
        ),
    ];
    for (title, items) in sections {
        if !items.is_empty() {
            say(title);
            for item in items {
                say(format_args!("  {}", printable(item)));
            }
        }
    }
    if let Some(reason) = &plan.not_rehearsed {
        say(format_args!("Not rehearsed: {reason}"));
    }
    for line in plan.backup_lines() {
        say(line);
    }
    let typed_name = inventory::holds_data_beyond_seed(counts) || !plan.would_lose.is_empty();
    super::confirm_protected(settings, "Reset", "reset", typed_name, protected)
}

/// What `reset --dry-run` (or `fresh --dry-run`: the report's `command` names which) found.
pub type DryRunReport = Report<DryRunOutcome>;

/// The reset's plan, read by rehearsing it in a transaction that was rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunOutcome {
    pub dry_run: bool,
    #[serde(flatten)]
    pub plan: ResetPlan,
}

impl std::ops::Deref for DryRunOutcome {
    type Target = ResetPlan;

    fn deref(&self) -> &ResetPlan {
        &self.plan
    }
}

impl Outcome for DryRunOutcome {
    fn write_text(report: &DryRunReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (command, target, plan) = (report.command, report.target(), &report.outcome.plan);
        let then = format!(
            "apply {} and seed admin '{}'",
            crate::text::plural(plan.would_apply_migrations.len(), "migration"),
            plan.would_seed_admin
        );
        let what = if let Some(refused) = &plan.refused {
            format!(
                "{command} would be refused (exit {})",
                refused.exit_code() as i32
            )
        } else if !plan.database_exists {
            format!("the database does not exist; {command} would create it, {then}")
        } else {
            let drop = &plan.would_drop;
            let rows: i64 = drop.tables.iter().map(|c| c.rows).sum();
            let mut parts = vec![format!(
                "{} ({})",
                crate::text::plural(drop.tables.len(), "table"),
                crate::text::plural(rows as usize, "row")
            )];
            if !drop.bookkeeping_tables.is_empty() {
                parts.push(crate::text::plural(
                    drop.bookkeeping_tables.len(),
                    "bookkeeping table",
                ));
            }
            if !drop.types.is_empty() {
                parts.push(crate::text::plural(drop.types.len(), "type"));
            }
            let last = parts.pop().unwrap_or_default();
            let listed = if parts.is_empty() {
                last
            } else {
                format!("{} and {last}", parts.join(", "))
            };
            let mut then = then;
            let counted = [
                ("carry over", &plan.would_carry_over, "item"),
                ("revert", &plan.would_revert, "property"),
                ("losing", &plan.would_lose, "object"),
            ];
            for (verb, items, noun) in counted {
                if !items.is_empty() {
                    then.push_str(&format!(
                        ", {verb} {}",
                        crate::text::plural(items.len(), noun)
                    ));
                }
            }
            format!("{command} would drop {listed}, then {then}")
        };
        report.outcome.write_details(command, target, f)?;
        write!(f, "{target}: dry run: {what}; nothing was changed")
    }

    /// Why the real command would refuse, if it would.
    fn refusal(report: &DryRunReport) -> Option<String> {
        let refused = report.outcome.plan.refused.as_ref()?;
        Some(format!("{} (dry run)", refused.message))
    }

    fn exit_code(report: &DryRunReport) -> ExitCode {
        match &report.outcome.plan.refused {
            Some(refused) => refused.exit_code(),
            None => ExitCode::Success,
        }
    }
}

/// Finds what a reset would do and what would stop it, changing nothing: the reset is rehearsed
/// in a transaction that is always rolled back; no prompt, no wait for another facedb, and a
/// missing database is not created.
pub fn dry_run(settings: &Settings, args: &Args, progress: &Progress) -> Result<DryRunReport> {
    let settings = &args.options.seed.apply(settings)?;
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let plan = match db::open_existing(settings, progress)? {
        None => ResetPlan::for_missing_database(settings),
        Some(mut db) => {
            progress.start(format!("rehearsing the reset of {target}"));
            let schema = &settings.schema;
            // The connection's own search_path: read before a transaction pins it.
            let shadowed = guard::shadows(&mut db, schema)?;
            let accept_loss = args.options.drop_unknown_columns;
            db.rehearse(schema, settings.lock_timeout, "the dry run", |db| {
                let made_by = args.command.unwrap_or("reset");
                ResetPlan::read(
                    db,
                    settings,
                    &args.options,
                    shadowed,
                    accept_loss,
                    made_by,
                    None,
                )
            })?
        }
    };
    let outcome = DryRunOutcome {
        dry_run: true,
        plan,
    };
    Ok(Report::new("reset", settings, outcome))
}

impl DryRunOutcome {
    /// The details, one line each, before the summary: each table with its rows, the bookkeeping
    /// tables and the types, then what is carried over, reverted and lost. What would stop the
    /// reset is the error line `cli` prints.
    fn write_details(
        &self,
        command: &str,
        target: &str,
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        let plan = &self.plan;
        if !plan.database_exists || !plan.shadowed.is_empty() || !plan.not_owned.is_empty() {
            return Ok(());
        }
        let drop = &plan.would_drop;
        writeln!(f, "{command} would drop from {target}:")?;
        let names = drop
            .tables
            .iter()
            .map(|c| c.table.as_str())
            .chain(drop.bookkeeping_tables.iter().map(String::as_str));
        let width = names.map(str::len).max().unwrap_or(0);
        for count in &drop.tables {
            let approx = if count.estimated { "~" } else { "" };
            writeln!(
                f,
                "  {:<width$}  {approx}{}",
                count.table,
                crate::text::plural(count.rows as usize, "row")
            )?;
        }
        for table in &drop.bookkeeping_tables {
            writeln!(f, "  {table:<width$}  (bookkeeping)")?;
        }
        if !drop.kept_migrations.is_empty() {
            writeln!(
                f,
                "  facedb's rows of {} (other applications' {} stay)",
                migrations::MIGRATIONS_TABLE,
                crate::text::plural(drop.kept_migrations.len(), "version")
            )?;
        }
        for name in &drop.types {
            writeln!(f, "  type {name}")?;
        }
        let sections = [
            ("would carry over", &plan.would_carry_over),
            ("would revert to the schema", &plan.would_revert),
            ("cannot carry over (lost for good)", &plan.would_lose),
        ];
        for (title, items) in sections {
            if !items.is_empty() {
                writeln!(f, "{command} {title}:")?;
                for item in items {
                    writeln!(f, "  {}", printable(item))?;
                }
            }
        }
        if let Some(reason) = &plan.not_rehearsed {
            writeln!(f, "{command} was not rehearsed: {reason}")?;
        }
        for line in plan.backup_lines() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
