//! What differs between an expected schema (the contract, [`crate::contract::expected`]) and a
//! live one ([`crate::catalog::read`]): one [`Difference`] per fact, with the facts to act on (for
//! a person, its `Display` says it in plain words; for a program, its fields).
//!
//! Only the expected tables and enum types are compared: other tables and types in the database
//! are not differences. Column order is not compared (the ORM addresses columns by name), nor are
//! CHECK constraints other than SQLite's `CHECK (column IN (…))` that stands for an enum.

use std::fmt;

use serde::Serialize;

use crate::catalog::{Column, ForeignKey, Index, Key, Schema, Table};

/// One way the live schema differs from the expected one. `expected` is the contract's side,
/// `found` the database's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    MissingTable {
        table: String,
    },
    MissingColumn {
        table: String,
        column: String,
        /// The expected type.
        expected: String,
    },
    ExtraColumn {
        table: String,
        column: String,
        /// The column's type.
        found: String,
    },
    TypeMismatch {
        table: String,
        column: String,
        expected: String,
        found: String,
    },
    NullabilityMismatch {
        table: String,
        column: String,
        /// Whether the contract wants NOT NULL (the database has the opposite).
        expected_not_null: bool,
    },
    DefaultMismatch {
        table: String,
        column: String,
        expected: Option<String>,
        found: Option<String>,
    },
    /// SQLite: the values a `CHECK (column IN (…))` allows, the form an enum takes there.
    AllowedValuesMismatch {
        table: String,
        column: String,
        expected: Option<Vec<String>>,
        found: Option<Vec<String>>,
    },
    PrimaryKeyMismatch {
        table: String,
        expected: Vec<String>,
        /// Empty when the table has no primary key.
        found: Vec<String>,
    },
    MissingForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    ExtraForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    OnDeleteMismatch {
        table: String,
        columns: Vec<String>,
        references_table: String,
        expected: String,
        found: String,
    },
    OnUpdateMismatch {
        table: String,
        columns: Vec<String>,
        references_table: String,
        expected: String,
        found: String,
    },
    MissingUnique {
        table: String,
        columns: Vec<String>,
        name: Option<String>,
    },
    ExtraUnique {
        table: String,
        columns: Vec<String>,
        name: Option<String>,
    },
    MissingIndex {
        table: String,
        index: Index,
    },
    ExtraIndex {
        table: String,
        index: Index,
    },
    /// An index of the expected name with other columns, uniqueness or condition.
    IndexMismatch {
        table: String,
        expected: Index,
        found: Index,
    },
    /// The expected index exists under another name.
    IndexName {
        table: String,
        columns: Vec<String>,
        expected: String,
        found: String,
    },
    /// A primary key, foreign key or UNIQUE constraint with the expected columns and another
    /// name (PostgreSQL; SQLite does not name them).
    ConstraintName {
        table: String,
        /// `primary key`, `foreign key` or `unique constraint`.
        constraint: String,
        columns: Vec<String>,
        expected: String,
        found: String,
    },
    MissingEnum {
        name: String,
        labels: Vec<String>,
    },
    EnumLabels {
        name: String,
        expected: Vec<String>,
        found: Vec<String>,
    },
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn or_none(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("none")
}

fn describe_fk(fk: &ForeignKey) -> String {
    let mut text = String::new();
    if let Some(name) = &fk.name {
        text.push_str(name);
        text.push(' ');
    }
    text.push_str(&format!(
        "({}) -> {} ({}) ON DELETE {}",
        list(&fk.columns),
        fk.references_table,
        list(&fk.references),
        fk.on_delete
    ));
    if fk.on_update != crate::catalog::NO_ACTION {
        text.push_str(&format!(" ON UPDATE {}", fk.on_update));
    }
    text
}

fn describe_index(index: &Index) -> String {
    format!(
        "{}({}){}",
        if index.unique { "unique " } else { "" },
        list(&index.columns),
        index
            .predicate
            .as_ref()
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default()
    )
}

fn describe_key(name: &Option<String>, columns: &[String]) -> String {
    match name {
        Some(name) => format!("{name} ({})", list(columns)),
        None => format!("({})", list(columns)),
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::MissingTable { table } => write!(f, "table {table} is missing"),
            Difference::MissingColumn {
                table,
                column,
                expected,
            } => write!(f, "{table}.{column}: missing column ({expected})"),
            Difference::ExtraColumn {
                table,
                column,
                found,
            } => write!(f, "{table}.{column}: column not in the contract ({found})"),
            Difference::TypeMismatch {
                table,
                column,
                expected,
                found,
            } => write!(f, "{table}.{column}: expected {expected}, found {found}"),
            Difference::NullabilityMismatch {
                table,
                column,
                expected_not_null,
            } => {
                let (expected, found) = if *expected_not_null {
                    ("NOT NULL", "nullable")
                } else {
                    ("nullable", "NOT NULL")
                };
                write!(f, "{table}.{column}: expected {expected}, found {found}")
            }
            Difference::DefaultMismatch {
                table,
                column,
                expected,
                found,
            } => write!(
                f,
                "{table}.{column}: expected default {}, found {}",
                or_none(expected),
                or_none(found)
            ),
            Difference::AllowedValuesMismatch {
                table,
                column,
                expected,
                found,
            } => match (expected, found) {
                (Some(expected), Some(found)) => write!(
                    f,
                    "{table}.{column}: expected a CHECK allowing {}, found one allowing {}",
                    list(expected),
                    list(found)
                ),
                (Some(expected), None) => write!(
                    f,
                    "{table}.{column}: expected a CHECK allowing {}, found none",
                    list(expected)
                ),
                (None, Some(found)) => write!(
                    f,
                    "{table}.{column}: expected no CHECK on its values, found one allowing {}",
                    list(found)
                ),
                (None, None) => write!(f, "{table}.{column}: its CHECK differs"),
            },
            Difference::PrimaryKeyMismatch {
                table,
                expected,
                found,
            } => {
                let found = if found.is_empty() {
                    "none".to_owned()
                } else {
                    format!("({})", list(found))
                };
                write!(
                    f,
                    "{table}: expected primary key ({}), found {found}",
                    list(expected)
                )
            }
            Difference::MissingForeignKey { table, foreign_key } => {
                write!(f, "{table}: missing foreign key {}", describe_fk(foreign_key))
            }
            Difference::ExtraForeignKey { table, foreign_key } => write!(
                f,
                "{table}: foreign key not in the contract: {}",
                describe_fk(foreign_key)
            ),
            Difference::OnDeleteMismatch {
                table,
                columns,
                references_table,
                expected,
                found,
            } => write!(
                f,
                "{table} ({}) -> {references_table}: expected ON DELETE {expected}, found ON DELETE {found}",
                list(columns)
            ),
            Difference::OnUpdateMismatch {
                table,
                columns,
                references_table,
                expected,
                found,
            } => write!(
                f,
                "{table} ({}) -> {references_table}: expected ON UPDATE {expected}, found ON UPDATE {found}",
                list(columns)
            ),
            Difference::MissingUnique {
                table,
                columns,
                name,
            } => write!(
                f,
                "{table}: missing UNIQUE constraint {}",
                describe_key(name, columns)
            ),
            Difference::ExtraUnique {
                table,
                columns,
                name,
            } => write!(
                f,
                "{table}: UNIQUE constraint not in the contract: {}",
                describe_key(name, columns)
            ),
            Difference::MissingIndex { table, index } => write!(
                f,
                "{table}: missing index {} {}",
                index.name,
                describe_index(index)
            ),
            Difference::ExtraIndex { table, index } => write!(
                f,
                "{table}: index not in the contract: {} {}",
                index.name,
                describe_index(index)
            ),
            Difference::IndexMismatch {
                table,
                expected,
                found,
            } => write!(
                f,
                "{table}: index {}: expected {}, found {}",
                expected.name,
                describe_index(expected),
                describe_index(found)
            ),
            Difference::IndexName {
                table,
                columns,
                expected,
                found,
            } => write!(
                f,
                "{table}: index {expected} ({}) is named {found}",
                list(columns)
            ),
            Difference::ConstraintName {
                table,
                constraint,
                columns,
                expected,
                found,
            } => write!(
                f,
                "{table}: {constraint} ({}) is named {found}, expected {expected}",
                list(columns)
            ),
            Difference::MissingEnum { name, labels } => write!(
                f,
                "enum type {name} is missing (labels {})",
                list(labels)
            ),
            Difference::EnumLabels {
                name,
                expected,
                found,
            } => write!(
                f,
                "enum type {name}: expected labels {}, found {}",
                list(expected),
                list(found)
            ),
        }
    }
}

/// Types are compared without regard to case and spacing (SQLite keeps them as declared).
fn same_type(a: &str, b: &str) -> bool {
    let squeeze = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    squeeze(a) == squeeze(b)
}

/// Default expressions are compared with runs of white space as one space.
fn same_default(a: &Option<String>, b: &Option<String>) -> bool {
    let squeeze = |s: &Option<String>| {
        s.as_deref()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    squeeze(a) == squeeze(b)
}

/// Allowed values are a set: the order of a CHECK's list means nothing.
fn same_values(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    let sorted = |v: &Option<Vec<String>>| {
        v.clone().map(|mut v| {
            v.sort();
            v
        })
    };
    sorted(a) == sorted(b)
}

/// Every difference between `expected` and `found`, table by table in the expected order, then
/// the enum types. Empty when the live schema matches.
pub fn compare(expected: &Schema, found: &Schema) -> Vec<Difference> {
    let mut out = Vec::new();
    for table in &expected.tables {
        match found.table(&table.name) {
            None => out.push(Difference::MissingTable {
                table: table.name.clone(),
            }),
            Some(live) => compare_table(table, live, &mut out),
        }
    }
    for expected_enum in &expected.enums {
        match found.enum_type(&expected_enum.name) {
            None => out.push(Difference::MissingEnum {
                name: expected_enum.name.clone(),
                labels: expected_enum.labels.clone(),
            }),
            Some(live) if live.labels != expected_enum.labels => out.push(Difference::EnumLabels {
                name: expected_enum.name.clone(),
                expected: expected_enum.labels.clone(),
                found: live.labels.clone(),
            }),
            Some(_) => {}
        }
    }
    out
}

fn compare_table(expected: &Table, found: &Table, out: &mut Vec<Difference>) {
    let table = || expected.name.clone();
    for column in &expected.columns {
        match found.column(&column.name) {
            None => out.push(Difference::MissingColumn {
                table: table(),
                column: column.name.clone(),
                expected: column.sql_type.clone(),
            }),
            Some(live) => compare_column(&expected.name, column, live, out),
        }
    }
    for live in &found.columns {
        if expected.column(&live.name).is_none() {
            out.push(Difference::ExtraColumn {
                table: table(),
                column: live.name.clone(),
                found: live.sql_type.clone(),
            });
        }
    }

    if let Some(pk) = &expected.primary_key {
        match &found.primary_key {
            Some(live) if live.columns == pk.columns => {
                compare_name(&expected.name, "primary key", pk, live, out)
            }
            live => out.push(Difference::PrimaryKeyMismatch {
                table: table(),
                expected: pk.columns.clone(),
                found: live.as_ref().map(|k| k.columns.clone()).unwrap_or_default(),
            }),
        }
    }

    compare_foreign_keys(expected, found, out);

    let mut unmatched: Vec<&Key> = found.uniques.iter().collect();
    for unique in &expected.uniques {
        match unmatched.iter().position(|u| u.columns == unique.columns) {
            Some(at) => {
                let live = unmatched.remove(at);
                compare_name(&expected.name, "unique constraint", unique, live, out);
            }
            None => out.push(Difference::MissingUnique {
                table: table(),
                columns: unique.columns.clone(),
                name: unique.name.clone(),
            }),
        }
    }
    out.extend(unmatched.into_iter().map(|u| Difference::ExtraUnique {
        table: table(),
        columns: u.columns.clone(),
        name: u.name.clone(),
    }));

    compare_indexes(expected, found, out);
}

fn compare_column(table: &str, expected: &Column, found: &Column, out: &mut Vec<Difference>) {
    let at = || (table.to_owned(), expected.name.clone());
    if !same_type(&expected.sql_type, &found.sql_type) {
        let (table, column) = at();
        out.push(Difference::TypeMismatch {
            table,
            column,
            expected: expected.sql_type.clone(),
            found: found.sql_type.clone(),
        });
    }
    if expected.not_null != found.not_null {
        let (table, column) = at();
        out.push(Difference::NullabilityMismatch {
            table,
            column,
            expected_not_null: expected.not_null,
        });
    }
    if !same_default(&expected.default, &found.default) {
        let (table, column) = at();
        out.push(Difference::DefaultMismatch {
            table,
            column,
            expected: expected.default.clone(),
            found: found.default.clone(),
        });
    }
    if !same_values(&expected.allowed_values, &found.allowed_values) {
        let (table, column) = at();
        out.push(Difference::AllowedValuesMismatch {
            table,
            column,
            expected: expected.allowed_values.clone(),
            found: found.allowed_values.clone(),
        });
    }
}

/// Names are compared only where both sides have one (SQLite names no constraint).
fn compare_name(
    table: &str,
    constraint: &str,
    expected: &Key,
    found: &Key,
    out: &mut Vec<Difference>,
) {
    if let (Some(expected_name), Some(found_name)) = (&expected.name, &found.name) {
        if expected_name != found_name {
            out.push(Difference::ConstraintName {
                table: table.to_owned(),
                constraint: constraint.to_owned(),
                columns: expected.columns.clone(),
                expected: expected_name.clone(),
                found: found_name.clone(),
            });
        }
    }
}

/// Foreign keys are matched by what they link (columns, table, referenced columns); then their
/// rules and names are compared. A second one linking the same columns is extra.
fn compare_foreign_keys(expected: &Table, found: &Table, out: &mut Vec<Difference>) {
    let table = || expected.name.clone();
    let mut unmatched: Vec<&ForeignKey> = found.foreign_keys.iter().collect();
    for fk in &expected.foreign_keys {
        let position = unmatched.iter().position(|f| {
            f.columns == fk.columns
                && f.references_table == fk.references_table
                && f.references == fk.references
        });
        let Some(at) = position else {
            out.push(Difference::MissingForeignKey {
                table: table(),
                foreign_key: fk.clone(),
            });
            continue;
        };
        let live = unmatched.remove(at);
        if live.on_delete != fk.on_delete {
            out.push(Difference::OnDeleteMismatch {
                table: table(),
                columns: fk.columns.clone(),
                references_table: fk.references_table.clone(),
                expected: fk.on_delete.clone(),
                found: live.on_delete.clone(),
            });
        }
        if live.on_update != fk.on_update {
            out.push(Difference::OnUpdateMismatch {
                table: table(),
                columns: fk.columns.clone(),
                references_table: fk.references_table.clone(),
                expected: fk.on_update.clone(),
                found: live.on_update.clone(),
            });
        }
        let key = |f: &ForeignKey| Key {
            name: f.name.clone(),
            columns: f.columns.clone(),
        };
        compare_name(&expected.name, "foreign key", &key(fk), &key(live), out);
    }
    out.extend(unmatched.into_iter().map(|fk| Difference::ExtraForeignKey {
        table: table(),
        foreign_key: fk.clone(),
    }));
}

/// Indexes are matched by name, then (for an expected one not found by name) by columns and
/// uniqueness, which reports it as renamed.
fn compare_indexes(expected: &Table, found: &Table, out: &mut Vec<Difference>) {
    let table = || expected.name.clone();
    let mut unmatched: Vec<&Index> = found.indexes.iter().collect();
    let mut missing = Vec::new();
    for index in &expected.indexes {
        match unmatched.iter().position(|i| i.name == index.name) {
            Some(at) => {
                let live = unmatched.remove(at);
                if live.columns != index.columns
                    || live.unique != index.unique
                    || live.predicate != index.predicate
                {
                    out.push(Difference::IndexMismatch {
                        table: table(),
                        expected: index.clone(),
                        found: live.clone(),
                    });
                }
            }
            None => missing.push(index),
        }
    }
    for index in missing {
        let renamed = unmatched.iter().position(|i| {
            i.columns == index.columns && i.unique == index.unique && i.predicate == index.predicate
        });
        match renamed {
            Some(at) => {
                let live = unmatched.remove(at);
                out.push(Difference::IndexName {
                    table: table(),
                    columns: index.columns.clone(),
                    expected: index.name.clone(),
                    found: live.name.clone(),
                });
            }
            None => out.push(Difference::MissingIndex {
                table: table(),
                index: index.clone(),
            }),
        }
    }
    out.extend(unmatched.into_iter().map(|i| Difference::ExtraIndex {
        table: table(),
        index: i.clone(),
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Backend, EnumType};
    use crate::contract;

    fn table<'a>(schema: &'a mut Schema, name: &str) -> &'a mut Table {
        schema.tables.iter_mut().find(|t| t.name == name).unwrap()
    }

    fn messages(expected: &Schema, found: &Schema) -> Vec<String> {
        compare(expected, found)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_contract_matches_itself() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let expected = contract::expected(backend);
            assert_eq!(compare(&expected, &expected), [], "{backend:?}");
        }
    }

    #[test]
    fn differences_in_plain_words() {
        let expected = contract::expected(Backend::Postgres);
        let mut found = expected.clone();
        found.tables.retain(|t| t.name != "api_keys");
        let users = table(&mut found, "users");
        users.columns[2].sql_type = "text".into();
        users.columns[3].not_null = false;
        users.columns.retain(|c| c.name != "last_login");
        users.columns.push(Column {
            name: "nickname".into(),
            sql_type: "text".into(),
            not_null: false,
            default: None,
            allowed_values: None,
        });
        users.columns[9].default = None;
        users.indexes.retain(|i| i.name != "idx_users_role");
        users.indexes[0].name = "ix_users_username".into();
        users.uniques.remove(1);
        users.foreign_keys[0].on_delete = "RESTRICT".into();
        users.foreign_keys[1].name = Some("users_site_fk".into());
        found.enums[0].labels[3] = "STAFF".into();
        found.enums.pop();
        found.tables.push(Table {
            name: "not_ours".into(),
            ..Table::default()
        });
        assert_eq!(
            messages(&expected, &found),
            [
                "users.email: expected character varying(255), found text",
                "users.first_name: expected NOT NULL, found nullable",
                "users.is_active: expected default true, found none",
                "users.last_login: missing column (timestamp without time zone)",
                "users.nickname: column not in the contract (text)",
                "users (tenant_id) -> tenants: expected ON DELETE CASCADE, found ON DELETE RESTRICT",
                "users: foreign key (site_id) is named users_site_fk, expected users_site_id_fkey",
                "users: missing UNIQUE constraint users_email_key (email)",
                "users: index idx_users_username (username) is named ix_users_username",
                "users: missing index idx_users_role (role)",
                "table api_keys is missing",
                "enum type userrole: expected labels SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, WORKER, \
                 found SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, STAFF",
                "enum type cameratype is missing (labels RTSP, WEBCAM)",
            ]
        );
    }

    #[test]
    fn keys_indexes_and_checks() {
        let expected = contract::expected(Backend::Sqlite);
        let mut found = expected.clone();
        let images = table(&mut found, "staff_face_images");
        images.primary_key = None;
        let duplicate = images.foreign_keys[0].clone();
        images.foreign_keys.push(duplicate);
        images.indexes[2].unique = false;
        images.indexes.push(Index {
            name: "ix_extra".into(),
            columns: vec!["image_path".into()],
            unique: false,
            predicate: Some("image_path IS NOT NULL".into()),
        });
        let users = table(&mut found, "users");
        users.columns[1].sql_type = "varchar(255)".into();
        users.columns[6].allowed_values = Some(vec![
            "WORKER".into(),
            "SITE_MANAGER".into(),
            "TENANT_ADMIN".into(),
            "SYSTEM_ADMIN".into(),
        ]);
        table(&mut found, "cameras").columns[4].allowed_values = None;
        assert_eq!(
            messages(&expected, &found),
            [
                "cameras.camera_type: expected a CHECK allowing RTSP, WEBCAM, found none",
                "staff_face_images: expected primary key (tenant_id, image_id), found none",
                "staff_face_images: foreign key not in the contract: (tenant_id) -> tenants (tenant_id) ON DELETE CASCADE",
                "staff_face_images: index idx_staff_face_images_hash: expected unique (tenant_id, staff_id, image_hash), \
                 found (tenant_id, staff_id, image_hash)",
                "staff_face_images: index not in the contract: ix_extra (image_path) WHERE image_path IS NOT NULL",
            ]
        );
        let serialized = serde_json::to_value(compare(&expected, &found)).unwrap();
        assert_eq!(serialized[0]["kind"], "allowed_values_mismatch");
        assert_eq!(serialized[0]["column"], "camera_type");
        assert_eq!(serialized[0]["found"], serde_json::Value::Null);
    }

    #[test]
    fn enum_labels_are_compared_in_order() {
        let expected = Schema {
            tables: Vec::new(),
            enums: vec![EnumType {
                name: "cameratype".into(),
                labels: vec!["RTSP".into(), "WEBCAM".into()],
            }],
        };
        let mut found = expected.clone();
        found.enums[0].labels.reverse();
        assert_eq!(
            messages(&expected, &found),
            ["enum type cameratype: expected labels RTSP, WEBCAM, found WEBCAM, RTSP"]
        );
    }
}
