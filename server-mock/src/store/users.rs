//! Users and their bearer tokens. Only a token's SHA-256 is stored
//! ([`token_hash`]): a copy of the database file does not let anyone call
//! the API as its users.

use super::{Store, StoreError};
use crate::ids::new_id;
use rusqlite::{params, ErrorCode, OptionalExtension, Row};
use sha2::{Digest, Sha256};

/// The name of the user the demo page signs in as.
pub const DEMO_USER: &str = "demo";

/// Someone who may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable id, `u_…`; sessions are owned by it.
    pub id: String,
    /// Unique name, e.g. `demo`.
    pub name: String,
}

/// The demo user and the token it was given at this start: the only
/// plaintext token the server ever holds, in memory, to put on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    /// The user.
    pub user: User,
    /// Its bearer token.
    pub token: String,
}

fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

/// What is stored of `token`: its SHA-256, in lowercase hex. Tokens made
/// here are 128 random bits, so a fast unsalted hash leaves nothing to
/// guess; the stored value is only ever compared, never shown.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
            hex
        })
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A fresh token: `cs_` and 32 hex digits from the OS's random source.
pub fn new_token() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| StoreError::Random)?;
    Ok(bytes.iter().fold(String::from("cs_"), |mut token, byte| {
        token.push(char::from(HEX[usize::from(byte >> 4)]));
        token.push(char::from(HEX[usize::from(byte & 0xf)]));
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
                .prepare_cached("SELECT id, name FROM users WHERE token_hash = ?1")?
                .query_row([token_hash(token)], user)
                .optional()?)
        })
    }

    /// The user called `name`, if any.
    pub fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.with(|db| {
            Ok(db
                .conn
                .prepare_cached("SELECT id, name FROM users WHERE name = ?1")?
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
                    "INSERT INTO users (id, name, token_hash) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash",
                    params![new_id("u_"), name, token_hash(token)],
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

    /// The demo user, created on first start, with `token` when one is
    /// given and otherwise a new random one. The database keeps only the
    /// token's hash, so a token it made can't be read back: each start
    /// without `--demo-token` gives the demo user a new one (its history,
    /// owned by the user's id, stays).
    pub fn demo_user(&self, token: Option<&str>) -> Result<DemoUser, StoreError> {
        let token = match token {
            Some(token) => token.to_owned(),
            None => new_token()?,
        };
        let user = self.put_user(DEMO_USER, &token)?;
        Ok(DemoUser { user, token })
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
        let stored: Vec<String> = store
            .with(|db| {
                let mut rows = db.conn.prepare("SELECT token_hash FROM users")?;
                let hashes = rows.query_map([], |row| row.get(0))?;
                Ok(hashes.collect::<Result<_, _>>()?)
            })
            .expect("read");
        assert_eq!(stored, [token_hash("tok-ana")]);
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
    fn hashes_are_sha256_hex() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_demo_user_keeps_its_id_and_gets_a_new_token_unless_one_is_given() {
        let store = Store::in_memory().expect("store");
        let first = store.demo_user(None).expect("demo");
        assert!(first.token.starts_with("cs_"));
        assert_eq!(
            store.user_by_token(&first.token).expect("query"),
            Some(first.user.clone())
        );
        let second = store.demo_user(None).expect("demo");
        assert_eq!(second.user, first.user);
        assert_ne!(second.token, first.token);
        assert_eq!(store.user_by_token(&first.token).expect("query"), None);
        let fixed = store.demo_user(Some("fixed")).expect("demo");
        assert_eq!(
            (fixed.user.id.as_str(), fixed.token.as_str()),
            (first.user.id.as_str(), "fixed")
        );
        assert_eq!(
            store.user_by_token("fixed").expect("query"),
            Some(first.user)
        );
    }
}
