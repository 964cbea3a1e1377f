//! The `POST /api/chat` body, checked before any byte of the stream is sent.
//!
//! This is a hand-written extractor rather than `Json<T>` so that every
//! refusal is the protocol's JSON error with a stable code, never one of
//! axum's plain-text rejections.

use super::fault::Fault;
use crate::app::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::{Deserialize, Deserializer};
use std::time::Instant;

/// Largest accepted request body (docs/protocol.md: 413 over 16 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest accepted question, in characters.
pub const MAX_QUESTION_CHARS: usize = 4_000;

/// A validated chat request.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The question, trimmed, never empty.
    pub question: String,
    /// The session to continue, if the client named one.
    pub session_id: Option<String>,
    /// `scope.conversationIds`: search only these conversations. Never an
    /// empty list; whether each id exists is checked against the corpus by
    /// the handler.
    pub scope: Option<Vec<String>>,
    /// When extraction began, before the body was read: the start of
    /// `processingMs`.
    pub received_at: Instant,
    /// Faults to inject; only ever `Some` when the server runs in test mode.
    pub fault: Option<Fault>,
}

/// The body as sent; unknown fields are ignored (forward compatibility),
/// except `fault`, which only test mode accepts.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    question: Option<String>,
    session_id: Option<String>,
    scope: Option<Scope>,
    /// `Some` whenever the key is present, even as `null`, so that outside
    /// test mode no spelling of it gets through.
    #[serde(default, deserialize_with = "present")]
    fault: Option<serde_json::Value>,
}

/// `scope`, whose other fields are ignored like the body's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Scope {
    conversation_ids: Option<Vec<String>>,
}

fn present<'de, D: Deserializer<'de>>(value: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(value).map(Some)
}

impl FromRequest<AppState> for ChatRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let received_at = Instant::now();
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected `Content-Type: application/json`",
            ));
        }
        // The limit itself comes from the route's `DefaultBodyLimit` layer.
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("request body is over {MAX_BODY_BYTES} bytes"),
                )
            } else if timed_out(&rejection) {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "the request body did not arrive in time",
                )
            } else {
                ApiError::bad_request("unreadable_body", "could not read the request body")
            }
        })?;
        parse(&bytes, received_at, state.test_mode)
    }
}

fn parse(bytes: &[u8], received_at: Instant, test_mode: bool) -> Result<ChatRequest, ApiError> {
    let body: Body = serde_json::from_slice(bytes).map_err(|err| {
        if err.is_syntax() || err.is_eof() {
            ApiError::bad_request("malformed_json", format!("body is not valid JSON: {err}"))
        } else {
            ApiError::bad_request("invalid_request", format!("unexpected body shape: {err}"))
        }
    })?;
    // Checked first, so that outside test mode a body with `fault` is always
    // refused with the same code, whatever else is wrong with it.
    let fault = match body.fault {
        None => None,
        Some(_) if !test_mode => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "`fault` is only accepted when the server runs with --test-mode",
            ))
        }
        Some(value) => Some(Fault::from_json(value)?),
    };
    let question = body.question.as_deref().map(str::trim).unwrap_or_default();
    if question.is_empty() {
        return Err(ApiError::bad_request(
            "missing_question",
            "`question` must be a non-empty string",
        ));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "question_too_long",
            format!("`question` is over {MAX_QUESTION_CHARS} characters"),
        ));
    }
    if body.session_id.as_deref() == Some("") {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`sessionId` must be a non-empty string when present",
        ));
    }
    let scope = body.scope.and_then(|scope| scope.conversation_ids);
    if scope.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`scope.conversationIds` must name at least one conversation when present",
        ));
    }
    Ok(ChatRequest {
        question: question.to_owned(),
        session_id: body.session_id,
        scope,
        received_at,
        fault,
    })
}

/// Whether reading the body failed because one of the serving loop's body
/// deadlines ran out (`crate::serve`); the timeout is somewhere down the
/// rejection's chain of causes, under axum's own error wrappers.
fn timed_out(rejection: &dyn std::error::Error) -> bool {
    let mut cause = rejection.source();
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// `application/json`, any case, with or without parameters such as `charset`.
fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    content_type
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> Result<String, (StatusCode, &'static str)> {
        parse(body.as_bytes(), Instant::now(), false)
            .map(|r| r.question)
            .map_err(|e| (e.status, e.code))
    }

    #[test]
    fn bodies_map_to_codes() {
        let bad = StatusCode::BAD_REQUEST;
        assert_eq!(code(r#"{"question":" hi ","x":1}"#), Ok("hi".into()));
        assert_eq!(code(r#"{"question":"#), Err((bad, "malformed_json")));
        assert_eq!(code("nope"), Err((bad, "malformed_json")));
        assert_eq!(code("[1]"), Err((bad, "invalid_request")));
        assert_eq!(code(r#"{"question":5}"#), Err((bad, "invalid_request")));
        assert_eq!(
            code(r#"{"question":"q","sessionId":7}"#),
            Err((bad, "invalid_request"))
        );
        assert_eq!(
            code(r#"{"question":"q","sessionId":""}"#),
            Err((bad, "invalid_request"))
        );
        assert_eq!(
            code(r#"{"question":"q","scope":{"conversationIds":"c_1"}}"#),
            Err((bad, "invalid_request"))
        );
        assert_eq!(
            code(r#"{"question":"q","scope":{"conversationIds":[]}}"#),
            Err((bad, "invalid_request"))
        );
        assert_eq!(
            code(r#"{"question":"q","scope":7}"#),
            Err((bad, "invalid_request"))
        );
        assert_eq!(code(r#"{"question":"q","scope":{}}"#), Ok("q".into()));
        assert_eq!(code(r#"{"question":"q","scope":null}"#), Ok("q".into()));
        assert_eq!(code("{}"), Err((bad, "missing_question")));
        assert_eq!(code(r#"{"question":null}"#), Err((bad, "missing_question")));
        assert_eq!(code(r#"{"question":"  "}"#), Err((bad, "missing_question")));
        let long = format!(r#"{{"question":"{}"}}"#, "é".repeat(MAX_QUESTION_CHARS + 1));
        assert_eq!(
            code(&long),
            Err((StatusCode::PAYLOAD_TOO_LARGE, "question_too_long"))
        );
    }

    #[test]
    fn scope_is_read() {
        let body = r#"{"question":"q","scope":{"conversationIds":["c_a","c_b"],"x":1}}"#;
        let scope = parse(body.as_bytes(), Instant::now(), false).map(|r| r.scope);
        assert_eq!(scope.ok().flatten(), Some(vec!["c_a".into(), "c_b".into()]));
    }

    #[test]
    fn fault_needs_test_mode() {
        let with_fault = r#"{"question":"q","fault":{"failAfterTokens":2}}"#;
        for body in [with_fault, r#"{"question":"q","fault":null}"#] {
            let refused = parse(body.as_bytes(), Instant::now(), false).map(|_| ());
            assert_eq!(
                refused.map_err(|e| (e.status, e.code)),
                Err((StatusCode::BAD_REQUEST, "invalid_request"))
            );
        }
        let accepted = parse(with_fault.as_bytes(), Instant::now(), true).map(|r| r.fault);
        assert_eq!(
            accepted.ok().flatten().and_then(|f| f.fail_after_tokens),
            Some(2)
        );
        let plain = parse(br#"{"question":"q"}"#, Instant::now(), true).map(|r| r.fault);
        assert_eq!(plain.ok(), Some(None));
        let unknown = r#"{"question":"q","fault":{"explode":true}}"#;
        let refused = parse(unknown.as_bytes(), Instant::now(), true).map(|_| ());
        assert_eq!(refused.map_err(|e| e.code), Err("invalid_request"));
    }

    #[test]
    fn content_types() {
        let check = |v: &'static str| is_json(Some(&header::HeaderValue::from_static(v)));
        assert!(check("application/json"));
        assert!(check("Application/JSON; charset=utf-8"));
        assert!(!check("text/plain"));
        assert!(!check("application/jsonx"));
        assert!(!is_json(None));
    }
}
