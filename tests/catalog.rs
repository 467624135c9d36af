//! The schema `facedb init` builds, read back from each backend's catalog and compared, fact by fact,
//! with the contract of SCHEMA.md (as written down in `support/expected_schema.rs`).
//!
//! Every fact is one line (`column users.email character varying(255) not null default -`,
//! `fk users (tenant_id) -> tenants (tenant_id) on delete CASCADE name users_tenant_id_fkey`, …); a
//! failure lists only the lines that differ: `-` expected but missing, `+` present but not expected.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use support::expected_schema::{
    self as expected, Catalog, CatalogColumn, CatalogForeignKey, CatalogIndex, CatalogSequence,
    CatalogTable, Key, SQLITE_RANDOM_UUID, TABLES,
};
use support::{Conn, TestDb};

/// The bookkeeping tables facedb may keep next to the contract's (SCHEMA.md: names start with `__`).
const BOOKKEEPING_TABLES: [&str; 2] = ["__diesel_schema_migrations", "__facedb_metadata"];

/// Field separator inside one query row.
const SEP: char = '\u{1f}';

fn fields(row: &str, n: usize) -> Vec<String> {
    let fields: Vec<String> = row.split(SEP).map(str::to_owned).collect();
    assert_eq!(
        fields.len(),
        n,
        "expected {n} fields in catalog row {row:?}"
    );
    fields
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::to_owned).collect()
    }
}

/// The lines only in `left` (`-`) or only in `right` (`+`), merged in sorted order so that the two
/// versions of a changed fact sit next to each other. Empty when the sets are equal.
fn diff(left: &BTreeSet<String>, right: &BTreeSet<String>) -> Vec<String> {
    let mut lines: Vec<(&String, char)> = left
        .difference(right)
        .map(|l| (l, '-'))
        .chain(right.difference(left).map(|l| (l, '+')))
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(line, sign)| format!("  {sign} {line}"))
        .collect()
}

#[track_caller]
fn assert_same(what: &str, legend: &str, left: &BTreeSet<String>, right: &BTreeSet<String>) {
    let diff = diff(left, right);
    assert!(
        diff.is_empty(),
        "{what}: {} line(s) differ ({legend}):\n{}\n",
        diff.len(),
        diff.join("\n")
    );
}

#[track_caller]
fn assert_matches_contract(backend: &str, expected: &BTreeSet<String>, actual: &BTreeSet<String>) {
    assert_same(
        &format!("the {backend} catalog does not match SCHEMA.md"),
        "- expected by SCHEMA.md but missing, + present but not in SCHEMA.md",
        expected,
        actual,
    );
}

fn table_entry<'a>(
    tables: &'a mut BTreeMap<String, CatalogTable>,
    name: &str,
) -> Option<&'a mut CatalogTable> {
    tables.get_mut(name)
}

/// A catalog read from a live database, and the names of its `__` bookkeeping tables.
struct Read {
    catalog: Catalog,
    bookkeeping: Vec<String>,
}

// -------------------------------------------------------------------------------------------------
// PostgreSQL
// -------------------------------------------------------------------------------------------------

fn fk_rule(code: &str) -> String {
    match code {
        "a" => "NO ACTION",
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        other => panic!("unknown pg_constraint action {other:?}"),
    }
    .to_owned()
}

/// Reads schema `public` from pg_catalog. Tables starting with `__` are only listed, not described.
fn read_postgres(conn: &mut Conn) -> Read {
    let mut tables = BTreeMap::new();
    let mut bookkeeping = Vec::new();
    let mut other = Vec::new();

    // Relations (indexes and sequences come below).
    for row in conn.strings(
        "SELECT c.relname || chr(31) || c.relkind::text AS v \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind NOT IN ('i', 'I', 'S') ORDER BY c.relname",
    ) {
        let f = fields(&row, 2);
        let (name, kind) = (&f[0], f[1].as_str());
        match kind {
            "r" if name.starts_with("__") => bookkeeping.push(name.clone()),
            "r" => {
                tables.insert(
                    name.clone(),
                    CatalogTable {
                        name: name.clone(),
                        ..CatalogTable::default()
                    },
                );
            }
            _ if name.starts_with("__") => bookkeeping.push(format!("{name} (relkind {kind})")),
            _ => other.push(format!("relation {name} relkind {kind}")),
        }
    }

    for row in conn.strings(
        "SELECT c.relname || chr(31) || a.attname || chr(31) || format_type(a.atttypid, a.atttypmod) \
         || chr(31) || a.attnotnull::text || chr(31) || coalesce(pg_get_expr(d.adbin, d.adrelid), '') \
         || chr(31) || a.attidentity::text || chr(31) || a.attgenerated::text AS v \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum",
    ) {
        let f = fields(&row, 7);
        let Some(table) = table_entry(&mut tables, &f[0]) else { continue };
        let mut extra = Vec::new();
        if !f[5].is_empty() {
            extra.push(format!("identity {}", f[5]));
        }
        if !f[6].is_empty() {
            extra.push(format!("generated {}", f[6]));
        }
        table.columns.push(CatalogColumn {
            name: f[1].clone(),
            sql_type: f[2].clone(),
            not_null: f[3] == "true",
            default: non_empty(&f[4]),
            extra: non_empty(&extra.join(" ")),
        });
    }

    // Constraints (PostgreSQL 18's NOT NULL constraints, contype 'n', are covered by attnotnull).
    for row in conn.strings(
        "SELECT c.relname || chr(31) || con.contype::text || chr(31) || con.conname \
         || chr(31) || coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i) \
              FROM unnest(con.conkey) WITH ORDINALITY k(n, i) \
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n), '') \
         || chr(31) || coalesce(fc.relname, '') \
         || chr(31) || coalesce((SELECT string_agg(a.attname, ',' ORDER BY k.i) \
              FROM unnest(con.confkey) WITH ORDINALITY k(n, i) \
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n), '') \
         || chr(31) || con.confdeltype::text || chr(31) || con.confupdtype::text \
         || chr(31) || pg_get_constraintdef(con.oid) AS v \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE n.nspname = 'public' AND con.contype <> 'n'",
    ) {
        let f = fields(&row, 9);
        let (table_name, kind, name) = (&f[0], f[1].as_str(), f[2].clone());
        let Some(table) = table_entry(&mut tables, table_name) else {
            continue;
        };
        let columns = split_list(&f[3]);
        match kind {
            "p" => {
                table.primary_key = Some(Key {
                    name: Some(name),
                    columns,
                })
            }
            "u" => table.uniques.push(Key {
                name: Some(name),
                columns,
            }),
            "f" => table.foreign_keys.push(CatalogForeignKey {
                name: Some(name),
                columns,
                table: f[4].clone(),
                references: split_list(&f[5]),
                on_delete: fk_rule(&f[6]),
                on_update: fk_rule(&f[7]),
            }),
            _ => other.push(format!(
                "constraint {table_name} {name} contype {kind}: {}",
                f[8]
            )),
        }
    }

    // Indexes that do not back a primary key, UNIQUE or exclusion constraint.
    for row in conn.strings(
        "SELECT t.relname || chr(31) || i.relname || chr(31) || x.indisunique::text \
         || chr(31) || coalesce((SELECT string_agg(coalesce(a.attname, '<expression>'), ',' ORDER BY k.i) \
              FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, i) \
              LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n), '') \
         || chr(31) || coalesce(pg_get_expr(x.indpred, x.indrelid), '') AS v \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT EXISTS ( \
             SELECT 1 FROM pg_constraint con \
             WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x'))",
    ) {
        let f = fields(&row, 5);
        let Some(table) = table_entry(&mut tables, &f[0]) else { continue };
        table.indexes.push(CatalogIndex {
            name: f[1].clone(),
            unique: f[2] == "true",
            columns: split_list(&f[3]),
            predicate: non_empty(&f[4]),
        });
    }

    let enums = conn
        .strings(
            "SELECT t.typname || chr(31) || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) AS v \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = 'public' GROUP BY t.typname",
        )
        .into_iter()
        .map(|row| {
            let f = fields(&row, 2);
            (f[0].clone(), split_list(&f[1]))
        })
        .collect();

    let mut sequences = Vec::new();
    for row in conn.strings(
        "SELECT s.relname || chr(31) || format_type(q.seqtypid, NULL) || chr(31) || coalesce(d.deptype::text, '') \
         || chr(31) || coalesce(t.relname, '') || chr(31) || coalesce(a.attname, '') AS v \
         FROM pg_class s \
         JOIN pg_namespace n ON n.oid = s.relnamespace \
         JOIN pg_sequence q ON q.seqrelid = s.oid \
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid \
              AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i') \
         LEFT JOIN pg_class t ON t.oid = d.refobjid \
         LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
         WHERE n.nspname = 'public' AND s.relkind = 'S'",
    ) {
        let f = fields(&row, 5);
        if f[3].starts_with("__") {
            continue;
        }
        let owner = non_empty(&f[3]).map(|t| format!("{t}.{}", f[4]));
        sequences.push(CatalogSequence {
            name: f[0].clone(),
            data_type: f[1].clone(),
            owned_by: if f[2] == "a" { owner.clone() } else { None },
            identity_of: if f[2] == "i" { owner } else { None },
        });
    }

    Read {
        catalog: Catalog {
            tables: tables.into_values().collect(),
            enums,
            sequences,
            other,
        },
        bookkeeping,
    }
}

// -------------------------------------------------------------------------------------------------
// SQLite
// -------------------------------------------------------------------------------------------------

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `s` is a lower-case UUID v4 string (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`).
fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
        && b[14] == b'4'
        && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

/// SQLite has no `gen_random_uuid()`: a default expression built from `random()`/`randomblob()` is
/// reported as [`SQLITE_RANDOM_UUID`] when evaluating it yields a different UUID v4 each time.
fn sqlite_default(conn: &mut Conn, raw: &str) -> String {
    if !raw.contains("random") {
        return raw.to_owned();
    }
    let values: BTreeSet<String> = (0..5)
        .flat_map(|_| conn.strings(&format!("SELECT CAST(({raw}) AS TEXT) AS v")))
        .collect();
    if values.len() == 5 && values.iter().all(|v| is_uuid_v4(v)) {
        SQLITE_RANDOM_UUID.to_owned()
    } else {
        raw.to_owned()
    }
}

fn read_sqlite(conn: &mut Conn) -> Read {
    let mut tables = Vec::new();
    let mut bookkeeping = Vec::new();
    let mut other = Vec::new();
    for row in conn.strings(
        "SELECT type || char(31) || name AS v FROM sqlite_schema \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%' ORDER BY name",
    ) {
        let f = fields(&row, 2);
        match (f[0].as_str(), &f[1]) {
            ("table", name) if name.starts_with("__") => bookkeeping.push(name.clone()),
            ("table", name) => tables.push(name.clone()),
            (kind, name) => other.push(format!("{kind} {name}")),
        }
    }

    let mut catalog_tables = Vec::new();
    for name in tables {
        let q = quote(&name);
        let mut table = CatalogTable {
            name: name.clone(),
            ..CatalogTable::default()
        };
        let mut pk = Vec::new();
        for row in conn.strings(&format!(
            "SELECT name || char(31) || type || char(31) || \"notnull\" || char(31) || coalesce(dflt_value, '') \
             || char(31) || pk AS v FROM pragma_table_info({q}) ORDER BY cid"
        )) {
            let f = fields(&row, 5);
            let position: usize = f[4].parse().expect("pk position");
            if position > 0 {
                pk.push((position, f[0].clone()));
            }
            table.columns.push(CatalogColumn {
                name: f[0].clone(),
                sql_type: f[1].clone(),
                not_null: f[2] == "1",
                default: non_empty(&f[3]).map(|raw| sqlite_default(conn, &raw)),
                extra: None,
            });
        }
        pk.sort();
        if !pk.is_empty() {
            table.primary_key = Some(Key {
                name: None,
                columns: pk.into_iter().map(|(_, c)| c).collect(),
            });
        }

        let mut fks: BTreeMap<i64, CatalogForeignKey> = BTreeMap::new();
        for row in conn.strings(&format!(
            "SELECT id || char(31) || \"table\" || char(31) || \"from\" || char(31) || coalesce(\"to\", '') \
             || char(31) || on_update || char(31) || on_delete AS v \
             FROM pragma_foreign_key_list({q}) ORDER BY id, seq"
        )) {
            let f = fields(&row, 6);
            let fk = fks.entry(f[0].parse().expect("fk id")).or_insert_with(|| CatalogForeignKey {
                name: None,
                columns: Vec::new(),
                table: f[1].clone(),
                references: Vec::new(),
                on_delete: f[5].clone(),
                on_update: f[4].clone(),
            });
            fk.columns.push(f[2].clone());
            // An empty `to` means "the referenced table's primary key".
            fk.references.push(if f[3].is_empty() { "<primary key>".to_owned() } else { f[3].clone() });
        }
        table.foreign_keys = fks.into_values().collect();

        for row in conn.strings(&format!(
            "SELECT name || char(31) || \"unique\" || char(31) || origin || char(31) || partial AS v \
             FROM pragma_index_list({q})"
        )) {
            let f = fields(&row, 4);
            let (index, unique, origin) = (&f[0], f[1] == "1", f[2].as_str());
            let columns: Vec<String> = conn
                .strings(&format!(
                    "SELECT coalesce(name, '<expression>') AS v FROM pragma_index_info({}) ORDER BY seqno",
                    quote(index)
                ))
                .into_iter()
                .collect();
            match origin {
                // The primary key's own index: already described by `pk`.
                "pk" => {}
                // A UNIQUE constraint: SQLite names it sqlite_autoindex_<table>_<n>; compare it unnamed.
                "u" => table.uniques.push(Key { name: None, columns }),
                _ => table.indexes.push(CatalogIndex {
                    name: index.clone(),
                    columns,
                    unique,
                    predicate: (f[3] == "1").then(|| "<partial>".to_owned()),
                }),
            }
        }
        catalog_tables.push(table);
    }
    Read {
        catalog: Catalog {
            tables: catalog_tables,
            other,
            ..Catalog::default()
        },
        bookkeeping,
    }
}

fn sqlite_try_exec(conn: &mut Conn, sql: &str) -> Result<(), String> {
    match conn {
        Conn::Sqlite(c) => c.batch_execute(sql).map_err(|e| e.to_string()),
        Conn::Postgres(_) => unreachable!("a SQLite connection"),
    }
}

#[track_caller]
fn assert_bookkeeping(backend: &str, read: &Read) {
    let mut found = read.bookkeeping.clone();
    found.sort();
    assert_eq!(
        found, BOOKKEEPING_TABLES,
        "{backend}: the only `__` tables are facedb's bookkeeping"
    );
    assert_eq!(
        read.catalog.tables.len(),
        12,
        "{backend}: exactly the 12 tables of SCHEMA.md besides `__` ones, found {:?}",
        read.catalog
            .tables
            .iter()
            .map(|t| &t.name)
            .collect::<Vec<_>>()
    );
}

// -------------------------------------------------------------------------------------------------
// Tests
// -------------------------------------------------------------------------------------------------

#[test]
fn postgres_catalog_matches_the_contract() {
    let Some(db) = TestDb::postgres() else { return };
    db.init();
    let read = read_postgres(&mut db.connect());
    assert_matches_contract(
        "PostgreSQL",
        &expected::postgres_lines(),
        &read.catalog.lines(),
    );
    assert_bookkeeping("PostgreSQL", &read);
}

#[test]
fn sqlite_catalog_matches_the_contract() {
    let db = TestDb::sqlite();
    db.init();
    let mut conn = db.connect();
    let read = read_sqlite(&mut conn);
    assert_matches_contract("SQLite", &expected::sqlite_lines(), &read.catalog.lines());
    assert_bookkeeping("SQLite", &read);

    // serial -> INTEGER PRIMARY KEY AUTOINCREMENT, and AUTOINCREMENT nowhere else.
    for t in TABLES {
        let sql = conn.strings(&format!(
            "SELECT sql AS v FROM sqlite_schema WHERE type = 'table' AND name = {}",
            quote(t.name)
        ));
        let sql = sql
            .first()
            .unwrap_or_else(|| panic!("no CREATE TABLE for {}", t.name));
        let words = format!(
            " {} ",
            sql.replace(['(', ')', ','], " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        )
        .to_uppercase();
        let serials: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| c.ty == "serial")
            .map(|c| c.name)
            .collect();
        for column in &serials {
            let declared = format!(
                " {} INTEGER PRIMARY KEY AUTOINCREMENT ",
                column.to_uppercase()
            );
            assert!(
                words.contains(&declared),
                "{}.{column} is not declared INTEGER PRIMARY KEY AUTOINCREMENT:\n{sql}",
                t.name
            );
        }
        assert_eq!(
            words.matches(" AUTOINCREMENT ").count(),
            serials.len(),
            "{}: AUTOINCREMENT only on the serial column(s) {serials:?}:\n{sql}",
            t.name
        );
    }

    // Enums are text with a CHECK on the upper-case labels (not the lower-case values).
    let user = |name: &str, role: &str| {
        format!(
            "INSERT INTO users (username, email, first_name, last_name, password_hash, role) \
             VALUES ('{name}', '{name}@example.test', 'F', 'L', 'x', '{role}')"
        )
    };
    for role in expected::enum_type("userrole").expect("userrole").labels {
        sqlite_try_exec(&mut conn, &user(&format!("user_{role}"), role))
            .unwrap_or_else(|e| panic!("role {role} must be accepted: {e}"));
    }
    for bad in ["admin", "worker", "system_admin", ""] {
        assert!(
            sqlite_try_exec(&mut conn, &user(&format!("bad_{bad}"), bad)).is_err(),
            "users.role accepted {bad:?}: the CHECK must allow only the userrole labels"
        );
    }
    conn.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t1', 'T'); INSERT INTO sites (tenant_id, name) VALUES ('t1', 'S');");
    let camera = |camera_type: &str| {
        format!("INSERT INTO cameras (tenant_id, site_id, name, camera_type) VALUES ('t1', 1, 'cam', '{camera_type}')")
    };
    for label in expected::enum_type("cameratype")
        .expect("cameratype")
        .labels
    {
        sqlite_try_exec(&mut conn, &camera(label))
            .unwrap_or_else(|e| panic!("camera_type {label} must be accepted: {e}"));
    }
    for bad in ["rtsp", "IP", ""] {
        assert!(
            sqlite_try_exec(&mut conn, &camera(bad)).is_err(),
            "cameras.camera_type accepted {bad:?}: the CHECK must allow only the cameratype labels"
        );
    }
    // The defaults do what the contract says: upper-case enum default, fresh UUIDs, SQLite timestamps.
    conn.exec("INSERT INTO cameras (tenant_id, site_id, name) VALUES ('t1', 1, 'default')");
    assert_eq!(
        conn.strings("SELECT camera_type AS v FROM cameras WHERE name = 'default'"),
        ["RTSP"]
    );
    let ids = conn.strings("SELECT user_id AS v FROM users WHERE username LIKE 'user_%'");
    assert!(
        ids.iter().all(|id| is_uuid_v4(id)),
        "user_id defaults are UUID v4 strings: {ids:?}"
    );
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "user_id defaults differ: {ids:?}"
    );
    let created = conn
        .strings("SELECT created_at AS v FROM tenants WHERE tenant_id = 't1'")
        .remove(0);
    assert_eq!(
        conn.strings(&format!("SELECT datetime({}) AS v", quote(&created))),
        [created],
        "created_at defaults to a SQLite timestamp"
    );
}

#[test]
fn postgres_and_sqlite_agree_apart_from_the_type_mapping() {
    let Some(pg) = TestDb::postgres() else { return };
    let lite = TestDb::sqlite();
    pg.init();
    lite.init();
    let pg_read = read_postgres(&mut pg.connect());
    let lite_read = read_sqlite(&mut lite.connect());
    assert_same(
        "PostgreSQL and SQLite disagree beyond the type mapping",
        "- only in PostgreSQL, + only in SQLite",
        &pg_read.catalog.neutral_lines(),
        &lite_read.catalog.neutral_lines(),
    );
    let mut pg_bookkeeping = pg_read.bookkeeping.clone();
    let mut lite_bookkeeping = lite_read.bookkeeping.clone();
    pg_bookkeeping.sort();
    lite_bookkeeping.sort();
    assert_eq!(
        pg_bookkeeping, lite_bookkeeping,
        "the same `__` bookkeeping tables on both backends"
    );
    // Both renderings of the contract agree too, so the two contract tests check the same schema.
    assert_same(
        "the contract's two renderings disagree beyond the type mapping",
        "- only in the PostgreSQL rendering, + only in the SQLite rendering",
        &expected::postgres().neutral_lines(),
        &expected::sqlite().neutral_lines(),
    );
}

/// The written-down contract against SCHEMA.md at a coarse level (counts hard-coded from SCHEMA.md),
/// plus its internal consistency. Needs no database.
#[test]
fn the_expected_schema_is_consistent_with_schema_md() {
    // (table, columns, primary key, foreign keys, indexes), as SCHEMA.md lists them.
    let schema_md: [(&str, usize, &[&str], usize, usize); 12] = [
        ("tenants", 6, &["tenant_id"], 0, 0),
        ("sites", 6, &["site_id"], 1, 0),
        ("users", 16, &["user_id"], 3, 5),
        ("cameras", 13, &["camera_id"], 2, 0),
        ("camera_sessions", 10, &["camera_id"], 3, 0),
        ("staff", 8, &["staff_id"], 2, 0),
        ("staff_face_images", 10, &["tenant_id", "image_id"], 2, 3),
        ("customers", 10, &["customer_id"], 1, 1),
        ("customer_face_images", 12, &["image_id"], 2, 4),
        ("visits", 20, &["tenant_id", "visit_id"], 0, 5),
        ("workers", 17, &["worker_id"], 1, 3),
        ("api_keys", 9, &["key_id"], 1, 0),
    ];
    let described: Vec<(&str, usize, &[&str], usize, usize)> = TABLES
        .iter()
        .map(|t| {
            (
                t.name,
                t.columns.len(),
                t.primary_key,
                t.foreign_keys.len(),
                t.indexes.len(),
            )
        })
        .collect();
    let differing: Vec<String> = schema_md
        .iter()
        .zip(&described)
        .filter(|(md, ours)| md != ours)
        .map(|(md, ours)| format!("  SCHEMA.md {md:?}\n  described {ours:?}"))
        .collect();
    assert!(
        differing.is_empty() && described.len() == schema_md.len(),
        "(table, columns, pk, foreign keys, indexes) differ from SCHEMA.md:\n{}",
        differing.join("\n")
    );

    let uniques: Vec<(&str, &str, Vec<&str>)> = TABLES
        .iter()
        .flat_map(|t| {
            t.uniques
                .iter()
                .map(move |u| (t.name, u.name, u.columns.to_vec()))
        })
        .collect();
    assert_eq!(
        uniques,
        [
            ("users", "users_username_key", vec!["username"]),
            ("users", "users_email_key", vec!["email"])
        ]
    );
    let unique_indexes: Vec<&str> = TABLES
        .iter()
        .flat_map(|t| t.indexes)
        .filter(|i| i.unique)
        .map(|i| i.name)
        .collect();
    assert_eq!(unique_indexes, ["idx_staff_face_images_hash"]);
    let enums: Vec<(&str, usize)> = expected::ENUMS
        .iter()
        .map(|e| (e.name, e.labels.len()))
        .collect();
    assert_eq!(enums, [("userrole", 4), ("cameratype", 2)]);
    let serials = expected::serial_columns();
    assert_eq!(
        serials,
        [
            ("sites", "site_id"),
            ("cameras", "camera_id"),
            ("staff", "staff_id"),
            ("customers", "customer_id"),
            ("customer_face_images", "image_id")
        ]
    );

    let mut index_names = BTreeSet::new();
    for t in TABLES {
        let names: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
        let has = |c: &&str| names.contains(c);
        assert_eq!(
            names.iter().collect::<BTreeSet<_>>().len(),
            names.len(),
            "{}: duplicate column",
            t.name
        );
        assert!(
            t.primary_key.iter().all(has),
            "{}: pk columns exist",
            t.name
        );
        for c in t.columns {
            assert!(
                !t.primary_key.contains(&c.name) || c.not_null,
                "{}.{}: pk columns are NN",
                t.name,
                c.name
            );
            // Only camera_sessions.camera_id among the integer primary keys has no sequence.
            let integer_pk =
                t.primary_key == [c.name] && matches!(c.ty, "serial" | "bigint" | "int");
            assert_eq!(
                integer_pk && c.ty != "serial",
                (t.name, c.name) == ("camera_sessions", "camera_id"),
                "{}.{}: integer primary keys are serial",
                t.name,
                c.name
            );
            assert!(
                c.ty != "serial" || t.primary_key == [c.name],
                "{}.{}: serial is the pk",
                t.name,
                c.name
            );
        }
        for fk in t.foreign_keys {
            assert!(
                fk.columns.iter().all(has),
                "{}: fk columns {:?} exist",
                t.name,
                fk.columns
            );
            let target = expected::table(fk.table);
            assert_eq!(
                fk.references, target.primary_key,
                "{}: fks reference the target's pk",
                t.name
            );
            assert!(matches!(
                fk.on_delete,
                expected::CASCADE | expected::NO_ACTION
            ));
            for (from, to) in fk.columns.iter().zip(fk.references) {
                let from = t
                    .columns
                    .iter()
                    .find(|c| c.name == *from)
                    .expect("fk column");
                let to = target
                    .columns
                    .iter()
                    .find(|c| c.name == *to)
                    .expect("referenced column");
                let to_ty = if to.ty == "serial" { "bigint" } else { to.ty };
                assert_eq!(
                    from.ty, to_ty,
                    "{}.{} has the type of {}.{}",
                    t.name, from.name, target.name, to.name
                );
            }
        }
        for u in t.uniques {
            assert!(
                u.columns.iter().all(has),
                "{}: unique columns exist",
                t.name
            );
            assert_eq!(
                u.name,
                format!("{}_{}_key", t.name, u.columns.join("_")),
                "PostgreSQL's default name"
            );
        }
        for i in t.indexes {
            assert!(
                i.columns.iter().all(has),
                "{}: columns of {} exist",
                t.name,
                i.name
            );
            assert!(
                i.name.starts_with(&format!("idx_{}_", t.name)),
                "{}: index name {}",
                t.name,
                i.name
            );
            assert!(
                index_names.insert(i.name),
                "index name {} is unique",
                i.name
            );
        }
    }

    // Every type and default has a rendering on both backends (these panic on anything unknown),
    // and each fact is one line.
    let pg = expected::postgres_lines();
    let lite = expected::sqlite_lines();
    let columns: usize = schema_md.iter().map(|t| t.1).sum();
    let indexes: usize = schema_md.iter().map(|t| t.4).sum();
    let fks: usize = schema_md.iter().map(|t| t.3).sum();
    // tables + column-order lines + columns + pks + fks + uniques + indexes (+ enums + sequences).
    let facts = 12 + 12 + columns + 12 + fks + 2 + indexes;
    assert_eq!(
        lite.len(),
        facts,
        "SQLite rendering:\n{}",
        lite.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(pg.len(), facts + 2 + serials.len(), "PostgreSQL rendering");
    assert!(pg.contains("column users.email character varying(255) not null default -"));
    assert!(pg.contains(
        "column sites.site_id bigint not null default nextval('sites_site_id_seq'::regclass)"
    ));
    assert!(pg.contains("enum userrole SYSTEM_ADMIN,TENANT_ADMIN,SITE_MANAGER,WORKER"));
    assert!(pg.contains(
        "fk users (created_by) -> users (user_id) on delete NO ACTION name users_created_by_fkey"
    ));
    assert!(lite.contains("column users.role VARCHAR(12) not null default -"));
    assert!(lite.contains("unique users (username)"));
}
