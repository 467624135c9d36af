//! A reset carries over what people attach to facedb's tables (privileges, owners, publications,
//! row level security, comments, their own indexes, triggers, constraints and statistics), or
//! refuses to drop what it cannot carry over: through the real binary.

use crate::support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use serde_json::{json, Value};
use support::data::{add_data, counts};
use support::{Backend, Conn, Output, TestDb};

fn parse(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// A PostgreSQL role of the test server, unique to this test. Roles belong to the whole server:
/// dropping it first drops what it owns and was granted in the test database (the test is over).
struct Role {
    name: String,
    database_url: String,
}

impl Role {
    fn create(db: &TestDb, purpose: &str) -> Role {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "facedb_test_{purpose}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        db.exec(&format!("CREATE ROLE {name} LOGIN"));
        Role {
            name,
            database_url: db.url().to_owned(),
        }
    }

    /// The test database's URL, connecting as this role.
    fn url(&self) -> String {
        let mut url = url::Url::parse(&self.database_url).unwrap();
        url.set_username(&self.name).unwrap();
        url.to_string()
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.database_url).and_then(|mut conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!(
                "DROP OWNED BY {0} CASCADE; DROP ROLE {0}",
                self.name
            ))
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!("warning: could not drop role {}: {e}", self.name);
        }
    }
}

/// One string per row of `sql` (one text column named `v`), sorted.
fn rows(db: &TestDb, sql: &str) -> BTreeSet<String> {
    db.connect().strings(sql).into_iter().collect()
}

/// `fresh --dry-run --json`, then `fresh --force --json`: the reset must succeed and carry over
/// exactly what the dry run said. Returns the reset's JSON document.
fn fresh_as_announced(db: &TestDb) -> Value {
    let dry = parse(&db.run(&["fresh", "--dry-run", "--json"]).success());
    assert_eq!(dry["would_lose"], json!([]), "{dry}");
    let done = parse(&db.run(&["fresh", "--force", "--json"]).success());
    assert_eq!(
        done["carried_over"], dry["would_carry_over"],
        "the reset carried over what the dry run announced"
    );
    assert_eq!(done["lost"], json!([]));
    done
}

fn the_api_role_keeps_its_privileges_and_can_still_insert() {
    let db = TestDb::postgres();
    db.init();
    let api = Role::create(&db, "api");
    db.exec(&format!(
        "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {0};
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {0};
         GRANT SELECT (tenant_id, name) ON tenants TO PUBLIC;
         REVOKE USAGE ON TYPE cameratype FROM PUBLIC;
         GRANT USAGE ON TYPE cameratype TO {0} WITH GRANT OPTION;",
        api.name
    ));
    let acls = "SELECT c.relname || ' ' || c.relacl::text AS v FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace AND c.relacl IS NOT NULL
                UNION ALL SELECT 'column ' || a.attname || ' ' || a.attacl::text FROM pg_attribute a
                WHERE a.attrelid = 'tenants'::regclass AND a.attacl IS NOT NULL
                UNION ALL SELECT t.typname || ' ' || t.typacl::text FROM pg_type t
                WHERE t.typnamespace = 'public'::regnamespace AND t.typacl IS NOT NULL";
    let before = rows(&db, acls);
    assert!(before.len() > 12, "{before:?}");

    let done = fresh_as_announced(&db);
    let carried = strings(&done["carried_over"]);
    assert!(
        carried.contains(&format!(
            "privileges on sequence sites_site_id_seq ({})",
            api.name
        )),
        "{carried:?}"
    );
    assert_eq!(rows(&db, acls), before, "every ACL is as it was");

    // The API, connecting as its role, can still write, serial sequences included.
    let mut conn = PgConnection::establish(&api.url()).expect("connect as the API's role");
    diesel::sql_query("INSERT INTO tenants (tenant_id, name) VALUES ('t-api', 'API')")
        .execute(&mut conn)
        .expect("the API can insert a tenant");
    diesel::sql_query("INSERT INTO sites (tenant_id, name) VALUES ('t-api', 'Site')")
        .execute(&mut conn)
        .expect("the API can insert a site (USAGE on sites_site_id_seq)");
    let refused = diesel::sql_query("DELETE FROM sites").execute(&mut conn);
    assert!(refused.is_err(), "DELETE was never granted");
    drop(conn);
    assert_eq!(db.count("sites"), 1);
}

fn owners_of_tables_sequences_and_types_survive() {
    let db = TestDb::postgres();
    db.init();
    let owner = Role::create(&db, "owner");
    db.exec(&format!(
        "ALTER TABLE sites OWNER TO {0}; ALTER TABLE visits OWNER TO {0}; ALTER TYPE cameratype OWNER TO {0};",
        owner.name
    ));
    let owners = "SELECT c.relname || ' ' || pg_get_userbyid(c.relowner) AS v FROM pg_class c
                  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S')
                  UNION ALL SELECT t.typname || ' ' || pg_get_userbyid(t.typowner) FROM pg_type t
                  WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'e'";
    let before = rows(&db, owners);
    assert!(
        before.contains(&format!("sites_site_id_seq {}", owner.name)),
        "{before:?}"
    );
    fresh_as_announced(&db);
    assert_eq!(rows(&db, owners), before);
}

fn a_publication_still_carries_visits_with_its_columns_and_row_filter() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "CREATE PUBLICATION visits_out FOR TABLE visits (tenant_id, visit_id, confidence_score)
             WHERE (confidence_score > 0.5), tenants;",
    );
    let published = "SELECT pubname || ' ' || tablename || ' ' || attnames::text || ' '
                         || coalesce(rowfilter, '-') AS v FROM pg_publication_tables";
    let before = rows(&db, published);
    assert_eq!(before.len(), 2, "{before:?}");
    fresh_as_announced(&db);
    assert_eq!(rows(&db, published), before);
}

fn replica_identity_storage_parameters_and_statistics_targets_survive() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "ALTER TABLE visits REPLICA IDENTITY FULL;
         CREATE UNIQUE INDEX tenants_id_name ON tenants (tenant_id, name);
         ALTER TABLE tenants REPLICA IDENTITY USING INDEX tenants_id_name;
         ALTER TABLE visits SET (autovacuum_vacuum_scale_factor = 0.01, fillfactor = 90);
         ALTER TABLE visits ALTER COLUMN person_id SET STATISTICS 1000;",
    );
    let settings = "SELECT c.relname || ' ' || c.relreplident::text || ' ' || coalesce(c.reloptions::text, '-')
                        || coalesce(' ' || i.indexrelid::regclass::text, '') AS v
                    FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisreplident
                    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
                    UNION ALL SELECT attrelid::regclass::text || '.' || attname || ' ' || attstattarget
                    FROM pg_attribute WHERE attrelid = 'visits'::regclass AND attnum > 0";
    let before = rows(&db, settings);
    assert!(before.contains("tenants i - tenants_id_name"), "{before:?}");
    fresh_as_announced(&db);
    assert_eq!(rows(&db, settings), before);
}

fn row_level_security_and_policies_survive() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "ALTER TABLE visits ENABLE ROW LEVEL SECURITY;
         ALTER TABLE visits FORCE ROW LEVEL SECURITY;
         ALTER TABLE cameras ENABLE ROW LEVEL SECURITY;
         CREATE POLICY tenant_rows ON visits FOR SELECT TO PUBLIC
             USING (tenant_id = current_setting('app.tenant_id', true));
         CREATE POLICY no_low_confidence ON visits AS RESTRICTIVE FOR INSERT TO postgres
             WITH CHECK (confidence_score >= 0.1);
         CREATE POLICY own_cameras ON cameras USING (tenant_id = current_user) WITH CHECK (is_active);",
    );
    let security = "SELECT relname || ' ' || relrowsecurity || ' ' || relforcerowsecurity AS v
                    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
                    UNION ALL SELECT concat_ws(' ', tablename, policyname, permissive, roles::text, cmd,
                        qual, with_check) FROM pg_policies WHERE schemaname = 'public'";
    let before = rows(&db, security);
    assert!(before.contains("visits true true"), "{before:?}");
    fresh_as_announced(&db);
    assert_eq!(rows(&db, security), before);
}

fn comments_survive() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "COMMENT ON TABLE visits IS 'One row per person a camera saw';
         COMMENT ON COLUMN visits.confidence_score IS 'Between 0 and 1';
         COMMENT ON TYPE userrole IS 'What a user may do';
         COMMENT ON INDEX idx_visits_site IS 'For the site report';
         COMMENT ON CONSTRAINT tenants_pkey ON tenants IS 'Tenants are named by the API';
         COMMENT ON SEQUENCE sites_site_id_seq IS 'Site numbers';",
    );
    let comments =
        "SELECT classoid::regclass::text || ' ' || pg_describe_object(classoid, objoid, objsubid)
                        || ': ' || description AS v FROM pg_description
                    WHERE objoid >= 16384
                      AND pg_describe_object(classoid, objoid, objsubid) NOT LIKE '%facedb_backup_%'";
    let before = rows(&db, comments);
    assert_eq!(before.len(), 6, "{before:?}");
    fresh_as_announced(&db);
    assert_eq!(rows(&db, comments), before);
}

fn user_indexes_triggers_constraints_and_statistics_survive_and_work() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "CREATE INDEX visits_double_confidence ON visits ((confidence_score * 2)) WHERE confidence_score > 0;
         CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$;
         CREATE TRIGGER tenants_shout BEFORE INSERT ON tenants FOR EACH ROW EXECUTE FUNCTION shout();
         CREATE TRIGGER sites_shout BEFORE INSERT ON sites FOR EACH ROW EXECUTE FUNCTION shout();
         ALTER TABLE sites DISABLE TRIGGER sites_shout;
         ALTER TABLE customers ADD CONSTRAINT customers_visit_count_check CHECK (visit_count >= 0);
         CREATE STATISTICS visits_person_site (dependencies, ndistinct) ON person_id, site_id FROM visits;",
    );
    let objects = "SELECT indexdef AS v FROM pg_indexes WHERE schemaname = 'public'
                   UNION ALL SELECT pg_get_triggerdef(oid) || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
                       AND tgrelid::regclass::text NOT LIKE '%facedb_backup_%'
                   UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE connamespace = 'public'::regnamespace
                   UNION ALL SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext
                       WHERE stxnamespace = 'public'::regnamespace";
    let before = rows(&db, objects);
    fresh_as_announced(&db);
    assert_eq!(rows(&db, objects), before);

    // They work: the trigger fires (the disabled one does not), the constraint checks.
    db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'quiet'); INSERT INTO sites (tenant_id, name) VALUES ('t-1', 'calm');");
    let mut conn = db.connect();
    assert_eq!(conn.strings("SELECT name AS v FROM tenants"), ["QUIET"]);
    assert_eq!(conn.strings("SELECT name AS v FROM sites"), ["calm"]);
    let Conn::Postgres(pg) = &mut conn else {
        unreachable!()
    };
    let refused =
        diesel::sql_query("INSERT INTO customers (tenant_id, visit_count) VALUES ('t-1', -1)")
            .execute(pg);
    assert!(
        refused.is_err_and(|e| e.to_string().contains("customers_visit_count_check")),
        "the carried-over check constraint applies"
    );
}

/// A foreign key people added that references a key they also added: the key is made again
/// first, whatever the names (this foreign key's name sorts before its key's).
fn a_foreign_key_to_a_user_added_key_is_made_again_after_that_key() {
    let db = TestDb::postgres();
    db.init();
    db.exec(
        "ALTER TABLE sites ADD CONSTRAINT zz_sites_tenant_name_key UNIQUE (tenant_id, name);
         ALTER TABLE customers ADD CONSTRAINT aa_customers_site_fk
             FOREIGN KEY (tenant_id, name) REFERENCES sites (tenant_id, name);",
    );
    let before = db.schema_statements("public");
    let done = fresh_as_announced(&db);
    let carried = strings(&done["carried_over"]);
    let key = carried
        .iter()
        .position(|c| c.starts_with("constraint zz_sites_tenant_name_key"));
    let foreign = carried
        .iter()
        .position(|c| c.starts_with("constraint aa_customers_site_fk"));
    assert!(
        matches!((key, foreign), (Some(k), Some(f)) if k < f),
        "the key before the foreign key that needs it: {carried:?}"
    );
    assert_eq!(
        db.schema_statements("public"),
        before,
        "the schema is as it was"
    );
}

/// Objects and rows a refused reset must leave exactly as they were.
fn snapshot(db: &TestDb) -> (Vec<(String, i64)>, BTreeSet<String>) {
    let objects = match db.backend {
        Backend::Postgres => {
            "SELECT 'column ' || table_name || '.' || column_name AS v FROM information_schema.columns
                 WHERE table_schema = 'public'
             UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
             UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
             UNION ALL SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
                 AND tgrelid::regclass::text NOT LIKE '%facedb_backup_%'"
        }
        Backend::Sqlite => "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS v FROM sqlite_master",
    };
    (counts(db), rows(db, objects))
}

fn a_user_added_column_is_listed_refused_and_dropped_only_when_accepted() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let added = match db.backend {
            Backend::Postgres => {
                "ALTER TABLE visits ADD COLUMN note TEXT, ADD COLUMN ticket BIGSERIAL;
                 CREATE INDEX visits_note ON visits (note);
                 ALTER TABLE visits ADD CONSTRAINT visits_ticket_key UNIQUE (ticket);
                 COMMENT ON INDEX visits_ticket_key IS 'goes with its constraint';
                 CREATE STATISTICS visits_note_stats ON note, person_id FROM visits;
                 CREATE TRIGGER visits_note_touch BEFORE UPDATE OF note ON visits
                     FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
                 CREATE POLICY visits_with_note ON visits USING (note IS NOT NULL);
                 CREATE PUBLICATION visits_notes FOR TABLE visits (tenant_id, visit_id, note);
                 CREATE INDEX visits_person_extra ON visits (person_id, confidence_score);
                 UPDATE visits SET note = 'keep me';"
            }
            Backend::Sqlite => {
                "ALTER TABLE visits ADD COLUMN note TEXT;
                 CREATE INDEX visits_note ON visits (note);
                 CREATE INDEX visits_person_extra ON visits (person_id, confidence_score);
                 UPDATE visits SET note = 'keep me';"
            }
        };
        db.exec(added);
        let lost = match db.backend {
            Backend::Postgres => json!([
                "column note of table visits",
                "column ticket of table visits",
                "constraint visits_ticket_key on table visits",
                "index visits_note",
                "index visits_ticket_key",
                "policy visits_with_note on table visits",
                "publication of table visits in publication visits_notes",
                "sequence visits_ticket_seq",
                "statistics object visits_note_stats",
                "trigger visits_note_touch on table visits",
            ]),
            Backend::Sqlite => json!(["column visits.note", "index visits_note"]),
        };
        let note = match db.backend {
            Backend::Postgres => "column note of table visits",
            Backend::Sqlite => "column visits.note",
        };
        let before = snapshot(&db);

        let dry = db.run(&["fresh", "--dry-run", "--json"]).code(5);
        let doc = parse(&dry);
        assert_eq!(doc["would_lose"], lost, "{:?}", db.backend);
        assert_eq!(
            doc["would_carry_over"],
            json!(["index visits_person_extra on table visits"])
        );
        assert!(dry.stderr.contains(note), "{}", dry.stderr);

        for args in [&["fresh", "--force"][..], &["reset", "--force"]] {
            let out = db.run(args).code(5);
            let errors: Vec<&str> = out
                .stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .collect();
            assert_eq!(errors.len(), 1, "{}", out.stderr);
            assert!(
                errors[0].contains(note) && errors[0].contains("--drop-unknown-columns"),
                "{}",
                errors[0]
            );
            assert_eq!(snapshot(&db), before, "{:?}: nothing changed", db.backend);
        }
        assert_eq!(
            db.connect()
                .strings("SELECT note AS v FROM visits WHERE note IS NOT NULL"),
            ["keep me"]
        );

        // The dry run with the flag agrees with the reset that follows.
        let dry = parse(
            &db.run(&["fresh", "--dry-run", "--drop-unknown-columns", "--json"])
                .success(),
        );
        let done = parse(
            &db.run(&["fresh", "--force", "--drop-unknown-columns", "--json"])
                .success(),
        );
        assert_eq!(done["lost"], lost);
        assert_eq!(done["carried_over"], dry["would_carry_over"]);
        let (rows, objects) = snapshot(&db);
        assert_eq!(
            rows.iter().map(|(_, n)| n).sum::<i64>(),
            1,
            "only the admin"
        );
        assert!(
            !objects
                .iter()
                .any(|o| o.contains("note") || o.contains("ticket")),
            "{objects:?}"
        );
        assert!(
            objects.iter().any(|o| o.contains("visits_person_extra")),
            "{objects:?}"
        );
    }
}

fn sqlite_user_indexes_and_triggers_are_created_again() {
    let db = TestDb::sqlite();
    db.init();
    db.exec(
        "CREATE INDEX visits_double_confidence ON visits (confidence_score * 2);
         CREATE TRIGGER tenants_shout AFTER INSERT ON tenants BEGIN
             UPDATE tenants SET name = upper(NEW.name) WHERE tenant_id = NEW.tenant_id;
         END;",
    );
    let objects = "SELECT type || ' ' || name || ' ' || sql AS v FROM sqlite_master
                   WHERE name IN ('visits_double_confidence', 'tenants_shout')";
    let before = rows(&db, objects);
    assert_eq!(before.len(), 2);
    let done = fresh_as_announced(&db);
    assert_eq!(
        done["carried_over"],
        json!([
            "index visits_double_confidence on table visits",
            "trigger tenants_shout on table tenants"
        ])
    );
    assert_eq!(rows(&db, objects), before);
    db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'quiet')");
    assert_eq!(
        db.connect().strings("SELECT name AS v FROM tenants"),
        ["QUIET"]
    );
}

/// A definition that no longer applies to the new tables stops the reset: everything rolls back.
fn a_constraint_the_new_seed_breaks_rolls_the_whole_reset_back() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    // The operator renamed the seeded admin and forbids the default name.
    db.exec(
        "UPDATE users SET username = 'root' WHERE username = 'admin';
         ALTER TABLE users ADD CONSTRAINT users_no_default_admin CHECK (username <> 'admin');
         COMMENT ON TABLE visits IS 'kept';",
    );
    let before = snapshot(&db);
    // The dry run rehearses the reset: it predicts the refusal, word for word.
    let dry = db.run(&["fresh", "--dry-run"]).code(5);
    let out = db.run(&["fresh", "--force"]).code(5);
    assert!(
        out.stderr
            .contains("cannot carry over constraint users_no_default_admin on table users"),
        "{}",
        out.stderr
    );
    let error = |stderr: &str| {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        line.trim_end_matches(" (dry run)").to_owned()
    };
    assert_eq!(error(&dry.stderr), error(&out.stderr));
    assert_eq!(snapshot(&db), before);
    assert_eq!(
        db.connect()
            .strings("SELECT username AS v FROM users ORDER BY username"),
        ["alice", "root"]
    );
}

/// `facedb reset` in a pseudo-terminal: waits for the list of what is carried over and lost and
/// for the prompt, runs `meanwhile`, types `answer`, and returns the exit code and what followed.
fn reset_at_the_prompt(db: &TestDb, answer: &str, meanwhile: impl FnOnce()) -> (i32, String) {
    use rexpect::process::WaitStatus;
    use rexpect::session::spawn_command;

    let mut cmd = db.std_facedb();
    cmd.arg("reset");
    let mut session = spawn_command(cmd, Some(30_000)).expect("spawn facedb in a pty");
    session
        .exp_string("Carried over to the new tables:")
        .unwrap();
    session
        .exp_string("index visits_person_extra on table visits")
        .unwrap();
    session
        .exp_string("Lost for good (facedb cannot carry it over):")
        .unwrap();
    session.exp_string("column visits.note").unwrap();
    session
        .exp_string("Type the database name (facedb.db)")
        .unwrap();
    meanwhile();
    // The prompt switches the terminal to raw mode after printing: keys typed before are lost.
    std::thread::sleep(std::time::Duration::from_millis(500));
    session.send_line(answer).unwrap();
    let rest = session.exp_eof().expect("facedb ends");
    support::secrets::assert_hidden("terminal", &rest);
    match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => (code, rest),
        other => panic!("facedb did not exit normally: {other:?}"),
    }
}

/// A SQLite database with a column facedb does not know and an index it can carry over.
fn with_a_column_and_an_index() -> TestDb {
    let db = TestDb::sqlite();
    db.init();
    db.exec(
        "ALTER TABLE visits ADD COLUMN note TEXT;
         CREATE INDEX visits_person_extra ON visits (person_id, confidence_score);",
    );
    db
}

const NOTE_COLUMN: &str = "SELECT name AS v FROM pragma_table_info('visits') WHERE name = 'note'";

/// At the prompt, a person sees what is carried over and what is lost, and must type the
/// database's name to accept the loss, even when the tables hold only the seed.
fn the_prompt_shows_what_is_carried_over_and_what_is_lost() {
    let db = with_a_column_and_an_index();
    assert_eq!(reset_at_the_prompt(&db, "y", || {}).0, 4);
    assert_eq!(
        db.connect().strings(NOTE_COLUMN),
        ["note"],
        "nothing changed"
    );
    assert_eq!(reset_at_the_prompt(&db, "facedb.db", || {}).0, 0);
    assert!(
        db.connect().strings(NOTE_COLUMN).is_empty(),
        "the column is gone"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT name AS v FROM sqlite_master WHERE name = 'visits_person_extra'"
        ),
        BTreeSet::from(["visits_person_extra".to_owned()])
    );
}

/// The reset drops only what the prompt showed: a column added while it asked stops it.
fn a_column_added_while_the_prompt_waits_stops_the_reset() {
    let db = with_a_column_and_an_index();
    let (code, output) = reset_at_the_prompt(&db, "facedb.db", || {
        db.exec("ALTER TABLE visits ADD COLUMN added_meanwhile TEXT")
    });
    assert_eq!(code, 5, "{output}");
    assert!(
        output
            .contains("changed while it was asked (now also lost: column visits.added_meanwhile)"),
        "{output}"
    );
    assert_eq!(
        db.connect().strings(NOTE_COLUMN),
        ["note"],
        "nothing changed"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT name AS v FROM pragma_table_info('visits') WHERE name = 'added_meanwhile'"
        ),
        BTreeSet::from(["added_meanwhile".to_owned()])
    );
}

/// Reading a policy's definition waits for the tables it reads: under the reset's lock that wait
/// is bounded by --lock-timeout (exit 6), and nothing changes.
fn a_lock_on_a_table_a_policy_reads_is_a_lock_timeout_and_nothing_changes() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    db.exec(
        "CREATE TABLE allowed_tenants (tenant_id TEXT);
         CREATE POLICY allowed ON visits USING (tenant_id IN (SELECT tenant_id FROM allowed_tenants));",
    );
    let before = snapshot(&db);
    let mut holder = db.connect();
    holder.exec("BEGIN; LOCK TABLE allowed_tenants IN ACCESS EXCLUSIVE MODE;");
    db.run(&["fresh", "--force", "--lock-timeout", "1s"])
        .code(6)
        .stderr_has("--lock-timeout");
    holder.exec("ROLLBACK");
    assert_eq!(snapshot(&db), before);
    assert_eq!(
        rows(&db, "SELECT polname::text AS v FROM pg_policy"),
        BTreeSet::from(["allowed".to_owned()])
    );
}

tests![
    needs::NOTHING => [
        sqlite_user_indexes_and_triggers_are_created_again,
        the_prompt_shows_what_is_carried_over_and_what_is_lost,
        a_column_added_while_the_prompt_waits_stops_the_reset,
    ],
    needs::SERVER => [
        the_api_role_keeps_its_privileges_and_can_still_insert,
        owners_of_tables_sequences_and_types_survive,
        a_publication_still_carries_visits_with_its_columns_and_row_filter,
        replica_identity_storage_parameters_and_statistics_targets_survive,
        row_level_security_and_policies_survive,
        comments_survive,
        user_indexes_triggers_constraints_and_statistics_survive_and_work,
        a_foreign_key_to_a_user_added_key_is_made_again_after_that_key,
        a_user_added_column_is_listed_refused_and_dropped_only_when_accepted,
        a_constraint_the_new_seed_breaks_rolls_the_whole_reset_back,
        a_lock_on_a_table_a_policy_reads_is_a_lock_timeout_and_nothing_changes,
    ],
];
