//! One module per command, each an `Args` struct (its flags) and a `run` that returns a
//! [`Report`] around the command's own [`Outcome`]. `init` sets a database
//! up; `reset` drops what facedb owns and sets it up again after a confirmation; `fresh` is
//! `reset --force` under the name CI scripts use; `user` creates users, sets passwords and lists
//! users; `rollback` reverts the newest migration after a confirmation; `check` compares the
//! schema with the contract and `status` says where the database stands, both without changing
//! anything; `sql` prints the schema script and `completions` a
//! shell completion script, neither touching a database.

pub mod backups;
pub mod check;
pub mod completions;
pub mod fresh;
pub mod init;
pub mod report;
pub mod reset;
pub mod reset_plan;
pub mod restore;
pub mod rollback;
pub mod sql;
pub mod status;
pub mod user;

pub use report::{Outcome, Report};

use serde::Serialize;

use crate::adopt::{self, Adoption};
use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::config::{SchemaName, Settings};
use crate::db::{self, Db, FirstLook, IfMissing, Opened};
use crate::demo::{self, DemoData};
use crate::error::{Error, Result};
use crate::guard;
use crate::migrations;
use crate::ownership::{self, Ownership};
use crate::password::{self, Hashing};
use crate::progress::{quoted, Progress};
use crate::prompt;
use crate::seed::{self, SeededAdmin};

/// Options of the commands that set a database up (`init`, `reset`, `fresh`): what they seed.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SeedArgs {
    /// Read the seeded admin's password from stdin (one line) instead of FACEDB_ADMIN_PASSWORD.
    #[arg(long)]
    pub admin_password_stdin: bool,

    /// Also add the development data: tenant t-dev with a site and three webcams (only what is
    /// missing; for development databases: refused where ENV or the database says production).
    #[arg(long)]
    pub with_demo_data: bool,
}

impl SeedArgs {
    /// The settings, with the admin password from stdin when asked to.
    pub fn apply(&self, settings: &Settings) -> Result<Settings> {
        if self.with_demo_data {
            // Before anything is asked or created; `set_up` checks again with the database's
            // recorded environment.
            demo::check_allowed(settings, None)?;
        }
        let mut settings = settings.clone();
        if !self.admin_password_stdin {
            return Ok(settings);
        }
        let password = prompt::stdin_line("the admin password")?;
        if password.is_empty() {
            return Err(Error::Usage(
                "--admin-password-stdin read an empty password; pipe the password in, e.g. `printf '%s\\n' \"$PW\" | facedb init --admin-password-stdin`".to_owned(),
            ));
        }
        settings.admin.password = password;
        seed::check_admin_password(&settings.admin)?;
        Ok(settings)
    }
}

/// What setting a database up did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetupOutcome {
    /// Names of the migrations applied by this run.
    pub applied_migrations: Vec<String>,
    /// The admin seeded by this run, if there was no system admin.
    pub seeded_admin: Option<SeededAdmin>,
    /// The deployment environment recorded in the database.
    pub environment: String,
    /// What adopting a database the old tool made did, when this run adopted one (only `init`
    /// reports it: `reset` drops what it would adopt).
    #[serde(skip)]
    pub adopted: Option<Adoption>,
    /// With `--with-demo-data`: what it found and added; otherwise `null`.
    pub demo_data: Option<DemoData>,
}

/// Adopts a database the old tool made (facedb's tables without its migrations recorded), applies
/// pending migrations, records the environment (`environment`, else `ENV`) unless one is
/// recorded, seeds the admin, and adds the demo data when `with_demo_data` (refused where the
/// environment is protected). Runs inside the caller's locked transaction, so a warm run is a
/// handful of cheap queries.
pub(crate) fn set_up(
    db: &mut Db,
    settings: &Settings,
    command: &str,
    environment: Option<&str>,
    hashing: Option<Hashing>,
    with_demo_data: bool,
) -> Result<SetupOutcome> {
    let schema = &settings.schema;
    let target = settings.target.display();
    create_schema(db, schema)?;
    let ownership = ownership::ownership(db, schema)?;
    ownership.require(command, &target, schema)?;
    let adopted = if ownership == Ownership::Legacy {
        Some(adopt::adopt(db, schema, &target)?)
    } else {
        None
    };
    let applied_migrations = migrations::apply_pending(db)?;
    // Every migration of this binary is applied now; record them as facedb's (see bookkeeping).
    if adopted.is_some() || !applied_migrations.is_empty() {
        bookkeeping::record_migrations(db, &migrations::known_versions(db.backend())?)?;
    }
    let environment = environment.unwrap_or(&settings.environment);
    let environment = bookkeeping::record_once(db, ENVIRONMENT_KEY, environment)?;
    let protected = guard::protected_by(settings, Some(&environment));
    // Chosen once the users table is known to be facedb's, unless the caller chose and started
    // hashing before (reset: from the hashes before the drop).
    let choose = |db: &mut Db| match hashing {
        Some(hashing) => Ok(hashing),
        None => password::choose(db, schema, settings.password_scheme)
            .map(|choice| Hashing::start(choice, &settings.admin.password)),
    };
    let seeded_admin = seed::seed_admin(db, &settings.admin, choose, protected.as_deref())?;
    let demo_data = if with_demo_data {
        demo::check_allowed(settings, Some(&environment))?;
        Some(demo::add_demo_data(db)?)
    } else {
        None
    };
    Ok(SetupOutcome {
        applied_migrations,
        seeded_admin,
        environment,
        adopted,
        demo_data,
    })
}

/// Creates `schema` when it does not exist yet (inside the caller's transaction, so a refused
/// or failed command leaves none behind). A SQLite file's one schema always exists.
fn create_schema(db: &mut Db, schema: &SchemaName) -> Result<()> {
    use diesel::RunQueryDsl;
    if !db.schema_exists(schema)? {
        diesel::sql_query(format!("CREATE SCHEMA {}", schema.quoted())).execute(db)?;
    }
    Ok(())
}

impl SetupOutcome {
    /// Reports the steps that changed something.
    pub(crate) fn report(&self, progress: &Progress) {
        if let Some(adopted) = &self.adopted {
            for line in adopted.lines() {
                progress.done(line);
            }
            for kept in &adopted.kept {
                progress.warn(format!("kept {kept}"));
            }
        }
        for name in &self.applied_migrations {
            progress.done(format!("applied migration {name}"));
        }
        if let Some(admin) = &self.seeded_admin {
            progress.done(format!(
                "seeded system admin '{}' <{}>",
                admin.username, admin.email
            ));
            if let Some(note) = admin.choice.note() {
                progress.info(note);
            }
            if admin.default_password {
                progress.warn(format!(
                    "system admin '{}' has the default password: change it before anyone else can reach the API",
                    admin.username
                ));
            }
        }
        if let Some(demo) = &self.demo_data {
            demo.report(progress);
        }
    }

    /// The changes as one clause each, for the result line.
    pub(crate) fn changes(&self) -> Vec<String> {
        let mut changes = Vec::new();
        if let Some(adopted) = &self.adopted {
            changes.push(adopted.summary());
        }
        if !self.applied_migrations.is_empty() {
            changes.push(format!(
                "applied {}",
                crate::text::plural(self.applied_migrations.len(), "migration")
            ));
        }
        if let Some(admin) = &self.seeded_admin {
            changes.push(format!("seeded admin '{}'", admin.username));
        }
        if let Some(demo) = self.demo_data.as_ref().filter(|d| d.created) {
            changes.push(format!("added demo data (tenant '{}')", demo.tenant));
        }
        changes
    }
}

/// Asks before a command that deletes, on one Enter-terminated line, default No: `{action}
/// {target}? [y/N]`, or, when `typed_name`, the database's name typed out. A different answer
/// says what was typed and changes nothing (exit 4).
pub(crate) fn confirm(
    settings: &Settings,
    action: &str,
    command: &str,
    typed_name: bool,
) -> Result<()> {
    confirm_protected(settings, action, command, typed_name, None)
}

/// [`confirm`], on a database that `protected` says is production (`guard::protected_by`): the
/// question says so, and the name must be typed.
pub(crate) fn confirm_protected(
    settings: &Settings,
    action: &str,
    command: &str,
    typed_name: bool,
    protected: Option<&str>,
) -> Result<()> {
    let target = settings.target.display();
    let not_changed = format!("{command} cancelled; {target} was not changed");
    if typed_name || protected.is_some() {
        let name = confirmation_name(settings);
        let what = match protected {
            Some(reason) => format!("This deletes data in a production database ({reason})"),
            None => "This deletes data".to_owned(),
        };
        let typed = prompt::line(&format!(
            "{what}. Type the database name ({name}) to confirm"
        ))?;
        let typed = typed.trim();
        if typed != name {
            return Err(Error::Refused(format!(
                "{} is not the database name {}: {not_changed}",
                quoted(typed),
                quoted(&name)
            )));
        }
    } else {
        let answer = prompt::line(&format!("{action} {target}? [y/N]"))?;
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Error::Refused(not_changed));
        }
    }
    Ok(())
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

/// Connects for `init` or `reset`, creating a missing database when the guard allows it (a
/// production `init` with the default password does not get one). The flag says whether this
/// run created it.
fn open_or_create(
    settings: &Settings,
    progress: &Progress,
    look: Option<&FirstLook<'_>>,
) -> Result<Opened> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let opened = db::open_looking(
        settings,
        IfMissing::Create {
            allowed: guard::check_new_database,
        },
        progress,
        look,
    )?;
    if opened.created {
        progress.done(format!("created database {target}"));
    }
    Ok(opened)
}
