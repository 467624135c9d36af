//! `facedb backups`: the backups resets and restores kept of the target; `facedb backups prune`:
//! drop all but the newest N of them, after showing which and asking.

use serde::Serialize;

use crate::backup::{self, Ledger, Listed};
use crate::commands::{Outcome, Report};
use crate::config::Settings;
use crate::db::{self, IfMissing};
use crate::error::{Error, Result};
use crate::progress::{say, Progress};
use crate::prompt;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {}

/// What `facedb backups` found.
pub type BackupsReport = Report<BackupsOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct BackupsOutcome {
    /// Oldest first.
    pub backups: Vec<Listed>,
}

impl Outcome for BackupsOutcome {
    fn write_text(report: &BackupsReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in &report.outcome.backups {
            writeln!(
                f,
                "{}  {}  made by {}{}  {}  {}  ({})",
                b.id,
                b.created_at,
                b.made_by,
                b.environment
                    .as_deref()
                    .map(|e| format!(", ENV={e}"))
                    .unwrap_or_default(),
                backup::counts_text(&b.rows),
                backup::size_text(b.size_bytes),
                b.location
            )?;
        }
        let size = report.outcome.backups.iter().map(|b| b.size_bytes).sum();
        write!(
            f,
            "{}: {} ({})",
            report.target(),
            crate::text::plural(report.outcome.backups.len(), "backup"),
            backup::size_text(size)
        )
    }
}

/// Lists the backups. Reads only: a standby serves it too.
pub fn run(settings: &Settings, _args: &Args, progress: &Progress) -> Result<BackupsReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let mut db = db::open_existing(settings, progress)?.ok_or_else(|| db::missing(settings))?;
    progress.start(format!("reading the backups of {target}"));
    let backups = db.read_only(&settings.schema, settings.lock_timeout, |db| {
        backup::list(db, settings)
    })?;
    Ok(Report::new("backups", settings, BackupsOutcome { backups }))
}

#[derive(Debug, Clone, Default, clap::Args)]
pub struct PruneArgs {
    /// How many of the newest backups to keep [default: FACEDB_KEEP_BACKUPS, else 3].
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,

    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,

    /// Show which backups would be dropped, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What a prune drops: all but the newest `keep` backups. The dry run prints it, the prompt
/// shows it, and the run reads it again under the lock and drops exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrunePlan {
    pub keep: usize,
    /// Oldest first.
    pub would_drop: Vec<Listed>,
}

impl PrunePlan {
    fn read(db: &mut db::Db, settings: &Settings, keep: usize) -> Result<PrunePlan> {
        let listed = backup::list(db, settings)?;
        let excess = listed.len().saturating_sub(keep);
        Ok(PrunePlan {
            keep,
            would_drop: listed.into_iter().take(excess).collect(),
        })
    }

    fn ids(&self) -> Vec<&str> {
        self.would_drop.iter().map(|b| b.id.as_str()).collect()
    }
}

pub type PruneReport = Report<PruneOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct PruneOutcome {
    pub dry_run: bool,
    #[serde(flatten)]
    pub plan: PrunePlan,
}

impl Outcome for PruneOutcome {
    fn write_text(report: &PruneReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        let size: i64 = outcome.plan.would_drop.iter().map(|b| b.size_bytes).sum();
        let count = crate::text::plural(outcome.plan.would_drop.len(), "backup");
        if outcome.dry_run {
            for b in &outcome.plan.would_drop {
                writeln!(f, "would drop backup {} ({})", b.id, b.location)?;
            }
            write!(
                f,
                "{}: dry run: backups prune would drop {count} ({}), keeping the newest {}; nothing was changed",
                report.target(),
                backup::size_text(size),
                outcome.plan.keep
            )
        } else {
            write!(
                f,
                "{}: backups prune: dropped {count} ({}), kept the newest {}",
                report.target(),
                backup::size_text(size),
                outcome.plan.keep
            )
        }
    }
}

/// `facedb backups prune`: refuses a standby (exit 3) and, without --force, a missing terminal
/// (exit 4) before reading anything.
pub fn prune(settings: &Settings, args: &PruneArgs, progress: &Progress) -> Result<PruneReport> {
    let target = settings.target.display();
    let keep = args.keep.unwrap_or(settings.keep_backups);
    let schema = &settings.schema;
    if args.dry_run {
        progress.start(format!("connecting to {target}"));
        let mut db = db::open_existing(settings, progress)?.ok_or_else(|| db::missing(settings))?;
        let plan = db.glance(schema, settings.lock_timeout, "the dry run", |db| {
            PrunePlan::read(db, settings, keep)
        })?;
        return Ok(Report::new(
            "backups prune",
            settings,
            PruneOutcome {
                dry_run: true,
                plan,
            },
        ));
    }
    if let (false, Some(stream)) = (args.force, prompt::not_a_terminal()) {
        return Err(Error::Refused(format!(
            "refusing to drop backups of {target} without confirmation: the question needs a terminal, and {stream} is not a terminal. Pass --force to drop them anyway"
        )));
    }
    progress.start(format!("connecting to {target}"));
    let (mut db, _) = db::open(settings, IfMissing::Fail, progress)?;
    let shown = db.read_only(schema, settings.lock_timeout, |db| {
        PrunePlan::read(db, settings, keep)
    })?;
    if !shown.would_drop.is_empty() && !args.force {
        progress.suspend(|| {
            say(format_args!(
                "Prune drops these backups of {target} for good, keeping the newest {keep}:"
            ));
            for b in &shown.would_drop {
                say(format_args!(
                    "  {}  {}  made by {}  {}  {}",
                    b.id,
                    b.created_at,
                    b.made_by,
                    backup::counts_text(&b.rows),
                    backup::size_text(b.size_bytes)
                ));
            }
            super::confirm(settings, "Drop these backups of", "backups prune", false)
        })?;
    }
    progress.start(format!("dropping old backups of {target}"));
    let mut ledger = Ledger::default();
    let done = db.exclusive(schema, settings.lock_timeout, |db| {
        ledger = Ledger::open(db, settings)?;
        let plan = PrunePlan::read(db, settings, keep)?;
        if plan.ids() != shown.ids() {
            return Err(Error::Schema(format!(
                "cannot prune the backups of {target}: they changed while it was asked; nothing was changed, run it again"
            )));
        }
        for listed in &plan.would_drop {
            let recorded = ledger
                .records()
                .iter()
                .find(|b| b.id == listed.id)
                .cloned()
                .expect("the plan lists recorded backups");
            ledger.drop(db, settings, &recorded)?;
        }
        ledger.close(db, settings)?;
        Ok(plan)
    });
    match &done {
        Ok(_) => ledger.settle()?,
        Err(_) => ledger.abandon(),
    }
    let plan = done?;
    for b in &plan.would_drop {
        progress.done(format!("dropped backup {}", b.id));
    }
    Ok(Report::new(
        "backups prune",
        settings,
        PruneOutcome {
            dry_run: false,
            plan,
        },
    ))
}
