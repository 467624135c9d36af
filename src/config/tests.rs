use std::path::PathBuf;

use super::options::{ConnectOptions, TargetOptions};
use super::postgres::REDIRECTING_VARIABLES;
use super::target::DB_PARTS;
use super::*;
use crate::error::Error;

#[test]
fn schema_names_are_checked_and_quoted() {
    let pg = |name: &str| SchemaName::configured(Some(name.to_owned()), Backend::Postgres);
    let odd = pg("My \"odd\" o'schema").unwrap();
    assert_eq!(
        odd.qualify("users"),
        "\"My \"\"odd\"\" o'schema\".\"users\""
    );
    assert!(odd.namespace().contains("nspname = 'My \"odd\" o''schema'"));
    assert_eq!(
        SchemaName::configured(None, Backend::Postgres)
            .unwrap()
            .name(),
        "public"
    );
    assert!(pg(&"s".repeat(63)).is_ok());
    for bad in ["", &"s".repeat(64)] {
        assert!(matches!(pg(bad), Err(Error::Usage(_))), "{bad:?}");
    }
    for system in [
        "pg_catalog",
        "information_schema",
        "pg_toast",
        "pg_temp",
        "pg_temp_3",
        "pg_toast_temp_3",
        "pg_anything",
    ] {
        let Err(Error::Usage(message)) = pg(system) else {
            panic!("{system} was accepted");
        };
        assert!(message.contains("pg_dump"), "{message}");
    }
    // Quoted, these are ordinary schemas to PostgreSQL and pg_dump alike.
    for ordinary in [
        "PG_CATALOG",
        "Information_Schema",
        "pgfaces",
        "my_pg_schema",
    ] {
        assert_eq!(pg(ordinary).unwrap().name(), ordinary);
    }
    let sqlite =
        |name: Option<&str>| SchemaName::configured(name.map(str::to_owned), Backend::Sqlite);
    assert_eq!(sqlite(None).unwrap().name(), "main");
    assert_eq!(sqlite(Some("public")).unwrap().name(), "main");
    assert!(matches!(sqlite(Some("app")), Err(Error::Usage(_))));
}

fn env(process: &[(&str, &str)], file: &[(&str, &str)]) -> Environment {
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    Environment::from_maps(map(process), map(file))
}

fn pg(settings: &Settings) -> &PgTarget {
    match &settings.target {
        Target::Postgres(pg) => pg,
        other => panic!("expected PostgreSQL, got {other:?}"),
    }
}

#[test]
fn defaults_build_a_local_url() {
    let settings = Settings::from_sources(&ConnectOptions::default(), &env(&[], &[])).unwrap();
    assert_eq!(settings.target.display(), "localhost:5432/facedb");
    assert_eq!(settings.environment, "dev");
    assert!(!settings.echo);
}

#[test]
fn flag_beats_environment_beats_env_file() {
    let file = [
        ("DATABASE_URL", "postgres://f@filehost/filedb"),
        ("ENV", "staging"),
    ];
    let process = [("DATABASE_URL", "postgres://p@prochost/procdb")];
    let flag = ConnectOptions {
        target: TargetOptions {
            database_url: Some("postgres://x@flaghost/flagdb".into()),
            ..TargetOptions::default()
        },
        ..ConnectOptions::default()
    };
    let from_flag = Settings::from_sources(&flag, &env(&process, &file)).unwrap();
    assert_eq!(from_flag.target.display(), "flaghost:5432/flagdb");
    let from_process =
        Settings::from_sources(&ConnectOptions::default(), &env(&process, &file)).unwrap();
    assert_eq!(from_process.target.display(), "prochost:5432/procdb");
    let from_file = Settings::from_sources(&ConnectOptions::default(), &env(&[], &file)).unwrap();
    assert_eq!(from_file.target.display(), "filehost:5432/filedb");
    assert_eq!(from_file.environment, "staging");
}

#[test]
fn parts_are_percent_encoded() {
    let e = env(
        &[
            ("DB_PASSWORD", "p@ss:w/o#r%d? x"),
            ("DB_NAME", "my \"db\"; x"),
            ("DB_USER", "us er"),
        ],
        &[],
    );
    let settings = Settings::from_sources(&ConnectOptions::default(), &e).unwrap();
    let target = pg(&settings);
    assert_eq!(target.password(), Some("p@ss:w/o#r%d? x"));
    assert_eq!(target.dbname, "my \"db\"; x");
    let url = target.connection_url(None);
    assert!(url.starts_with("postgresql://us%20er:p%40ss%3Aw%2Fo%23r%25d%3F%20x@localhost:5432/my%20%22db%22%3B%20x?"), "{url}");
    // Round trip: the URL parses back to the same parts.
    let again = PgTarget::from_url(&url, "test").unwrap();
    assert_eq!(again.password(), target.password());
    assert_eq!(again.dbname, target.dbname);
    assert_eq!(again.user, "us er");
}

#[test]
fn socket_directories_work_with_credentials() {
    let e = env(
        &[
            ("DB_HOST", "/var/run/postgresql"),
            ("DB_PASSWORD", "p@ss word"),
        ],
        &[],
    );
    let settings = Settings::from_sources(&ConnectOptions::default(), &e).unwrap();
    assert_eq!(settings.target.display(), "/var/run/postgresql:5432/facedb");
    assert_eq!(pg(&settings).password(), Some("p@ss word"));
    // libpq reads a `+` as a plus sign: a space must reach it as %20.
    let url = pg(&settings).connection_url(None);
    assert!(url.contains("password=p%40ss%20word"), "{url}");
    let again = PgTarget::from_url(&url, "test").unwrap();
    assert_eq!(again.password(), Some("p@ss word"));
    let plus = Target::parse("postgres://app@/db?host=/tmp&password=a+b", "x").unwrap();
    let Target::Postgres(plus) = plus else {
        unreachable!()
    };
    assert_eq!(plus.password(), Some("a+b"));
    let target = Target::parse("postgres://app:pw@/sock?host=/tmp/probe&port=45999", "x").unwrap();
    assert_eq!(target.display(), "/tmp/probe:45999/sock");
    let Target::Postgres(pg) = target else {
        unreachable!()
    };
    assert_eq!((pg.user.as_str(), pg.password()), ("app", Some("pw")));
}

#[test]
fn bad_port_is_a_usage_error() {
    for port in ["abc", "0", "70000", "-1"] {
        let err =
            Settings::from_sources(&ConnectOptions::default(), &env(&[("DB_PORT", port)], &[]))
                .unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{port}: {err}");
        assert!(err.to_string().contains("DB_"), "{err}");
    }
}

#[test]
fn python_driver_suffixes_are_dropped() {
    for url in [
        "postgresql+asyncpg://u:secret@db:6543/app?ssl=require",
        "postgresql+psycopg2://u:secret@db:6543/app",
        "postgres://u:secret@db:6543/app",
    ] {
        let target = Target::parse(url, "DATABASE_URL").unwrap();
        assert_eq!(target.display(), "db:6543/app");
        let Target::Postgres(pg) = target else {
            unreachable!()
        };
        let conn = pg.connection_url(None);
        assert!(
            conn.starts_with("postgresql://u:secret@db:6543/app?"),
            "{conn}"
        );
        assert!(
            !conn.contains("ssl=") || conn.contains("sslmode=require"),
            "{conn}"
        );
        assert!(conn.contains("application_name=facedb"), "{conn}");
    }
}

#[test]
fn unknown_scheme_lists_accepted_forms_without_the_url() {
    let err = Target::parse("mysql://root:hunter2@db/x", "DATABASE_URL").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Usage(_)));
    assert!(
        msg.contains("postgres://") && msg.contains("sqlite://"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn sqlite_urls_follow_sqlalchemy() {
    let path = |url: &str| match Target::parse(url, "DATABASE_URL").unwrap() {
        Target::Sqlite(s) => s.path,
        other => panic!("{other:?}"),
    };
    assert_eq!(path("sqlite:///x.db"), PathBuf::from("x.db"));
    assert_eq!(
        path("sqlite+aiosqlite:///data/x.db"),
        PathBuf::from("data/x.db")
    );
    assert_eq!(path("sqlite:////tmp/x.db"), PathBuf::from("/tmp/x.db"));
    assert_eq!(path("sqlite://rel/x.db"), PathBuf::from("rel/x.db"));
    assert_eq!(
        path("./some/file.sqlite3"),
        PathBuf::from("./some/file.sqlite3")
    );
    for no_file in [
        "sqlite://",
        "sqlite:///",
        "sqlite:////",
        "sqlite:///data/",
        "sqlite://?x=1",
    ] {
        let err = Target::parse(no_file, "DATABASE_URL").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{no_file}: {err}");
        assert!(err.to_string().contains("names no SQLite file"), "{err}");
    }
}

#[test]
fn an_empty_process_variable_falls_through_to_the_env_file() {
    let file = [
        ("ENV", "production"),
        ("DATABASE_URL", "postgres://f@filehost/filedb"),
    ];
    let process = [("ENV", ""), ("DATABASE_URL", "")];
    let settings =
        Settings::from_sources(&ConnectOptions::default(), &env(&process, &file)).unwrap();
    assert_eq!(settings.environment, "production");
    assert_eq!(settings.target.display(), "filehost:5432/filedb");
    assert_eq!(
        settings.target_source,
        TargetSource::DatabaseUrl(Origin::File(PathBuf::from(".env")))
    );
    // Empty in both: unset, the default.
    let settings = Settings::from_sources(
        &ConnectOptions::default(),
        &env(&[("ENV", "")], &[("ENV", "")]),
    )
    .unwrap();
    assert_eq!(settings.environment, "dev");
}

#[test]
fn the_target_source_says_where_each_part_came_from() {
    let source = |process: &[(&str, &str)], file: &[(&str, &str)]| {
        let settings =
            Settings::from_sources(&ConnectOptions::default(), &env(process, file)).unwrap();
        (
            settings.target_source.to_string(),
            settings.target_source.is_implicit(),
        )
    };
    assert_eq!(
        source(&[], &[]),
        (
            "built-in defaults: no DATABASE_URL or DB_* set".to_owned(),
            true
        )
    );
    assert_eq!(
        source(&[("DATABASE_URL", "x.db")], &[]),
        ("from DATABASE_URL".to_owned(), false)
    );
    assert_eq!(
        source(&[("DB_NAME", "app")], &[("DB_HOST", "db")]),
        (
            "from DB_HOST in ./.env and DB_NAME in the environment; built-in defaults for the other DB_* parts"
                .to_owned(),
            true
        )
    );
    let all: Vec<(&str, &str)> = DB_PARTS.iter().map(|name| (*name, "5")).collect();
    assert!(!source(&all, &[]).1, "every part set on purpose");
}

#[test]
fn parameters_that_redirect_libpq_are_refused_and_dbname_lives_in_the_path() {
    for (url, says) in [
        ("postgres://u@h/a?dbname=b", "database twice"),
        ("postgres://u@h/a?host=other", "host twice"),
        ("postgres://u@h:5433/a?port=5434", "port twice"),
        ("postgres://u:p@h/a?password=q", "password twice"),
        ("postgres://h/a?user=x&user=y", "?user= twice"),
        ("postgres://u@h/a?service=prod", "?service="),
        ("postgres://u@h/a?servicefile=/x", "?servicefile="),
        ("postgres://u@h/a?hostaddr=10.0.0.1", "?hostaddr="),
    ] {
        let err = Target::parse(url, "DATABASE_URL").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
        assert!(err.to_string().contains(says), "{url}: {err}");
    }
    let Target::Postgres(pg) =
        Target::parse("postgres://u@h/?dbname=b&sslmode=require", "x").unwrap()
    else {
        unreachable!()
    };
    assert_eq!(pg.dbname, "b");
    let url = pg.connection_url(None);
    assert!(
        url.starts_with("postgresql://u@h/b?sslmode=require&"),
        "{url}"
    );
    assert!(!url.contains("dbname="), "{url}");
    // No user in the URL: the one facedb names, not PGUSER's.
    let Target::Postgres(pg) = Target::parse("postgres://h/app", "x").unwrap() else {
        unreachable!()
    };
    assert!(pg.connection_url(None).contains("user=postgres"));
}

#[test]
fn libpq_variables_that_redirect_are_refused_for_postgres_only() {
    for key in REDIRECTING_VARIABLES {
        let e = env(&[(key, "10.0.0.9")], &[]);
        let err = Settings::from_sources(&ConnectOptions::default(), &e).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
        assert!(err.to_string().contains(key), "{err}");
        // Empty is unset; in the env file libpq never sees it; SQLite does not care.
        let quiet = [env(&[(key, "")], &[]), env(&[], &[(key, "10.0.0.9")])];
        for e in quiet {
            assert!(Settings::from_sources(&ConnectOptions::default(), &e).is_ok());
        }
        let sqlite = env(&[(key, "x"), ("DATABASE_URL", "app.db")], &[]);
        assert!(Settings::from_sources(&ConnectOptions::default(), &sqlite).is_ok());
    }
}

#[test]
fn a_bad_percent_sign_names_the_part_but_not_the_value() {
    for (url, part) in [
        ("postgres://u:my secret%zz@h/d", "user or password"),
        ("postgres://u@h/d%g1", "database name"),
        ("postgres://u@h/d?application_name=%", "query string"),
    ] {
        let err = Target::parse(url, "DATABASE_URL").unwrap_err().to_string();
        assert!(err.contains(part), "{url}: {err}");
        assert!(!err.contains("secret") && !err.contains("%zz"), "{err}");
    }
}

#[test]
fn secrets_cover_every_form_of_the_password() {
    let Target::Postgres(pg) = Target::parse("postgres://u:p-ss.w~rd wö@h/d", "x").unwrap() else {
        unreachable!()
    };
    let secrets = pg.secrets();
    for form in [
        "p-ss.w~rd wö",
        // As the URL holds it (and libpq receives it), percent-encoded, form-encoded.
        "p-ss.w~rd%20w%C3%B6",
        "p%2Dss%2Ew%7Erd%20w%C3%B6",
        "p-ss.w%7Erd+w%C3%B6",
    ] {
        assert!(secrets.iter().any(|s| s == form), "{form}: {secrets:?}");
    }
}

#[test]
fn sqlite_uri_filenames_and_memory_are_refused() {
    for url in [
        "sqlite:///file:victim.db",
        "file:victim.db?x=.db",
        "File:x.sqlite",
        "sqlite://:memory:",
        "sqlite:///:memory:",
    ] {
        let err = Target::parse(url, "DATABASE_URL").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
    }
    assert!(Target::parse("./file:odd.db", "x").is_ok());
}

#[test]
fn multi_host_urls_name_every_server_and_reach_libpq_whole() {
    let target = Target::parse(
        "postgresql+asyncpg://app:S3cret@h1:5432,h2:5433,[::1]/facedb?target_session_attrs=read-write",
        "DATABASE_URL",
    )
    .unwrap();
    assert_eq!(target.display(), "h1:5432,h2:5433,[::1]:5432/facedb");
    let Target::Postgres(pg) = &target else {
        unreachable!()
    };
    assert!(pg.has_several_servers());
    assert_eq!((pg.user.as_str(), pg.password()), ("app", Some("S3cret")));
    let url = pg.connection_url(None);
    assert!(
        url.starts_with("postgresql://app:S3cret@h1:5432/facedb?"),
        "{url}"
    );
    for part in [
        "target_session_attrs=read-write",
        "host=h1%2Ch2%2C%3A%3A1",
        "port=5432%2C5433%2C5432",
    ] {
        assert!(url.contains(part), "{part} in {url}");
    }
    // The query form, one port for all hosts.
    let target = Target::parse("postgres://u@/db?host=a,b&port=6000", "DATABASE_URL").unwrap();
    assert_eq!(target.display(), "a:6000,b:6000/db");
    // One server: the URL as before, no host list added.
    let target = Target::parse("postgres://u:p@db:6543/app", "DATABASE_URL").unwrap();
    let Target::Postgres(pg) = &target else {
        unreachable!()
    };
    assert!(!pg.has_several_servers());
    assert!(!pg.connection_url(None).contains("host="));
}

#[test]
fn host_lists_from_db_host_and_db_port() {
    let settings = Settings::from_sources(
        &ConnectOptions::default(),
        &env(&[("DB_HOST", "pg-a,pg-b"), ("DB_PORT", "5432,6432")], &[]),
    )
    .unwrap();
    assert_eq!(settings.target.display(), "pg-a:5432,pg-b:6432/facedb");
    let url = pg(&settings).connection_url(None);
    assert!(
        url.contains("host=pg-a%2Cpg-b") && url.contains("port=5432%2C6432"),
        "{url}"
    );
    let one_port = Settings::from_sources(
        &ConnectOptions::default(),
        &env(&[("DB_HOST", "pg-a,pg-b"), ("DB_PORT", "7000")], &[]),
    )
    .unwrap();
    assert_eq!(one_port.target.display(), "pg-a:7000,pg-b:7000/facedb");
    for (hosts, ports) in [
        ("a,b,c", "1,2"),
        ("a,b", "1,x"),
        ("a,b", "1,"),
        ("a,,b", "1"),
    ] {
        let err = Settings::from_sources(
            &ConnectOptions::default(),
            &env(&[("DB_HOST", hosts), ("DB_PORT", ports)], &[]),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{hosts} {ports}: {err}");
        assert!(err.to_string().contains("DB_"), "{err}");
    }
    let err = Target::parse("postgres://u@h1:1,h2:0/db", "DATABASE_URL").unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err}");
}

#[test]
fn debug_never_shows_the_password() {
    let target = Target::parse("postgres://u:hunter2@h/d", "x").unwrap();
    assert!(!format!("{target:?}").contains("hunter2"));
}
