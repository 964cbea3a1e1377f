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
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "user_version", 99).expect("set");
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::NewerSchema { found: 99, .. })
        ));
    }
}
