//! Users and their bearer tokens.

use super::{Store, StoreError};
use crate::ids::new_id;
use rusqlite::{params, ErrorCode, OptionalExtension, Row};

/// The name of the user the demo page signs in as.
pub const DEMO_USER: &str = "demo";

/// Someone who may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id, `u_…`; sessions are owned by it.
    pub id: String,
    /// Unique name, e.g. `demo`.
    pub name: String,
    /// The bearer token that authenticates this user.
    pub token: String,
}

fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        token: row.get(2)?,
    })
}

/// A fresh token: `cs_` and 32 hex digits from the OS's random source.
pub fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| StoreError::Random)?;
    Ok(bytes.iter().fold(String::from("cs_"), |mut token, byte| {
        token.push_str(&format!("{byte:02x}"));
        token
    }))
}

/// Whether `token` can be a bearer token: 1 to 200 characters of RFC 6750's
/// `b64token` (letters, digits, `-._~+/`, then optional `=` padding). Such a
/// token is also safe to put in an HTML attribute as it is.
pub fn is_valid_token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && token.len() <= 200
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

impl Store {
    /// The user whose token is `token`, if any.
    pub fn user_by_token(&self, token: &str) -> Result<Option<User>, StoreError> {
        self.with(|db| {
            Ok(db
                .conn
                .prepare_cached("SELECT id, name, token FROM users WHERE token = ?1")?
                .query_row([token], user)
                .optional()?)
        })
    }

    /// The user called `name`, if any.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.with(|db| {
            Ok(db
                .conn
                .prepare_cached("SELECT id, name, token FROM users WHERE name = ?1")?
                .query_row([name], user)
                .optional()?)
        })
    }

    /// Creates the user `name` with `token`, or gives an existing one that
    /// token instead of its old one. [`StoreError::TokenTaken`] if another
    /// user has it.
    pub fn put_user(&self, name: &str, token: &str) -> Result<User, StoreError> {
        let written = self.with(|db| {
            db.conn
                .execute(
                    "INSERT INTO users (id, name, token) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET token = excluded.token",
                    params![new_id("u_"), name, token],
                )
                .map_err(|err| match err.sqlite_error_code() {
                    Some(ErrorCode::ConstraintViolation) => StoreError::TokenTaken,
                    _ => StoreError::Sqlite(err),
                })
        });
        written?;
        self.user_by_name(name)?
            .ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// The demo user, created on first start. Its token is `token` when one
    /// is given; otherwise the one stored by an earlier start, so that the
    /// printed header line and the demo's history survive a restart; a new
    /// random one only when the database is new.
    pub fn demo_user(&self, token: Option<&str>) -> Result<User, StoreError> {
        match (token, self.user_by_name(DEMO_USER)?) {
            (None, Some(existing)) => Ok(existing),
            (Some(token), Some(existing)) if existing.token == token => Ok(existing),
            (Some(token), _) => self.put_user(DEMO_USER, token),
            (None, None) => self.put_user(DEMO_USER, &new_token()?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_valid() {
        let (a, b) = (new_token().expect("token"), new_token().expect("token"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 35);
        assert!(is_valid_token(&a));
        for good in ["t", "demo-token", "abc.DEF_~+/==", "x="] {
            assert!(is_valid_token(good), "{good}");
        }
        for bad in ["", "=", "a b", "a\"b", "<x>", "é", "a=b", &"x".repeat(201)] {
            assert!(!is_valid_token(bad), "{bad}");
        }
    }

    #[test]
    fn users_are_found_by_token_and_tokens_are_unique() {
        let store = Store::in_memory().expect("store");
        let ana = store.put_user("ana", "tok-ana").expect("ana");
        assert!(ana.id.starts_with("u_"));
        assert_eq!(
            store.user_by_token("tok-ana").expect("query"),
            Some(ana.clone())
        );
        assert_eq!(store.user_by_token("nope").expect("query"), None);
        assert!(matches!(
            store.put_user("bo", "tok-ana"),
            Err(StoreError::TokenTaken)
        ));
        // Same name: same user, new token.
        let again = store.put_user("ana", "tok-ana-2").expect("ana again");
        assert_eq!(again.id, ana.id);
        assert_eq!(store.user_by_token("tok-ana").expect("query"), None);
    }

    #[test]
    fn demo_token_is_kept_unless_overridden() {
        let store = Store::in_memory().expect("store");
        let first = store.demo_user(None).expect("demo");
        assert!(first.token.starts_with("cs_"));
        assert_eq!(store.demo_user(None).expect("demo"), first);
        let set = store.demo_user(Some("fixed")).expect("demo");
        assert_eq!(
            (set.id.as_str(), set.token.as_str()),
            (first.id.as_str(), "fixed")
        );
        assert_eq!(store.demo_user(None).expect("demo").token, "fixed");
    }
}
