//! Adopting a database the old Python tool made (`db_manage.py`, SQLAlchemy's `create_all`):
//! facedb's tables (all 12, or those an older version had) with their rows, and none of facedb's
//! bookkeeping. Its first migration would fail there on objects that exist, so `init` adopts the
//! database instead, inside its locked transaction.
//!
//! Adoption compares the live schema with the contract ([`crate::compare`]) and sorts every
//! difference, before it changes anything:
//!
//! - what it reconciles: a missing table, enum type, index, foreign key or UNIQUE constraint; a
//!   missing column that is nullable or has a contract default; a missing default; and the two
//!   variants the old tool is known to leave, normalised to the contract's form: a foreign key
//!   named in its `fk_<table>_<column>` style (renamed to PostgreSQL's default name) and a foreign
//!   key present twice (the second one dropped). On SQLite also a missing `CHECK (column IN (…))`;
//! - what it leaves as it is: a column outside the contract that is nullable or has a default, and
//!   a plain index outside the contract (the API does not see them);
//! - anything else (a column of another type, an unknown NOT NULL column without a default,
//!   another primary key or ON DELETE rule, other enum labels, rows that a new foreign key or
//!   UNIQUE constraint would reject, …): it lists every one and changes nothing (exit 5).
//!
//! Then it creates what is missing from the migrations' own statements (tables, their indexes,
//! enum types) and the contract (columns, defaults, constraints), and records the migrations as
//! applied in `__diesel_schema_migrations`, as diesel does. PostgreSQL alters tables in place.
//! SQLite cannot add a constraint or a default to an existing table, so a table that needs one
//! is rebuilt as SQLite documents it: created anew from the migration, rows copied, the old one
//! dropped and the new one renamed, its other indexes and triggers made again, and
//! `PRAGMA foreign_key_check` run before the commit. That needs foreign keys off for the
//! transaction ([`exclusive`]): with them on, dropping a parent table deletes its rows
//! first and cascades into the children.

use std::collections::BTreeSet;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use crate::bookkeeping;
use crate::catalog::{self, Backend, Column, ForeignKey, Index, Key, Schema};
use crate::compare::{self, Difference};
use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::contract;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::migrations::{self, Definition, Kind};
use crate::{inventory, ownership};

/// What adopting a database did, for `init`'s report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Adoption {
    /// facedb's tables the database had, in the order the migrations create them.
    pub found_tables: Vec<String>,
    /// Enum types created (PostgreSQL).
    pub created_types: Vec<String>,
    pub created_tables: Vec<String>,
    /// `table.column`.
    pub added_columns: Vec<String>,
    /// `table.column`: server-side defaults given to existing columns.
    pub added_defaults: Vec<String>,
    /// Foreign keys, UNIQUE constraints and (SQLite) CHECKs added to existing tables, in words.
    pub added_constraints: Vec<String>,
    /// Indexes created on existing tables (a created table comes with its own).
    pub created_indexes: Vec<String>,
    /// The old tool's variants brought to the contract's form, in words.
    pub normalised: Vec<String>,
    /// SQLite: tables rebuilt to add what they lacked (created anew, rows copied).
    pub rebuilt_tables: Vec<String>,
    /// What is not in the contract and was left as it is, in words.
    pub kept: Vec<String>,
    /// Migrations recorded as applied: their schema was there, or is now.
    pub recorded_migrations: Vec<String>,
}

impl Adoption {
    /// The changes in a few words, for init's result line.
    pub fn summary(&self) -> String {
        use crate::text::plural;
        let mut parts = Vec::new();
        let mut count = |items: &[String], noun: &str, verb: &str| {
            if !items.is_empty() {
                let counted = match (items.len(), noun) {
                    (1, _) => format!("1 {noun}"),
                    (n, "index") => format!("{n} indexes"),
                    (n, _) => plural(n, noun),
                };
                parts.push(format!("{verb} {counted}"));
            }
        };
        count(&self.created_types, "type", "created");
        count(&self.created_tables, "table", "created");
        count(&self.added_columns, "column", "added");
        count(&self.added_defaults, "default", "added");
        count(&self.added_constraints, "constraint", "added");
        count(&self.created_indexes, "index", "created");
        count(&self.normalised, "variant", "normalised");
        count(&self.rebuilt_tables, "table", "rebuilt");
        let parts = if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        };
        format!(
            "adopted the existing schema{parts}; recorded {} as applied",
            plural(self.recorded_migrations.len(), "migration")
        )
    }

    /// One line per change, for the progress output.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "found {} of facedb's {} tables without facedb's bookkeeping: adopting them",
            self.found_tables.len(),
            contract::table_names().len()
        )];
        let each = |lines: &mut Vec<String>, items: &[String], what: &str| {
            lines.extend(items.iter().map(|item| format!("{what} {item}")));
        };
        each(&mut lines, &self.created_types, "created type");
        each(&mut lines, &self.created_tables, "created table");
        each(&mut lines, &self.rebuilt_tables, "rebuilt table");
        each(&mut lines, &self.added_columns, "added column");
        // Defaults by table: an old database lacks dozens.
        let mut tables: Vec<&str> = Vec::new();
        for default in &self.added_defaults {
            let table = default.split('.').next().unwrap_or_default();
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        for table in tables {
            let columns: Vec<&str> = self
                .added_defaults
                .iter()
                .filter_map(|d| d.strip_prefix(table)?.strip_prefix('.'))
                .collect();
            lines.push(format!("added defaults to {table}: {}", columns.join(", ")));
        }
        each(&mut lines, &self.added_constraints, "added");
        each(&mut lines, &self.created_indexes, "created index");
        lines.extend(self.normalised.iter().cloned());
        for name in &self.recorded_migrations {
            lines.push(format!("recorded migration {name} as applied"));
        }
        lines
    }
}

/// Whether `db` holds some of facedb's schema in `schema` that the old tool made, and none of
/// facedb's bookkeeping: a database to adopt. Reads only.
pub fn needed(db: &mut Db, schema: &SchemaName) -> Result<bool> {
    Ok(ownership::ownership(db, schema)? == ownership::Ownership::Legacy)
}

/// Runs `work` in facedb's exclusive transaction ([`Db::exclusive`]) with SQLite's foreign keys
/// as adoption needs them. Rebuilding a table needs them off, and `PRAGMA foreign_keys` does
/// nothing inside a transaction: when `db` may be one to adopt (`may_adopt`, and it looks like one)
/// they go off before the transaction, every row is checked against them before it commits, and
/// they come on again after it, whatever happened.
pub fn exclusive<T>(
    db: &mut Db,
    schema: &SchemaName,
    lock_timeout: Duration,
    target: &str,
    may_adopt: bool,
    work: impl FnOnce(&mut Db) -> Result<T>,
) -> Result<T> {
    let relaxed = may_adopt && relax_foreign_keys(db, schema)?;
    let result = db.exclusive(schema, lock_timeout, |db| {
        let value = work(db)?;
        if relaxed {
            verify_foreign_keys(db, target)?;
        }
        Ok(value)
    });
    if relaxed {
        let restored = restore_foreign_keys(db);
        // A failed transaction's error is the one to report.
        if result.is_ok() {
            restored?;
        }
    }
    result
}

/// SQLite: turns foreign keys off for the transaction that follows when the database looks like
/// one to adopt, since rebuilding a table needs them off and `PRAGMA foreign_keys` does nothing
/// inside a transaction. Returns whether it did.
fn relax_foreign_keys(db: &mut Db, schema: &SchemaName) -> Result<bool> {
    if matches!(db, Db::Postgres(_)) || !needed(db, schema)? {
        return Ok(false);
    }
    execute(db, "PRAGMA foreign_keys = OFF")?;
    Ok(true)
}

/// Turns SQLite's foreign keys on again, outside the transaction.
fn restore_foreign_keys(db: &mut Db) -> Result<()> {
    execute(db, "PRAGMA foreign_keys = ON")
}

/// SQLite: fails when a row of facedb's tables refers to a row that does not exist
/// (`PRAGMA foreign_key_check`), so that a transaction that ran with foreign keys off commits
/// nothing that breaks them. Does nothing on PostgreSQL, which never stops checking them.
fn verify_foreign_keys(db: &mut Db, target: &str) -> Result<()> {
    let violations = foreign_key_violations(db)?;
    if violations.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "cannot set up {target}: {}. Nothing was changed",
        violations.join("; ")
    )))
}

/// Adopts the database: reconciles its schema with the contract and records the migrations as
/// applied, or changes nothing and lists what it cannot reconcile (exit 5). Runs inside the
/// caller's locked transaction; `target` names the database in messages.
pub fn adopt(db: &mut Db, schema: &SchemaName, target: &str) -> Result<Adoption> {
    let backend = db.backend();
    let expected = contract::expected(backend);
    let found = catalog::read(db, schema, &contract::table_names())?;
    let mut plan = Plan::new(&expected, &found, backend);
    plan.check_data(db, schema, &found)?;
    if !plan.blockers.is_empty() {
        return Err(Error::Schema(format!(
            "cannot adopt {target} (facedb's tables, without its migrations recorded): it differs \
             from the schema contract in {} facedb will not change by itself: {}. Nothing was \
             changed; fix these by hand (`facedb check` lists every difference), then run \
             `facedb init` again",
            crate::text::plural(plan.blockers.len(), "way"),
            plan.blockers.join("; ")
        )));
    }
    let definitions = migrations::definitions(backend)?;
    let definition = |kind: Kind, name: &str| -> Result<&Definition> {
        definitions
            .iter()
            .find(|d| d.kind == kind && d.name == name)
            .ok_or_else(|| {
                Error::Migration(format!(
                    "the migrations do not create {name}, which the contract names; rebuild facedb"
                ))
            })
    };

    let mut adoption = Adoption {
        found_tables: found.tables.iter().map(|t| t.name.clone()).collect(),
        kept: plan.kept.clone(),
        ..Adoption::default()
    };
    plan.fixes.sort_by_key(Fix::rank);
    let rebuilt = plan.rebuilt_tables();
    for fix in &plan.fixes {
        match fix {
            Fix::CreateType(name) => {
                execute(db, &definition(Kind::Type, name)?.sql)?;
                adoption.created_types.push(name.clone());
            }
            Fix::CreateTable(table) => {
                execute(db, &definition(Kind::Table, table)?.sql)?;
                for index in definitions
                    .iter()
                    .filter(|d| d.kind == Kind::Index && d.table == *table)
                {
                    execute(db, &index.sql)?;
                }
                adoption.created_tables.push(table.clone());
            }
            Fix::CreateIndex { table, index } => {
                if !rebuilt.contains(table) {
                    execute(db, &definition(Kind::Index, &index.name)?.sql)?;
                }
                adoption.created_indexes.push(index.name.clone());
            }
            // Changes to an existing table: in place on PostgreSQL; on SQLite by the rebuild below.
            _ => {
                if let Db::Postgres(_) = db {
                    execute(db, &fix.postgres_sql(schema))?;
                }
                fix.report(&mut adoption);
            }
        }
    }
    if !rebuilt.is_empty() {
        for table in &rebuilt {
            // Only existing tables are rebuilt (a missing one is created whole).
            let Some(old) = found.table(table) else {
                continue;
            };
            let missing_indexes: Vec<&str> = plan
                .fixes
                .iter()
                .filter_map(|f| match f {
                    Fix::CreateIndex { table: t, index } if t == table => Some(index.name.as_str()),
                    _ => None,
                })
                .collect();
            let mut indexes = Vec::new();
            for name in missing_indexes {
                indexes.push(definition(Kind::Index, name)?.sql.clone());
            }
            rebuild_sqlite_table(db, definition(Kind::Table, table)?, old, &indexes)?;
            adoption.rebuilt_tables.push(table.clone());
        }
        verify_foreign_keys(db, target)?;
    }

    // facedb's bookkeeping, as the migration and diesel's harness make it.
    if !catalog::table_names(db, schema)?
        .iter()
        .any(|n| n == bookkeeping::TABLE)
    {
        execute(db, &definition(Kind::Table, bookkeeping::TABLE)?.sql)?;
    }
    execute(db, diesel::migration::CREATE_MIGRATIONS_TABLE)?;
    let state = migrations::state(db, schema)?;
    for migration in migrations::up_sql(backend)? {
        if state.pending.contains(&migration.name) {
            execute(
                db,
                &format!(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')",
                    migration.version.replace('\'', "''")
                ),
            )?;
            adoption.recorded_migrations.push(migration.name);
        }
    }
    Ok(adoption)
}

// -------------------------------------------------------------------------------------------------
// The plan: every difference sorted into a fix, something kept, or a blocker
// -------------------------------------------------------------------------------------------------

/// One change adoption makes.
#[derive(Debug, Clone)]
enum Fix {
    CreateType(String),
    CreateTable(String),
    /// The contract's column, in the backend's words.
    AddColumn {
        table: String,
        column: Column,
    },
    SetDefault {
        table: String,
        column: Column,
    },
    /// SQLite: the `CHECK (column IN (…))` an enum column lacks.
    AddCheck {
        table: String,
        column: String,
        values: Vec<String>,
    },
    RenameForeignKey {
        table: String,
        columns: Vec<String>,
        from: String,
        to: String,
    },
    /// The second of two identical foreign keys.
    DropForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    AddUnique {
        table: String,
        key: Key,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
}

impl Fix {
    /// The order fixes run in: types before the tables and columns that use them, columns before
    /// the constraints and indexes on them.
    fn rank(&self) -> u8 {
        match self {
            Fix::CreateType(_) => 0,
            Fix::CreateTable(_) => 1,
            Fix::AddColumn { .. } => 2,
            Fix::SetDefault { .. } => 3,
            Fix::AddCheck { .. } => 4,
            Fix::RenameForeignKey { .. } => 5,
            Fix::DropForeignKey { .. } => 6,
            Fix::AddUnique { .. } => 7,
            Fix::AddForeignKey { .. } => 8,
            Fix::CreateIndex { .. } => 9,
        }
    }

    /// The existing table the fix changes, where SQLite must rebuild it to make the change.
    fn rebuilds(&self) -> Option<&str> {
        match self {
            Fix::AddColumn { table, .. }
            | Fix::SetDefault { table, .. }
            | Fix::AddCheck { table, .. }
            | Fix::RenameForeignKey { table, .. }
            | Fix::DropForeignKey { table, .. }
            | Fix::AddUnique { table, .. }
            | Fix::AddForeignKey { table, .. } => Some(table),
            Fix::CreateType(_) | Fix::CreateTable(_) | Fix::CreateIndex { .. } => None,
        }
    }

    /// The statement making an in-place change on PostgreSQL.
    fn postgres_sql(&self, schema: &SchemaName) -> String {
        let columns = |names: &[String]| {
            names
                .iter()
                .map(|n| quote(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let constraint = |name: &Option<String>| {
            name.as_ref()
                .map(|n| format!("CONSTRAINT {} ", quote(n)))
                .unwrap_or_default()
        };
        match self {
            Fix::AddColumn { table, column } => format!(
                "ALTER TABLE {} ADD COLUMN {} {}{}{}",
                schema.qualify(table),
                quote(&column.name),
                column.sql_type,
                if column.not_null { " NOT NULL" } else { "" },
                column
                    .default
                    .as_ref()
                    .map(|d| format!(" DEFAULT {d}"))
                    .unwrap_or_default()
            ),
            Fix::SetDefault { table, column } => format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}",
                schema.qualify(table),
                quote(&column.name),
                column.default.as_deref().unwrap_or("NULL")
            ),
            Fix::RenameForeignKey {
                table, from, to, ..
            } => format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                schema.qualify(table),
                quote(from),
                quote(to)
            ),
            Fix::DropForeignKey { table, foreign_key } => format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                schema.qualify(table),
                quote(foreign_key.name.as_deref().unwrap_or_default())
            ),
            Fix::AddUnique { table, key } => format!(
                "ALTER TABLE {} ADD {}UNIQUE ({})",
                schema.qualify(table),
                constraint(&key.name),
                columns(&key.columns)
            ),
            Fix::AddForeignKey { table, foreign_key } => format!(
                "ALTER TABLE {} ADD {}FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
                schema.qualify(table),
                constraint(&foreign_key.name),
                columns(&foreign_key.columns),
                schema.qualify(&foreign_key.references_table),
                columns(&foreign_key.references),
                foreign_key.on_delete,
                foreign_key.on_update
            ),
            // Made from the migrations' statements, or (a CHECK) only on SQLite.
            Fix::CreateType(_)
            | Fix::CreateTable(_)
            | Fix::CreateIndex { .. }
            | Fix::AddCheck { .. } => String::new(),
        }
    }

    /// Adds a change to an existing table to the report.
    fn report(&self, adoption: &mut Adoption) {
        match self {
            Fix::AddColumn { table, column } => {
                adoption
                    .added_columns
                    .push(format!("{table}.{}", column.name));
            }
            Fix::SetDefault { table, column } => {
                adoption
                    .added_defaults
                    .push(format!("{table}.{}", column.name));
            }
            Fix::AddCheck {
                table,
                column,
                values,
            } => adoption.added_constraints.push(format!(
                "CHECK ({column} IN ({})) on {table}",
                values
                    .iter()
                    .map(|v| format!("'{v}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Fix::RenameForeignKey {
                table,
                columns,
                from,
                to,
            } => adoption.normalised.push(format!(
                "renamed foreign key {from} of {table} ({}) to {to}",
                columns.join(", ")
            )),
            Fix::DropForeignKey { table, foreign_key } => adoption.normalised.push(format!(
                "dropped {}the second, identical foreign key {table} ({}) -> {}",
                foreign_key
                    .name
                    .as_ref()
                    .map(|n| format!("{n}, "))
                    .unwrap_or_default(),
                foreign_key.columns.join(", "),
                foreign_key.references_table
            )),
            Fix::AddUnique { table, key } => adoption.added_constraints.push(format!(
                "UNIQUE ({}) on {table}{}",
                key.columns.join(", "),
                key.name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            )),
            Fix::AddForeignKey { table, foreign_key } => adoption.added_constraints.push(format!(
                "foreign key {table} ({}) -> {} ({}) ON DELETE {}",
                foreign_key.columns.join(", "),
                foreign_key.references_table,
                foreign_key.references.join(", "),
                foreign_key.on_delete
            )),
            Fix::CreateType(_) | Fix::CreateTable(_) | Fix::CreateIndex { .. } => {}
        }
    }
}

/// Every difference, sorted.
struct Plan {
    backend: Backend,
    fixes: Vec<Fix>,
    /// What is outside the contract and stays, in words.
    kept: Vec<String>,
    /// Extra columns kept, by table (SQLite cannot keep them through a rebuild).
    kept_columns: Vec<(String, String)>,
    /// What adoption will not reconcile, in words.
    blockers: Vec<String>,
}

impl Plan {
    fn new(expected: &Schema, found: &Schema, backend: Backend) -> Plan {
        let mut plan = Plan {
            backend,
            fixes: Vec::new(),
            kept: Vec::new(),
            kept_columns: Vec::new(),
            blockers: Vec::new(),
        };
        for difference in compare::compare(expected, found) {
            plan.sort(difference, expected, found);
        }
        if backend == Backend::Sqlite {
            for table in plan.rebuilt_tables() {
                for (t, column) in &plan.kept_columns {
                    if *t == table {
                        plan.blockers.push(format!(
                            "{table}.{column}: a column not in the contract, on a table SQLite must \
                             rebuild to add what it lacks; facedb does not carry such a column over"
                        ));
                    }
                }
            }
        }
        plan
    }

    fn block(&mut self, difference: &Difference, why: Option<&str>) {
        self.blockers.push(match why {
            Some(why) => format!("{difference} ({why})"),
            None => difference.to_string(),
        });
    }

    fn sort(&mut self, difference: Difference, expected: &Schema, found: &Schema) {
        let expected_column = |table: &str, column: &str| -> Option<Column> {
            expected.table(table)?.column(column).cloned()
        };
        // A serial column's default is its sequence (on SQLite it is the primary key itself).
        let is_serial = |table: &str, column: &str| {
            expected_column(table, column)
                .and_then(|c| c.default)
                .is_some_and(|default| default.starts_with("nextval("))
        };
        match &difference {
            Difference::MissingTable { table } => self.fixes.push(Fix::CreateTable(table.clone())),
            Difference::MissingEnum { name, .. } => self.fixes.push(Fix::CreateType(name.clone())),
            Difference::MissingColumn { table, column, .. } => {
                let in_key = expected
                    .table(table)
                    .and_then(|t| t.primary_key.as_ref())
                    .is_some_and(|key| key.columns.contains(column));
                let serial = is_serial(table, column);
                match expected_column(table, column) {
                    _ if in_key || serial => {
                        self.block(&difference, Some("it is part of the primary key"))
                    }
                    Some(c) if c.not_null && c.default.is_none() => self.block(
                        &difference,
                        Some("NOT NULL without a default: facedb has no value for the rows already there"),
                    ),
                    Some(column) => self.fixes.push(Fix::AddColumn {
                        table: table.clone(),
                        column,
                    }),
                    None => self.block(&difference, None),
                }
            }
            Difference::ExtraColumn {
                table,
                column,
                found: sql_type,
            } => {
                let live = found.table(table).and_then(|t| t.column(column));
                if live.is_some_and(|c| c.not_null && c.default.is_none()) {
                    self.block(
                        &difference,
                        Some("NOT NULL without a default: the API's inserts, which do not name it, would fail"),
                    );
                } else {
                    self.kept.push(format!(
                        "{table}.{column} ({sql_type}), a column not in the contract"
                    ));
                    self.kept_columns.push((table.clone(), column.clone()));
                }
            }
            Difference::DefaultMismatch {
                table,
                column,
                found: None,
                ..
            } => {
                if is_serial(table, column) {
                    self.block(
                        &difference,
                        Some("facedb does not make a sequence for a column that exists"),
                    );
                } else if let Some(column) = expected_column(table, column) {
                    self.fixes.push(Fix::SetDefault {
                        table: table.clone(),
                        column,
                    });
                }
            }
            Difference::AllowedValuesMismatch {
                table,
                column,
                expected: Some(values),
                found: None,
            } => self.fixes.push(Fix::AddCheck {
                table: table.clone(),
                column: column.clone(),
                values: values.clone(),
            }),
            Difference::MissingForeignKey { table, foreign_key } => {
                self.fixes.push(Fix::AddForeignKey {
                    table: table.clone(),
                    foreign_key: foreign_key.clone(),
                })
            }
            Difference::ExtraForeignKey { table, foreign_key } => {
                let twin = |f: &ForeignKey| {
                    f.columns == foreign_key.columns
                        && f.references_table == foreign_key.references_table
                        && f.references == foreign_key.references
                        && f.on_delete == foreign_key.on_delete
                        && f.on_update == foreign_key.on_update
                };
                let twins = found
                    .table(table)
                    .map_or(0, |t| t.foreign_keys.iter().filter(|f| twin(f)).count());
                let expected_fk = expected
                    .table(table)
                    .and_then(|t| t.foreign_keys.iter().find(|f| twin(f)));
                match expected_fk {
                    Some(e) if twins >= 2 && (e.name.is_none() || e.name != foreign_key.name) => {
                        self.fixes.push(Fix::DropForeignKey {
                            table: table.clone(),
                            foreign_key: foreign_key.clone(),
                        })
                    }
                    _ => self.block(&difference, None),
                }
            }
            Difference::ConstraintName {
                table,
                constraint,
                columns,
                expected,
                found,
            } if constraint == "foreign key"
                && *found == format!("fk_{table}_{}", columns.join("_")) =>
            {
                self.fixes.push(Fix::RenameForeignKey {
                    table: table.clone(),
                    columns: columns.clone(),
                    from: found.clone(),
                    to: expected.clone(),
                })
            }
            Difference::MissingUnique {
                table,
                columns,
                name,
            } => self.fixes.push(Fix::AddUnique {
                table: table.clone(),
                key: Key {
                    name: name.clone(),
                    columns: columns.clone(),
                },
            }),
            Difference::MissingIndex { table, index } => self.fixes.push(Fix::CreateIndex {
                table: table.clone(),
                index: index.clone(),
            }),
            Difference::ExtraIndex { table, index } if !index.unique => self.kept.push(format!(
                "index {} on {table} ({}), not in the contract",
                index.name,
                index.columns.join(", ")
            )),
            _ => self.block(&difference, None),
        }
    }

    /// SQLite: the existing tables that must be rebuilt, in the order the migrations create them. None on PostgreSQL.
    fn rebuilt_tables(&self) -> Vec<String> {
        if self.backend != Backend::Sqlite {
            return Vec::new();
        }
        let tables: BTreeSet<&str> = self.fixes.iter().filter_map(Fix::rebuilds).collect();
        contract::table_names()
            .into_iter()
            .filter(|t| tables.contains(t))
            .map(str::to_owned)
            .collect()
    }

    /// Adds a blocker for each row a fix would reject: a foreign key's missing parents, a UNIQUE
    /// rule's duplicates, a CHECK's other values; and on SQLite, rows of facedb's tables that
    /// already break a foreign key (nothing enforced them there).
    fn check_data(&mut self, db: &mut Db, schema: &SchemaName, found: &Schema) -> Result<()> {
        let exists = |table: &str| found.table(table).is_some();
        let added: Vec<(String, String)> = self
            .fixes
            .iter()
            .filter_map(|f| match f {
                Fix::AddColumn { table, column } => Some((table.clone(), column.name.clone())),
                _ => None,
            })
            .collect();
        // A column added now holds only NULLs or its default: nothing to check on it.
        let is_new = |table: &str, columns: &[String]| {
            !exists(table)
                || columns
                    .iter()
                    .any(|c| added.iter().any(|(t, a)| t == table && a == c))
        };
        let not_null = |columns: &[String], alias: &str| {
            columns
                .iter()
                .map(|c| format!("{alias}{} IS NOT NULL", quote(c)))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let mut blockers = Vec::new();
        for fix in &self.fixes {
            match fix {
                Fix::AddForeignKey { table, foreign_key }
                    if !is_new(table, &foreign_key.columns) =>
                {
                    let parent = &foreign_key.references_table;
                    let sql = if exists(parent) {
                        let joined = foreign_key
                            .columns
                            .iter()
                            .zip(&foreign_key.references)
                            .map(|(c, r)| format!("parent.{} = child.{}", quote(r), quote(c)))
                            .collect::<Vec<_>>()
                            .join(" AND ");
                        format!(
                            "SELECT count(*) AS n FROM {} AS child WHERE {} \
                             AND NOT EXISTS (SELECT 1 FROM {} AS parent WHERE {joined})",
                            schema.qualify(table),
                            not_null(&foreign_key.columns, "child."),
                            schema.qualify(parent)
                        )
                    } else {
                        format!(
                            "SELECT count(*) AS n FROM {} AS child WHERE {}",
                            schema.qualify(table),
                            not_null(&foreign_key.columns, "child.")
                        )
                    };
                    let rows = count_sql(db, &sql)?;
                    if rows > 0 {
                        blockers.push(format!(
                            "{table} ({}) -> {parent}: {}, so the contract's foreign key cannot \
                             be added",
                            foreign_key.columns.join(", "),
                            counted(
                                rows,
                                "row refers to a row that does not exist",
                                "rows refer to rows that do not exist"
                            ),
                        ));
                    }
                }
                Fix::AddUnique { table, key } if !is_new(table, &key.columns) => {
                    self.check_unique(
                        db,
                        schema,
                        table,
                        &key.columns,
                        "UNIQUE constraint",
                        &mut blockers,
                    )?;
                }
                Fix::CreateIndex { table, index }
                    if index.unique && !is_new(table, &index.columns) =>
                {
                    self.check_unique(
                        db,
                        schema,
                        table,
                        &index.columns,
                        "unique index",
                        &mut blockers,
                    )?;
                }
                Fix::AddCheck {
                    table,
                    column,
                    values,
                } => {
                    let list = values
                        .iter()
                        .map(|v| format!("'{}'", v.replace('\'', "''")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let rows = count_sql(
                        db,
                        &format!(
                            "SELECT count(*) AS n FROM {} WHERE {c} IS NOT NULL AND {c} NOT IN ({list})",
                            schema.qualify(table),
                            c = quote(column)
                        ),
                    )?;
                    if rows > 0 {
                        blockers.push(format!(
                            "{table}.{column}: {} a value other than {}, so the contract's CHECK \
                             cannot be added",
                            counted(rows, "row holds", "rows hold"),
                            values.join(", ")
                        ));
                    }
                }
                _ => {}
            }
        }
        blockers.extend(foreign_key_violations(db)?);
        blockers.extend(self.taken_names(db, schema)?);
        self.blockers.extend(blockers);
        Ok(())
    }

    /// The tables and indexes to create whose name another object of the schema has (an index
    /// on another table, a view, a sequence, …): creating them would fail.
    fn taken_names(&self, db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
        #[derive(QueryableByName)]
        struct Relation {
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Text)]
            kind: String,
        }
        let wanted: Vec<(&str, String)> = self
            .fixes
            .iter()
            .filter_map(|f| match f {
                Fix::CreateTable(table) => Some(("table", table.clone())),
                Fix::CreateIndex { index, .. } => Some(("index", index.name.clone())),
                Fix::AddUnique {
                    key: Key {
                        name: Some(name), ..
                    },
                    ..
                } => Some(("UNIQUE constraint", name.clone())),
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let relations: Vec<Relation> = match db {
            Db::Postgres(conn) => diesel::sql_query(format!(
                "SELECT relname::text AS name, CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' \
                 WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' \
                 WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'type' END AS kind \
                 FROM pg_class WHERE relnamespace = {}",
                schema.namespace()
            ))
            .load(conn)?,
            Db::Sqlite(conn) => {
                diesel::sql_query("SELECT name, type AS kind FROM sqlite_master").load(conn)?
            }
        };
        Ok(wanted
            .into_iter()
            .filter_map(|(what, name)| {
                let taken = relations.iter().find(|r| r.name == name)?;
                let article = if taken.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                Some(format!(
                    "{name}: facedb must create this {what}, but the name is taken by {article} {}",
                    taken.kind
                ))
            })
            .collect())
    }

    fn check_unique(
        &self,
        db: &mut Db,
        schema: &SchemaName,
        table: &str,
        columns: &[String],
        what: &str,
        blockers: &mut Vec<String>,
    ) -> Result<()> {
        let list = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let not_null = columns
            .iter()
            .map(|c| format!("{} IS NOT NULL", quote(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let values = count_sql(
            db,
            &format!(
                "SELECT count(*) AS n FROM (SELECT 1 AS one FROM {} WHERE {not_null} \
                 GROUP BY {list} HAVING count(*) > 1) AS duplicates",
                schema.qualify(table)
            ),
        )?;
        if values > 0 {
            blockers.push(format!(
                "{table}: {} of ({}) {} on more than one row, so the contract's {what} cannot be added",
                counted(values, "value", "values"),
                columns.join(", "),
                if values == 1 { "is" } else { "are" }
            ));
        }
        Ok(())
    }
}

// -------------------------------------------------------------------------------------------------
// SQLite
// -------------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Violation {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// SQLite: the rows of facedb's tables that refer to a row that does not exist, in words.
fn foreign_key_violations(db: &mut Db) -> Result<Vec<String>> {
    let Db::Sqlite(conn) = db else {
        return Ok(Vec::new());
    };
    let rows: Vec<Violation> = diesel::sql_query(
        "SELECT \"table\" AS child, parent, count(*) AS n FROM pragma_foreign_key_check \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|v| inventory::TABLES.contains(&v.child.as_str()))
        .map(|v| {
            let (parent, child) = (&v.parent, &v.child);
            if v.n == 1 {
                format!("{child}: 1 row refers to a row of {parent} that does not exist")
            } else {
                format!(
                    "{child}: {} rows refer to rows of {parent} that do not exist",
                    v.n
                )
            }
        })
        .collect())
}

#[derive(QueryableByName)]
struct Sql {
    #[diesel(sql_type = Text)]
    sql: String,
}

/// Rebuilds `old` as the migration defines it, as SQLite documents it ("Making Other Kinds Of
/// Table Schema Changes"): the new table under a temporary name, the rows copied (columns it
/// adds get their defaults), the old table dropped and the new one renamed. The old table's own
/// indexes and triggers go with it and are made again, then `missing_indexes`. Needs foreign keys
/// off: with them on, dropping the old table would first delete its rows, cascading into the
/// tables that refer to it. `legacy_alter_table` keeps the rename from rewriting (or, for the
/// dropped table, refusing) views and triggers elsewhere that name the table.
fn rebuild_sqlite_table(
    db: &mut Db,
    definition: &Definition,
    old: &catalog::Table,
    missing_indexes: &[String],
) -> Result<()> {
    let Db::Sqlite(conn) = db else {
        return Ok(());
    };
    #[derive(QueryableByName)]
    struct On {
        #[diesel(sql_type = BigInt)]
        foreign_keys: i64,
    }
    let on: On = diesel::sql_query("PRAGMA foreign_keys").get_result(conn)?;
    if on.foreign_keys != 0 {
        return Err(Error::Schema(
            "the database changed while facedb looked at it (it found no tables to adopt, then \
             some); nothing was changed: run `facedb init` again"
                .to_owned(),
        ));
    }
    let table = &old.name;
    let temporary = format!("__facedb_rebuild_{table}");
    let saved: Vec<Sql> = diesel::sql_query(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') \
         AND sql IS NOT NULL ORDER BY type, name",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    let columns = old
        .columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let statements = [
        definition.renamed(&temporary),
        format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
            quote(&temporary),
            quote(table)
        ),
        format!("DROP TABLE {}", quote(table)),
        "PRAGMA legacy_alter_table = ON".to_owned(),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&temporary),
            quote(table)
        ),
        "PRAGMA legacy_alter_table = OFF".to_owned(),
    ];
    // An AUTOINCREMENT table never hands out an id twice: the new one continues the old count.
    let sequence =
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'";
    let counted = if count(conn, diesel::sql_query(sequence))? > 0 {
        diesel::sql_query("SELECT coalesce(max(seq), 0) AS n FROM sqlite_sequence WHERE name = ?")
            .bind::<Text, _>(table)
            .get_result::<Count>(conn)?
            .n
    } else {
        0
    };
    for statement in statements
        .iter()
        .chain(saved.iter().map(|s| &s.sql))
        .chain(missing_indexes)
    {
        diesel::sql_query(statement.as_str()).execute(conn)?;
    }
    if counted > 0 {
        diesel::sql_query("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?")
            .bind::<BigInt, _>(counted)
            .bind::<Text, _>(table)
            .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
        )
        .bind::<Text, _>(table)
        .bind::<BigInt, _>(counted)
        .bind::<Text, _>(table)
        .execute(conn)?;
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------------
// Helpers
// -------------------------------------------------------------------------------------------------

/// `1 row has`, `3 rows have`.
fn counted(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn execute(db: &mut Db, sql: &str) -> Result<()> {
    diesel::sql_query(sql).execute(db)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count<C, Q>(conn: &mut C, query: Q) -> Result<i64>
where
    C: diesel::Connection,
    Q: diesel::query_dsl::LoadQuery<'static, C, Count>,
{
    Ok(query.get_result::<Count>(conn)?.n)
}

/// A query whose one row has a bigint column `n`.
fn count_sql(db: &mut Db, sql: &str) -> Result<i64> {
    count(db, diesel::sql_query(sql))
}
