//! History in an embedded SQLite database: users and their bearer tokens,
//! sessions, and the sessions' messages with citations, `stopped` and `error`.
//!
//! One connection behind a mutex. Every call is short (a few indexed rows),
//! so handlers run them on tokio's blocking pool through
//! [`Store::blocking`] and the async workers never wait on the lock or on
//! the disk.

pub mod clock;
mod history;
mod migrations;
mod users;

pub use clock::Timestamp;
pub use history::{
    AnswerError, AnswerRecord, Counts, Exchange, NewExchange, SessionSummary, SessionTarget,
    StoredMessage,
};
pub use migrations::SCHEMA_VERSION;
pub use users::{is_valid_token, new_token, token_hash, DemoUser, User, DEMO_USER};

use crate::error::ApiError;
use axum::http::StatusCode;
use migrations::migrate;
use rusqlite::{Connection, ErrorCode};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file, created with its directory if missing.
    File(PathBuf),
    /// In memory, gone when the server stops (tests).
    Memory,
}

impl Location {
    /// `:memory:` is [`Location::Memory`]; anything else is a file path.
    pub fn parse(text: &str) -> Self {
        if text == ":memory:" {
            Self::Memory
        } else {
            Self::File(PathBuf::from(text))
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Memory => f.write_str(":memory:"),
        }
    }
}

/// Why the store could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite refused or failed.
    Sqlite(rusqlite::Error),
    /// A stored citations or error column is not the JSON this build writes.
    Json(serde_json::Error),
    /// The data directory could not be created.
    Io(std::io::Error),
    /// The database was written by a newer build.
    NewerSchema {
        /// Its `user_version`.
        found: i64,
        /// The newest version this build knows.
        known: usize,
    },
    /// Another user already has this token.
    TokenTaken,
    /// The OS gave no randomness for a new token.
    Random,
    /// The blocking task running the query panicked or was cancelled.
    Task,
    /// The database can be read but not written (a read-only file or
    /// directory, a read-only mount): the server could serve nothing.
    ReadOnly(String),
    /// Rows refer to rows that do not exist (`PRAGMA foreign_key_check`
    /// after a migration): the table named.
    Inconsistent(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(err) => write!(f, "database error: {err}"),
            Self::Json(err) => write!(f, "stored citations or error are not valid JSON: {err}"),
            Self::Io(err) => write!(f, "cannot create the data directory: {err}"),
            Self::NewerSchema { found, known } => write!(
                f,
                "the database has schema version {found}, newer than this build's {known}"
            ),
            Self::TokenTaken => f.write_str("that token already belongs to another user"),
            Self::Random => f.write_str("the OS random source failed"),
            Self::Task => f.write_str("the database task did not finish"),
            Self::ReadOnly(location) => write!(
                f,
                "{location} can't be written (check the file's and its directory's permissions \
                 and free space); the server stores every question and answer there"
            ),
            Self::Inconsistent(table) => {
                write!(f, "table {table} refers to rows that do not exist")
            }
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        Self::Json(err)
    }
}

impl From<StoreError> for ApiError {
    /// A 500: the request was fine, the server's history is not. What went
    /// wrong goes to the log; the client gets no SQL, path or schema text.
    fn from(err: StoreError) -> Self {
        eprintln!("server-mock: history database: {err}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage_failed",
            "the server could not read or write its history",
        )
    }
}

/// The history database. Cheap to clone: clones share one connection.
#[derive(Clone)]
pub struct Store {
    db: Arc<Mutex<Db>>,
    location: Location,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The connection and the store's clock.
struct Db {
    conn: Connection,
    /// The last time handed out by [`Db::tick`].
    last_ms: i64,
}

impl Db {
    /// The time of a write: the wall clock, but always after the previous
    /// write's, so "newest first" never depends on two writes landing in
    /// the same millisecond.
    fn tick(&mut self) -> Timestamp {
        self.last_ms = Timestamp::now().0.max(self.last_ms.saturating_add(1));
        Timestamp(self.last_ms)
    }
}

/// `err`, or [`StoreError::ReadOnly`] when SQLite says it could not write.
fn read_only_or(err: StoreError, location: &Location) -> StoreError {
    match &err {
        StoreError::Sqlite(sqlite)
            if matches!(
                sqlite.sqlite_error_code(),
                Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::DiskFull)
            ) =>
        {
            StoreError::ReadOnly(location.to_string())
        }
        _ => err,
    }
}

/// Creates `path`'s directory (owner only) and the file itself (`0600`) if
/// they are missing, so SQLite never creates them with the umask's wider
/// permissions. Existing ones are left as they are.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    let mut dir_builder = std::fs::DirBuilder::new();
    dir_builder.recursive(true);
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        dir_builder.mode(0o700);
        file.mode(0o600);
    }
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        dir_builder.create(dir)?;
    }
    match file.open(path) {
        Ok(_) => Ok(()),
        // An existing file the server may only read: SQLite opens it
        // read-only, and `Store::open` says so.
        Err(err) if err.kind() == std::io::ErrorKind::PermissionDenied && path.exists() => Ok(()),
        Err(err) => Err(err),
    }
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `location`,
    /// and makes sure it can be written: a database the server can only
    /// read is refused here, with [`StoreError::ReadOnly`], rather than
    /// accepted and failing every chat later. A new file is created
    /// readable by its owner only (it holds everyone's history).
    pub fn open(location: &Location) -> Result<Self, StoreError> {
        let mut conn = match location {
            Location::Memory => Connection::open_in_memory()?,
            Location::File(path) => {
                create_private(path).map_err(StoreError::Io)?;
                let conn = Connection::open(path)?;
                // SQLite opens a file it may not write read-only, silently.
                if conn.is_readonly(rusqlite::MAIN_DB)? {
                    return Err(StoreError::ReadOnly(location.to_string()));
                }
                // WAL: readers don't block the writer; NORMAL: no fsync per
                // commit, still safe against corruption. SQLite gives the
                // -wal and -shm files the database file's permissions.
                let _mode: String = conn
                    .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                    .map_err(|err| read_only_or(err.into(), location))?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
        };
        // Deleted sessions and replaced token hashes are overwritten, not
        // left in free pages.
        conn.pragma_update(None, "secure_delete", true)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrate(&mut conn).map_err(|err| read_only_or(err, location))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        // A real write, whatever the schema's state: rewriting the version
        // fails on a file SQLite opened read-write but can't write (a full
        // disk, a read-only directory for the journal).
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        conn.pragma_update(None, "user_version", version)
            .map_err(|err| read_only_or(err.into(), location))?;
        // Answers a server that died mid-stream left behind: stopped.
        conn.execute("UPDATE messages SET streaming = 0 WHERE streaming = 1", [])
            .map_err(|err| read_only_or(err.into(), location))?;
        let last_ms = conn.query_row(
            "SELECT max(
                 (SELECT coalesce(max(updated_at), 0) FROM sessions),
                 (SELECT coalesce(max(created_at), 0) FROM messages))",
            [],
            |row| row.get(0),
        )?;
        Ok(Self {
            db: Arc::new(Mutex::new(Db { conn, last_ms })),
            location: location.clone(),
        })
    }

    /// A fresh in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::open(&Location::Memory)
    }

    /// Where this store keeps its data.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Runs `f` on tokio's blocking pool, for calling the store's
    /// (synchronous) methods from async code.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| StoreError::Task)?
    }

    /// Runs `f` with the connection locked. A panic in an earlier holder
    /// leaves SQLite itself consistent (its transaction is rolled back when
    /// dropped), so a poisoned lock is taken over rather than propagated.
    fn with<T>(&self, f: impl FnOnce(&mut Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut db)
    }
}
