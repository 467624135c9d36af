//! `init`'s first look: on an up-to-date database `init` decides with one read, without facedb's
//! lock, that there is nothing to do; anywhere else it does what it always did, in its locked
//! transaction. Each kind of database the other tests build is checked both ways: the look says
//! "nothing to do" only where the locked path then changes nothing, and `init` ends with the same
//! exit code and message as the locked path alone.

use crate::support;

use diesel::Connection;

use facedb::config::{Backend as FacedbBackend, SchemaName};
use facedb::Settings;
use support::{with_dbname, Backend, Conn, Output, TestDb};

const LEGACY_POSTGRES: &str = include_str!("fixtures/legacy_postgres.sql");
const LEGACY_SQLITE: &str = include_str!("fixtures/legacy_sqlite.sql");

/// Another application's `users` and `visits`, not facedb's.
const OTHER_APP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO users (id, name) VALUES (1, 'ann');
CREATE TABLE visits (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id));";

/// A kind of database, how the tests make it, and what the first look must say of it.
struct Kind {
    name: &'static str,
    backends: &'static [Backend],
    /// The variables `init` runs with (the library's settings follow them).
    env: &'static [(&'static str, &'static str)],
    /// Makes the database `db` (not created yet) with the library's `settings`; `base` is an
    /// up-to-date database to copy.
    build: fn(db: &TestDb, settings: &Settings, base: &TestDb),
    /// Whether the look finds it up to date.
    up_to_date: bool,
    /// Holds something on the database (a session of its own) while `init` runs.
    hold: Option<fn(&TestDb) -> Conn>,
}

const BOTH: &[Backend] = &[Backend::Sqlite, Backend::Postgres];
const POSTGRES: &[Backend] = &[Backend::Postgres];

fn init(_: &TestDb, settings: &Settings) {
    facedb::init(settings).expect("init sets the database up");
}

/// The up-to-date `base`, with `sql` run on it.
fn base_and(db: &TestDb, base: &TestDb, sql: &str) {
    copy_into(base, db);
    db.exec(sql);
}

fn kinds() -> Vec<Kind> {
    let kind = |name, backends, build: fn(&TestDb, &Settings, &TestDb), up_to_date| Kind {
        name,
        backends,
        env: &[],
        build,
        up_to_date,
        hold: None,
    };
    vec![
        kind("up to date", BOTH, |db, _, base| copy_into(base, db), true),
        kind(
            "up to date, beside another diesel application's migrations",
            BOTH,
            |db, _, base| {
                base_and(
                    db,
                    base,
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ('20200101000000')",
                )
            },
            true,
        ),
        Kind {
            env: &[("FACEDB_SCHEMA", "crm")],
            ..kind(
                "up to date in schema crm",
                POSTGRES,
                |db, settings, _| init(db, settings),
                true,
            )
        },
        kind("empty", BOTH, |db, _, _| db.create_empty(), false),
        Kind {
            env: &[("FACEDB_SCHEMA", "crm")],
            ..kind(
                "empty, without the configured schema",
                POSTGRES,
                |db, _, _| db.create_empty(),
                false,
            )
        },
        kind(
            "made by the old tool (adopted)",
            BOTH,
            |db, _, _| {
                db.create_empty();
                db.exec(match db.backend {
                    Backend::Postgres => LEGACY_POSTGRES,
                    Backend::Sqlite => LEGACY_SQLITE,
                });
            },
            false,
        ),
        kind(
            "another application's users (foreign-owned)",
            BOTH,
            |db, _, _| {
                db.create_empty();
                db.exec(OTHER_APP);
            },
            false,
        ),
        kind(
            "shadowed by a schema named after the role",
            POSTGRES,
            |db, _, base| {
                base_and(
                    db,
                    base,
                    "DO $$ BEGIN EXECUTE format('CREATE SCHEMA %I', current_user); \
                     EXECUTE format('CREATE TABLE %I.tenants (LIKE public.tenants)', current_user); END $$",
                )
            },
            false,
        ),
        kind(
            "without a system admin",
            BOTH,
            |db, _, base| base_and(db, base, "DELETE FROM users"),
            false,
        ),
        Kind {
            env: &[("ENV", "prod")],
            ..kind(
                "production, without a system admin (refused)",
                BOTH,
                |db, settings, _| {
                    let mut seeded = settings.clone();
                    seeded.admin.password = "Pr0d-admin-pw".to_owned();
                    init(db, &seeded);
                    db.exec("DELETE FROM users");
                },
                false,
            )
        },
        kind(
            "without its environment recorded",
            BOTH,
            |db, _, base| {
                base_and(
                    db,
                    base,
                    "DELETE FROM __facedb_metadata WHERE key = 'environment'",
                )
            },
            false,
        ),
        kind(
            "without its migration recorded",
            BOTH,
            |db, _, base| base_and(db, base, "DELETE FROM __diesel_schema_migrations"),
            false,
        ),
        kind(
            "without its metadata table",
            BOTH,
            |db, _, base| base_and(db, base, "DROP TABLE __facedb_metadata"),
            false,
        ),
        kind(
            "its metadata table replaced by a view of the same rows",
            POSTGRES,
            |db, _, base| {
                base_and(
                    db,
                    base,
                    "CREATE SCHEMA elsewhere; \
                     ALTER TABLE __facedb_metadata SET SCHEMA elsewhere; \
                     CREATE VIEW __facedb_metadata AS SELECT * FROM elsewhere.__facedb_metadata",
                )
            },
            false,
        ),
        kind(
            "up to date, its users table unlogged",
            POSTGRES,
            |db, _, base| base_and(db, base, "ALTER TABLE users SET UNLOGGED"),
            false,
        ),
        kind(
            "without its users table",
            BOTH,
            |db, _, base| {
                base_and(
                    db,
                    base,
                    match db.backend {
                        Backend::Postgres => "DROP TABLE users CASCADE",
                        Backend::Sqlite => "PRAGMA foreign_keys = OFF; DROP TABLE users",
                    },
                )
            },
            false,
        ),
        Kind {
            // facedb's lock on PostgreSQL; on SQLite the file's write lock, which any writer takes.
            hold: Some(|db| {
                let mut conn = db.connect();
                conn.exec(&match db.backend {
                    Backend::Postgres => {
                        format!("SELECT pg_advisory_lock({})", facedb::ADVISORY_LOCK_KEY)
                    }
                    Backend::Sqlite => "BEGIN IMMEDIATE".to_owned(),
                });
                conn
            }),
            ..kind(
                "up to date, another facedb at work",
                BOTH,
                |db, _, base| copy_into(base, db),
                false,
            )
        },
    ]
}

/// The library's settings for `db`, as `init` gets them from `env`.
fn settings(db: &TestDb, env: &[(&str, &str)]) -> Settings {
    let mut settings = Settings::for_url(db.url()).expect("settings");
    for (key, value) in env {
        match *key {
            "FACEDB_SCHEMA" => {
                settings.schema =
                    SchemaName::configured(Some(value.to_string()), FacedbBackend::Postgres)
                        .expect("schema")
            }
            "ENV" => settings.environment = value.to_string(),
            _ => unreachable!("{key}"),
        }
    }
    settings.lock_timeout = LOCK_TIMEOUT;
    settings
}

/// How long `init` waits for facedb's lock here: a held lock fails it soon.
const LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(300);

/// A database whose every change shows in its [`Watched::fingerprint`].
struct Watched<'a> {
    db: &'a TestDb,
    /// SQLite: the file, open for as long as the check runs. Closing any handle on it would drop
    /// every POSIX lock this process holds on it, such as a held write lock.
    file: Option<std::fs::File>,
}

impl Watched<'_> {
    fn new(db: &TestDb) -> Watched<'_> {
        let file = (db.backend == Backend::Sqlite)
            .then(|| std::fs::File::open(db.sqlite_path()).expect("open the SQLite file"));
        Watched { db, file }
    }

    /// Everything a change could touch, to show that nothing was. PostgreSQL: every schema's
    /// relations (by their file, so a rewrite shows), columns, constraints, indexes, enum labels
    /// and sequence values, and every row of every table with the transaction that wrote it.
    /// SQLite: the file's bytes.
    fn fingerprint(&mut self) -> Vec<String> {
        use std::hash::{Hash, Hasher};
        use std::io::{Read, Seek};
        let Some(file) = &mut self.file else {
            return postgres_fingerprint(self.db);
        };
        let mut bytes = Vec::new();
        file.rewind().expect("rewind the SQLite file");
        file.read_to_end(&mut bytes).expect("read the SQLite file");
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        vec![format!("{} bytes, hash {:x}", bytes.len(), hasher.finish())]
    }
}

fn postgres_fingerprint(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect();
    let user = |column: &str| {
        format!(
            "{column} NOT IN ('pg_catalog', 'information_schema') AND {column} NOT LIKE 'pg\\_t%'"
        )
    };
    let tables = conn.strings(&format!(
        "SELECT format('%I.%I', schemaname, tablename) AS v FROM pg_tables WHERE {} ORDER BY 1",
        user("schemaname")
    ));
    let rows: String = tables
        .iter()
        .map(|table| {
            format!(
                " UNION ALL SELECT 'rows {} ' || coalesce(string_agg(t.xmin::text || ' ' || t::text, ' | ' \
                 ORDER BY t::text), '') FROM {table} t",
                table.replace('\'', "''")
            )
        })
        .collect();
    conn.strings(&format!(
        "SELECT 'schema ' || n.nspname AS v FROM pg_namespace n WHERE {namespaces} \
         UNION ALL SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' \
           || c.relfilenode::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE {namespaces} \
         UNION ALL SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' \
           || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-') \
           FROM information_schema.columns WHERE {columns} \
         UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
           || pg_get_constraintdef(c.oid) FROM pg_constraint c \
           JOIN pg_namespace n ON n.oid = c.connamespace WHERE {namespaces} \
         UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE {indexes} \
         UNION ALL SELECT 'type ' || t.typname || ' ' || e.enumlabel FROM pg_type t \
           JOIN pg_enum e ON e.enumtypid = t.oid \
         UNION ALL SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' \
           || coalesce(last_value::text, '-') FROM pg_sequences WHERE {indexes}{rows} \
         ORDER BY 1",
        namespaces = user("n.nspname"),
        columns = user("table_schema"),
        indexes = user("schemaname"),
    ))
}

/// Makes `to` (not created yet) a copy of `from` as it is now.
fn copy_into(from: &TestDb, to: &TestDb) {
    match from.backend {
        Backend::Postgres => {
            let mut server = Conn::Postgres(
                diesel::PgConnection::establish(&with_dbname(from.url(), "postgres"))
                    .expect("connect to the test server"),
            );
            server.exec(&format!(
                "CREATE DATABASE \"{}\" TEMPLATE \"{}\"",
                to.name, from.name
            ));
        }
        Backend::Sqlite => {
            std::fs::copy(from.sqlite_path(), to.sqlite_path()).expect("copy the SQLite file");
        }
    }
}

fn new_db(backend: Backend) -> TestDb {
    match backend {
        Backend::Postgres => TestDb::postgres(),
        Backend::Sqlite => TestDb::sqlite(),
    }
}

/// How a database is named in output.
fn shown(db: &TestDb) -> String {
    settings(db, &[]).target.display()
}

/// Builds `kind` and runs `init` on it, and the locked path alone on the same state: where
/// `init` changed nothing, on the same database afterwards; else on a second one built alike.
fn check(kind: &Kind, backend: Backend, base: &TestDb) {
    let what = format!("{} ({backend:?})", kind.name);
    let build = |db: &TestDb| {
        (kind.build)(db, &settings(db, kind.env), base);
        kind.hold.map(|hold| hold(db))
    };
    let db = new_db(backend);
    let held = build(&db);
    let mut watched = Watched::new(&db);
    let before = watched.fingerprint();

    // The look reads only, and says "nothing to do" where it must.
    let look = facedb::init_finds_up_to_date(&settings(&db, kind.env)).expect("the look");
    assert_eq!(look.is_some(), kind.up_to_date, "{what}: {look:?}");
    assert_eq!(
        watched.fingerprint(),
        before,
        "{what}: the look changed the database"
    );

    let out = Output::from(
        db.facedb()
            .envs(kind.env.iter().copied())
            .args(["init", "--lock-timeout", "300ms"])
            .output()
            .expect("facedb runs"),
    );
    let changed = watched.fingerprint() != before;
    let (locked, locked_changed, locked_db) = if changed {
        let other = new_db(backend);
        let held = build(&other);
        let mut watched = Watched::new(&other);
        let before = watched.fingerprint();
        let locked = facedb::init_locked(&settings(&other, kind.env));
        let changed = watched.fingerprint() != before;
        drop((held, watched));
        (locked, changed, Some(other))
    } else {
        let locked = facedb::init_locked(&settings(&db, kind.env));
        (locked, watched.fingerprint() != before, None)
    };
    drop((held, watched));
    note!(
        "{what}: look {look:?}, init exit {:?}, changed {changed}",
        out.code
    );

    assert_eq!(changed, locked_changed, "{what}: {}", out.stderr);
    let same_name = |text: String| match &locked_db {
        Some(other) => text.replace(&shown(other), &shown(&db)),
        None => text,
    };
    match locked {
        Ok(report) => {
            assert_eq!(out.code, Some(0), "{what}: {}", out.stderr);
            assert_eq!(
                out.stdout.trim_end(),
                same_name(report.to_string()),
                "{what}"
            );
            if let Some(environment) = &look {
                assert!(!locked_changed, "{what}: the look found nothing to do");
                assert!(report.up_to_date, "{what}");
                assert_eq!(&report.setup.environment, environment, "{what}");
                assert_eq!(out.stdout.trim_end(), format!("{}: up to date", shown(&db)));
            }
        }
        Err(error) => {
            assert!(
                look.is_none(),
                "{what}: the look found nothing to do: {error}"
            );
            assert_eq!(
                out.code,
                Some(i32::from(error.exit_code())),
                "{what}: {}",
                out.stderr
            );
            let message = same_name(format!("error: {error}"));
            assert!(
                out.stderr.contains(&message),
                "{what}: {}\nwanted {message}",
                out.stderr
            );
        }
    }
}

/// Checks every kind of `backend`'s, a few at a time.
fn check_every_kind(backend: Backend) {
    let base = new_db(backend);
    facedb::init(&settings(&base, &[])).expect("init sets the base up");
    let kinds: Vec<Kind> = kinds()
        .into_iter()
        .filter(|k| k.backends.contains(&backend))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(kind) = kinds.get(i) else { break };
                check(kind, backend, &base);
            });
        }
    });
}

fn the_first_look_agrees_with_the_locked_path_on_sqlite() {
    check_every_kind(Backend::Sqlite);
}

fn the_first_look_agrees_with_the_locked_path_on_postgres() {
    check_every_kind(Backend::Postgres);
}

tests![
    needs::NOTHING => [the_first_look_agrees_with_the_locked_path_on_sqlite],
    needs::SERVER => [the_first_look_agrees_with_the_locked_path_on_postgres],
];
