//! The schema, as a list of migrations applied in order. The database's
//! `PRAGMA user_version` is the number of migrations already applied, so a
//! new one is appended here and never edits an earlier one.

use super::users::token_hash;
use super::StoreError;
use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OptionalExtension};

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
    // 3: tokens at rest are their SHA-256 only (`token_hash`, the function
    // `migrate` registers). SQLite can't drop a UNIQUE column, so the table
    // is rebuilt; `migrate` runs with foreign keys off, so dropping the old
    // table does not cascade to the sessions that reference it.
    "CREATE TABLE users_v3 (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE
    );
    INSERT INTO users_v3 (id, name, token_hash) SELECT id, name, token_hash(token) FROM users;
    DROP TABLE users;
    ALTER TABLE users_v3 RENAME TO users;",
    // 4: an answer's row is written when its question is (a placeholder,
    // `streaming = 1`, `stopped = 1`, empty text) and completed when its
    // stream ends, so a server that dies mid-answer leaves a stopped answer
    // rather than a lone question. `Store::open` clears `streaming` on the
    // rows a dead server left.
    "ALTER TABLE messages ADD COLUMN streaming INTEGER NOT NULL DEFAULT 0 CHECK (streaming IN (0, 1));",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Applies the migrations `conn` has not seen yet, each in its own
/// transaction together with the version bump. Refuses a database written
/// by a newer build rather than guess at its schema. Leaves foreign keys
/// off (migration 3 rebuilds a referenced table): the caller turns them on.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // The bundled SQLite turns foreign keys on by default; a rebuilt
    // table must not take its referencing rows with it.
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.create_scalar_function(
        "token_hash",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(token_hash(&ctx.get::<String>(0)?)),
    )?;
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
    let broken: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
        .optional()?;
    match broken {
        Some(table) => Err(StoreError::Inconsistent(table)),
        None => Ok(()),
    }
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

    /// A database at `path` as a build with only the first `applied`
    /// migrations left it: user `u_1` (`ana`, token `tok-ana`), session
    /// `s_1` with the question `m_q`, and `rows`.
    fn old_database(path: &std::path::Path, applied: usize, rows: &str) {
        let conn = Connection::open(path).expect("open");
        for sql in &MIGRATIONS[..applied] {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.pragma_update(None, "user_version", applied as i64)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO users (id, name, token) VALUES ('u_1', 'ana', 'tok-ana');
             INSERT INTO sessions (id, owner, title, created_at, updated_at)
                 VALUES ('s_1', 'u_1', 'Old', 1000, 2000);
             INSERT INTO messages (id, session_id, position, role, text, created_at)
                 VALUES ('m_q', 's_1', 0, 'user', 'Who?', 1000);",
        )
        .expect("rows");
        conn.execute_batch(rows).expect("rows");
    }

    #[test]
    fn a_version_1_database_migrates_keeping_its_rows_with_no_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v1.db");
        old_database(
            &path,
            1,
            "INSERT INTO messages (id, session_id, position, role, text, stopped, created_at)
                 VALUES ('m_a', 's_1', 1, 'assistant', 'Half an ans', 1, 2000);",
        );

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
    fn plaintext_tokens_become_hashes_and_the_sessions_stay() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v2.db");
        old_database(&path, 2, "");
        let store =
            crate::store::Store::open(&crate::store::Location::File(path.clone())).expect("store");
        let ana = store
            .user_by_token("tok-ana")
            .expect("query")
            .expect("found");
        assert_eq!(ana.id, "u_1");
        assert_eq!(
            store.messages("u_1", "s_1").expect("read").map(|m| m.len()),
            Some(1)
        );
        drop(store);
        let conn = Connection::open(&path).expect("reopen");
        let raw = std::fs::read(&path).expect("file");
        assert!(
            !raw.windows(7).any(|w| w == b"tok-ana"),
            "the plaintext token is gone from the file"
        );
        let stored: String = conn
            .query_row("SELECT token_hash FROM users", [], |row| row.get(0))
            .expect("hash");
        assert_eq!(stored, token_hash("tok-ana"));
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
