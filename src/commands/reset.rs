//! `facedb reset`: show what will be lost, ask, then drop everything facedb owns and set the
//! database up again, all in one transaction.

use serde::Serialize;

use crate::backup::{self, Ledger};
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::carry::{self, Carry, CarrySummary};
use crate::commands::{set_up, Outcome, Report, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::db;
use crate::error::{Error, Result};
use crate::guard;
use crate::inventory::{self, Dependent, TableCount, TenantRows};
use crate::migrations;
use crate::ownership::{self, Ownership};
use crate::password;
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

/// What `reset` and `fresh` share: all but whether they ask.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// Allow resetting a production database (ENV or the recorded environment is prod,
    /// production or staging).
    #[arg(long)]
    pub allow_production: bool,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// Show what would be dropped, carried over and lost, and change nothing: no prompt, no wait
    /// for another facedb, a missing database is not created. Exits 5 when the reset would
    /// refuse: tables facedb cannot prove its own, a shadowing search path, an object facedb
    /// does not own that depends on its tables, or something it cannot carry over.
    #[arg(long)]
    pub dry_run: bool,

    /// Without a prompt, drop the columns facedb's schema does not have (and the sequences,
    /// indexes and other objects that use them) instead of refusing: they cannot be carried over.
    #[arg(long)]
    pub drop_unknown_columns: bool,

    /// Keep no backup of what this reset replaces (the earlier backups stay).
    #[arg(long)]
    pub no_backup: bool,

    /// How many backups to keep: older ones are dropped at the end of the reset, in its
    /// transaction; 0 keeps none [default: 3; env: FACEDB_KEEP_BACKUPS].
    #[arg(long, value_name = "N")]
    pub keep_backups: Option<usize>,
}

impl Options {
    /// How many backups the reset keeps, and whether it makes one.
    fn backups(&self, settings: &Settings) -> (usize, bool) {
        let keep = self.keep_backups.unwrap_or(settings.keep_backups);
        (keep, keep > 0 && !self.no_backup)
    }
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
    /// What people attached to facedb's tables that the reset re-applied, and what it dropped
    /// for good (accepted at the prompt or with --drop-unknown-columns).
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
            "refusing to reset {target} without confirmation: the question needs a terminal, and {stream} is not a terminal. Pass --force to reset anyway"
        )));
    }
    let (mut db, created_database) = super::open_or_create(settings, progress)?;
    let schema = &settings.schema;
    guard::check_shadowing(&mut db, schema, "reset", &target)?;
    // The database may say it is production even when ENV does not.
    let recorded = if created_database {
        None
    } else {
        db.read_only(schema, settings.lock_timeout, |db| {
            bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)
        })?
    };
    guard::check_reset(settings, recorded.as_deref(), args.options.allow_production)?;
    // Before the prompt: nobody is asked about tables facedb would then refuse to drop.
    db.read_only(schema, settings.lock_timeout, |db| {
        ownership::ownership(db, schema)
    })?
    .require("reset", &target, schema)?;
    // The hashes before the reset decide: the admin seeded again must stay readable by the API
    // that has been using this database.
    let choice = db.read_only(schema, settings.lock_timeout, |db| {
        password::choose(db, schema, settings.password_scheme)
    })?;
    progress.start(format!("counting rows in {target}"));
    // What the prompt shows, read before it: no transaction stays open while a person thinks.
    let (counts, by_tenant) = if created_database {
        (Vec::new(), None)
    } else {
        db.read_only(schema, settings.lock_timeout, |db| {
            let counts = inventory::count_rows(db, schema)?;
            let by_tenant = if !args.force && !counts.is_empty() {
                inventory::tenant_rows(db, schema, &counts)?
            } else {
                None
            };
            Ok((counts, by_tenant))
        })?
    };
    // What the person accepted at the prompt; without a prompt, only --drop-unknown-columns
    // accepts losing anything.
    let mut shown = None;
    let mut shown_backups = None;
    if !args.force && !counts.is_empty() {
        let carry = db.read_only(schema, settings.lock_timeout, |db| {
            carry::capture(db, schema)
        })?;
        let backups = db.read_only(schema, settings.lock_timeout, |db| {
            backup::recorded(db, schema)
        })?;
        let backups = BackupPlan::new(&backups, &args.options, settings, true);
        progress.suspend(|| confirm(settings, &counts, by_tenant.as_deref(), &carry, &backups))?;
        shown = Some(carry);
        shown_backups = Some(backups);
    }
    progress.start(format!("resetting {target}"));
    let (keep, with_backup) = args.options.backups(settings);
    let mut ledger = Ledger::default();
    let done = db.exclusive(schema, settings.lock_timeout, |db| {
        // Again under the lock: what it drops is what it proved its own.
        ownership::ownership(db, schema)?.require("reset", &target, schema)?;
        // Read under the lock: this is what the drop takes away.
        let carry = carry::capture(db, schema)?;
        match &shown {
            Some(shown) if carry.lost != shown.lost => {
                return Err(Error::Schema(format!(
                    "cannot reset {target}: what it cannot carry over changed while it was asked ({}); nothing was changed, run the reset again",
                    carry.lost.join("; ")
                )))
            }
            Some(_) => {}
            None => carry.check_losses(&target, args.options.drop_unknown_columns)?,
        }
        // What the reset replaces moves into a backup, unless none is wanted.
        ledger = Ledger::open(db, settings)?;
        if let Some(shown) = &shown_backups {
            let now = BackupPlan::new(ledger.records(), &args.options, settings, shown.keeps);
            if now.prunes != shown.prunes {
                return Err(Error::Schema(format!(
                    "cannot reset {target}: the backups changed while it was asked; nothing was changed, run the reset again"
                )));
            }
        }
        if with_backup {
            let made_by = args.command.unwrap_or("reset");
            ledger.keep(db, settings, made_by, recorded.as_deref())?;
        } else {
            inventory::drop_owned(db, schema, &target)?;
        }
        // The database keeps the environment it was set up for.
        let setup = set_up(db, settings, "reset", recorded.as_deref(), Some(choice))?;
        carry.restore(db, &target)?;
        ledger.retain(db, settings, keep)?;
        ledger.close(db, settings)?;
        Ok((setup, carry))
    });
    match &done {
        Ok(_) => ledger.settle()?,
        Err(_) => ledger.abandon(),
    }
    let (setup, carried) = done?;
    if !created_database {
        let rows = counts.iter().map(|c| c.rows).sum::<i64>() as usize;
        progress.done(format!(
            "dropped facedb's tables ({})",
            crate::text::plural(rows, "row")
        ));
    }
    setup.report(progress);
    for item in &carried.carried {
        progress.done(format!("carried over {}", item.object));
    }
    for lost in &carried.lost {
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
        carry: carried.summary(),
        backup: ledger.made.as_ref().map(|b| b.id.clone()),
        pruned_backups: ledger.dropped.iter().map(|b| b.id.clone()).collect(),
    };
    Ok(Report::new("reset", settings, outcome))
}

/// Shows what will be lost and asks, default No. When the database holds more than the seed,
/// the person types the database's name instead of y/N.
fn confirm(
    settings: &Settings,
    counts: &[TableCount],
    by_tenant: Option<&[TenantRows]>,
    carry: &Carry,
    backups: &BackupPlan,
) -> Result<()> {
    let target = settings.target.display();
    let filled: Vec<&TableCount> = counts.iter().filter(|c| c.rows > 0).collect();
    say(format_args!(
        "Reset drops and recreates all {} facedb tables in {target}. Rows that will be lost:",
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
    if !carry.carried.is_empty() {
        say("Carried over to the new tables:");
        for item in &carry.carried {
            say(format_args!("  {}", printable(&item.object)));
        }
    }
    if !carry.lost.is_empty() {
        say("Lost for good (facedb cannot carry it over):");
        for lost in &carry.lost {
            say(format_args!("  {}", printable(lost)));
        }
    }
    for line in backups.lines() {
        say(line);
    }
    let typed_name = inventory::holds_data_beyond_seed(counts) || !carry.lost.is_empty();
    super::confirm(settings, "Reset", "reset", typed_name)
}

/// What `reset --dry-run` (or `fresh --dry-run`: the report's `command` names which) found.
pub type DryRunReport = Report<DryRunOutcome>;

/// What the reset would drop, what would stop it, and what it would set up again.
#[derive(Debug, Clone, Serialize)]
pub struct DryRunOutcome {
    pub dry_run: bool,
    /// `false`: the reset would create the database.
    pub database_exists: bool,
    pub would_drop: WouldDrop,
    /// Objects facedb does not own that depend on what it owns: the reset would refuse (exit 5).
    pub blockers: Vec<Dependent>,
    /// Tables with facedb's names that facedb cannot show are its own, each with why: the reset
    /// would refuse (exit 5).
    pub not_owned: Vec<String>,
    /// facedb's table names that the connection's search_path resolves to another schema's
    /// tables: the reset would refuse (exit 5).
    pub shadowed: Vec<String>,
    pub would_apply_migrations: Vec<String>,
    /// The username of the admin the reset would seed.
    pub would_seed_admin: String,
    /// What people attached to facedb's tables that the reset would re-apply.
    pub would_carry_over: Vec<String>,
    /// What it cannot carry over: without a prompt it refuses (exit 5) unless
    /// --drop-unknown-columns accepts dropping it.
    pub would_lose: Vec<String>,
    /// Whether the reset would keep a backup of what it replaces.
    pub would_keep_backup: bool,
    /// The ids of the older backups its retention would drop.
    pub would_prune_backups: Vec<String>,
    /// --drop-unknown-columns was given.
    #[serde(skip)]
    accepts_loss: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WouldDrop {
    /// Rows per facedb table that exists.
    pub tables: Vec<TableCount>,
    pub bookkeeping_tables: Vec<String>,
    /// Other diesel applications' versions in a shared `__diesel_schema_migrations`: the reset
    /// deletes only facedb's rows there, and keeps the table (then not in `bookkeeping_tables`).
    pub kept_migrations: Vec<String>,
    /// PostgreSQL enum types (SQLite has none).
    pub types: Vec<String>,
}

impl Outcome for DryRunOutcome {
    fn write_text(report: &DryRunReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (command, target, outcome) = (report.command, report.target(), &report.outcome);
        let then = format!(
            "apply {} and seed admin '{}'",
            crate::text::plural(outcome.would_apply_migrations.len(), "migration"),
            outcome.would_seed_admin
        );
        let what = if !outcome.shadowed.is_empty() {
            format!(
                "{} would be refused (exit 5): the search_path shows other tables under facedb's names",
                command
            )
        } else if !outcome.not_owned.is_empty() {
            format!(
                "{} would be refused (exit 5): {} with facedb's names {} not facedb's own",
                command,
                crate::text::plural(outcome.not_owned.len(), "table"),
                if outcome.not_owned.len() == 1 {
                    "is"
                } else {
                    "are"
                }
            )
        } else if !outcome.blockers.is_empty() {
            let count = outcome.blockers.len();
            format!(
                "{} would be refused (exit 5): {} facedb does not own {} on what it owns",
                command,
                crate::text::plural(count, "object"),
                if count == 1 { "depends" } else { "depend" }
            )
        } else if carry::refusal(target, &outcome.would_lose, outcome.accepts_loss).is_some() {
            format!(
                "{} would be refused (exit 5): it cannot carry over {} (pass {} to drop {})",
                command,
                crate::text::plural(outcome.would_lose.len(), "object"),
                carry::ACCEPT_LOSS_FLAG,
                if outcome.would_lose.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            )
        } else if !outcome.database_exists {
            format!(
                "the database does not exist; {} would create it, {then}",
                command
            )
        } else {
            let drop = &outcome.would_drop;
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
            if !outcome.would_carry_over.is_empty() {
                then.push_str(&format!(
                    ", carry over {}",
                    crate::text::plural(outcome.would_carry_over.len(), "item")
                ));
            }
            if !outcome.would_lose.is_empty() {
                then.push_str(&format!(
                    ", losing {}",
                    crate::text::plural(outcome.would_lose.len(), "object")
                ));
            }
            format!("{} would drop {listed}, then {then}", command)
        };
        outcome.write_details(command, target, f)?;
        write!(f, "{}: dry run: {what}; nothing was changed", target)
    }

    /// Why the real command would refuse, if it would.
    fn refusal(report: &DryRunReport) -> Option<String> {
        let (command, target, outcome) = (report.command, report.target(), &report.outcome);
        let schema = &report.database.as_ref()?.schema;
        if let Some(refusal) = guard::shadowing_refusal(&outcome.shadowed, command, target, schema)
        {
            return Some(format!("{refusal} (dry run)"));
        }
        if !outcome.not_owned.is_empty() {
            return Ownership::Unproven(outcome.not_owned.clone())
                .refusal(command, target, schema)
                .map(|refusal| format!("{refusal} (dry run)"));
        }
        if outcome.blockers.is_empty() {
            return carry::refusal(target, &outcome.would_lose, outcome.accepts_loss)
                .map(|refusal| format!("{refusal} (dry run: nothing was changed)"));
        }
        Some(format!(
            "cannot reset {}: {}. facedb drops only what it owns; drop or change what it names first (dry run: nothing was changed)",
            target,
            inventory::describe_all(&outcome.blockers)
        ))
    }
}

/// Finds what a reset would drop and what would stop it, changing nothing: no prompt, no wait for
/// another facedb, no transaction that writes, and a missing database is not created.
pub fn dry_run(settings: &Settings, args: &Args, progress: &Progress) -> Result<DryRunReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let db = db::open_existing(settings, progress)?;
    let database_exists = db.is_some();
    let schema = &settings.schema;
    let mut outcome = DryRunOutcome {
        dry_run: true,
        database_exists,
        would_drop: WouldDrop::default(),
        blockers: Vec::new(),
        not_owned: Vec::new(),
        shadowed: Vec::new(),
        would_apply_migrations: migrations::all_names(settings.target.backend()),
        would_seed_admin: settings.admin.username.clone(),
        would_carry_over: Vec::new(),
        would_lose: Vec::new(),
        would_keep_backup: false,
        would_prune_backups: Vec::new(),
        accepts_loss: args.options.drop_unknown_columns,
    };
    if let Some(mut db) = db {
        progress.start(format!("looking at {target}"));
        // The connection's own search_path: read before a transaction pins it.
        outcome.shadowed = guard::shadows(&mut db, schema)?;
        db.glance(schema, settings.lock_timeout, "the dry run", |db| {
            if let Ownership::Unproven(tables) = ownership::ownership(db, schema)? {
                outcome.not_owned = tables;
            }
            // A reset refused for these drops nothing: the dry run shows nothing to drop.
            if outcome.shadowed.is_empty() && outcome.not_owned.is_empty() {
                let kept_migrations = migrations::other_applications_versions(db, schema)?;
                let mut bookkeeping_tables = inventory::existing_bookkeeping_tables(db, schema)?;
                if !kept_migrations.is_empty() {
                    bookkeeping_tables.retain(|t| t != migrations::MIGRATIONS_TABLE);
                }
                outcome.would_drop = WouldDrop {
                    tables: inventory::count_rows(db, schema)?,
                    bookkeeping_tables,
                    kept_migrations,
                    types: inventory::existing_types(db, schema)?,
                };
                outcome.blockers = inventory::foreign_dependents(db, schema)?;
                let CarrySummary { carried_over, lost } = carry::capture(db, schema)?.summary();
                outcome.would_carry_over = carried_over;
                outcome.would_lose = lost;
                let has_tables = !outcome.would_drop.tables.is_empty()
                    || !outcome.would_drop.bookkeeping_tables.is_empty();
                let plan = BackupPlan::new(
                    &backup::recorded(db, schema)?,
                    &args.options,
                    settings,
                    has_tables,
                );
                outcome.would_keep_backup = plan.keeps;
                outcome.would_prune_backups = plan.prunes;
            }
            Ok(())
        })?;
    }
    Ok(Report::new("reset", settings, outcome))
}

impl DryRunOutcome {
    /// The details, one line each, before the summary: each table with its rows, the bookkeeping
    /// tables and the types. What would stop the reset is the error line `cli` prints.
    fn write_details(
        &self,
        command: &str,
        target: &str,
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        if !self.database_exists || !self.shadowed.is_empty() || !self.not_owned.is_empty() {
            return Ok(());
        }
        let drop = &self.would_drop;
        writeln!(f, "{} would drop from {}:", command, target)?;
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
        if !self.would_carry_over.is_empty() {
            writeln!(f, "{} would carry over:", command)?;
            for object in &self.would_carry_over {
                writeln!(f, "  {object}")?;
            }
        }
        if !self.would_lose.is_empty() {
            writeln!(f, "{} cannot carry over (lost for good):", command)?;
            for object in &self.would_lose {
                writeln!(f, "  {object}")?;
            }
        }
        let plan = BackupPlan {
            keeps: self.would_keep_backup,
            prunes: self.would_prune_backups.clone(),
        };
        for line in plan.lines() {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// What a reset does to the backups: whether it keeps one of what it replaces, and which older
/// ones its retention drops. Shown by the dry run and the prompt.
struct BackupPlan {
    keeps: bool,
    prunes: Vec<String>,
}

impl BackupPlan {
    /// `recorded`: the backups now; `has_tables`: there is something to keep.
    fn new(
        recorded: &[backup::Backup],
        options: &Options,
        settings: &Settings,
        has_tables: bool,
    ) -> BackupPlan {
        let (keep, with_backup) = options.backups(settings);
        let keeps = with_backup && has_tables;
        // The backup this reset makes counts as the newest.
        let kept_too = usize::from(keeps);
        BackupPlan {
            keeps,
            prunes: backup::beyond(recorded, keep.saturating_sub(kept_too))
                .into_iter()
                .map(|b| b.id)
                .collect(),
        }
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = vec![if self.keeps {
            "A backup keeps what the reset replaces, rows included (`facedb restore` brings it back)."
                .to_owned()
        } else {
            "No backup is kept of what the reset replaces.".to_owned()
        }];
        if !self.prunes.is_empty() {
            lines.push(format!(
                "Older backups dropped by the retention: {}",
                self.prunes.join(", ")
            ));
        }
        lines
    }
}
