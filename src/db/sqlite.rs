//! Every SQLite catalog and system query facedb runs (`sqlite_master`, the pragmas), as plain
//! functions on a `SqliteConnection`, in sections by subject. Where a statement named the schema
//! (`main`) before it moved here, it still does (`SchemaName::qualify`). SQLite keeps no
//! dependency graph: what depends on what is found here by reading the SQL it stores.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;

// ---- the database file ----

/// The file SQLite opened as `main`; empty for a temporary database.
pub fn main_file(conn: &mut SqliteConnection) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct DatabaseFile {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        file: String,
    }
    let files: Vec<DatabaseFile> = diesel::sql_query("PRAGMA database_list").load(conn)?;
    Ok(files.into_iter().find(|f| f.name == "main").map(|f| f.file))
}
