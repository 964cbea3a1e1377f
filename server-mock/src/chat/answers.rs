//! The routes of one answer: `POST /api/chat/{messageId}/stop` and
//! `GET /api/chat/{messageId}/stream` (docs/protocol.md, "Stop" and
//! "Resume"). Both answer 404 `message_not_found` for an id that is not
//! one of the caller's answers, exactly as for one that does not exist.

use super::event_stream;
use super::live::{LiveAnswer, Refusal};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::StoredMessage;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

/// `POST /api/chat/{messageId}/stop`.
#[derive(Debug, Serialize)]
pub struct Stopped {
    /// The answer as the history has it now, the same object as in
    /// `GET /api/sessions/{id}/messages`.
    pub message: StoredMessage,
}

/// The message id of the path; one that can't be decoded names no message.
fn message_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::message_not_found())
}

/// The registered answer `id`, if it is the caller's.
fn live_answer(state: &AppState, owner: &str, id: &str) -> Option<Arc<LiveAnswer>> {
    state.live.get(id).filter(|answer| answer.owner() == owner)
}

/// `POST /api/chat/{messageId}/stop`: stops generation at once (even in a
/// pacing pause), saves the answer as stopped, and answers 200 with what
/// the history now holds. Idempotent: an answer that already ended (done,
/// failed, stopped, or long gone from memory) is answered as saved,
/// unchanged. 409 `not_stoppable` for an answer a test-mode fault is
/// playing (not resumable, so not stoppable either: its client stops it by
/// hanging up).
pub async fn stop(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Stopped>, ApiError> {
    let id = message_id(path)?;
    let live = live_answer(&state, &user.id, &id);
    if let Some(answer) = &live {
        answer.stop().await?;
    }
    let (owner, wanted) = (user.id.clone(), id.clone());
    let (_, message) = state
        .store
        .blocking(move |store| store.answer(&owner, &wanted))
        .await?
        .ok_or_else(ApiError::message_not_found)?;
    if live.is_none() && message.streaming {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_stoppable",
            "this answer is played by a test-mode fault; it stops when its client hangs up",
        ));
    }
    Ok(Json(Stopped { message }))
}

/// `GET /api/chat/{messageId}/stream`, with or without `Last-Event-ID`:
/// `session`, then every logged event after the one named (all of them
/// without it), with their original ids, then the rest live. It takes
/// over from the reader attached, if any. 410 `resume_expired` for an
/// answer of the caller's whose window has passed; 404 `not_resumable`
/// for one a test-mode fault is playing.
pub async fn stream(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = message_id(path)?;
    let last = last_event_id(&headers, &id)?;
    let Some(answer) = live_answer(&state, &user.id, &id) else {
        return Err(gone_or_unknown(&state, &user.id, &id).await);
    };
    let reader = answer.attach(last).map_err(|refusal| match refusal {
        Refusal::Expired => resume_expired(),
        Refusal::NotSent(sent) => ApiError::bad_request(
            "unknown_last_event_id",
            format!("`Last-Event-ID` names an event not sent yet: {sent} were sent"),
        ),
    })?;
    state.monitor.resumed(&id);
    Ok(event_stream(reader.events()))
}

/// Why the caller's answer `id` can't be resumed when it is not in memory.
async fn gone_or_unknown(state: &AppState, owner: &str, id: &str) -> ApiError {
    let (owner, wanted) = (owner.to_owned(), id.to_owned());
    match state
        .store
        .blocking(move |store| store.answer(&owner, &wanted))
        .await
    {
        Err(err) => err.into(),
        Ok(None) => ApiError::message_not_found(),
        Ok(Some((_, message))) if message.streaming => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_resumable",
            "this answer is played by a test-mode fault and can't be resumed",
        ),
        Ok(Some(_)) => resume_expired(),
    }
}

fn resume_expired() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "resume_expired",
        "the answer can no longer be resumed; the history has it as saved",
    )
}

/// The seq of a `Last-Event-ID: <messageId>:<seq>` header for `message_id`;
/// `None` without the header. 400 `invalid_last_event_id` for one of
/// another shape (a seq from 1, in decimal digits), 400
/// `last_event_id_mismatch` for one naming another message.
fn last_event_id(headers: &HeaderMap, message_id: &str) -> Result<Option<usize>, ApiError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let malformed = || {
        ApiError::bad_request(
            "invalid_last_event_id",
            "`Last-Event-ID` must be `<messageId>:<seq>`, as the stream's `id:` lines are",
        )
    };
    let text = value.to_str().map_err(|_| malformed())?.trim();
    let (id, seq) = text.rsplit_once(':').ok_or_else(malformed)?;
    if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let seq: usize = seq.parse().map_err(|_| malformed())?;
    if seq == 0 || id.is_empty() {
        return Err(malformed());
    }
    if id != message_id {
        return Err(ApiError::bad_request(
            "last_event_id_mismatch",
            "`Last-Event-ID` names an event of another message",
        ));
    }
    Ok(Some(seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parsed(value: Option<&'static str>) -> Result<Option<usize>, &'static str> {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert("last-event-id", HeaderValue::from_static(value));
        }
        last_event_id(&headers, "m_1").map_err(|err| {
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            err.code
        })
    }

    #[test]
    fn last_event_ids_are_checked() {
        assert_eq!(parsed(None), Ok(None));
        assert_eq!(parsed(Some("m_1:7")), Ok(Some(7)));
        assert_eq!(parsed(Some(" m_1:1 ")), Ok(Some(1)));
        assert_eq!(parsed(Some("m_2:7")), Err("last_event_id_mismatch"));
        for bad in [
            "",
            "m_1",
            "m_1:",
            ":3",
            "m_1:0",
            "m_1:-1",
            "m_1:+2",
            "m_1:x",
            "m_1:3.0",
            "m_1:99999999999999999999999",
        ] {
            assert_eq!(parsed(Some(bad)), Err("invalid_last_event_id"), "{bad:?}");
        }
    }
}
