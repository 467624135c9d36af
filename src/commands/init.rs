//! `facedb init`: create the database if it is missing, apply pending migrations (or adopt a
//! database the old Python tool made, see [`crate::adopt`]), seed the admin. Idempotent and safe
//! on a live database.

use serde::Serialize;

use crate::adopt::{self, Adoption};
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::commands::{set_up, Outcome, Report, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::db::{self, Db, FirstLook, IfMissing, Opened, SetUpSigns, SetUpState};
use crate::error::Result;
use crate::guard;
use crate::lock::ADVISORY_LOCK_KEY;
use crate::migrations;
use crate::models::UserRole;
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The admin to seed, and `--with-demo-data`.
    #[command(flatten)]
    pub seed: SeedArgs,
}

pub type InitReport = Report<InitOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct InitOutcome {
    pub created_database: bool,
    #[serde(flatten)]
    pub setup: SetupOutcome,
    /// What adopting a database the old tool made did; `null` when there was nothing to adopt.
    pub adopted: Option<Adoption>,
    pub up_to_date: bool,
}

impl Outcome for InitOutcome {
    /// The one-line result printed on stdout.
    fn write_text(report: &InitReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        let mut changes = Vec::new();
        if outcome.created_database {
            changes.push("created the database".to_owned());
        }
        changes.extend(outcome.setup.changes());
        if changes.is_empty() {
            write!(f, "{}: up to date", report.target())
        } else {
            write!(f, "{}: {}", report.target(), changes.join(", "))
        }
    }
}

/// Sets up the database at `settings` quietly: what an API calls at start-up in development.
pub fn init(settings: &Settings) -> Result<InitReport> {
    run(settings, &Args::default(), &Progress::quiet())
}

/// [`init`] without its first look: always in facedb's locked transaction, as `init` is when
/// that look finds something to do. It comes to the same result; it only takes longer on an
/// up-to-date database.
pub fn init_locked(settings: &Settings) -> Result<InitReport> {
    let progress = Progress::quiet();
    let Opened {
        mut db, created, ..
    } = super::open_or_create(settings, &progress, None)?;
    set_up_locked(&mut db, settings, &Args::default(), created, &progress)
}

/// Whether `init` finds the database at `settings` up to date by its first look, which reads
/// without facedb's lock and changes nothing: the environment recorded there when it does. Opens
/// an existing database only, as `init` does.
pub fn init_finds_up_to_date(settings: &Settings) -> Result<Option<String>> {
    let versions = migrations::known_versions(settings.target.backend())?;
    let look = FirstLook {
        schema: &settings.schema,
        signs: signs(&versions),
    };
    let opened = db::open_looking(settings, IfMissing::Fail, &Progress::quiet(), Some(&look))?;
    Ok(opened.set_up.and_then(up_to_date))
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<InitReport> {
    let settings = &args.seed.apply(settings)?;
    // Most runs (every start of the API) find everything in place: the first look, read as the
    // connection is checked and without the lock, says so. Demo data is looked for under the
    // lock only.
    let versions = migrations::known_versions(settings.target.backend())?;
    let look = FirstLook {
        schema: &settings.schema,
        signs: signs(&versions),
    };
    let look = (!args.seed.with_demo_data).then_some(&look);
    let Opened {
        mut db,
        created: created_database,
        set_up,
    } = super::open_or_create(settings, progress, look)?;
    progress.start(format!(
        "applying the schema to {}",
        settings.target.display()
    ));
    if let Some(environment) = set_up.and_then(up_to_date) {
        let setup = SetupOutcome {
            environment,
            ..SetupOutcome::default()
        };
        return Ok(report(settings, false, setup));
    }
    set_up_locked(&mut db, settings, args, created_database, progress)
}

/// What shows that a database needs nothing of `init`: its migrations all recorded, its
/// environment recorded and a system admin there (so that the locked path would apply, record
/// and seed nothing), in facedb's own tables: the metadata table proves ownership as
/// `ownership::records_facedb` does, so neither adoption nor a refusal can follow; and nothing
/// shadows them (else `guard::check_shadowing` refuses).
fn signs(versions: &[String]) -> SetUpSigns<'_> {
    SetUpSigns {
        tables: &crate::inventory::TABLES,
        migrations_table: migrations::MIGRATIONS_TABLE,
        versions,
        metadata_table: bookkeeping::TABLE,
        environment_key: ENVIRONMENT_KEY,
        users_table: "users",
        role_type: "userrole",
        admin_role: UserRole::SystemAdmin.label(),
        lock_key: ADVISORY_LOCK_KEY,
    }
}

/// The environment recorded in an up-to-date database; `None` when the first look finds
/// anything to do or another facedb at work (or, before this, failed: a table someone else's
/// DDL holds, a schema half made by hand): the locked path then does what is needed, waits as
/// long as it may, or says what is wrong, as it always has.
fn up_to_date(state: SetUpState) -> Option<String> {
    if state.shadowed || state.locked {
        return None;
    }
    state.environment
}

/// init's locked path: shadowing refused, then, in facedb's locked transaction, adoption,
/// migrations, the environment and the admin, each only when needed (and demo data when asked
/// for).
fn set_up_locked(
    db: &mut Db,
    settings: &Settings,
    args: &Args,
    created_database: bool,
    progress: &Progress,
) -> Result<InitReport> {
    let target = settings.target.display();
    guard::check_shadowing(db, &settings.schema, "init", &target)?;
    let setup = adopt::exclusive(
        db,
        &settings.schema,
        settings.lock_timeout,
        &target,
        !created_database,
        |db| set_up(db, settings, "init", None, None, args.seed.with_demo_data),
    )?;
    setup.report(progress);
    Ok(report(settings, created_database, setup))
}

fn report(settings: &Settings, created_database: bool, setup: SetupOutcome) -> InitReport {
    let up_to_date = !created_database
        && setup.adopted.is_none()
        && setup.applied_migrations.is_empty()
        && setup.seeded_admin.is_none()
        && !setup.demo_data.as_ref().is_some_and(|d| d.created);
    let outcome = InitOutcome {
        created_database,
        adopted: setup.adopted.clone(),
        setup,
        up_to_date,
    };
    Report::new("init", settings, outcome)
}
