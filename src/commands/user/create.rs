//! `facedb user create`: adds an active, email-verified user, a system admin by default. What
//! the flags leave out is asked for on the terminal; without one, a missing value is an error.

use diesel::prelude::*;
use serde::Serialize;

use super::{is_unique_violation, open_existing, prompt_new_password, Role};
use crate::commands::{Outcome, Report};
use crate::config::PasswordScheme;
use crate::config::Settings;
use crate::db::{Access, Db};
use crate::error::{Error, Result};
use crate::models::now_utc;
use crate::models::{NewUser, UserRole};
use crate::password;
use crate::progress::{printable, quoted, Progress};
use crate::prompt;
use crate::schema::{sites, tenants, users};
use crate::text::shell_word;

/// The longest username, email or name the `users` columns hold (`VARCHAR(255)`).
const MAX_LENGTH: usize = 255;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The login name (asked for when missing).
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,

    /// The email address, unique among users (asked for when missing).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,

    /// First name (asked for when missing).
    #[arg(long, value_name = "NAME")]
    pub first_name: Option<String>,

    /// Last name (asked for when missing).
    #[arg(long, value_name = "NAME")]
    pub last_name: Option<String>,

    /// The user's role.
    #[arg(long, value_enum, default_value_t, ignore_case = true)]
    pub role: Role,

    /// The tenant the user belongs to: required for every role but system_admin.
    #[arg(long, value_name = "TENANT_ID")]
    pub tenant: Option<String>,

    /// The user's site: required for site_manager, and must belong to --tenant.
    #[arg(long, value_name = "SITE_ID")]
    pub site: Option<i64>,

    /// Read the password from the first line of stdin instead of asking (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
}

pub type CreateReport = Report<CreateOutcome>;

/// The user created.
#[derive(Debug, Clone, Serialize)]
pub struct CreateOutcome {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The stored label: `SYSTEM_ADMIN`, `TENANT_ADMIN`, `SITE_MANAGER` or `WORKER`.
    pub role: &'static str,
    pub tenant_id: Option<String>,
    pub site_id: Option<i64>,
    /// How the password was hashed.
    pub password_hash: PasswordScheme,
}

impl Outcome for CreateOutcome {
    fn write_text(report: &CreateReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let user = &report.outcome;
        write!(
            f,
            "{}: created user '{}' <{}>, {}",
            report.target(),
            user.username,
            user.email,
            user.role
        )?;
        if let Some(tenant) = &user.tenant_id {
            write!(f, " of tenant '{tenant}'")?;
        }
        if let Some(site) = user.site_id {
            write!(f, ", site {site}")?;
        }
        Ok(())
    }
}

/// The user's fields once every one is known.
struct Person {
    username: String,
    email: String,
    first_name: String,
    last_name: String,
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<CreateReport> {
    let target = settings.target.display();
    let role = UserRole::from(args.role);
    let (tenant, site) = placement(args)?;
    let username = flag_value(&args.username, "--username", check_username)?;
    let email = flag_value(&args.email, "--email", check_email)?;
    let first_name = flag_value(&args.first_name, "--first-name", check_name)?;
    let last_name = flag_value(&args.last_name, "--last-name", check_name)?;

    // Refuse before connecting or reading anything: a script must never wait for an answer.
    let mut missing: Vec<&str> = [
        ("--username", username.is_none()),
        ("--email", email.is_none()),
        ("--first-name", first_name.is_none()),
        ("--last-name", last_name.is_none()),
        ("--password-stdin", !args.password_stdin),
    ]
    .into_iter()
    .filter_map(|(flag, absent)| absent.then_some(flag))
    .collect();
    if !missing.is_empty() && !prompt::can_ask() {
        let last = missing.pop().expect("not empty");
        let flags = if missing.is_empty() {
            last.to_owned()
        } else {
            format!("{} and {last}", missing.join(", "))
        };
        return Err(Error::Usage(format!(
            "missing {flags}: facedb asks for them only on a terminal, and stdin or stderr is not one. \
             Pass them on the command line (the password on stdin with --password-stdin)"
        )));
    }
    let password = if args.password_stdin {
        Some(super::read_password_stdin()?)
    } else {
        None
    };

    let mut db = open_existing(settings, progress, Access::Write)?;
    let lock_timeout = settings.lock_timeout;
    let choice = db.read_only(&settings.schema, lock_timeout, |db| {
        password::choose(db, &settings.schema, settings.password_scheme)
    })?;
    if let Some(note) = choice.note() {
        progress.info(note);
    }
    // What the flags name is checked before anything is asked, so nobody types in vain.
    db.read_only(&settings.schema, lock_timeout, |db| {
        check_placement(db, &target, tenant.as_deref(), site)?;
        if let Some(username) = &username {
            check_username_free(db, settings, username)?;
        }
        if let Some(email) = &email {
            check_email_free(db, &target, email)?;
        }
        Ok(())
    })?;
    let site = match (args.role, &tenant, site) {
        (Role::SiteManager, Some(tenant), None) => {
            Some(choose_site(&mut db, settings, progress, &target, tenant)?)
        }
        _ => site,
    };
    let person = Person {
        username: match username {
            Some(value) => value,
            None => ask(progress, "Username", |value| {
                check_username(value)?;
                db.read_only(&settings.schema, lock_timeout, |db| {
                    check_username_free(db, settings, value)
                })
                .map_err(|e| e.to_string())
            })?,
        },
        email: match email {
            Some(value) => value,
            None => ask(progress, "Email", |value| {
                check_email(value)?;
                db.read_only(&settings.schema, lock_timeout, |db| {
                    check_email_free(db, &target, value)
                })
                .map_err(|e| e.to_string())
            })?,
        },
        first_name: match first_name {
            Some(value) => value,
            None => ask(progress, "First name", check_name)?,
        },
        last_name: match last_name {
            Some(value) => value,
            None => ask(progress, "Last name", check_name)?,
        },
    };
    let password = match password {
        Some(password) => password,
        None => prompt_new_password(progress, "Password")?,
    };

    // Hash before the transaction: bcrypt at cost 12 takes a quarter of a second.
    progress.start("hashing the password");
    let password_hash = password::hash_with(choice.scheme, &password)?;
    drop(password);
    let user_id = uuid::Uuid::new_v4().to_string();

    progress.start(format!("creating user '{}'", person.username));
    db.transaction(&settings.schema, settings.lock_timeout, |db| {
        // Again inside the transaction: another process may have changed things meanwhile.
        check_placement(db, &target, tenant.as_deref(), site)?;
        check_username_free(db, settings, &person.username)?;
        check_email_free(db, &target, &person.email)?;
        let now = now_utc();
        let user = NewUser {
            user_id: &user_id,
            username: &person.username,
            email: &person.email,
            first_name: &person.first_name,
            last_name: &person.last_name,
            password_hash: &password_hash,
            role,
            tenant_id: tenant.as_deref(),
            site_id: site,
            is_active: true,
            is_email_verified: true,
            password_changed_at: now,
            created_at: now,
            updated_at: now,
        };
        let insert = diesel::insert_into(users::table).values(&user);
        insert.execute(db)?;
        Ok(())
    })
    .map_err(|error| {
        if is_unique_violation(&error) {
            Error::Refused(format!(
                "user '{}' or email '{}' was taken by another process just now; nothing was created",
                person.username, person.email
            ))
        } else {
            error
        }
    })?;

    let created = CreateOutcome {
        user_id,
        username: person.username,
        email: person.email,
        first_name: person.first_name,
        last_name: person.last_name,
        role: role.label(),
        tenant_id: tenant,
        site_id: site,
        password_hash: choice.scheme,
    };
    Ok(Report::new("user create", settings, created))
}

/// Checks what --role, --tenant and --site say together, before anything is looked up.
fn placement(args: &Args) -> Result<(Option<String>, Option<i64>)> {
    let role = args.role.flag_value();
    let tenant = flag_value(&args.tenant, "--tenant", |t| {
        check_length(t)?;
        Ok(())
    })?;
    match (args.role, &tenant, args.site) {
        (Role::SystemAdmin, Some(_), _) | (Role::SystemAdmin, _, Some(_)) => Err(Error::Usage(
            "a system admin belongs to no tenant or site: leave out --tenant and --site, or pass another --role"
                .to_owned(),
        )),
        (Role::SystemAdmin, None, None) => Ok((None, None)),
        (_, None, _) => Err(Error::Usage(format!(
            "--role {role} needs --tenant TENANT_ID: the tenant the user belongs to"
        ))),
        // The site is chosen from the tenant's once they are read (`choose_site`).
        (_, Some(_), site) => Ok((tenant, site)),
    }
}

/// A flag's value, trimmed and checked; `None` when the flag is absent.
fn flag_value(
    value: &Option<String>,
    flag: &str,
    check: impl Fn(&str) -> std::result::Result<(), String>,
) -> Result<Option<String>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim();
    check(value).map_err(|reason| Error::Usage(format!("{flag} {reason}")))?;
    Ok(Some(value.to_owned()))
}

fn check_length(value: &str) -> std::result::Result<(), String> {
    if value.is_empty() {
        Err("must not be empty".to_owned())
    } else if value.chars().count() > MAX_LENGTH {
        Err(format!("must be at most {MAX_LENGTH} characters"))
    } else if value.chars().any(char::is_control) {
        // An escape sequence or a line break would be obeyed wherever the name is shown.
        Err("must not contain control characters (escape sequences, tabs, line breaks)".to_owned())
    } else {
        Ok(())
    }
}

fn check_name(value: &str) -> std::result::Result<(), String> {
    check_length(value.trim())
}

fn check_username(value: &str) -> std::result::Result<(), String> {
    let value = value.trim();
    check_length(value)?;
    if value.chars().any(char::is_whitespace) {
        return Err(format!("{} must not contain spaces", quoted(value)));
    }
    Ok(())
}

/// A light check (something@domain, no spaces): the API validates addresses properly.
fn check_email(value: &str) -> std::result::Result<(), String> {
    let value = value.trim();
    check_length(value)?;
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!("'{value}' is not an email address"))
    }
}

/// Asks for one value on the terminal; `check` may refuse an answer, which asks again.
fn ask(
    progress: &Progress,
    prompt: &str,
    mut check: impl FnMut(&str) -> std::result::Result<(), String>,
) -> Result<String> {
    progress.suspend(|| prompt::line_until(prompt, &mut check))
}

/// The site a site manager without `--site` manages: chosen among the tenant's sites on a
/// terminal; without one, the error lists them.
fn choose_site(
    db: &mut Db,
    settings: &Settings,
    progress: &Progress,
    target: &str,
    tenant: &str,
) -> Result<i64> {
    let query = sites::table
        .filter(sites::tenant_id.eq(tenant))
        .select((sites::site_id, sites::name))
        .order(sites::site_id);
    let found: Vec<(i64, String)> =
        db.read_only(&settings.schema, settings.lock_timeout, |db| {
            Ok(query.load(db)?)
        })?;
    let role = Role::SiteManager.flag_value();
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "--role {role} needs --site SITE_ID, and tenant '{}' has no sites in {target}: add a site first",
            printable(tenant)
        )));
    }
    let items: Vec<String> = found
        .iter()
        .map(|(id, name)| format!("{id} ({})", printable(name)))
        .collect();
    if !prompt::can_ask() {
        return Err(Error::Usage(format!(
            "--role {role} needs --site SITE_ID: the site the user manages; the sites of tenant '{}' are {}",
            printable(tenant),
            items.join(", ")
        )));
    }
    let question = format!("Site of tenant '{}'", printable(tenant));
    let chosen = progress.suspend(|| prompt::choose(&question, &items))?;
    Ok(found[chosen].0)
}

/// The tenant must exist, and the site too, in that tenant.
fn check_placement(
    db: &mut Db,
    target: &str,
    tenant: Option<&str>,
    site: Option<i64>,
) -> Result<()> {
    let Some(tenant) = tenant else {
        return Ok(());
    };
    let tenant_query = tenants::table.find(tenant).select(tenants::tenant_id);
    let found = tenant_query.first::<String>(db).optional()?;
    if found.is_none() {
        return Err(Error::Refused(format!(
            "no tenant '{tenant}' in {target}: check --tenant (the tenant's id, not its name)"
        )));
    }
    let Some(site) = site else {
        return Ok(());
    };
    let site_query = sites::table.find(site).select(sites::tenant_id);
    let owner = site_query.first::<String>(db).optional()?;
    match owner {
        None => Err(Error::Refused(format!(
            "no site {site} in {target}: check --site"
        ))),
        Some(owner) if owner != tenant => Err(Error::Refused(format!(
            "site {site} belongs to tenant '{owner}', not '{tenant}': pick a site of tenant '{tenant}'"
        ))),
        Some(_) => Ok(()),
    }
}

fn check_username_free(db: &mut Db, settings: &Settings, username: &str) -> Result<()> {
    let target = settings.target.display();
    let query = diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ));
    let taken = query.get_result::<bool>(db)?;
    if taken {
        return Err(Error::Refused(format!(
            "user '{username}' already exists in {target}: choose another username, \
             or set its password with `{}`",
            settings.command(&format!("user reset-password {}", shell_word(username)))
        )));
    }
    Ok(())
}

fn check_email_free(db: &mut Db, target: &str, email: &str) -> Result<()> {
    let query = users::table
        .filter(users::email.eq(email))
        .select(users::username);
    let owner = query.first::<String>(db).optional()?;
    match owner {
        Some(owner) => Err(Error::Refused(format!(
            "email '{email}' already belongs to user '{owner}' in {target}: choose another email"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(role: Role, tenant: Option<&str>, site: Option<i64>) -> Args {
        Args {
            role,
            tenant: tenant.map(str::to_owned),
            site,
            ..Args::default()
        }
    }

    #[test]
    fn roles_and_their_tenant_and_site() {
        assert_eq!(
            placement(&args(Role::SystemAdmin, None, None)).unwrap(),
            (None, None)
        );
        assert!(placement(&args(Role::SystemAdmin, Some("t"), None)).is_err());
        assert!(placement(&args(Role::SystemAdmin, None, Some(1))).is_err());
        for role in [Role::TenantAdmin, Role::SiteManager, Role::Worker] {
            let error = placement(&args(role, None, None)).unwrap_err().to_string();
            assert!(error.contains("needs --tenant"), "{error}");
        }
        // The site is chosen once the tenant's sites are read.
        assert_eq!(
            placement(&args(Role::SiteManager, Some("t"), None)).unwrap(),
            (Some("t".to_owned()), None)
        );
        assert_eq!(
            placement(&args(Role::SiteManager, Some(" t "), Some(3))).unwrap(),
            (Some("t".to_owned()), Some(3))
        );
        assert_eq!(
            placement(&args(Role::Worker, Some("t"), None)).unwrap(),
            (Some("t".to_owned()), None)
        );
    }

    #[test]
    fn values_are_checked() {
        assert!(check_email("alice@example.com").is_ok());
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "a b@example.com",
            "a@b@c",
            "",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_username("alice").is_ok());
        assert!(check_username("al ice").is_err());
        assert!(check_username(&"x".repeat(256)).is_err());
        assert!(check_name("Ng").is_ok());
        assert!(check_name("  ").is_err());
    }
}
