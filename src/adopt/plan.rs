//! The plan: every difference between the contract and the live catalog sorted into a fix (a
//! change adoption makes), something kept as it is, or a blocker (adoption refuses). Pure: it reads
//! two [`Schema`]s and no database.

use std::collections::BTreeSet;

use crate::catalog::{Backend, Column, ForeignKey, Key, Schema};
use crate::compare::{self, Difference};
use crate::contract;

use super::fix::{
    AddCheck, AddColumn, AddForeignKey, AddUnique, CreateIndex, CreateTable, CreateType,
    DropForeignKey, Fix, RenameForeignKey, SetDefault,
};
use super::report::Adoption;

/// Every difference, sorted.
pub(super) struct Plan {
    backend: Backend,
    /// In the order of the differences; [`Plan::ordered`] gives the order they run in.
    pub fixes: Vec<Box<dyn Fix>>,
    /// What is outside the contract and stays, in words.
    pub kept: Vec<String>,
    /// Extra columns kept, by table (SQLite cannot keep them through a rebuild).
    kept_columns: Vec<(String, String)>,
    /// What adoption will not reconcile, in words.
    pub blockers: Vec<String>,
}

impl Plan {
    /// The plan bringing `found` to `expected`, both as `backend`'s catalog shows them.
    pub fn new(expected: &Schema, found: &Schema, backend: Backend) -> Plan {
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

    /// The fixes in the order they run (see [`Fix::rank`]).
    pub fn ordered(&self) -> Vec<&dyn Fix> {
        let mut fixes: Vec<&dyn Fix> = self.fixes.iter().map(Box::as_ref).collect();
        fixes.sort_by_key(|f| f.rank());
        fixes
    }

    /// SQLite: the existing tables that must be rebuilt, in the order the migrations create them.
    /// None on PostgreSQL.
    pub fn rebuilt_tables(&self) -> Vec<String> {
        if self.backend != Backend::Sqlite {
            return Vec::new();
        }
        let tables: BTreeSet<&str> = self
            .fixes
            .iter()
            .filter(|f| f.sqlite_needs_rebuild())
            .filter_map(|f| f.table())
            .collect();
        contract::table_names()
            .into_iter()
            .filter(|t| tables.contains(t))
            .map(str::to_owned)
            .collect()
    }

    /// The columns it adds to existing tables, as `(table, column)`.
    pub fn added_columns(&self) -> Vec<(&str, &str)> {
        self.fixes
            .iter()
            .filter_map(|f| Some((f.table()?, f.added_column()?)))
            .collect()
    }

    /// What carrying it out on `found` (the schema it was made from) changes, each fix in the
    /// order it runs; the migrations it records are for the caller to add.
    pub fn adoption(&self, found: &Schema) -> Adoption {
        let mut adoption = Adoption {
            found_tables: found.tables.iter().map(|t| t.name.clone()).collect(),
            rebuilt_tables: self.rebuilt_tables(),
            kept: self.kept.clone(),
            ..Adoption::default()
        };
        for fix in self.ordered() {
            fix.record(&mut adoption);
        }
        adoption
    }

    fn fix(&mut self, fix: impl Fix + 'static) {
        self.fixes.push(Box::new(fix));
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
            Difference::MissingTable { table } => self.fix(CreateTable {
                table: table.clone(),
            }),
            Difference::MissingEnum { name, .. } => self.fix(CreateType { name: name.clone() }),
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
                    Some(column) => self.fix(AddColumn {
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
                    self.fix(SetDefault {
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
            } => self.fix(AddCheck {
                table: table.clone(),
                column: column.clone(),
                values: values.clone(),
            }),
            Difference::MissingForeignKey { table, foreign_key } => self.fix(AddForeignKey {
                table: table.clone(),
                foreign_key: foreign_key.clone(),
            }),
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
                        self.fix(DropForeignKey {
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
                self.fix(RenameForeignKey {
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
            } => self.fix(AddUnique {
                table: table.clone(),
                key: Key {
                    name: name.clone(),
                    columns: columns.clone(),
                },
            }),
            Difference::MissingIndex { table, index } => self.fix(CreateIndex {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Table;

    const BOTH: [Backend; 2] = [Backend::Postgres, Backend::Sqlite];

    fn table<'a>(schema: &'a mut Schema, name: &str) -> &'a mut Table {
        schema.tables.iter_mut().find(|t| t.name == name).unwrap()
    }

    /// The contract for `backend`, changed by `edit`: a live schema the old tool might leave.
    fn altered(backend: Backend, edit: impl FnOnce(&mut Schema)) -> Schema {
        let mut schema = contract::expected(backend);
        edit(&mut schema);
        schema
    }

    /// What adopting `found` would report, and what would stop it.
    fn planned(backend: Backend, found: &Schema) -> (Adoption, Vec<String>) {
        let plan = Plan::new(&contract::expected(backend), found, backend);
        (plan.adoption(found), plan.blockers)
    }

    /// The report of an adoption that changes nothing on `found`.
    fn nothing_on(found: &Schema) -> Adoption {
        Adoption {
            found_tables: found.tables.iter().map(|t| t.name.clone()).collect(),
            ..Adoption::default()
        }
    }

    #[test]
    fn an_up_to_date_schema_needs_nothing() {
        for backend in BOTH {
            let found = contract::expected(backend);
            let (adoption, blockers) = planned(backend, &found);
            assert_eq!(adoption, nothing_on(&found), "{backend:?}");
            assert_eq!(adoption.found_tables.len(), 12, "{backend:?}");
            assert_eq!(blockers, Vec::<String>::new(), "{backend:?}");
        }
    }

    #[test]
    fn a_missing_index_is_created_without_rebuilding_its_table() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                table(s, "users")
                    .indexes
                    .retain(|i| i.name != "idx_users_role")
            });
            let (adoption, blockers) = planned(backend, &found);
            let expected = Adoption {
                created_indexes: vec!["idx_users_role".into()],
                ..nothing_on(&found)
            };
            assert_eq!(adoption, expected, "{backend:?}");
            assert_eq!(blockers, Vec::<String>::new(), "{backend:?}");
        }
    }

    #[test]
    fn a_missing_column_with_a_default_is_added_and_sqlite_rebuilds_its_table() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                table(s, "visits")
                    .columns
                    .retain(|c| c.name != "detection_count")
            });
            let (adoption, blockers) = planned(backend, &found);
            let rebuilt = match backend {
                Backend::Postgres => vec![],
                Backend::Sqlite => vec!["visits".to_owned()],
            };
            let expected = Adoption {
                added_columns: vec!["visits.detection_count".into()],
                rebuilt_tables: rebuilt,
                ..nothing_on(&found)
            };
            assert_eq!(adoption, expected, "{backend:?}");
            assert_eq!(blockers, Vec::<String>::new(), "{backend:?}");
        }
    }

    #[test]
    fn a_missing_not_null_column_without_a_default_stops_adoption() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                table(s, "cameras").columns.retain(|c| c.name != "name")
            });
            let (adoption, blockers) = planned(backend, &found);
            assert_eq!(adoption, nothing_on(&found), "{backend:?}");
            assert_eq!(blockers.len(), 1, "{backend:?}: {blockers:?}");
            assert!(
                blockers[0].starts_with("cameras.name: missing column")
                    && blockers[0].ends_with(
                        "(NOT NULL without a default: facedb has no value for the rows already there)"
                    ),
                "{backend:?}: {blockers:?}"
            );
        }
    }

    #[test]
    fn a_missing_default_is_added_but_not_a_sequence() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                for column in &mut table(s, "tenants").columns {
                    if column.name == "is_active" {
                        column.default = None;
                    }
                }
            });
            let (adoption, _) = planned(backend, &found);
            assert_eq!(
                adoption.added_defaults,
                ["tenants.is_active"],
                "{backend:?}"
            );
        }
        let found = altered(Backend::Postgres, |s| {
            table(s, "sites").columns[0].default = None;
        });
        let (adoption, blockers) = planned(Backend::Postgres, &found);
        assert_eq!(adoption, nothing_on(&found));
        assert_eq!(
            blockers,
            ["sites.site_id: expected default nextval('sites_site_id_seq'::regclass), found none \
              (facedb does not make a sequence for a column that exists)"]
        );
    }

    #[test]
    fn a_missing_enum_label_stops_adoption() {
        let found = altered(Backend::Postgres, |s| {
            let role = s.enums.iter_mut().find(|e| e.name == "userrole").unwrap();
            role.labels.retain(|l| l != "WORKER");
        });
        let (adoption, blockers) = planned(Backend::Postgres, &found);
        assert_eq!(adoption, nothing_on(&found));
        assert_eq!(
            blockers,
            [
                "enum type userrole: expected labels SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, \
              WORKER, found SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER"
            ]
        );

        // SQLite's enum is a CHECK on the column.
        let found = altered(Backend::Sqlite, |s| {
            let role = table(s, "users")
                .columns
                .iter_mut()
                .find(|c| c.name == "role");
            role.unwrap().allowed_values = Some(vec!["SYSTEM_ADMIN".into(), "WORKER".into()]);
        });
        let (adoption, blockers) = planned(Backend::Sqlite, &found);
        assert_eq!(adoption, nothing_on(&found));
        assert_eq!(
            blockers,
            [
                "users.role: expected a CHECK allowing SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, \
              WORKER, found one allowing SYSTEM_ADMIN, WORKER"
            ]
        );
    }

    #[test]
    fn a_missing_enum_type_and_missing_tables_are_created() {
        let found = altered(Backend::Postgres, |s| {
            s.enums.retain(|e| e.name != "cameratype");
            s.tables
                .retain(|t| t.name != "workers" && t.name != "api_keys");
        });
        let (adoption, blockers) = planned(Backend::Postgres, &found);
        let expected = Adoption {
            created_types: vec!["cameratype".into()],
            created_tables: vec!["workers".into(), "api_keys".into()],
            ..nothing_on(&found)
        };
        assert_eq!(adoption, expected);
        assert_eq!(blockers, Vec::<String>::new());
    }

    #[test]
    fn a_missing_enum_check_is_added_on_sqlite_by_a_rebuild() {
        let found = altered(Backend::Sqlite, |s| {
            let role = table(s, "users")
                .columns
                .iter_mut()
                .find(|c| c.name == "role");
            role.unwrap().allowed_values = None;
        });
        let (adoption, blockers) = planned(Backend::Sqlite, &found);
        let expected = Adoption {
            added_constraints: vec![
                "CHECK (role IN ('SYSTEM_ADMIN', 'TENANT_ADMIN', 'SITE_MANAGER', 'WORKER')) on users"
                    .into(),
            ],
            rebuilt_tables: vec!["users".into()],
            ..nothing_on(&found)
        };
        assert_eq!(adoption, expected);
        assert_eq!(blockers, Vec::<String>::new());
    }

    #[test]
    fn a_wrong_on_delete_rule_stops_adoption() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                table(s, "sites").foreign_keys[0].on_delete = "RESTRICT".into()
            });
            let (adoption, blockers) = planned(backend, &found);
            assert_eq!(adoption, nothing_on(&found), "{backend:?}");
            assert_eq!(
                blockers,
                ["sites (tenant_id) -> tenants: expected ON DELETE CASCADE, found ON DELETE RESTRICT"],
                "{backend:?}"
            );
        }
    }

    #[test]
    fn an_extra_nullable_column_is_kept_unless_sqlite_must_rebuild_its_table() {
        let notes = |s: &mut Schema, sql_type: &str| {
            let tenants = table(s, "tenants");
            let mut column = tenants.columns[2].clone();
            column.name = "notes".into();
            column.sql_type = sql_type.into();
            tenants.columns.push(column);
        };
        for (backend, sql_type) in [(Backend::Postgres, "text"), (Backend::Sqlite, "TEXT")] {
            let found = altered(backend, |s| notes(s, sql_type));
            let (adoption, blockers) = planned(backend, &found);
            let expected = Adoption {
                kept: vec![format!(
                    "tenants.notes ({sql_type}), a column not in the contract"
                )],
                ..nothing_on(&found)
            };
            assert_eq!(adoption, expected, "{backend:?}");
            assert_eq!(blockers, Vec::<String>::new(), "{backend:?}");
        }

        // A default to add makes SQLite rebuild tenants, which would lose the column.
        let found = altered(Backend::Sqlite, |s| {
            notes(s, "TEXT");
            table(s, "tenants").columns[3].default = None;
        });
        let (_, blockers) = planned(Backend::Sqlite, &found);
        assert_eq!(
            blockers,
            ["tenants.notes: a column not in the contract, on a table SQLite must rebuild to add \
              what it lacks; facedb does not carry such a column over"]
        );
    }

    #[test]
    fn an_extra_not_null_column_without_a_default_stops_adoption() {
        for backend in BOTH {
            let found = altered(backend, |s| {
                let cameras = table(s, "cameras");
                let mut mount = cameras.columns[3].clone();
                mount.name = "mount".into();
                cameras.columns.push(mount);
            });
            let (adoption, blockers) = planned(backend, &found);
            assert_eq!(adoption, nothing_on(&found), "{backend:?}");
            assert_eq!(blockers.len(), 1, "{backend:?}: {blockers:?}");
            assert!(
                blockers[0].starts_with("cameras.mount: column not in the contract")
                    && blockers[0].ends_with(
                        "(NOT NULL without a default: the API's inserts, which do not name it, would fail)"
                    ),
                "{backend:?}: {blockers:?}"
            );
        }
    }

    #[test]
    fn the_old_tools_variants_are_normalised() {
        let found = altered(Backend::Postgres, |s| {
            let users = table(s, "users");
            users.foreign_keys[1].name = Some("fk_users_site_id".into());
            let images = table(s, "staff_face_images");
            let mut twin = images.foreign_keys[0].clone();
            twin.name = Some("staff_face_images_tenant_id_fkey1".into());
            images.foreign_keys.push(twin);
        });
        let (adoption, blockers) = planned(Backend::Postgres, &found);
        let expected = Adoption {
            normalised: vec![
                "renamed foreign key fk_users_site_id of users (site_id) to users_site_id_fkey"
                    .into(),
                "dropped staff_face_images_tenant_id_fkey1, the second, identical foreign key \
                 staff_face_images (tenant_id) -> tenants"
                    .into(),
            ],
            ..nothing_on(&found)
        };
        assert_eq!(adoption, expected);
        assert_eq!(blockers, Vec::<String>::new());
    }

    #[test]
    fn another_foreign_key_name_stops_adoption() {
        let found = altered(Backend::Postgres, |s| {
            table(s, "users").foreign_keys[1].name = Some("users_site_fk".into());
        });
        let (adoption, blockers) = planned(Backend::Postgres, &found);
        assert_eq!(adoption, nothing_on(&found));
        assert_eq!(
            blockers,
            ["users: foreign key (site_id) is named users_site_fk, expected users_site_id_fkey"]
        );
    }

    #[test]
    fn checks_run_before_unique_constraints_and_foreign_keys() {
        // Found in the order users (foreign key, UNIQUE), cameras (CHECK).
        let found = altered(Backend::Sqlite, |s| {
            let users = table(s, "users");
            users.foreign_keys.retain(|f| f.columns != ["created_by"]);
            users.uniques.retain(|u| u.columns != ["email"]);
            let camera_type = table(s, "cameras")
                .columns
                .iter_mut()
                .find(|c| c.name == "camera_type");
            camera_type.unwrap().allowed_values = None;
        });
        let (adoption, blockers) = planned(Backend::Sqlite, &found);
        assert_eq!(
            adoption.added_constraints,
            [
                "CHECK (camera_type IN ('RTSP', 'WEBCAM')) on cameras",
                "UNIQUE (email) on users",
                "foreign key users (created_by) -> users (user_id) ON DELETE NO ACTION",
            ]
        );
        assert_eq!(adoption.rebuilt_tables, ["users", "cameras"]);
        assert_eq!(blockers, Vec::<String>::new());
    }
}
