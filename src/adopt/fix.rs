//! The kinds of change adoption makes, one type each, every one carrying all its behaviour in its
//! one `impl`: when it runs, how each backend makes it, which rows would stop it, and how the
//! report names it. A new kind is a new type here, and the arm of [`super::plan`] that chooses it.

use crate::catalog::{Backend, Column, ForeignKey, Index, Key};
use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::migrations::{self, Definition, Kind};

use super::data::{self, alter_table, column_list, constraint_name, Live};
use super::report::Adoption;

/// One change adoption makes.
pub(super) trait Fix {
    /// When it runs, lowest first: types before the tables and columns that use them, columns
    /// before the constraints and indexes on them.
    fn rank(&self) -> u8;

    /// The table it creates or changes; `None` for an enum type.
    fn table(&self) -> Option<&str>;

    /// The migrations' own statements that make it, the same on both backends; none for a change
    /// to an existing table.
    fn migration_sql(&self, _definitions: &Definitions) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// PostgreSQL: the statement making the change to an existing table in place.
    fn postgres_sql(&self, _schema: &SchemaName) -> Option<String> {
        None
    }

    /// SQLite: whether the change to its existing table needs the table rebuilt, SQLite having no
    /// `ALTER TABLE` for a constraint or a default.
    fn sqlite_needs_rebuild(&self) -> bool {
        false
    }

    /// The column it adds to an existing table: the rows hold only NULL or its default there.
    fn added_column(&self) -> Option<&str> {
        None
    }

    /// What it creates under its own name, as `("index", name)`: no other object may hold it.
    fn created_name(&self) -> Option<(&'static str, &str)> {
        None
    }

    /// Why the rows already there stop the change, if they do. Reads only.
    fn check(&self, _db: &mut Db, _schema: &SchemaName, _live: &Live) -> Result<Option<String>> {
        Ok(None)
    }

    /// Adds the change to the report.
    fn record(&self, adoption: &mut Adoption);
}

/// The migrations' `CREATE` statements, found by what they create.
pub(super) struct Definitions(Vec<Definition>);

impl Definitions {
    pub(super) fn of(backend: Backend) -> Result<Definitions> {
        Ok(Definitions(migrations::definitions(backend)?))
    }

    pub(super) fn get(&self, kind: Kind, name: &str) -> Result<&Definition> {
        self.0
            .iter()
            .find(|d| d.kind == kind && d.name == name)
            .ok_or_else(|| {
                Error::Migration(format!(
                    "the migrations do not create {name}, which the contract names; rebuild facedb"
                ))
            })
    }

    fn indexes_on<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Definition> {
        self.0
            .iter()
            .filter(move |d| d.kind == Kind::Index && d.table == table)
    }

    /// The columns later migrations add to `table` (`ALTER TABLE … ADD COLUMN`), in their order:
    /// with its `CREATE TABLE` first, they make the table as the migrations leave it.
    pub(super) fn columns_added_to<'a>(
        &'a self,
        table: &'a str,
    ) -> impl Iterator<Item = &'a Definition> {
        self.0
            .iter()
            .filter(move |d| d.kind == Kind::Column && d.table == table)
    }
}

/// A PostgreSQL enum type the database lacks.
pub(super) struct CreateType {
    pub name: String,
}

impl Fix for CreateType {
    fn rank(&self) -> u8 {
        0
    }

    fn table(&self) -> Option<&str> {
        None
    }

    fn migration_sql(&self, definitions: &Definitions) -> Result<Vec<String>> {
        Ok(vec![definitions.get(Kind::Type, &self.name)?.sql.clone()])
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.created_types.push(self.name.clone());
    }
}

/// A table the database lacks, created with its indexes.
pub(super) struct CreateTable {
    pub table: String,
}

impl Fix for CreateTable {
    fn rank(&self) -> u8 {
        1
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn migration_sql(&self, definitions: &Definitions) -> Result<Vec<String>> {
        let table = definitions.get(Kind::Table, &self.table)?;
        Ok(std::iter::once(table)
            .chain(definitions.columns_added_to(&self.table))
            .chain(definitions.indexes_on(&self.table))
            .map(|d| d.sql.clone())
            .collect())
    }

    fn created_name(&self) -> Option<(&'static str, &str)> {
        Some(("table", &self.table))
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.created_tables.push(self.table.clone());
    }
}

/// The contract's column, in the backend's words, on an existing table.
pub(super) struct AddColumn {
    pub table: String,
    pub column: Column,
}

impl Fix for AddColumn {
    fn rank(&self) -> u8 {
        2
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        let column = &self.column;
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "ADD COLUMN {} {}{}{}",
                quote(&column.name),
                column.sql_type,
                if column.not_null { " NOT NULL" } else { "" },
                column
                    .default
                    .as_ref()
                    .map(|d| format!(" DEFAULT {d}"))
                    .unwrap_or_default()
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn added_column(&self) -> Option<&str> {
        Some(&self.column.name)
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption
            .added_columns
            .push(format!("{}.{}", self.table, self.column.name));
    }
}

/// The contract's default for an existing column that has none.
pub(super) struct SetDefault {
    pub table: String,
    pub column: Column,
}

impl Fix for SetDefault {
    fn rank(&self) -> u8 {
        3
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "ALTER COLUMN {} SET DEFAULT {}",
                quote(&self.column.name),
                self.column.default.as_deref().unwrap_or("NULL")
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption
            .added_defaults
            .push(format!("{}.{}", self.table, self.column.name));
    }
}

/// SQLite: the `CHECK (column IN (…))` an enum column lacks. PostgreSQL's enum columns have
/// their type instead.
pub(super) struct AddCheck {
    pub table: String,
    pub column: String,
    pub values: Vec<String>,
}

impl Fix for AddCheck {
    fn rank(&self) -> u8 {
        4
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn check(&self, db: &mut Db, schema: &SchemaName, _live: &Live) -> Result<Option<String>> {
        data::other_values(db, schema, &self.table, &self.column, &self.values)
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.added_constraints.push(format!(
            "CHECK ({} IN ({})) on {}",
            self.column,
            self.values
                .iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", "),
            self.table
        ));
    }
}

/// The old tool's `fk_<table>_<column>` name, renamed to the contract's.
pub(super) struct RenameForeignKey {
    pub table: String,
    pub columns: Vec<String>,
    pub from: String,
    pub to: String,
}

impl Fix for RenameForeignKey {
    fn rank(&self) -> u8 {
        5
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "RENAME CONSTRAINT {} TO {}",
                quote(&self.from),
                quote(&self.to)
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.normalised.push(format!(
            "renamed foreign key {} of {} ({}) to {}",
            self.from,
            self.table,
            self.columns.join(", "),
            self.to
        ));
    }
}

/// The second of two identical foreign keys.
pub(super) struct DropForeignKey {
    pub table: String,
    pub foreign_key: ForeignKey,
}

impl Fix for DropForeignKey {
    fn rank(&self) -> u8 {
        6
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "DROP CONSTRAINT {}",
                quote(self.foreign_key.name.as_deref().unwrap_or_default())
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn record(&self, adoption: &mut Adoption) {
        let foreign_key = &self.foreign_key;
        adoption.normalised.push(format!(
            "dropped {}the second, identical foreign key {} ({}) -> {}",
            foreign_key
                .name
                .as_ref()
                .map(|n| format!("{n}, "))
                .unwrap_or_default(),
            self.table,
            foreign_key.columns.join(", "),
            foreign_key.references_table
        ));
    }
}

/// A UNIQUE constraint an existing table lacks.
pub(super) struct AddUnique {
    pub table: String,
    pub key: Key,
}

impl Fix for AddUnique {
    fn rank(&self) -> u8 {
        7
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "ADD {}UNIQUE ({})",
                constraint_name(&self.key.name),
                column_list(&self.key.columns)
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn created_name(&self) -> Option<(&'static str, &str)> {
        Some(("UNIQUE constraint", self.key.name.as_deref()?))
    }

    fn check(&self, db: &mut Db, schema: &SchemaName, live: &Live) -> Result<Option<String>> {
        if live.is_new(&self.table, &self.key.columns) {
            return Ok(None);
        }
        data::duplicates(
            db,
            schema,
            &self.table,
            &self.key.columns,
            "UNIQUE constraint",
        )
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.added_constraints.push(format!(
            "UNIQUE ({}) on {}{}",
            self.key.columns.join(", "),
            self.table,
            self.key
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
    }
}

/// A foreign key an existing table lacks.
pub(super) struct AddForeignKey {
    pub table: String,
    pub foreign_key: ForeignKey,
}

impl Fix for AddForeignKey {
    fn rank(&self) -> u8 {
        8
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn postgres_sql(&self, schema: &SchemaName) -> Option<String> {
        let foreign_key = &self.foreign_key;
        Some(alter_table(
            schema,
            &self.table,
            &format!(
                "ADD {}FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
                constraint_name(&foreign_key.name),
                column_list(&foreign_key.columns),
                schema.qualify(&foreign_key.references_table),
                column_list(&foreign_key.references),
                foreign_key.on_delete,
                foreign_key.on_update
            ),
        ))
    }

    fn sqlite_needs_rebuild(&self) -> bool {
        true
    }

    fn check(&self, db: &mut Db, schema: &SchemaName, live: &Live) -> Result<Option<String>> {
        if live.is_new(&self.table, &self.foreign_key.columns) {
            return Ok(None);
        }
        data::missing_parents(db, schema, live, &self.table, &self.foreign_key)
    }

    fn record(&self, adoption: &mut Adoption) {
        let foreign_key = &self.foreign_key;
        adoption.added_constraints.push(format!(
            "foreign key {} ({}) -> {} ({}) ON DELETE {}",
            self.table,
            foreign_key.columns.join(", "),
            foreign_key.references_table,
            foreign_key.references.join(", "),
            foreign_key.on_delete
        ));
    }
}

/// An index an existing table lacks. SQLite makes it after the table's rebuild when there is one.
pub(super) struct CreateIndex {
    pub table: String,
    pub index: Index,
}

impl Fix for CreateIndex {
    fn rank(&self) -> u8 {
        9
    }

    fn table(&self) -> Option<&str> {
        Some(&self.table)
    }

    fn migration_sql(&self, definitions: &Definitions) -> Result<Vec<String>> {
        Ok(vec![definitions
            .get(Kind::Index, &self.index.name)?
            .sql
            .clone()])
    }

    fn created_name(&self) -> Option<(&'static str, &str)> {
        Some(("index", &self.index.name))
    }

    fn check(&self, db: &mut Db, schema: &SchemaName, live: &Live) -> Result<Option<String>> {
        if !self.index.unique || live.is_new(&self.table, &self.index.columns) {
            return Ok(None);
        }
        data::duplicates(db, schema, &self.table, &self.index.columns, "unique index")
    }

    fn record(&self, adoption: &mut Adoption) {
        adoption.created_indexes.push(self.index.name.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NO_ACTION;

    fn public() -> SchemaName {
        SchemaName::configured(None, Backend::Postgres).unwrap()
    }

    #[test]
    fn a_column_is_added_on_postgres_with_its_type_nullability_and_default() {
        let fix = AddColumn {
            table: "visits".into(),
            column: Column {
                name: "detection_count".into(),
                sql_type: "integer".into(),
                not_null: true,
                default: Some("1".into()),
                allowed_values: None,
            },
        };
        let sql = fix.postgres_sql(&public()).unwrap();
        assert!(
            sql.ends_with(r#""visits" ADD COLUMN "detection_count" integer NOT NULL DEFAULT 1"#),
            "{sql}"
        );
        assert!(fix.sqlite_needs_rebuild());
    }

    #[test]
    fn a_foreign_key_is_added_on_postgres_under_the_contracts_name_and_rules() {
        let fix = AddForeignKey {
            table: "users".into(),
            foreign_key: ForeignKey {
                name: Some("users_site_id_fkey".into()),
                columns: vec!["site_id".into()],
                references_table: "sites".into(),
                references: vec!["site_id".into()],
                on_delete: "CASCADE".into(),
                on_update: NO_ACTION.into(),
            },
        };
        let sql = fix.postgres_sql(&public()).unwrap();
        assert!(
            sql.contains(
                r#" ADD CONSTRAINT "users_site_id_fkey" FOREIGN KEY ("site_id") REFERENCES "#
            ) && sql.ends_with(r#""sites" ("site_id") ON DELETE CASCADE ON UPDATE NO ACTION"#),
            "{sql}"
        );
    }

    #[test]
    fn a_check_exists_only_on_sqlite_where_it_rebuilds_its_table() {
        let fix = AddCheck {
            table: "users".into(),
            column: "role".into(),
            values: vec!["SYSTEM_ADMIN".into(), "WORKER".into()],
        };
        assert_eq!(fix.postgres_sql(&public()), None);
        assert!(fix.sqlite_needs_rebuild());
        let mut adoption = Adoption::default();
        fix.record(&mut adoption);
        assert_eq!(
            adoption.added_constraints,
            ["CHECK (role IN ('SYSTEM_ADMIN', 'WORKER')) on users"]
        );
    }

    #[test]
    fn a_missing_table_is_created_with_its_indexes_from_the_migration() {
        let definitions = Definitions::of(Backend::Postgres).unwrap();
        let sql = CreateTable {
            table: "workers".into(),
        }
        .migration_sql(&definitions)
        .unwrap();
        assert!(sql[0].starts_with("CREATE TABLE"), "{sql:?}");
        for index in [
            "idx_workers_tenant_status",
            "idx_workers_heartbeat",
            "idx_workers_hostname",
        ] {
            assert!(
                sql[1..].iter().any(|s| s.contains(index)),
                "{index}: {sql:?}"
            );
        }
        assert_eq!(sql.len(), 4, "the table and its three indexes: {sql:?}");
    }
}
