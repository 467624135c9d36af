//! The schema `facedb init` builds, read back from each backend's catalog and compared, fact by fact,
//! with the expected catalog the library keeps (`facedb::contract`, generated from the migrations),
//! and that expected catalog checked against the schema's rules (keys, foreign keys, defaults,
//! index names). No count of tables or columns is written here: the migrations decide them.
//!
//! The catalogs are read with this file's own queries against pg_catalog and SQLite's pragmas, not
//! with the library's reader (`facedb::catalog::read`), so that a bug there cannot hide one in the
//! migrations. Both sides use the library's [`Schema`] form only as plain data.
//!
//! Every fact is one line (`column users.email character varying(255) not null default -`,
//! `fk users (tenant_id) -> tenants (tenant_id) on delete CASCADE name users_tenant_id_fkey`, …); a
//! failure lists only the lines that differ: `-` expected but missing, `+` present but not expected.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use facedb::catalog::{
    Backend, Column, EnumType, ForeignKey, Index, Key, Schema, Table, NO_ACTION,
};
use facedb::contract;
use support::{Conn, TestDb};

/// The bookkeeping tables facedb may keep next to the contract's (docs/schema.md: names start with `__`).
const BOOKKEEPING_TABLES: [&str; 2] = ["__diesel_schema_migrations", "__facedb_metadata"];

/// How the SQLite reader reports a default expression that yields a fresh UUID v4 string on every
/// evaluation: SQLite has no `gen_random_uuid()`, so the expression itself is facedb's choice.
const RANDOM_UUID: &str = "<random uuid v4>";

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

// -------------------------------------------------------------------------------------------------
// Facts as lines
// -------------------------------------------------------------------------------------------------

/// Which facts [`lines`] writes.
#[derive(Clone, Copy, PartialEq)]
enum Facts {
    /// Everything, in the backend's own words: types, defaults, constraint names, enum types.
    All,
    /// What both backends can express: tables, column order, nullability, keys, foreign keys with
    /// their rules, UNIQUE rules, indexes.
    Neutral,
}

/// One canonical line per fact of `schema`. SQLite's CHECK on an enum column (`allowed_values`)
/// is not a line: `sqlite_catalog_matches_the_contract` checks what the database accepts instead.
fn lines(schema: &Schema, facts: Facts) -> BTreeSet<String> {
    let all = facts == Facts::All;
    let list = |items: &[String]| items.join(", ");
    let named = |name: &Option<String>| match name {
        Some(name) if all => format!(" name {name}"),
        _ => String::new(),
    };
    let mut out = BTreeSet::new();
    for t in &schema.tables {
        let name = &t.name;
        out.insert(format!("table {name}"));
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        out.insert(format!("columns {name}: {}", list(&names)));
        for c in &t.columns {
            let null = if c.not_null { "not null" } else { "null" };
            out.insert(if all {
                let default = c.default.as_deref().unwrap_or("-");
                format!(
                    "column {name}.{} {} {null} default {default}",
                    c.name, c.sql_type
                )
            } else {
                format!("column {name}.{} {null}", c.name)
            });
        }
        if let Some(pk) = &t.primary_key {
            out.insert(format!(
                "pk {name} ({}){}",
                list(&pk.columns),
                named(&pk.name)
            ));
        }
        for fk in &t.foreign_keys {
            let on_update = if fk.on_update == NO_ACTION {
                String::new()
            } else {
                format!(" on update {}", fk.on_update)
            };
            out.insert(format!(
                "fk {name} ({}) -> {} ({}) on delete {}{on_update}{}",
                list(&fk.columns),
                fk.references_table,
                list(&fk.references),
                fk.on_delete,
                named(&fk.name)
            ));
        }
        for u in &t.uniques {
            out.insert(format!(
                "unique {name} ({}){}",
                list(&u.columns),
                named(&u.name)
            ));
        }
        for i in &t.indexes {
            out.insert(format!(
                "{}index {} on {name} ({}){}",
                if i.unique { "unique " } else { "" },
                i.name,
                list(&i.columns),
                i.predicate
                    .as_ref()
                    .map(|p| format!(" where {p}"))
                    .unwrap_or_default()
            ));
        }
    }
    if all {
        for e in &schema.enums {
            out.insert(format!("enum {} {}", e.name, e.labels.join(",")));
        }
    }
    out
}

fn sequence_line(name: &str, data_type: &str, owner: &str) -> String {
    format!("sequence {name} as {data_type} {owner}")
}

/// `(table, column)` of every serial column of the contract: on PostgreSQL, its default is its
/// sequence.
fn serial_columns() -> Vec<(String, String)> {
    contract::expected(Backend::Postgres)
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| {
                    c.default
                        .as_deref()
                        .is_some_and(|d| d.starts_with("nextval("))
                })
                .map(move |c| (t.name.clone(), c.name.clone()))
        })
        .collect()
}

/// `(table, column)` of every column whose PostgreSQL default is `gen_random_uuid()`.
fn uuid_columns() -> Vec<(String, String)> {
    contract::expected(Backend::Postgres)
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.default.as_deref() == Some("(gen_random_uuid())::text"))
                .map(move |c| (t.name.clone(), c.name.clone()))
        })
        .collect()
}

/// The contract as `backend`'s catalog must show it ([`contract::expected`]), plus on PostgreSQL
/// the sequence each serial column owns (what `BIGSERIAL` makes), which [`Schema`] has no place
/// for. On SQLite, a column PostgreSQL fills with `gen_random_uuid()` must have a default that
/// yields a fresh UUID v4 each time.
fn expected_lines(backend: Backend) -> BTreeSet<String> {
    let mut schema = contract::expected(backend);
    if backend == Backend::Sqlite {
        let uuids = uuid_columns();
        for table in &mut schema.tables {
            for column in &mut table.columns {
                if uuids.contains(&(table.name.clone(), column.name.clone())) {
                    column.default = Some(RANDOM_UUID.to_owned());
                }
            }
        }
    }
    let mut out = lines(&schema, Facts::All);
    if backend == Backend::Postgres {
        out.extend(serial_columns().into_iter().map(|(table, column)| {
            sequence_line(
                &format!("{table}_{column}_seq"),
                "bigint",
                &format!("owned by {table}.{column}"),
            )
        }));
    }
    out
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

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    }
}

#[track_caller]
fn assert_matches_contract(backend: Backend, read: &Read) {
    assert_same(
        &format!(
            "the {} catalog does not match docs/schema.md",
            backend_name(backend)
        ),
        "- expected by docs/schema.md but missing, + present but not in docs/schema.md",
        &expected_lines(backend),
        &read.lines(),
    );
}

/// A schema read from a live database, and the names of its `__` bookkeeping tables.
struct Read {
    schema: Schema,
    /// Facts outside [`Schema`]'s form, as lines: sequences (PostgreSQL), and anything the contract
    /// has no place for (identity or generated columns, CHECK constraints on PostgreSQL, views, …).
    more: BTreeSet<String>,
    bookkeeping: Vec<String>,
}

impl Read {
    fn lines(&self) -> BTreeSet<String> {
        let mut out = lines(&self.schema, Facts::All);
        out.extend(self.more.iter().cloned());
        out
    }
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
    let mut more = BTreeSet::new();

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
                    Table {
                        name: name.clone(),
                        ..Table::default()
                    },
                );
            }
            _ if name.starts_with("__") => bookkeeping.push(format!("{name} (relkind {kind})")),
            _ => {
                more.insert(format!("relation {name} relkind {kind}"));
            }
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
        let Some(table) = tables.get_mut(&f[0]) else { continue };
        for (what, code) in [("identity", &f[5]), ("generated", &f[6])] {
            if !code.is_empty() {
                more.insert(format!("column {}.{} {what} {code}", f[0], f[1]));
            }
        }
        table.columns.push(Column {
            name: f[1].clone(),
            sql_type: f[2].clone(),
            not_null: f[3] == "true",
            default: non_empty(&f[4]),
            allowed_values: None,
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
        let Some(table) = tables.get_mut(table_name) else {
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
            "f" => table.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns,
                references_table: f[4].clone(),
                references: split_list(&f[5]),
                on_delete: fk_rule(&f[6]),
                on_update: fk_rule(&f[7]),
            }),
            _ => {
                more.insert(format!(
                    "constraint {table_name} {name} contype {kind}: {}",
                    f[8]
                ));
            }
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
        let Some(table) = tables.get_mut(&f[0]) else { continue };
        table.indexes.push(Index {
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
            EnumType {
                name: f[0].clone(),
                labels: split_list(&f[1]),
            }
        })
        .collect();

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
        let owner = match (f[2].as_str(), f[3].is_empty()) {
            ("a", false) => format!("owned by {}.{}", f[3], f[4]),
            ("i", false) => format!("identity of {}.{}", f[3], f[4]),
            _ => "owned by -".to_owned(),
        };
        more.insert(sequence_line(&f[0], &f[1], &owner));
    }

    Read {
        schema: Schema {
            tables: tables.into_values().collect(),
            enums,
        },
        more,
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
/// reported as [`RANDOM_UUID`] when evaluating it yields a different UUID v4 each time.
fn sqlite_default(conn: &mut Conn, raw: &str) -> String {
    if !raw.contains("random") {
        return raw.to_owned();
    }
    let values: BTreeSet<String> = (0..5)
        .flat_map(|_| conn.strings(&format!("SELECT CAST(({raw}) AS TEXT) AS v")))
        .collect();
    if values.len() == 5 && values.iter().all(|v| is_uuid_v4(v)) {
        RANDOM_UUID.to_owned()
    } else {
        raw.to_owned()
    }
}

fn read_sqlite(conn: &mut Conn) -> Read {
    let mut tables = Vec::new();
    let mut bookkeeping = Vec::new();
    let mut more = BTreeSet::new();
    for row in conn.strings(
        "SELECT type || char(31) || name AS v FROM sqlite_schema \
         WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%' ORDER BY name",
    ) {
        let f = fields(&row, 2);
        match (f[0].as_str(), &f[1]) {
            ("table", name) if name.starts_with("__") => bookkeeping.push(name.clone()),
            ("table", name) => tables.push(name.clone()),
            (kind, name) => {
                more.insert(format!("{kind} {name}"));
            }
        }
    }

    let mut schema = Schema::default();
    for name in tables {
        let q = quote(&name);
        let mut table = Table {
            name: name.clone(),
            ..Table::default()
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
            table.columns.push(Column {
                name: f[0].clone(),
                sql_type: f[1].clone(),
                not_null: f[2] == "1",
                default: non_empty(&f[3]).map(|raw| sqlite_default(conn, &raw)),
                allowed_values: None,
            });
        }
        pk.sort();
        if !pk.is_empty() {
            table.primary_key = Some(Key {
                name: None,
                columns: pk.into_iter().map(|(_, c)| c).collect(),
            });
        }

        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        for row in conn.strings(&format!(
            "SELECT id || char(31) || \"table\" || char(31) || \"from\" || char(31) || coalesce(\"to\", '') \
             || char(31) || on_update || char(31) || on_delete AS v \
             FROM pragma_foreign_key_list({q}) ORDER BY id, seq"
        )) {
            let f = fields(&row, 6);
            let fk = fks.entry(f[0].parse().expect("fk id")).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                references_table: f[1].clone(),
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
                _ => table.indexes.push(Index {
                    name: index.clone(),
                    columns,
                    unique,
                    predicate: (f[3] == "1").then(|| "<partial>".to_owned()),
                }),
            }
        }
        schema.tables.push(table);
    }
    Read {
        schema,
        more,
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
fn assert_bookkeeping(backend: Backend, read: &Read) {
    let backend = backend_name(backend);
    let mut found = read.bookkeeping.clone();
    found.sort();
    assert_eq!(
        found, BOOKKEEPING_TABLES,
        "{backend}: the only `__` tables are facedb's bookkeeping"
    );
    assert_eq!(
        read.schema.tables.len(),
        facedb::TABLES.len(),
        "{backend}: exactly facedb's tables besides `__` ones, found {:?}",
        read.schema
            .tables
            .iter()
            .map(|t| &t.name)
            .collect::<Vec<_>>()
    );
}

// -------------------------------------------------------------------------------------------------
// Tests
// -------------------------------------------------------------------------------------------------

fn postgres_catalog_matches_the_contract() {
    let db = TestDb::postgres();
    db.init();
    let read = read_postgres(&mut db.connect());
    assert_matches_contract(Backend::Postgres, &read);
    assert_bookkeeping(Backend::Postgres, &read);
}

fn sqlite_catalog_matches_the_contract() {
    let db = TestDb::sqlite();
    db.init();
    let mut conn = db.connect();
    let read = read_sqlite(&mut conn);
    assert_matches_contract(Backend::Sqlite, &read);
    assert_bookkeeping(Backend::Sqlite, &read);

    // serial -> INTEGER PRIMARY KEY AUTOINCREMENT, and AUTOINCREMENT nowhere else.
    let all_serials = serial_columns();
    for t in contract::table_names() {
        let sql = conn.strings(&format!(
            "SELECT sql AS v FROM sqlite_schema WHERE type = 'table' AND name = {}",
            quote(t)
        ));
        let sql = sql
            .first()
            .unwrap_or_else(|| panic!("no CREATE TABLE for {t}"));
        let words = format!(
            " {} ",
            sql.replace(['(', ')', ','], " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        )
        .to_uppercase();
        let serials: Vec<&str> = all_serials
            .iter()
            .filter(|(table, _)| table == t)
            .map(|(_, column)| column.as_str())
            .collect();
        for column in &serials {
            let declared = format!(
                " {} INTEGER PRIMARY KEY AUTOINCREMENT ",
                column.to_uppercase()
            );
            assert!(
                words.contains(&declared),
                "{t}.{column} is not declared INTEGER PRIMARY KEY AUTOINCREMENT:\n{sql}"
            );
        }
        assert_eq!(
            words.matches(" AUTOINCREMENT ").count(),
            serials.len(),
            "{t}: AUTOINCREMENT only on the serial column(s) {serials:?}:\n{sql}"
        );
    }

    // Enums are text with a CHECK on the upper-case labels (not the lower-case values), tried on
    // each of the contract's enum columns.
    let postgres = contract::expected(Backend::Postgres);
    let enum_columns: Vec<(&str, &str, &[String])> = postgres
        .tables
        .iter()
        .flat_map(|t| {
            let postgres = &postgres;
            t.columns.iter().filter_map(move |c| {
                let labels = &postgres.enum_type(&c.sql_type)?.labels;
                Some((t.name.as_str(), c.name.as_str(), labels.as_slice()))
            })
        })
        .collect();
    let &[("users", "role", roles), ("cameras", "camera_type", camera_types)] =
        enum_columns.as_slice()
    else {
        panic!("the CHECKs tried here are users.role's and cameras.camera_type's; the contract's enum columns are {enum_columns:?}");
    };
    let user = |name: &str, role: &str| {
        format!(
            "INSERT INTO users (username, email, first_name, last_name, password_hash, role) \
             VALUES ('{name}', '{name}@example.test', 'F', 'L', 'x', '{role}')"
        )
    };
    for role in roles {
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
    for label in camera_types {
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

fn postgres_and_sqlite_agree_apart_from_the_type_mapping() {
    let pg = TestDb::postgres();
    let lite = TestDb::sqlite();
    pg.init();
    lite.init();
    let pg_read = read_postgres(&mut pg.connect());
    let lite_read = read_sqlite(&mut lite.connect());
    assert_same(
        "PostgreSQL and SQLite disagree beyond the type mapping",
        "- only in PostgreSQL, + only in SQLite",
        &lines(&pg_read.schema, Facts::Neutral),
        &lines(&lite_read.schema, Facts::Neutral),
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
        &lines(&contract::expected(Backend::Postgres), Facts::Neutral),
        &lines(&contract::expected(Backend::Sqlite), Facts::Neutral),
    );
}

/// The library's contract (`facedb::contract`, generated from the migrations) follows the
/// schema's rules: keys, foreign keys, defaults and index names. Its content, table by table, is
/// what the migrations make (`schema_source` proves it), so no count is written here: a new column
/// needs no edit. Needs no database.
fn the_contract_is_consistent() {
    let contract = contract::expected(Backend::Postgres);
    let primary_key = |t: &Table| -> Vec<String> {
        t.primary_key
            .as_ref()
            .map(|k| k.columns.clone())
            .unwrap_or_default()
    };
    let serials = serial_columns();

    let mut index_names = BTreeSet::new();
    for t in &contract.tables {
        let key = primary_key(t);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let has = |c: &String| names.contains(&c.as_str());
        assert_eq!(
            names.iter().collect::<BTreeSet<_>>().len(),
            names.len(),
            "{}: duplicate column",
            t.name
        );
        assert!(key.iter().all(has), "{}: pk columns exist", t.name);
        for c in &t.columns {
            let serial = serials.contains(&(t.name.clone(), c.name.clone()));
            assert!(
                !key.contains(&c.name) || c.not_null,
                "{}.{}: pk columns are NN",
                t.name,
                c.name
            );
            // Only camera_sessions.camera_id among the integer primary keys has no sequence.
            let integer_pk =
                key == [c.name.clone()] && matches!(c.sql_type.as_str(), "bigint" | "integer");
            assert_eq!(
                integer_pk && !serial,
                (t.name.as_str(), c.name.as_str()) == ("camera_sessions", "camera_id"),
                "{}.{}: integer primary keys are serial",
                t.name,
                c.name
            );
            assert!(
                !serial || (key == [c.name.clone()] && c.sql_type == "bigint"),
                "{}.{}: serial is the bigint pk",
                t.name,
                c.name
            );
            // Defaults are the contract's forms only: UTC now on timestamps, now() on timestamptz,
            // a UUID, a boolean, a number, a quoted literal, or a serial's sequence.
            let known = match c.default.as_deref() {
                None => true,
                Some(d) if d.starts_with("nextval(") => serial,
                Some("timezone('utc'::text, now())") => c.sql_type == "timestamp without time zone",
                Some("now()") => c.sql_type == "timestamp with time zone",
                Some("(gen_random_uuid())::text" | "true" | "false") => true,
                Some(d) => d.parse::<i64>().is_ok() || (d.starts_with('\'') && d.contains("'::")),
            };
            assert!(known, "{}.{}: default {:?}", t.name, c.name, c.default);
        }
        for fk in &t.foreign_keys {
            assert!(
                fk.columns.iter().all(has),
                "{}: fk columns {:?} exist",
                t.name,
                fk.columns
            );
            let target = contract.table(&fk.references_table).unwrap_or_else(|| {
                panic!(
                    "{}: fk to {}, not in the contract",
                    t.name, fk.references_table
                )
            });
            assert_eq!(
                fk.references,
                primary_key(target),
                "{}: fks reference the target's pk",
                t.name
            );
            assert!(matches!(fk.on_delete.as_str(), "CASCADE" | NO_ACTION));
            for (from, to) in fk.columns.iter().zip(&fk.references) {
                let from = t.column(from).expect("fk column");
                let to = target.column(to).expect("referenced column");
                assert_eq!(
                    from.sql_type, to.sql_type,
                    "{}.{} has the type of {}.{}",
                    t.name, from.name, target.name, to.name
                );
            }
        }
        for u in &t.uniques {
            assert!(
                u.columns.iter().all(has),
                "{}: unique columns exist",
                t.name
            );
            assert_eq!(
                u.name.as_deref(),
                Some(format!("{}_{}_key", t.name, u.columns.join("_")).as_str()),
                "PostgreSQL's default name"
            );
        }
        for i in &t.indexes {
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
                index_names.insert(i.name.clone()),
                "index name {} is unique",
                i.name
            );
        }
    }

    // Each fact of both renderings is one line.
    let pg = expected_lines(Backend::Postgres);
    let lite = expected_lines(Backend::Sqlite);
    let sum = |count: fn(&Table) -> usize| -> usize { contract.tables.iter().map(count).sum() };
    let tables = contract.tables.len();
    let keyed = contract
        .tables
        .iter()
        .filter(|t| t.primary_key.is_some())
        .count();
    // tables + column-order lines + columns + pks + fks + uniques + indexes (+ enums + sequences).
    let facts = tables
        + tables
        + sum(|t| t.columns.len())
        + keyed
        + sum(|t| t.foreign_keys.len())
        + sum(|t| t.uniques.len())
        + sum(|t| t.indexes.len());
    assert_eq!(
        lite.len(),
        facts,
        "SQLite rendering:\n{}",
        lite.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        pg.len(),
        facts + contract.enums.len() + serials.len(),
        "PostgreSQL rendering"
    );
    assert!(pg.contains("column users.email character varying(255) not null default -"));
    assert!(pg.contains(
        "column sites.site_id bigint not null default nextval('sites_site_id_seq'::regclass)"
    ));
    assert!(pg
        .iter()
        .any(|l| l.starts_with("enum userrole SYSTEM_ADMIN,")));
    assert!(pg.contains(
        "fk users (created_by) -> users (user_id) on delete NO ACTION name users_created_by_fkey"
    ));
    assert!(lite.contains("column users.role VARCHAR(12) not null default -"));
    assert!(lite.contains("unique users (username)"));
}

tests![
    needs::NOTHING => [
        sqlite_catalog_matches_the_contract,
        the_contract_is_consistent,
    ],
    needs::SERVER => [
        postgres_catalog_matches_the_contract,
        postgres_and_sqlite_agree_apart_from_the_type_mapping,
    ],
];
