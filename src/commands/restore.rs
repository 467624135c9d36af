//! `facedb restore [ID]`: put a backup back (the newest by default), after showing what it
//! brings back and what it replaces, and asking. What it replaces becomes a backup itself, so a
//! restore can be undone the same way. One transaction, under facedb's lock.

use serde::Serialize;

use crate::backup::{self, Backup, Ledger, Listed};
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::commands::{Outcome, Report};
use crate::config::Settings;
use crate::db::{self, Db, IfMissing};
use crate::error::{Error, Result};
use crate::guard;
use crate::inventory::{self, TableCount};
use crate::ownership;
use crate::progress::{say, Progress};
use crate::prompt;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The backup to restore, as `facedb backups` lists it (its id or its schema or file name);
    /// the newest when left out.
    pub id: Option<String>,

    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    /// Show what the restore would bring back and replace, and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Allow restoring into a production database (ENV, the recorded environment or the
    /// backup's is prod, production or staging).
    #[arg(long)]
    pub allow_production: bool,
}

/// What a restore does: the dry run prints it, the prompt shows it, and the run reads it again
/// under the lock and does exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePlan {
    /// The backup it brings back.
    pub restores: Listed,
    /// Rows per facedb table now in the database, which become a backup.
    pub replaces: Vec<TableCount>,
    /// Whether what it replaces is kept as a backup (not with FACEDB_KEEP_BACKUPS=0, nor when
    /// there is nothing to keep).
    pub keeps_replaced: bool,
    /// The ids of the older backups the retention would drop.
    pub would_prune_backups: Vec<String>,
    /// Why the database counts as production, if it does: the restore then needs
    /// --allow-production.
    #[serde(skip)]
    protected: Option<String>,
}

impl RestorePlan {
    /// Reads the plan; changes nothing. Refuses (exit 5) a backup facedb did not record or cannot
    /// prove its own.
    fn read(db: &mut Db, settings: &Settings, id: Option<&str>) -> Result<(RestorePlan, Backup)> {
        let schema = &settings.schema;
        let target = settings.target.display();
        let records = backup::recorded(db, schema)?;
        let chosen = backup::find(&records, id, &target)?;
        let restores = backup::describe(db, settings, &chosen)?;
        let replaces = inventory::count_rows(db, schema)?;
        let has_tables =
            !replaces.is_empty() || !inventory::existing_bookkeeping_tables(db, schema)?.is_empty();
        let keep = settings.keep_backups;
        let keeps_replaced = keep > 0 && has_tables;
        let others: Vec<Backup> = records.into_iter().filter(|b| b.id != chosen.id).collect();
        let would_prune_backups =
            backup::beyond(&others, keep.saturating_sub(usize::from(keeps_replaced)))
                .into_iter()
                .map(|b| b.id)
                .collect();
        let recorded = bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)?;
        let protected = guard::protected_by(settings, recorded.as_deref()).or_else(|| {
            chosen
                .environment
                .as_deref()
                .filter(|e| guard::is_protected(e))
                .map(|e| format!("the backup was made of a database set up with ENV={e}"))
        });
        let plan = RestorePlan {
            restores,
            replaces,
            keeps_replaced,
            would_prune_backups,
            protected,
        };
        Ok((plan, chosen))
    }

    /// Refuses (exit 4) a protected database without --allow-production.
    fn check_guard(&self, settings: &Settings, allow_production: bool) -> Result<()> {
        match &self.protected {
            Some(reason) if !allow_production => Err(Error::Refused(format!(
                "refusing to restore into {}: {reason}. If you really mean to replace this data, add --allow-production",
                settings.target.display()
            ))),
            _ => Ok(()),
        }
    }

    fn lines(&self) -> Vec<String> {
        let b = &self.restores;
        let mut lines = vec![format!(
            "Restore brings back backup {} (made by {} at {}): {}",
            b.id,
            b.made_by,
            b.created_at,
            backup::counts_text(&b.rows)
        )];
        let now: Vec<String> = self
            .replaces
            .iter()
            .filter(|c| c.rows > 0)
            .map(|c| format!("{} {}", c.table, c.rows))
            .collect();
        let now = if now.is_empty() {
            "no rows".to_owned()
        } else {
            now.join(", ")
        };
        lines.push(if self.keeps_replaced {
            format!("What it replaces ({now}) is kept as a backup.")
        } else {
            format!("What it replaces ({now}) is not kept: no backup.")
        });
        if !self.would_prune_backups.is_empty() {
            lines.push(format!(
                "Older backups dropped by the retention: {}",
                self.would_prune_backups.join(", ")
            ));
        }
        lines
    }
}

pub type RestoreReport = Report<RestoreOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct RestoreOutcome {
    pub dry_run: bool,
    #[serde(flatten)]
    pub plan: RestorePlan,
    /// The id of the backup that keeps what the restore replaced.
    pub backup: Option<String>,
    /// The ids of the older backups the retention dropped.
    pub pruned_backups: Vec<String>,
}

impl Outcome for RestoreOutcome {
    fn write_text(report: &RestoreReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        let restored = &outcome.plan.restores;
        if outcome.dry_run {
            for line in outcome.plan.lines() {
                writeln!(f, "{line}")?;
            }
            return write!(
                f,
                "{}: dry run: restore would bring back backup {}; nothing was changed",
                report.target(),
                restored.id
            );
        }
        let mut changes = vec![format!(
            "restored backup {} ({})",
            restored.id,
            backup::counts_text(&restored.rows)
        )];
        if let Some(id) = &outcome.backup {
            changes.push(format!("kept what it replaced as backup {id}"));
        }
        if !outcome.pruned_backups.is_empty() {
            changes.push(format!(
                "dropped {}",
                crate::text::plural(outcome.pruned_backups.len(), "older backup")
            ));
        }
        write!(f, "{}: restore: {}", report.target(), changes.join(", "))
    }
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<RestoreReport> {
    let target = settings.target.display();
    let schema = &settings.schema;
    let id = args.id.as_deref();
    if args.dry_run {
        progress.start(format!("connecting to {target}"));
        let mut db = db::open_existing(settings, progress)?.ok_or_else(|| db::missing(settings))?;
        let (plan, _) = db.glance(schema, settings.lock_timeout, "the dry run", |db| {
            RestorePlan::read(db, settings, id)
        })?;
        plan.check_guard(settings, args.allow_production)?;
        return Ok(Report::new(
            "restore",
            settings,
            RestoreOutcome {
                dry_run: true,
                plan,
                backup: None,
                pruned_backups: Vec::new(),
            },
        ));
    }
    // Refuse before connecting: a script without a terminal must never wait for an answer.
    if let (false, Some(stream)) = (args.force, prompt::not_a_terminal()) {
        return Err(Error::Refused(format!(
            "refusing to restore into {target} without confirmation: the question needs a terminal, and {stream} is not a terminal. Pass --force to restore anyway"
        )));
    }
    progress.start(format!("connecting to {target}"));
    let (mut db, _) = db::open(settings, IfMissing::Fail, progress)?;
    guard::check_shadowing(&mut db, schema, "restore", &target)?;
    let (shown, chosen) = db.read_only(schema, settings.lock_timeout, |db| {
        ownership::ownership(db, schema)?.require("restore", &target, schema)?;
        RestorePlan::read(db, settings, id)
    })?;
    shown.check_guard(settings, args.allow_production)?;
    if !args.force {
        progress.suspend(|| {
            for line in shown.lines() {
                say(line);
            }
            let counts = &shown.replaces;
            super::confirm(
                settings,
                &format!("Restore backup {} into", chosen.id),
                "restore",
                inventory::holds_data_beyond_seed(counts),
            )
        })?;
    }
    progress.start(format!("restoring backup {} into {target}", chosen.id));
    // SQLite attaches the backup's file outside the transaction, as it must.
    backup::attach(&mut db, settings, &chosen)?;
    let mut ledger = Ledger::default();
    let done = db.exclusive(schema, settings.lock_timeout, |db| {
        ownership::ownership(db, schema)?.require("restore", &target, schema)?;
        let (plan, chosen) = RestorePlan::read(db, settings, Some(&shown.restores.id))?;
        let same = plan.restores.id == shown.restores.id
            && plan.restores.rows == shown.restores.rows
            && plan.replaces == shown.replaces
            && plan.would_prune_backups == shown.would_prune_backups;
        if !same {
            return Err(Error::Schema(format!(
                "cannot restore into {target}: the database or its backups changed while it was asked; nothing was changed, run it again"
            )));
        }
        let recorded = bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)?;
        ledger = Ledger::open(db, settings)?;
        if plan.keeps_replaced {
            let claim = inventory::claim(db, schema)?;
            ledger.keep(db, settings, &claim, "restore", recorded.as_deref())?;
        } else {
            inventory::drop_owned(db, schema, &target)?;
        }
        ledger.restore(db, settings, &chosen)?;
        ledger.retain(db, settings, settings.keep_backups)?;
        ledger.close(db, settings)?;
        Ok(plan)
    });
    backup::detach(&mut db);
    match &done {
        Ok(_) => ledger.settle()?,
        Err(_) => ledger.abandon(),
    }
    let plan = done?;
    progress.done(format!("restored backup {}", plan.restores.id));
    if let Some(made) = &ledger.made {
        progress.done(format!(
            "kept what it replaced as backup {} in {}",
            made.id, made.location
        ));
    }
    for dropped in &ledger.dropped {
        progress.done(format!("dropped older backup {}", dropped.id));
    }
    Ok(Report::new(
        "restore",
        settings,
        RestoreOutcome {
            dry_run: false,
            plan,
            backup: ledger.made.as_ref().map(|b| b.id.clone()),
            pruned_backups: ledger.dropped.iter().map(|b| b.id.clone()).collect(),
        },
    ))
}
