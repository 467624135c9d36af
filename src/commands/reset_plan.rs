//! The one plan of a reset: what it drops, keeps, carries over, reverts and loses, and whether
//! it refuses. [`ResetPlan::read`] computes it by doing the reset inside the caller's
//! transaction: the dry run and the plan shown at the prompt are read in a transaction that is
//! always rolled back (`Db::rehearse`); the reset reads it again under facedb's lock, in the
//! transaction it then commits. So the statements shown are the statements run, and whatever
//! would refuse (the production guard, ownership, dependents, losses, the default password in a
//! protected database, a carried-over definition that no longer applies) is known while planning.

use serde::Serialize;

use crate::backup::{self, Ledger};
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::carry::{self, Carry};
use crate::catalog::Backend;
use crate::commands::{set_up, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, ExitCode, Result};
use crate::footprint;
use crate::guard;
use crate::inventory::{self, Dependent, TableCount};
use crate::migrations;
use crate::ownership;
use crate::password;

/// What `reset` and `fresh` share: all but whether they ask.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Options {
    /// Allow resetting a production database (ENV or the recorded environment is prod,
    /// production or staging).
    #[arg(long)]
    pub allow_production: bool,

    #[command(flatten)]
    pub seed: SeedArgs,

    /// Show what would be dropped, carried over, reverted and lost, and change nothing: the
    /// reset is rehearsed in a transaction that is rolled back; no prompt, no wait for another
    /// facedb, a missing database is not created. Exits as the reset would refuse: 4 for a
    /// protected database or its default password, 5 for tables facedb cannot prove its own, a
    /// shadowing search path, an object facedb does not own that depends on its tables, a
    /// definition that cannot be re-applied, or something it cannot carry over.
    #[arg(long)]
    pub dry_run: bool,

    /// Without a prompt, drop what the reset cannot carry over (columns facedb's schema does not
    /// have, what uses them, and any object of a kind facedb cannot re-apply) instead of refusing.
    #[arg(long, visible_alias = "accept-loss")]
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
    pub(crate) fn backups(&self, settings: &Settings) -> (usize, bool) {
        let keep = self.keep_backups.unwrap_or(settings.keep_backups);
        (keep, keep > 0 && !self.no_backup)
    }
}

/// What a reset would do, and why it would refuse, if it would.
#[derive(Debug, Clone, Serialize)]
pub struct ResetPlan {
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
    /// Properties of facedb's own objects that differ from what the migrations make and are not
    /// carried over: the reset puts the schema's back.
    pub would_revert: Vec<String>,
    /// What the reset would drop for good: without a prompt it refuses (exit 5) unless
    /// --drop-unknown-columns accepts dropping it.
    pub would_lose: Vec<String>,
    /// Objects that are the same after the reset (made again by the migrations, or carried over).
    pub would_create_again: Vec<String>,
    /// The statements that re-apply what is carried over, in order.
    pub statements: Vec<String>,
    /// Whether the plan comes from doing the reset in a transaction that was rolled back. A
    /// read-only server (a standby) cannot: what would be lost or reverted is then unknown.
    pub rehearsed: bool,
    /// Why the reset could not be rehearsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_rehearsed: Option<String>,
    /// Whether the reset would keep a backup of what it replaces.
    pub would_keep_backup: bool,
    /// The ids of the older backups its retention would drop.
    pub would_prune_backups: Vec<String>,
    /// Why the reset would refuse, and with which exit code.
    pub refused: Option<Refusal>,
    /// What setting the database up again did, when the plan was read by doing it.
    #[serde(skip)]
    pub(crate) setup: Option<SetupOutcome>,
    /// What the reset carries over, with the statements.
    #[serde(skip)]
    pub(crate) carry: Carry,
    /// Why the database counts as production (`guard::protected_by`), for the prompt.
    #[serde(skip)]
    pub(crate) protected: Option<String>,
}

/// Why a reset refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// 4 (a guard: production, the default password) or 5 (the database stands in the way).
    pub exit_code: i32,
    pub message: String,
}

impl Refusal {
    pub fn exit_code(&self) -> ExitCode {
        if self.exit_code == ExitCode::Refused as i32 {
            ExitCode::Refused
        } else {
            ExitCode::Schema
        }
    }

    pub fn to_error(&self) -> Error {
        match self.exit_code() {
            ExitCode::Refused => Error::Refused(self.message.clone()),
            _ => Error::Schema(self.message.clone()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

impl ResetPlan {
    /// The plan before anything is read: a reset of a database that does not exist yet.
    pub fn new(settings: &Settings) -> ResetPlan {
        ResetPlan {
            database_exists: false,
            would_drop: WouldDrop::default(),
            blockers: Vec::new(),
            not_owned: Vec::new(),
            shadowed: Vec::new(),
            would_apply_migrations: migrations::all_names(settings.target.backend()),
            would_seed_admin: settings.admin.username.clone(),
            would_carry_over: Vec::new(),
            would_revert: Vec::new(),
            would_lose: Vec::new(),
            would_create_again: Vec::new(),
            statements: Vec::new(),
            rehearsed: false,
            not_rehearsed: None,
            would_keep_backup: false,
            would_prune_backups: Vec::new(),
            refused: None,
            setup: None,
            carry: Carry::default(),
            protected: None,
        }
    }

    /// The plan for a database that does not exist: the reset creates it, unless the guard
    /// refuses a new protected database its default password.
    pub fn for_missing_database(settings: &Settings) -> ResetPlan {
        let mut plan = ResetPlan::new(settings);
        if let Err(error) = guard::check_new_database(settings) {
            plan.refused = refusal_of(&error);
        }
        plan
    }

    /// Reads the plan by doing the reset in the caller's transaction, which the caller then
    /// keeps (the reset) or rolls back (a rehearsal). `shadowed` is read before the
    /// transaction, which pins the search path. With `accept_loss`, losing what cannot be
    /// carried over is no refusal (--drop-unknown-columns, or a person who will be asked).
    /// `ledger`: the reset's own, opened under the lock, which records the backup it keeps
    /// (`made_by` names the command); `None` for a rehearsal, which keeps no backup file.
    pub fn read(
        db: &mut Db,
        settings: &Settings,
        options: &Options,
        shadowed: Vec<String>,
        accept_loss: bool,
        made_by: &str,
        ledger: Option<&mut Ledger>,
    ) -> Result<ResetPlan> {
        let mut plan = ResetPlan::new(settings);
        plan.database_exists = true;
        plan.shadowed = shadowed;
        plan.decide(db, settings, options, accept_loss, made_by, ledger)?;
        Ok(plan)
    }

    fn decide(
        &mut self,
        db: &mut Db,
        settings: &Settings,
        options: &Options,
        accept_loss: bool,
        made_by: &str,
        ledger: Option<&mut Ledger>,
    ) -> Result<()> {
        let schema = &settings.schema;
        let target = settings.target.display();
        if let Some(refusal) = guard::shadowing_refusal(&self.shadowed, "reset", &target, schema) {
            return self.refuse(Error::Schema(refusal));
        }
        // The database may say it is production even when ENV does not.
        let recorded = bookkeeping::recorded(db, schema, ENVIRONMENT_KEY)?;
        self.protected = guard::protected_by(settings, recorded.as_deref());
        let guarded = guard::check_reset(settings, recorded.as_deref(), options.allow_production);
        if let Err(error) = guarded {
            return self.refuse(error);
        }
        let ownership = ownership::ownership(db, schema)?;
        if let ownership::Ownership::Unproven(tables) = &ownership {
            self.not_owned = tables.clone();
        }
        if let Err(error) = ownership.require("reset", &target, schema) {
            return self.refuse(error);
        }
        let kept_migrations = migrations::other_applications_versions(db, schema)?;
        let mut bookkeeping_tables = inventory::existing_bookkeeping_tables(db, schema)?;
        if !kept_migrations.is_empty() {
            bookkeeping_tables.retain(|t| t != migrations::MIGRATIONS_TABLE);
        }
        self.would_drop = WouldDrop {
            tables: inventory::count_rows(db, schema)?,
            bookkeeping_tables,
            kept_migrations,
            types: inventory::existing_types(db, schema)?,
        };
        // The hashes before the reset decide: the admin seeded again must stay readable by the
        // API that has been using this database.
        let choice = password::choose(db, schema, settings.password_scheme)?;
        self.carry = carry::capture(db, schema)?;
        self.would_carry_over = self.carry.objects();
        self.statements = self.carry.statements();
        let (keep, with_backup) = options.backups(settings);
        let has_tables =
            !self.would_drop.tables.is_empty() || !self.would_drop.bookkeeping_tables.is_empty();
        self.would_keep_backup = with_backup && has_tables;
        // A rehearsal on PostgreSQL moves into a backup and prunes as the reset does: catalog
        // changes its rollback undoes. On SQLite the backup is a file: the rehearsal drops
        // instead, and checks that each backup to prune is facedb's own.
        let mut scratch = None;
        let mut ledger = match ledger {
            Some(ledger) => Some(ledger),
            None if db.backend() == Backend::Postgres => {
                Some(scratch.insert(Ledger::open(db, settings)?))
            }
            None => None,
        };
        let recorded_backups = match ledger.as_deref() {
            Some(ledger) => ledger.records().to_vec(),
            None => backup::recorded(db, schema)?,
        };
        // The backup this reset makes counts as the newest.
        let kept_too = usize::from(self.would_keep_backup);
        let to_prune = backup::beyond(&recorded_backups, keep.saturating_sub(kept_too));
        self.would_prune_backups = to_prune.iter().map(|b| b.id.clone()).collect();
        let before = footprint::read(db, schema)?;
        // Last before the moves: from here on nothing can come to depend on facedb's tables.
        let claim = inventory::claim(db, schema)?;
        self.blockers = claim.foreign_dependents.clone();
        if !self.blockers.is_empty() {
            return self.refuse(Error::Schema(format!(
                "cannot reset {target}: {}. facedb drops only what it owns; drop or change what it names first",
                inventory::describe_all(&self.blockers)
            )));
        }
        // The admin's hash is made meanwhile, on a thread of its own, while the server moves the
        // old tables away and loads the schema.
        let hashing = password::Hashing::start(choice, &settings.admin.password);
        let rehearsal = (|| {
            match ledger.as_deref_mut() {
                Some(ledger) if with_backup => {
                    ledger.keep(db, settings, &claim, made_by, recorded.as_deref())?
                }
                _ => drop_step(db, settings)?,
            }
            // The database keeps the environment it was set up for.
            let setup = set_up(
                db,
                settings,
                "reset",
                recorded.as_deref(),
                Some(hashing),
                options.seed.with_demo_data,
            )?;
            self.carry.restore(db, &target)?;
            match ledger {
                Some(ledger) => {
                    ledger.retain(db, settings, keep)?;
                    ledger.close(db, settings)?;
                }
                None => {
                    for old in &to_prune {
                        backup::verify(db, settings, old)?;
                    }
                }
            }
            Ok(setup)
        })();
        match rehearsal {
            Ok(setup) => self.setup = Some(setup),
            Err(error) if refused_as_read_only(&error) => {
                self.not_rehearsed = Some(
                    "the server takes no writes (a standby): what the reset would lose or revert is not known; run the dry run against the primary".to_owned(),
                );
                return Ok(());
            }
            // SQLite: another process writes to the file, and a dry run does not wait for it.
            Err(Error::LockTimeout(_)) if db.backend() == crate::catalog::Backend::Sqlite => {
                self.not_rehearsed = Some(
                    "another process is writing to the file: what the reset would lose or revert is not known; run the dry run again when it is done".to_owned(),
                );
                return Ok(());
            }
            Err(error) => return self.refuse(error),
        }
        self.rehearsed = true;
        let changes = footprint::compare(&before, &footprint::read(db, schema)?);
        self.would_lose = changes.lost;
        self.would_revert = changes.reverted;
        self.would_create_again = changes.created_again;
        if let Some(refusal) = carry::refusal(&target, &self.would_lose, accept_loss) {
            return self.refuse(Error::Schema(format!("{refusal}; nothing was changed")));
        }
        Ok(())
    }

    /// Records `error` as the plan's refusal when it is one (exit 4 or 5); other errors (a lost
    /// connection, a lock timeout) are the planning's own failure.
    fn refuse(&mut self, error: Error) -> Result<()> {
        match refusal_of(&error) {
            Some(refusal) => {
                self.refused = Some(refusal);
                Ok(())
            }
            None => Err(error),
        }
    }

    /// Whether the reset would do the same as `shown`: the same objects dropped, carried over,
    /// reverted and lost, the same statements.
    pub fn same_as(&self, shown: &ResetPlan) -> bool {
        self.would_carry_over == shown.would_carry_over
            && self.would_lose == shown.would_lose
            && self.would_revert == shown.would_revert
            && self.statements == shown.statements
            && self.blockers == shown.blockers
            && self.not_owned == shown.not_owned
            && self.would_keep_backup == shown.would_keep_backup
            && self.would_prune_backups == shown.would_prune_backups
    }

    /// What changed between `shown` and this plan, for the refusal that says so.
    pub fn differences(&self, shown: &ResetPlan) -> String {
        let mut differences = Vec::new();
        let lists = [
            (
                "carried over",
                &shown.would_carry_over,
                &self.would_carry_over,
            ),
            ("lost", &shown.would_lose, &self.would_lose),
            ("reverted", &shown.would_revert, &self.would_revert),
        ];
        for (what, before, now) in lists {
            let added: Vec<&String> = now.iter().filter(|i| !before.contains(i)).collect();
            let gone: Vec<&String> = before.iter().filter(|i| !now.contains(i)).collect();
            for item in added {
                differences.push(format!("now also {what}: {item}"));
            }
            for item in gone {
                differences.push(format!("no longer {what}: {item}"));
            }
        }
        if differences.is_empty() {
            differences.push("what stops it or the statements it runs".to_owned());
        }
        differences.join("; ")
    }
}

/// The reset's drop: everything facedb owns in the schema, and nothing else.
fn drop_step(db: &mut Db, settings: &Settings) -> Result<()> {
    inventory::drop_owned(db, &settings.schema, &settings.target.display())
}

/// A refusal (exit 4 or 5), from the error that says it.
fn refusal_of(error: &Error) -> Option<Refusal> {
    match error {
        Error::Refused(message) | Error::Schema(message) => Some(Refusal {
            exit_code: error.exit_code() as i32,
            message: message.clone(),
        }),
        _ => None,
    }
}

/// A write refused by a read-only server (SQLSTATE 25006), as the error names it, or as the
/// server's message says it.
fn refused_as_read_only(error: &Error) -> bool {
    match error {
        Error::ReadOnlyServer { .. } => true,
        Error::Database(diesel::result::Error::DatabaseError(_, info)) => {
            info.message().contains("read-only transaction")
        }
        _ => false,
    }
}

impl ResetPlan {
    /// What the reset does to the backups, as the dry run and the prompt say it.
    pub fn backup_lines(&self) -> Vec<String> {
        if !self.database_exists || self.refused.is_some() {
            return Vec::new();
        }
        let mut lines = vec![if self.would_keep_backup {
            "A backup keeps what the reset replaces, rows included (`facedb restore` brings it back)."
                .to_owned()
        } else {
            "No backup is kept of what the reset replaces.".to_owned()
        }];
        if !self.would_prune_backups.is_empty() {
            lines.push(format!(
                "Older backups dropped by the retention: {}",
                self.would_prune_backups.join(", ")
            ));
        }
        lines
    }
}
