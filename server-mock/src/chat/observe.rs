//! `GET /api/_test/answers/{messageId}`, routed in test mode only: what the
//! server did for one of the caller's answers, for client tests (in a
//! browser) to observe from outside the stream: that a resume sent no
//! second `POST /api/chat`, how much a paused answer holds in memory, and
//! how it was saved. Read from the [`crate::monitor`] and the answer's
//! [`super::live`] entry.
//!
//! `POST /api/_test/answers/{messageId}/drop`, routed beside it, drops the
//! connection reading one of the caller's answers now, as a network
//! failure would: for a test that must choose the moment (the browser
//! offline first), where `dropAtSeqs` fixes the point in the answer ahead.

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::User;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

/// What is known of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observed {
    /// Fragments the model produced for it.
    pub fragments: usize,
    /// `POST /api/chat` requests its session received so far.
    pub chat_posts: usize,
    /// `GET /api/chat/{messageId}/stream` requests served for it.
    pub resumes: usize,
    /// Events sent to resumed readers from the log, in all.
    pub replayed_events: usize,
    /// Events its log holds (0 once it is forgotten).
    pub log_events: usize,
    /// Encoded bytes of those events.
    pub log_bytes: usize,
    /// Being generated or paused, as the history shows it.
    pub streaming: bool,
    /// How it went into the history, once it did.
    pub saved: Option<ObservedSave>,
}

/// [`crate::monitor::Saved`] as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedSave {
    /// Its text, whole or partial.
    pub text: String,
    /// Whether it was saved as stopped.
    pub stopped: bool,
    /// Whether the store took it.
    pub stored: bool,
}

/// The caller's answer `id`, with the session it is in; 404
/// `message_not_found` for anything else.
async fn owned(
    state: &AppState,
    user: &User,
    path: Result<Path<String>, PathRejection>,
) -> Result<(String, String, bool), ApiError> {
    let Path(id) = path.map_err(|_| ApiError::message_not_found())?;
    let (owner, wanted) = (user.id.clone(), id.clone());
    let (session_id, message) = state
        .store
        .blocking(move |store| store.answer(&owner, &wanted))
        .await?
        .ok_or_else(ApiError::message_not_found)?;
    Ok((id, session_id, message.streaming))
}

/// The observation handler; 404 `message_not_found` for anything but the
/// caller's answer.
pub async fn answer(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Observed>, ApiError> {
    let (id, session_id, streaming) = owned(&state, &user, path).await?;
    let progress = state.monitor.progress(&id).unwrap_or_default();
    let live = state.live.get(&id).map(|answer| answer.snapshot());
    Ok(Json(Observed {
        fragments: progress.fragments,
        chat_posts: state.monitor.chat_posts(&session_id),
        resumes: progress.resumes,
        replayed_events: progress.replayed_events,
        log_events: live.map_or(0, |l| l.log_events),
        log_bytes: live.map_or(0, |l| l.log_bytes),
        streaming: live.map_or(streaming, |l| l.streaming),
        saved: progress.saved.map(|saved| ObservedSave {
            text: saved.text,
            stopped: saved.stopped,
            stored: saved.stored,
        }),
    }))
}

/// The drop handler: 204 once the connection reading the caller's answer
/// is told to drop; 409 `no_reader` if no connection reads it (paused,
/// or past its window); 404 `message_not_found` for anything but the
/// caller's answer.
pub async fn drop_reader(
    State(state): State<AppState>,
    Caller(user): Caller,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (id, _, _) = owned(&state, &user, path).await?;
    if state.live.get(&id).is_some_and(|answer| answer.cut()) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_reader",
            "no connection is reading this answer",
        ))
    }
}
