//! The schema, as a list of migrations applied in order. The database's
//! `PRAGMA user_version` is the number of migrations already applied, so a
//! new one is appended here and never edits an earlier one.

use super::StoreError;
use rusqlite::Connection;

/// Each entry moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: users, their sessions, and the sessions' messages. Times are
    // milliseconds since the Unix epoch. `position` orders a session's
    // messages: a question takes an even position and its answer the next
    // odd one, reserved when the question is stored (see `start_exchange`).
    "CREATE TABLE users (
        id    TEXT PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE,
        token TEXT NOT NULL UNIQUE
    );
    CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        owner      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        title      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_owner ON sessions(owner, updated_at);
    CREATE TABLE messages (
        id         TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        role       TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        text       TEXT NOT NULL,
        citations  TEXT NOT NULL DEFAULT '[]',
        stopped    INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
        created_at INTEGER NOT NULL,
        UNIQUE (session_id, position)
    );",
    // 2: why an answer failed, for an answer that ended with an `error`
    // event: JSON `{"code": "...", "message": "..."}`, the event's own code
    // and message. NULL for questions and for complete or stopped answers,
    // and so for every message stored before this migration.
    "ALTER TABLE messages ADD COLUMN error TEXT;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Applies the migrations `conn` has not seen yet, each in its own
/// transaction together with the version bump. Refuses a database written
/// by a newer build rather than guess at its schema.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version")
    }

    #[test]
    fn migrates_once_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().expect("open");
        assert_eq!(version(&conn), 0);
        migrate(&mut conn).expect("first run");
        assert_eq!(version(&conn), SCHEMA_VERSION as i64);
        migrate(&mut conn).expect("second run changes nothing");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(tables, 3);
    }

    #[test]
    fn a_version_1_database_migrates_keeping_its_rows_with_no_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v1.db");
        {
            // A database as the first build left it: migration 1 only.
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch(MIGRATIONS[0]).expect("migration 1");
            conn.pragma_update(None, "user_version", 1)
                .expect("version 1");
            conn.execute_batch(
                "INSERT INTO users (id, name, token) VALUES ('u_1', 'ana', 'tok');
                 INSERT INTO sessions (id, owner, title, created_at, updated_at)
                     VALUES ('s_1', 'u_1', 'Old', 1000, 2000);
                 INSERT INTO messages (id, session_id, position, role, text, created_at)
                     VALUES ('m_q', 's_1', 0, 'user', 'Who?', 1000);
                 INSERT INTO messages (id, session_id, position, role, text, stopped, created_at)
                     VALUES ('m_a', 's_1', 1, 'assistant', 'Half an ans', 1, 2000);",
            )
            .expect("rows");
        }

        let mut conn = Connection::open(&path).expect("reopen");
        migrate(&mut conn).expect("migrate");
        assert_eq!(version(&conn), SCHEMA_VERSION as i64);
        let errors: Vec<Option<String>> = conn
            .prepare("SELECT error FROM messages ORDER BY position")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(errors, [None, None]);
        drop(conn);

        // Read through the store, as the API does.
        let store = crate::store::Store::open(&crate::store::Location::File(path)).expect("store");
        let messages = store.messages("u_1", "s_1").expect("read").expect("found");
        let kept: Vec<(&str, &str, bool, bool)> = messages
            .iter()
            .map(|m| (m.id.as_str(), m.text.as_str(), m.stopped, m.error.is_none()))
            .collect();
        assert_eq!(
            kept,
            [
                ("m_q", "Who?", false, true),
                ("m_a", "Half an ans", true, true)
            ]
        );
        let json = serde_json::to_value(&messages[1]).expect("json");
        assert_eq!(json.get("error"), Some(&serde_json::Value::Null));
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", 99).expect("set");
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::NewerSchema { found: 99, .. })
        ));
    }
}
