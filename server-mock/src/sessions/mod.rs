//! The history routes: the caller's sessions, a session's messages, delete
//! and export. Each answers 404 `session_not_found` for a session that is
//! not the caller's, exactly as for one that does not exist.

mod export;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{SessionSummary, StoredMessage};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// `GET /api/sessions`.
#[derive(Debug, Serialize)]
pub struct SessionList {
    /// The most recently updated first.
    pub sessions: Vec<SessionSummary>,
}

/// `GET /api/sessions/{id}/messages`, and the JSON export.
#[derive(Debug, Serialize)]
pub struct MessageList {
    /// In the order they were asked and answered.
    pub messages: Vec<StoredMessage>,
}

/// The session id of the path. A path that can't be decoded (invalid
/// percent-encoding) names no session.
fn session_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|_| ApiError::session_not_found())
}

/// `GET /api/sessions`: the caller's sessions, newest first.
pub async fn list(
    State(state): State<AppState>,
    Caller(user): Caller,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = state
        .store
        .blocking(move |store| store.sessions(&user.id))
        .await?;
    Ok(Json(SessionList { sessions }))
}

/// `GET /api/sessions/{id}/messages`. An answer still being generated, or
/// paused inside its resume window, is listed with `streaming: true` and
/// its text so far (with the citations its complete inline citations
/// cite); the store only has its placeholder.
pub async fn messages(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<MessageList>, ApiError> {
    let id = session_id(path)?;
    let mut messages = state
        .store
        .blocking(move |store| store.messages(&user.id, &id))
        .await?
        .ok_or_else(ApiError::session_not_found)?;
    for message in messages.iter_mut().filter(|m| m.streaming) {
        let so_far = state.live.get(&message.id).and_then(|a| a.so_far());
        if let Some((text, citations)) = so_far {
            message.text = text;
            message.citations = citations;
        }
    }
    Ok(Json(MessageList { messages }))
}

/// `DELETE /api/sessions/{id}`: 204. An answer still streaming into it is
/// not stored.
pub async fn delete(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = session_id(path)?;
    let deleted = state
        .store
        .blocking(move |store| store.delete_session(&user.id, &id))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::session_not_found())
    }
}

/// `GET /api/sessions/{id}/export?format=md|json`: a download. `md` is a
/// readable transcript with each answer's sources; `json` is the same
/// document as `…/messages`. Any other or no `format` is 400
/// `invalid_format`.
pub async fn export(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let id = session_id(path)?;
    let format = export::Format::from_query(uri.query())?;
    let found = state
        .store
        .blocking(move |store| {
            let Some(session) = store.session(&user.id, &id)? else {
                return Ok(None);
            };
            Ok(store
                .messages(&user.id, &id)?
                .map(|messages| (session, messages)))
        })
        .await?;
    let (session, messages) = found.ok_or_else(ApiError::session_not_found)?;
    let (content_type, body) = match format {
        export::Format::Markdown => (
            "text/markdown; charset=utf-8",
            export::markdown(&session, &messages),
        ),
        export::Format::Json => (
            "application/json",
            serde_json::to_string_pretty(&MessageList { messages }).map_err(|err| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("could not encode the export: {err}"),
                )
            })?,
        ),
    };
    // Session ids are `s_` and hex digits, safe inside the quoted filename.
    let disposition = format!(
        "attachment; filename=\"{}.{}\"",
        session.id,
        format.extension()
    );
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
