//! The reset's plan is complete by construction and is what the reset does: a catalogue of the
//! ways people attach to and change facedb's objects, each classified by the dry run exactly as
//! the reset then treats it, and a schema dump that changes by exactly what the plan listed as
//! lost or reverted. Through the real binary.

use crate::support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;
use support::{Output, TestDb};

/// What the reset does with one kind of attachment or customisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Re-applied to the new tables: the dump shows it as before.
    Carried,
    /// facedb's own object goes back to the schema's definition: listed as reverted.
    Reverted,
    /// Dropped for good: listed as lost, and refused without the flag that accepts it.
    Lost,
    /// Another's object that depends on facedb's: the reset refuses (exit 5), loses nothing.
    Blocker,
}

/// One kind of thing people do to facedb's objects.
struct Kind {
    name: &'static str,
    /// Run with the search path on facedb's schema; `{s}` is the schema (quoted), `{api}` and
    /// `{owner}` are roles of the test.
    sql: &'static str,
    class: Class,
    /// Found in the items the plan lists for it (carried over, reverted or lost).
    listed: &'static str,
    /// Found in each statement of the schema dump that the reset changes (lost or reverted).
    dumped: &'static str,
}

const fn kind(
    name: &'static str,
    class: Class,
    listed: &'static str,
    dumped: &'static str,
    sql: &'static str,
) -> Kind {
    Kind {
        name,
        sql,
        class,
        listed,
        dumped,
    }
}

use Class::{Blocker, Carried, Lost, Reverted};

/// The catalogue. Each kind stands alone: any subset of it can be set up together.
const CATALOGUE: &[Kind] = &[
    kind("table privileges", Carried, "privileges on table visits", "", "GRANT SELECT, INSERT ON visits TO {api}"),
    kind("grant with grant option", Carried, "privileges on table tenants", "", "GRANT SELECT ON tenants TO {api} WITH GRANT OPTION"),
    kind("column privileges", Carried, "privileges on column sites.name", "", "GRANT UPDATE (name) ON sites TO {api}"),
    kind("sequence privileges", Carried, "privileges on sequence sites_site_id_seq", "", "GRANT USAGE ON SEQUENCE sites_site_id_seq TO {api}"),
    kind("type privileges", Carried, "privileges on type userrole", "", "GRANT USAGE ON TYPE userrole TO {api}"),
    kind("owner of a table", Carried, "owner of table cameras", "", "ALTER TABLE cameras OWNER TO {owner}"),
    kind("owner of a type", Carried, "owner of type cameratype", "", "ALTER TYPE cameratype OWNER TO {owner}"),
    kind("publication with a column list and a row filter", Carried, "publication cat_pub: table visits", "",
        "CREATE PUBLICATION cat_pub FOR TABLE visits (tenant_id, visit_id, site_id) WHERE (site_id > 0)"),
    kind("publication of a whole table", Carried, "publication cat_pub_whole: table staff", "", "CREATE PUBLICATION cat_pub_whole FOR TABLE staff"),
    kind("row level security", Carried, "row level security on table workers", "",
        "ALTER TABLE workers ENABLE ROW LEVEL SECURITY; ALTER TABLE workers FORCE ROW LEVEL SECURITY"),
    kind("policy", Carried, "policy cat_policy on table visits", "",
        "CREATE POLICY cat_policy ON visits AS RESTRICTIVE FOR SELECT TO {api} USING (tenant_id IS NOT NULL)"),
    kind("comment on a table", Carried, "comment on table visits", "", "COMMENT ON TABLE visits IS 'cat: table'"),
    kind("comment on a column", Carried, "comment on column visits.site_id", "", "COMMENT ON COLUMN visits.site_id IS 'cat: column'"),
    kind("comment on an index", Carried, "comment on index idx_visits_site", "", "COMMENT ON INDEX idx_visits_site IS 'cat: index'"),
    kind("comment on a constraint", Carried, "comment on constraint visits_pkey", "", "COMMENT ON CONSTRAINT visits_pkey ON visits IS 'cat: constraint'"),
    kind("comment on a type", Carried, "comment on type userrole", "", "COMMENT ON TYPE userrole IS 'cat: type'"),
    kind("comment on a sequence", Carried, "comment on sequence staff_staff_id_seq", "", "COMMENT ON SEQUENCE staff_staff_id_seq IS 'cat: sequence'"),
    kind("statistics object with a comment", Carried, "statistics object cat_stats", "",
        "CREATE STATISTICS cat_stats ON tenant_id, site_id FROM visits; COMMENT ON STATISTICS cat_stats IS 'cat: statistics'"),
    kind("disabled trigger with a comment", Carried, "trigger cat_trigger on table visits", "",
        "CREATE FUNCTION cat_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER cat_trigger BEFORE UPDATE ON visits FOR EACH ROW EXECUTE FUNCTION cat_touch();
         ALTER TABLE visits DISABLE TRIGGER cat_trigger;
         COMMENT ON TRIGGER cat_trigger ON visits IS 'cat: trigger'"),
    kind("replica trigger", Carried, "trigger cat_replica_trigger on table sites", "",
        "CREATE FUNCTION cat_replica() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER cat_replica_trigger BEFORE INSERT ON sites FOR EACH ROW EXECUTE FUNCTION cat_replica();
         ALTER TABLE sites ENABLE REPLICA TRIGGER cat_replica_trigger"),
    kind("comment on a policy", Carried, "comment on policy cat_commented_policy", "",
        "CREATE POLICY cat_commented_policy ON staff USING (true); COMMENT ON POLICY cat_commented_policy ON staff IS 'cat: policy'"),
    kind("check constraint", Carried, "constraint cat_check on table sites", "", "ALTER TABLE sites ADD CONSTRAINT cat_check CHECK (length(name) < 500)"),
    kind("foreign key to another table, not valid", Carried, "constraint cat_fk on table cameras", "",
        "CREATE TABLE cat_other (id bigint PRIMARY KEY);
         ALTER TABLE cameras ADD CONSTRAINT cat_fk FOREIGN KEY (device_index) REFERENCES cat_other (id) NOT VALID"),
    kind("partial index", Carried, "index cat_index on table visits", "", "CREATE INDEX cat_index ON visits (site_id, tenant_id) WHERE site_id > 0"),
    kind("expression index", Carried, "index cat_expr_index on table staff", "", "CREATE INDEX cat_expr_index ON staff (lower(name))"),
    kind("replica identity", Carried, "replica identity of table visits", "", "ALTER TABLE visits REPLICA IDENTITY FULL"),
    kind("storage parameters", Carried, "storage parameters of table customers", "",
        "ALTER TABLE customers SET (fillfactor = 80, autovacuum_enabled = false)"),
    kind("statistics target", Carried, "statistics target of column tenants.name", "", "ALTER TABLE tenants ALTER COLUMN name SET STATISTICS 500"),
    kind("column option n_distinct", Carried, "options of column users.email", "", "ALTER TABLE users ALTER COLUMN email SET (n_distinct = 42)"),
    kind("column storage", Carried, "storage of column users.first_name", "", "ALTER TABLE users ALTER COLUMN first_name SET STORAGE EXTERNAL"),
    kind("cluster on an index", Carried, "cluster of table workers", "", "ALTER TABLE workers CLUSTER ON idx_workers_hostname"),
    kind("sequence parameters of a serial", Carried, "parameters of sequence cameras_camera_id_seq", "",
        "ALTER SEQUENCE cameras_camera_id_seq INCREMENT BY 5 CACHE 10"),
    kind("unlogged table", Reverted, "table __facedb_metadata: relpersistence", ".__facedb_metadata (", "ALTER TABLE __facedb_metadata SET UNLOGGED"),
    kind("added enum label", Reverted, "type cameratype: definition", ".cameratype AS ENUM", "ALTER TYPE cameratype ADD VALUE 'cat_label'"),
    kind("changed default", Reverted, "column location of table sites: default", ".sites (",
        "ALTER TABLE sites ALTER COLUMN location SET DEFAULT 'cat: default'"),
    kind("dropped NOT NULL", Reverted, "column name of table api_keys: attnotnull", ".api_keys (",
        "ALTER TABLE api_keys ALTER COLUMN name DROP NOT NULL"),
    kind("rule", Lost, "rule cat_rule on table staff_face_images", "cat_rule",
        "CREATE RULE cat_rule AS ON DELETE TO staff_face_images DO INSTEAD NOTHING"),
    kind("facedb's table inherits from another", Lost, "table customer_face_images: depends on table cat_parent", ".customer_face_images (",
        "CREATE TABLE cat_parent (tenant_id varchar(64)); ALTER TABLE customer_face_images INHERIT cat_parent"),
    kind("sequence owned by facedb's column", Lost, "sequence cat_seq", "cat_seq", "CREATE SEQUENCE cat_seq OWNED BY camera_sessions.worker_id"),
    kind("column facedb's schema does not have", Lost, "column cat_column of table customers", ".customers (",
        "ALTER TABLE customers ADD COLUMN cat_column text"),
    kind("view on facedb's table", Blocker, "view cat_view", "", "CREATE VIEW cat_view AS SELECT tenant_id FROM tenants"),
    kind("another table's foreign key", Blocker, "constraint cat_ref_fkey on table cat_ref", "",
        "CREATE TABLE cat_ref (tenant_id varchar(64) CONSTRAINT cat_ref_fkey REFERENCES tenants)"),
    kind("another table inherits from facedb's", Blocker, "table cat_child", "", "CREATE TABLE cat_child () INHERITS (users)"),
];

/// Needs a label provider loaded into the server (none is by default): tried, skipped if absent.
const SECURITY_LABEL: Kind = kind(
    "security label",
    Lost,
    "security label",
    "SECURITY LABEL",
    "SECURITY LABEL ON TABLE visits IS 'cat: label'",
);

/// Default privileges of facedb's schema apply to the tables a reset creates: their privileges
/// differ from before, and the plan lists each table's.
const DEFAULT_PRIVILEGES: Kind = kind(
    "default privileges",
    Reverted,
    "relacl null becomes",
    "TO {api}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {api}",
);

/// Roles of the test server used by one test; dropped (after the test's database) on drop.
struct Roles {
    api: String,
    owner: String,
    server_url: String,
}

impl Roles {
    fn create(db: &TestDb) -> Roles {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let roles = Roles {
            api: format!("cat_api_{pid}_{n}"),
            owner: format!("cat_owner_{pid}_{n}"),
            server_url: support::with_dbname(db.url(), "postgres"),
        };
        let mut server = PgConnection::establish(&roles.server_url).unwrap();
        let create = format!("CREATE ROLE {}; CREATE ROLE {}", roles.api, roles.owner);
        server.batch_execute(&create).unwrap();
        roles
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.server_url).and_then(|mut conn| {
            conn.batch_execute(&format!(
                "DROP ROLE IF EXISTS {}; DROP ROLE IF EXISTS {}",
                self.api, self.owner
            ))
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!(
                "warning: could not drop roles {}, {}: {e}",
                self.api, self.owner
            );
        }
    }
}

/// A database set up by facedb in `schema`, with `kinds` applied; `None` for a kind the server
/// cannot do (the security label without a provider).
struct Catalogued {
    db: TestDb,
    schema: String,
    kinds: Vec<&'static Kind>,
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn set_up(db: TestDb, roles: &Roles, schema: &str, kinds: &[&'static Kind]) -> Catalogued {
    db.run(&["init", "--schema", schema]).success();
    let mut applied = Vec::new();
    let mut conn = PgConnection::establish(db.url()).unwrap();
    for kind in kinds {
        let sql = kind
            .sql
            .replace("{s}", &quote_ident(schema))
            .replace("{api}", &roles.api)
            .replace("{owner}", &roles.owner);
        let sql = format!("SET search_path = {}; {sql}", quote_ident(schema));
        match conn.batch_execute(&sql) {
            Ok(()) => applied.push(*kind),
            Err(e) if kind.name == SECURITY_LABEL.name => {
                eprintln!(
                    "note: skipped {}: the server has no label provider ({e})",
                    kind.name
                );
            }
            Err(e) => panic!("setting up {}: {e}\n{sql}", kind.name),
        }
    }
    Catalogued {
        db,
        schema: schema.to_owned(),
        kinds: applied,
    }
}

impl Catalogued {
    fn run(&self, args: &[&str]) -> Output {
        let mut args = args.to_vec();
        args.extend(["--schema", &self.schema]);
        self.db.run(&args)
    }

    fn dump(&self) -> Vec<String> {
        self.db.schema_statements(&self.schema)
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.stdout))
}

fn list(doc: &Value, key: &str) -> Vec<String> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {doc}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The error line of a refused command, without the dry run's note.
fn error_line(out: &Output) -> String {
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {}", out.stderr));
    line.trim_end_matches(" (dry run)").to_owned()
}

/// Statements in one dump and not the other, both ways.
fn changed(before: &[String], after: &[String]) -> Vec<String> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for s in before {
        *counts.entry(s).or_default() += 1;
    }
    for s in after {
        *counts.entry(s).or_default() -= 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(s, _)| s.to_owned())
        .collect()
}

/// The dry run, then the reset without and with the flag that accepts losses: the classification
/// and the exit code agree, each kind is classified as the catalogue says, and the schema dump
/// changes by exactly the statements of what the plan listed as lost or reverted.
fn check(catalogued: &Catalogued, roles: &Roles) {
    let kinds = &catalogued.kinds;
    let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
    let blocked = kinds.iter().any(|k| k.class == Blocker);
    let loses = kinds.iter().any(|k| k.class == Lost);
    let before = catalogued.dump();

    let dry = catalogued.run(&["fresh", "--dry-run", "--json"]);
    let accepted = catalogued.run(&["fresh", "--dry-run", "--json", "--drop-unknown-columns"]);
    let forced = catalogued.run(&["fresh", "--force", "--json"]);
    let code = |out: &Output| out.code;
    assert_eq!(code(&dry), code(&forced), "{names:?}: {}", forced.stderr);
    if blocked || loses {
        assert_eq!(code(&forced), Some(5), "{names:?}: {}", forced.stderr);
        assert_eq!(error_line(&dry), error_line(&forced), "{names:?}");
        assert_eq!(
            catalogued.dump(),
            before,
            "{names:?}: a refused reset changes nothing"
        );
    } else {
        assert_eq!(code(&forced), Some(0), "{names:?}: {}", forced.stderr);
    }
    let plan = json(&accepted);
    if blocked {
        // Refused before anything is rehearsed: the blockers are listed.
        let blockers: Vec<String> = plan["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["object"].as_str().unwrap().to_owned())
            .collect();
        for kind in kinds.iter().filter(|k| k.class == Blocker) {
            assert!(
                blockers.iter().any(|b| b.contains(kind.listed)),
                "{}: {blockers:?}",
                kind.name
            );
        }
        let done = catalogued
            .run(&["fresh", "--force", "--drop-unknown-columns"])
            .code(5);
        assert_eq!(error_line(&done), error_line(&accepted));
        assert_eq!(
            catalogued.dump(),
            before,
            "{names:?}: a refused reset changes nothing"
        );
        return;
    }
    assert_eq!(code(&accepted), Some(0), "{names:?}: {}", accepted.stderr);
    for key in ["would_carry_over", "would_revert", "would_lose"] {
        assert_eq!(
            json(&dry)[key],
            plan[key],
            "{key}: the flag changes only the exit code"
        );
    }
    let done = if loses {
        catalogued.run(&["fresh", "--force", "--drop-unknown-columns", "--json"])
    } else {
        forced
    };
    let done = json(&done.success());
    let after = catalogued.dump();
    assert_eq!(
        list(&done, "carried_over"),
        list(&plan, "would_carry_over"),
        "{names:?}"
    );
    assert_eq!(
        list(&done, "reverted"),
        list(&plan, "would_revert"),
        "{names:?}"
    );
    assert_eq!(list(&done, "lost"), list(&plan, "would_lose"), "{names:?}");
    let carried = list(&plan, "would_carry_over");
    let reverted = list(&plan, "would_revert");
    let lost = list(&plan, "would_lose");
    for kind in kinds.iter() {
        let found = |items: &[String]| items.iter().any(|i| i.contains(kind.listed));
        let (expected, others) = match kind.class {
            Carried => (&carried, [&reverted, &lost]),
            Reverted => (&reverted, [&carried, &lost]),
            Lost => (&lost, [&carried, &reverted]),
            Blocker => unreachable!(),
        };
        assert!(
            found(expected),
            "{}: {:?} in {expected:?}",
            kind.name,
            kind.class
        );
        assert!(
            !others.iter().any(|o| found(o)),
            "{}: listed twice",
            kind.name
        );
    }
    // What changed in the dump is exactly what was listed as lost or reverted.
    let markers: Vec<String> = kinds
        .iter()
        .filter(|k| matches!(k.class, Reverted | Lost))
        .map(|k| k.dumped.replace("{api}", &roles.api))
        .collect();
    let changed = changed(&before, &after);
    for statement in &changed {
        assert!(
            markers.iter().any(|m| statement.contains(m.as_str())),
            "{names:?}: the dump changed by a statement the plan did not list:\n{statement}"
        );
    }
    for (kind, marker) in kinds
        .iter()
        .filter(|k| matches!(k.class, Reverted | Lost))
        .zip(&markers)
    {
        assert!(
            changed.iter().any(|s| s.contains(marker.as_str())),
            "{}: listed, but the dump did not change:\n{changed:#?}",
            kind.name
        );
    }
    if !loses && !kinds.iter().any(|k| k.class == Reverted) {
        assert_eq!(changed, Vec::<String>::new(), "{names:?}");
    }
}

/// Every kind of the catalogue that does not block the reset, in one database.
fn catalogue_in(schema: &str) {
    let db = TestDb::postgres();
    let roles = Roles::create(&db);
    let kinds: Vec<&'static Kind> = CATALOGUE
        .iter()
        .filter(|k| k.class != Blocker)
        .chain([&SECURITY_LABEL, &DEFAULT_PRIVILEGES])
        .collect();
    let catalogued = set_up(db, &roles, schema, &kinds);
    println!("{} kinds in schema {schema}", catalogued.kinds.len());
    assert!(catalogued.kinds.len() >= 30);
    check(&catalogued, &roles);
}

fn the_whole_catalogue_is_classified_as_the_reset_then_does() {
    catalogue_in("public");
}

fn the_whole_catalogue_in_a_schema_whose_name_needs_quoting() {
    catalogue_in("Rt3Faces");
}

/// Random subsets of the catalogue (blockers included), from a fixed seed: the dry run and the
/// reset never disagree on the exit code or the items listed.
fn random_subsets_of_the_catalogue_agree() {
    let seed: u64 = 0x15_2026;
    println!("seed {seed:#x}");
    let mut state = seed;
    let mut next = move || {
        // xorshift64: deterministic, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..3 {
        let kinds: Vec<&'static Kind> = CATALOGUE.iter().filter(|_| next() % 4 == 0).collect();
        let names: Vec<&str> = kinds.iter().map(|k| k.name).collect();
        println!("round {round}: {names:?}");
        let db = TestDb::postgres();
        let roles = Roles::create(&db);
        let catalogued = set_up(db, &roles, "public", &kinds);
        check(&catalogued, &roles);
    }
}

/// In a database recorded as production, the dry run predicts the default-password refusal
/// (exit 4) of the reset that follows, and neither changes anything.
fn the_dry_run_predicts_the_production_password_refusal() {
    let db = TestDb::postgres();
    db.facedb()
        .env("ENV", "production")
        .env("FACEDB_ADMIN_PASSWORD", "a-long-production-secret")
        .arg("init")
        .assert()
        .success();
    let dry = Output::from(
        db.facedb()
            .args(["fresh", "--dry-run", "--allow-production", "--json"])
            .output()
            .unwrap(),
    )
    .code(4);
    assert_eq!(json(&dry)["refused"]["exit_code"], 4);
    let forced = db.run(&["fresh", "--force", "--allow-production"]).code(4);
    assert_eq!(error_line(&dry), error_line(&forced));
    assert!(
        error_line(&forced).contains("default password"),
        "{}",
        forced.stderr
    );
    assert_eq!(
        db.count("users"),
        1,
        "the admin seeded at init is still there"
    );
    // Without --allow-production both stop at the guard, also with exit 4.
    let dry = db.run(&["fresh", "--dry-run"]).code(4);
    let forced = db.run(&["fresh", "--force"]).code(4);
    assert_eq!(error_line(&dry), error_line(&forced));
}

tests![
    needs::SERVER => [
        the_whole_catalogue_is_classified_as_the_reset_then_does,
        the_whole_catalogue_in_a_schema_whose_name_needs_quoting,
        random_subsets_of_the_catalogue_agree,
        the_dry_run_predicts_the_production_password_refusal,
    ],
];
