//! The drill: "Recipe: add a column" of docs/changing-the-schema.md, followed on a throwaway copy
//! of the source tree as a developer would follow it. A new migration pair adds a nullable column
//! (`ALTER`-only `up.sql`) on both backends, `diesel print-schema` and the bless command
//! regenerate what they generate, and then the tests the recipe names run, with every test that
//! touches migrations, rollback, status, check and adoption. A failure names the recipe's step.
//!
//! The copy builds in a target folder of its own next to this one's, seeded once with a copy of
//! this build's compiled dependencies, so only facedb itself compiles again. It needs diesel_cli
//! (`diesel`), as the recipe does.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The recipe's steps the drill follows, numbered and named as docs/changing-the-schema.md
/// numbers and names them.
const INSTALL: (u8, &str) = (1, "Install diesel_cli");
const POSTGRES_MIGRATION: (u8, &str) = (2, "Write the PostgreSQL migration");
const SQLITE_MIGRATION: (u8, &str) = (3, "Write the SQLite migration");
const APPLY: (u8, &str) = (4, "Apply it to a scratch database");
const PRINT_SCHEMA: (u8, &str) = (5, "Regenerate `src/schema.rs`");
const MODELS: (u8, &str) = (6, "Add the field to the models");
const BLESS: (u8, &str) = (7, "Regenerate the expected catalog and the reference");
const TEST: (u8, &str) = (8, "Run the tests that tie the schema together");
const STEPS: [(u8, &str); 8] = [
    INSTALL,
    POSTGRES_MIGRATION,
    SQLITE_MIGRATION,
    APPLY,
    PRINT_SCHEMA,
    MODELS,
    BLESS,
    TEST,
];

/// The drill's column: nullable, under a name no real migration takes.
const COLUMN: &str = "drill_firmware_version";

/// What the drill runs in step 8: the recipe's tests (the unit tests of `migrations`,
/// `schema_source`, `catalog`, `rollback`), the modules of status and check (`inspect`) and of
/// adoption, and every other test whose name says it is about migrations, status or check.
const TEST_FILTERS: [&str; 8] = [
    "migration",
    "schema_source::",
    "catalog::",
    "rollback::",
    "inspect::",
    "adopt::",
    "status",
    "check",
];

/// Set in the copy's test run: the drill does not run itself.
const CHILD_VAR: &str = "FACEDB_DRILL_CHILD";

/// How to get diesel_cli, as the recipe installs it.
const INSTALL_DIESEL: &str =
    "cargo install diesel_cli --locked --no-default-features --features postgres-bundled";

/// `diesel`: on the `PATH`, or in cargo's bin folder (where `cargo install` puts it).
pub fn diesel_program() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin"));
    std::env::split_paths(&path)
        .chain(cargo_bin)
        .map(|folder| folder.join("diesel"))
        .find(|program| is_executable(program))
        .ok_or_else(|| {
            format!("diesel is neither on the PATH nor in cargo's bin folder: `{INSTALL_DIESEL}`")
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Where this test binary's build keeps its output: `…/target` of `…/target/debug/deps/it-…`.
fn outer_target() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lives in <target>/<profile>/deps")
        .to_owned()
}

/// Copies `from` to `to`, keeping its time: cargo compares the times of what it built.
fn copy_file(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    let modified = from.metadata().and_then(|m| m.modified()).unwrap();
    std::fs::File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_modified(modified))
        .unwrap();
}

/// Copies the tree at `from` to `to` (at the top, without the build output and git's records).
fn copy_tree(from: &Path, to: &Path, top: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if top && (name == "target" || name == ".git") {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), false);
        } else if kind.is_file() {
            copy_file(&entry.path(), &to.join(&name));
        }
    }
}

/// Whether `name`, in a folder of a target directory, is facedb's own build output (the
/// library, the binary, the test binaries, the build script and its output, their
/// fingerprints). Its hash does not depend on the package's path, so the copy's build would
/// write over it: the copy builds its own.
fn is_facedbs_own(name: &str) -> bool {
    ["facedb-", "libfacedb-", "it-"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Gives every file under `folder` the time now.
fn touch_tree(folder: &Path) {
    let now = std::time::SystemTime::now();
    for entry in std::fs::read_dir(folder).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            touch_tree(&entry.path());
        } else {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .and_then(|f| f.set_modified(now))
                .unwrap();
        }
    }
}

/// The copy's target folder, seeded on first use with a copy of this build's compiled
/// dependencies (`deps`, `build` and cargo's fingerprints, without facedb's own output), so that
/// only facedb compiles there. Copied, not linked: cargo and build scripts rewrite some files in
/// place.
fn seeded_target(root: &Path) -> PathBuf {
    let target = root.join("target");
    let seeded = target.join("seeded-from-the-outer-build");
    if seeded.exists() {
        return target;
    }
    let outer = outer_target().join("debug");
    let _ = std::fs::remove_dir_all(&target);
    for folder in ["deps", "build", ".fingerprint"] {
        let (from, to) = (outer.join(folder), target.join("debug").join(folder));
        std::fs::create_dir_all(&to).unwrap();
        let Ok(entries) = std::fs::read_dir(&from) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if is_facedbs_own(&name.to_string_lossy()) {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &to.join(&name), false);
            } else {
                copy_file(&entry.path(), &to.join(&name));
            }
        }
    }
    std::fs::write(&seeded, "").unwrap();
    target
}

/// The copy of the source tree and how to run cargo and diesel in it.
struct Copy {
    tree: PathBuf,
    target: PathBuf,
    diesel: PathBuf,
}

impl Copy {
    fn cargo(&self, args: &[&str]) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(args)
            .current_dir(&self.tree)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never")
            .env(CHILD_VAR, "1")
            .env_remove("FACEDB_BLESS");
        cmd
    }

    fn path(&self, file: &str) -> PathBuf {
        self.tree.join(file)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path(file))
            .unwrap_or_else(|e| panic!("{}: {e}", self.path(file).display()))
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.path(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Fails the drill at recipe step `step`.
#[track_caller]
fn broke(step: (u8, &str), why: &str) -> ! {
    panic!(
        "the recipe in docs/changing-the-schema.md broke at step {} ({}): {why}",
        step.0, step.1
    )
}

/// Runs `cmd` for recipe step `step` and returns its stdout; fails the drill, with the end of
/// what the command printed, when it does not succeed.
fn run(step: (u8, &str), mut cmd: Command) -> String {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let started = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| broke(step, &format!("cannot run `{shown}`: {e}")));
    note!(
        "drill: step {} ({}): `{shown}` took {:.0?}",
        step.0,
        step.1,
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let printed = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<&str> = printed.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        broke(
            step,
            &format!("`{shown}` exited with {}:\n{tail}", out.status),
        );
    }
    stdout
}

/// The migration folder name the drill adds: one second after the newest migration, in the
/// recipe's `YYYY-MM-DD-HHMMSS_name` form.
fn next_migration_name() -> String {
    let latest = facedb::migrations::latest(facedb::config::Backend::Postgres);
    let digits: u64 = latest
        .split('_')
        .next()
        .unwrap()
        .replace('-', "")
        .parse()
        .expect("a migration's version is its date and time");
    let next = format!("{:014}", digits + 1);
    format!(
        "{}-{}-{}-{}_add_cameras_{COLUMN}",
        &next[..4],
        &next[4..6],
        &next[6..8],
        &next[8..]
    )
}

fn a_nullable_column_added_by_the_recipe_passes_the_schema_tests() {
    assert!(
        std::env::var_os(CHILD_VAR).is_none(),
        "the drill runs in a drill it started"
    );
    let started = Instant::now();
    let diesel = diesel_program().unwrap_or_else(|why| broke(INSTALL, &why));
    let root = outer_target().join("drill");
    let tree = root.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")), &tree, true);
    // Newer than anything built from the tree before: the copy builds facedb anew.
    touch_tree(&tree);
    let copy = Copy {
        tree,
        target: seeded_target(&root),
        diesel,
    };

    let name = next_migration_name();
    for (step, backend) in [
        (POSTGRES_MIGRATION, "postgres"),
        (SQLITE_MIGRATION, "sqlite"),
    ] {
        let folder = format!("migrations/{backend}/{name}");
        copy.write(
            &format!("{folder}/up.sql"),
            &format!("ALTER TABLE cameras ADD COLUMN {COLUMN} TEXT;\n"),
        );
        copy.write(
            &format!("{folder}/down.sql"),
            &format!("ALTER TABLE cameras DROP COLUMN {COLUMN};\n"),
        );
        if !copy.path(&folder).is_dir() {
            broke(step, &format!("{folder} was not written"));
        }
    }

    // A database name the test server forgets afterwards; `init` creates it.
    let scratch = support::TestDb::postgres();
    let url = scratch.url().to_owned();
    let mut init = copy.cargo(&[
        "run",
        "--frozen",
        "-q",
        "--",
        "--database-url",
        &url,
        "init",
    ]);
    init.env_remove("DATABASE_URL");
    run(APPLY, init);
    if !scratch.pg_exists() {
        broke(APPLY, "init did not create the scratch database");
    }

    let mut print_schema = Command::new(&copy.diesel);
    print_schema
        .args(["print-schema", "--database-url", &url])
        .current_dir(&copy.tree);
    let schema = run(PRINT_SCHEMA, print_schema);
    if !schema.contains(&format!("{COLUMN} -> Nullable<Text>")) {
        broke(
            PRINT_SCHEMA,
            &format!("diesel print-schema does not show cameras.{COLUMN}:\n{schema}"),
        );
    }
    copy.write("src/schema.rs", &schema);
    drop(scratch);

    let models = copy.read("src/models.rs");
    let Some(start) = models.find("pub struct Camera {") else {
        broke(MODELS, "src/models.rs has no `pub struct Camera {`");
    };
    let end = start + models[start..].find("\n}").unwrap();
    copy.write(
        "src/models.rs",
        &format!(
            "{}\n    pub {COLUMN}: Option<String>,{}",
            &models[..end],
            &models[end..]
        ),
    );

    // The command facedb names for it: `FACEDB_BLESS=1 cargo test …`.
    let (variable, command) = facedb::contract::REGENERATE
        .split_once(" cargo ")
        .expect("the bless command runs cargo");
    let (key, value) = variable.split_once('=').expect("a variable");
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.insert(1, "--frozen");
    let mut bless = copy.cargo(&args);
    bless.env(key, value);
    run(BLESS, bless);
    for file in ["src/contract.json", "docs/schema.md"] {
        if !copy.read(file).contains(COLUMN) {
            broke(BLESS, &format!("{file} does not show cameras.{COLUMN}"));
        }
    }

    let mut args = vec!["test", "--frozen", "--lib", "--test", "it", "--"];
    args.extend(TEST_FILTERS);
    args.extend(["--skip", "drill::"]);
    run(TEST, copy.cargo(&args));
    note!("drill: {:.0?} in all", started.elapsed());
}

/// The drill's steps are the recipe's: each is numbered and named in docs/changing-the-schema.md
/// as the drill names it when it fails there.
fn the_drill_names_the_recipes_steps() {
    let recipe = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/changing-the-schema.md"),
    )
    .unwrap();
    for (number, title) in STEPS {
        let heading = format!("{number}. **{title}");
        assert!(
            recipe.contains(&heading),
            "docs/changing-the-schema.md has no step {heading:?}: number and name the drill's \
             steps (tests/it/drill.rs) as the recipe does"
        );
    }
    assert!(recipe.contains(INSTALL_DIESEL), "{INSTALL_DIESEL}");
}

tests![
    needs::NOTHING => [the_drill_names_the_recipes_steps],
    needs::SERVER_AND_DIESEL_CLI => [a_nullable_column_added_by_the_recipe_passes_the_schema_tests],
];
