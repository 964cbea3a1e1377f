//! Sessions and their messages. Every read names the caller: a session
//! owned by someone else reads exactly like one that does not exist.

use super::{Db, Store, StoreError, Timestamp};
use crate::model::Role;
use crate::protocol::Citation;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize, Serializer};

/// One line of `GET /api/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// `s_…`.
    pub id: String,
    /// Made from the first question.
    pub title: String,
    /// When the first question was asked.
    pub created_at: Timestamp,
    /// When the last message was stored.
    pub updated_at: Timestamp,
    /// Questions and answers stored so far.
    pub message_count: i64,
}

/// One message of `GET /api/sessions/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredMessage {
    /// `m_…`; for an answer, the `messageId` its stream announced.
    pub id: String,
    /// `"user"` or `"assistant"`.
    #[serde(serialize_with = "role_name")]
    pub role: Role,
    /// The question, or the answer with its inline citations.
    pub text: String,
    /// The sources of the answer's inline citations (empty for a question).
    pub citations: Vec<Citation>,
    /// The client went away before the answer was complete. An answer still
    /// being generated is `stopped` too, until it ends: that is what it is
    /// if the server dies first.
    pub stopped: bool,
    /// The answer is being generated right now (its text is empty until it
    /// ends). Always `false` for a question.
    pub streaming: bool,
    /// Why the answer failed, if it ended with an `error` event; always
    /// present in the JSON, `null` for a question and for a complete or
    /// stopped answer.
    pub error: Option<AnswerError>,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// Why an answer failed: the `code` and `message` of the `error` event
/// that ended its stream. Stored as this JSON in the `error` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerError {
    /// Machine-readable, e.g. `llm_failed`.
    pub code: String,
    /// Human text.
    pub message: String,
}

fn role_name<S: Serializer>(role: &Role, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(role_str(*role))
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// The session a new question goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTarget {
    /// One the caller named; it must exist and be theirs.
    Existing(String),
    /// A session to create with this id and title.
    New {
        /// `s_…`.
        id: String,
        /// Made from the question.
        title: String,
    },
}

/// A question about to be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExchange {
    /// The asking user's id.
    pub owner: String,
    /// Where the question goes.
    pub session: SessionTarget,
    /// The question's message id.
    pub question_id: String,
    /// The question's text.
    pub question: String,
    /// The answer's message id: its placeholder row is written with the
    /// question.
    pub answer_id: String,
}

/// A stored question and the place kept for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The session it went to.
    pub session_id: String,
    /// The position reserved for the answer, right after the question.
    pub answer_position: i64,
}

/// An answer to store when its stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRecord {
    /// The session of the question.
    pub session_id: String,
    /// The `messageId` of the stream.
    pub message_id: String,
    /// [`Exchange::answer_position`].
    pub position: i64,
    /// What was generated, whole or partial.
    pub text: String,
    /// The sources of the inline citations in `text`.
    pub citations: Vec<Citation>,
    /// The client went away before the answer was complete.
    pub stopped: bool,
    /// Why the answer failed, if it ended with an `error` event.
    pub error: Option<AnswerError>,
}

/// How much the store holds, over all users (tests check that a refused
/// request stored nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Sessions.
    pub sessions: i64,
    /// Messages.
    pub messages: i64,
}

const SUMMARY: &str = "SELECT s.id, s.title, s.created_at, s.updated_at,
        (SELECT count(*) FROM messages m WHERE m.session_id = s.id)
     FROM sessions s";

fn summary(row: &Row<'_>) -> rusqlite::Result<SessionSummary> {
    Ok(SessionSummary {
        id: row.get(0)?,
        title: row.get(1)?,
        created_at: Timestamp(row.get(2)?),
        updated_at: Timestamp(row.get(3)?),
        message_count: row.get(4)?,
    })
}

/// A message row as SQLite gives it, before its JSON and role are decoded.
type RawMessage = (
    String,
    String,
    String,
    String,
    bool,
    bool,
    Option<String>,
    i64,
);

fn raw_message(row: &Row<'_>) -> rusqlite::Result<RawMessage> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ))
}

fn decode(
    (id, role, text, citations, stopped, streaming, error, created_at): RawMessage,
) -> Result<StoredMessage, StoreError> {
    Ok(StoredMessage {
        id,
        role: if role == "user" {
            Role::User
        } else {
            Role::Assistant
        },
        text,
        citations: serde_json::from_str(&citations)?,
        stopped,
        streaming,
        error: error.as_deref().map(serde_json::from_str).transpose()?,
        created_at: Timestamp(created_at),
    })
}

fn owns(db: &Db, owner: &str, session_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .conn
        .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1 AND owner = ?2")?
        .query_row([session_id, owner], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The `limit` last messages of a session, oldest first.
fn last_messages(db: &Db, session_id: &str, limit: i64) -> Result<Vec<StoredMessage>, StoreError> {
    let mut statement = db.conn.prepare_cached(
        "SELECT id, role, text, citations, stopped, streaming, error, created_at FROM (
             SELECT * FROM messages WHERE session_id = ?1 ORDER BY position DESC LIMIT ?2
         ) ORDER BY position",
    )?;
    let rows = statement
        .query_map(params![session_id, limit], raw_message)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(decode).collect()
}

impl Store {
    /// The caller's sessions, the most recently updated first.
    pub fn sessions(&self, owner: &str) -> Result<Vec<SessionSummary>, StoreError> {
        self.with(|db| {
            let sql =
                format!("{SUMMARY} WHERE s.owner = ?1 ORDER BY s.updated_at DESC, s.rowid DESC");
            let mut statement = db.conn.prepare_cached(&sql)?;
            let rows = statement.query_map([owner], summary)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// One of the caller's sessions.
    pub fn session(&self, owner: &str, id: &str) -> Result<Option<SessionSummary>, StoreError> {
        self.with(|db| {
            let sql = format!("{SUMMARY} WHERE s.id = ?1 AND s.owner = ?2");
            Ok(db
                .conn
                .prepare_cached(&sql)?
                .query_row([id, owner], summary)
                .optional()?)
        })
    }

    /// All messages of one of the caller's sessions, in order; `None` if
    /// there is no such session of theirs.
    pub fn messages(
        &self,
        owner: &str,
        id: &str,
    ) -> Result<Option<Vec<StoredMessage>>, StoreError> {
        self.recent_messages(owner, id, usize::MAX)
    }

    /// The `limit` most recent messages of one of the caller's sessions,
    /// oldest first; `None` if there is no such session of theirs.
    pub fn recent_messages(
        &self,
        owner: &str,
        id: &str,
        limit: usize,
    ) -> Result<Option<Vec<StoredMessage>>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(|db| {
            if !owns(db, owner, id)? {
                return Ok(None);
            }
            last_messages(db, id, limit).map(Some)
        })
    }

    /// One of the caller's answers by its message id, with its session's
    /// id; `None` for an unknown id, a question, or another user's answer.
    pub fn answer(
        &self,
        owner: &str,
        message_id: &str,
    ) -> Result<Option<(String, StoredMessage)>, StoreError> {
        self.with(|db| {
            let found = db
                .conn
                .prepare_cached(
                    "SELECT m.session_id, m.id, m.role, m.text, m.citations, m.stopped,
                            m.streaming, m.error, m.created_at
                     FROM messages m JOIN sessions s ON s.id = m.session_id
                     WHERE m.id = ?1 AND s.owner = ?2 AND m.role = 'assistant'",
                )?
                .query_row([message_id, owner], |row| {
                    let session_id: String = row.get(0)?;
                    let raw = (
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                        row.get(8)?,
                    );
                    Ok((session_id, raw))
                })
                .optional()?;
            found
                .map(|(session_id, raw)| Ok((session_id, decode(raw)?)))
                .transpose()
        })
    }

    /// Deletes one of the caller's sessions with its messages; `false` if
    /// there was no such session of theirs.
    pub fn delete_session(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        self.with(|db| {
            let deleted = db
                .conn
                .prepare_cached("DELETE FROM sessions WHERE id = ?1 AND owner = ?2")?
                .execute([id, owner])?;
            Ok(deleted > 0)
        })
    }

    /// Stores a question (creating its session if asked to) and reserves the
    /// next position for its answer, in one transaction. `None` if the named
    /// session is not the caller's, and then nothing is written.
    pub fn start_exchange(&self, exchange: &NewExchange) -> Result<Option<Exchange>, StoreError> {
        self.with(|db| {
            let now = db.tick();
            let tx = db.conn.transaction()?;
            let session_id = match &exchange.session {
                SessionTarget::Existing(id) => {
                    let touched = tx.execute(
                        "UPDATE sessions SET updated_at = ?3 WHERE id = ?1 AND owner = ?2",
                        params![id, exchange.owner, now.0],
                    )?;
                    if touched == 0 {
                        return Ok(None);
                    }
                    id
                }
                SessionTarget::New { id, title } => {
                    tx.execute(
                        "INSERT INTO sessions (id, owner, title, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?4)",
                        params![id, exchange.owner, title, now.0],
                    )?;
                    id
                }
            };
            // Questions take even positions: the next one after every
            // message stored or reserved, so two questions in flight on one
            // session never collide.
            let position: i64 = tx.query_row(
                "SELECT coalesce(max(position) / 2 * 2 + 2, 0) FROM messages WHERE session_id = ?1",
                [session_id],
                |row| row.get(0),
            )?;
            tx.execute(
                "INSERT INTO messages (id, session_id, position, role, text, created_at)
                 VALUES (?1, ?2, ?3, 'user', ?4, ?5)",
                params![
                    exchange.question_id,
                    session_id,
                    position,
                    exchange.question,
                    now.0
                ],
            )?;
            // The answer's placeholder: stopped and empty, which is what
            // it stays if the server dies before the stream ends.
            tx.execute(
                "INSERT INTO messages (id, session_id, position, role, text, stopped, streaming, created_at)
                 VALUES (?1, ?2, ?3, 'assistant', '', 1, 1, ?4)",
                params![exchange.answer_id, session_id, position + 1, now.0],
            )?;
            tx.commit()?;
            Ok(Some(Exchange {
                session_id: session_id.clone(),
                answer_position: position + 1,
            }))
        })
    }

    /// Stores an answer in the placeholder its question left. `false` if
    /// its session was deleted while it streamed (the answer is then
    /// dropped too).
    pub fn save_answer(&self, answer: &AnswerRecord) -> Result<bool, StoreError> {
        self.with(|db| write_answer(db, answer))
    }

    /// [`Store::save_answer`] on a connection that refuses every write
    /// (`PRAGMA query_only`) for this one call, so that SQLite itself fails
    /// it as it would on a full disk: the test-mode `failStorage` fault.
    /// Other requests are unaffected; they wait for the lock.
    pub fn save_answer_with_writes_refused(
        &self,
        answer: &AnswerRecord,
    ) -> Result<bool, StoreError> {
        self.with(|db| {
            db.conn.pragma_update(None, "query_only", true)?;
            let written = write_answer(db, answer);
            db.conn.pragma_update(None, "query_only", false)?;
            written
        })
    }

    /// Sessions and messages stored, over all users.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        self.with(|db| {
            Ok(db.conn.query_row(
                "SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM messages)",
                [],
                |row| {
                    Ok(Counts {
                        sessions: row.get(0)?,
                        messages: row.get(1)?,
                    })
                },
            )?)
        })
    }
}

fn write_answer(db: &mut Db, answer: &AnswerRecord) -> Result<bool, StoreError> {
    let citations = serde_json::to_string(&answer.citations)?;
    let error = answer
        .error
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let now = db.tick();
    let tx = db.conn.transaction()?;
    let updated = tx.execute(
        "UPDATE messages
         SET text = ?4, citations = ?5, stopped = ?6, error = ?7, streaming = 0, created_at = ?8
         WHERE id = ?1 AND session_id = ?2 AND position = ?3 AND role = ?9",
        params![
            answer.message_id,
            answer.session_id,
            answer.position,
            answer.text,
            citations,
            answer.stopped,
            error,
            now.0,
            role_str(Role::Assistant),
        ],
    )?;
    tx.execute(
        "UPDATE sessions SET updated_at = ?2 WHERE id = ?1",
        params![answer.session_id, now.0],
    )?;
    tx.commit()?;
    Ok(updated > 0)
}

#[cfg(test)]
mod tests;
