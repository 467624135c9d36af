//! The first system admin (docs/schema.md).

use diesel::prelude::*;

use crate::config::{AdminSeed, PasswordScheme};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::models::{NewUser, UserRole};
use crate::password::{self, Choice, Hashing};
use crate::schema::users;

/// The admin that was seeded, for the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeededAdmin {
    pub username: String,
    pub email: String,
    pub default_password: bool,
    pub password_hash: PasswordScheme,
    /// Why that scheme: said beside the seeding when the database decided.
    #[serde(skip)]
    pub choice: Choice,
}

/// Seeds the admin unless a user with role SYSTEM_ADMIN exists: an operator who renamed or
/// replaced the admin must not get the default account back. `protected` says why the default
/// password is not allowed here (a production environment), if it is not. `choose` picks the
/// password scheme and starts the hash, asked only when there is an admin to seed (a warm
/// `init` reads no hashes); a reset has started it earlier.
pub fn seed_admin(
    db: &mut Db,
    seed: &AdminSeed,
    choose: impl FnOnce(&mut Db) -> Result<Hashing>,
    protected: Option<&str>,
) -> Result<Option<SeededAdmin>> {
    let admin_exists = diesel::select(diesel::dsl::exists(
        users::table.filter(users::role.eq(UserRole::SystemAdmin)),
    ));
    let exists = admin_exists.get_result::<bool>(db)?;
    if exists {
        return Ok(None);
    }
    check_password_allowed(seed, protected)?;
    check_admin_password(seed)?;
    let hashing = choose(db)?;
    let choice = hashing.choice;
    let password_hash = hashing.finish()?;
    let user_id = uuid::Uuid::new_v4().to_string();
    let now = crate::models::now_utc();
    let admin = NewUser {
        user_id: &user_id,
        username: &seed.username,
        email: &seed.email,
        first_name: "System",
        last_name: "Administrator",
        password_hash: &password_hash,
        role: UserRole::SystemAdmin,
        tenant_id: None,
        site_id: None,
        is_active: true,
        is_email_verified: true,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    let insert = diesel::insert_into(users::table).values(&admin);
    insert.execute(db)?;
    crate::bookkeeping::record(db, crate::bookkeeping::SEEDED_ADMIN_KEY, &user_id)?;
    Ok(Some(SeededAdmin {
        username: seed.username.clone(),
        email: seed.email.clone(),
        default_password: seed.uses_default_password(),
        password_hash: choice.scheme,
        choice,
    }))
}

/// Refuses the default password where `protected` says why it is not allowed.
pub fn check_password_allowed(seed: &AdminSeed, protected: Option<&str>) -> Result<()> {
    match protected {
        Some(reason) if seed.uses_default_password() => Err(Error::Refused(format!(
            "refusing to seed system admin '{}' with the default password: {reason}. \
             Pass the password with --admin-password-stdin or FACEDB_ADMIN_PASSWORD; nothing was changed",
            seed.username
        ))),
        _ => Ok(()),
    }
}

/// Refuses an admin password that is empty or breaks `password::PASSWORD_RULES`, naming where it
/// is set.
pub fn check_admin_password(seed: &AdminSeed) -> Result<()> {
    if seed.password.is_empty() {
        return Err(Error::Usage(
            "the admin password is empty; give one with --admin-password-stdin or FACEDB_ADMIN_PASSWORD".to_owned(),
        ));
    }
    password::check_rules(&seed.password).map_err(|why| {
        Error::Usage(format!(
            "{why}; set another admin password in FACEDB_ADMIN_PASSWORD or give one with --admin-password-stdin"
        ))
    })
}
