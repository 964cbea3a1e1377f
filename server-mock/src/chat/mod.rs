//! `POST /api/chat`: answers one question as a stream of server-sent events
//! and keeps the exchange in the session's history.
//!
//! Shaped after axum's `examples/sse`: the handler returns
//! `Sse<impl Stream<…>>`. The stream is pulled: each fragment is taken from
//! the model only when hyper asks for the next event, after the previous one
//! was written. A client that hangs up makes hyper drop the stream, so
//! generation stops at once (at most the fragment being paced is lost), and
//! the dropped [`recorder::Recorder`] saves the partial answer as `stopped`.
//! When a shutdown's drain ends ([`crate::shutdown`]), the stream saves its
//! partial answer as `stopped` too and ends with a `shutting_down` error.

pub mod fault;
pub mod recorder;
pub mod request;
pub mod title;

use crate::app::AppState;
use crate::auth::Caller;
use crate::corpus::Corpus;
use crate::error::ApiError;
use crate::ids::new_id;
use crate::model::{self, Turn};
use crate::protocol::{normalise_line_breaks, ChatEvent};
use crate::shutdown::{shutting_down_event, Shutdown};
use crate::store::{NewExchange, SessionTarget};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use recorder::{Ending, Recorder};
use request::ChatRequest;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a `: keep-alive` comment is sent while nothing else is.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// How many of a session's latest messages go into a follow-up's prompt
/// (docs/protocol.md, "History": 5 question–answer pairs).
pub const PROMPT_HISTORY_MESSAGES: usize = 10;

/// Streams the answer to one question: `session`, `status`…, `token`…,
/// `citations`, `done`, each with `id: <messageId>:<seq>`. A request with a
/// `fault` (test mode only) is played by [`fault::Prepared`] instead.
///
/// Everything that can refuse the request (token, body, scope, the
/// per-user stream limit, the session, the fault) is checked before the
/// question is stored, so a refused request stores nothing.
pub async fn chat(
    State(state): State<AppState>,
    Caller(user): Caller,
    request: ChatRequest,
) -> Result<Response, ApiError> {
    let scope = match &request.scope {
        Some(ids) => Some(known_conversations(&state.corpus, ids)?),
        None => None,
    };
    let slot = state.streams.try_acquire(&user.id).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_streams",
            format!(
                "at most {} answers may stream at once for one user",
                state.streams.max_per_user()
            ),
        )
    })?;
    // The prompt's history is read before the new question is stored.
    let (session, history) = match &request.session_id {
        Some(id) => {
            let (owner, wanted) = (user.id.clone(), id.clone());
            let messages = state
                .store
                .blocking(move |store| {
                    store.recent_messages(&owner, &wanted, PROMPT_HISTORY_MESSAGES)
                })
                .await?
                .ok_or_else(ApiError::session_not_found)?;
            let history = messages
                .into_iter()
                .map(|message| Turn {
                    role: message.role,
                    text: message.text,
                })
                .collect();
            (SessionTarget::Existing(id.clone()), history)
        }
        None => (
            SessionTarget::New {
                id: new_id("s_"),
                title: title::session_title(&request.question),
            },
            Vec::new(),
        ),
    };
    let session_id = match &session {
        SessionTarget::Existing(id) | SessionTarget::New { id, .. } => id.clone(),
    };

    let mut answer = model::answer(&state.corpus, &request.question, scope.as_deref(), &history);
    if let Some(fault) = &request.fault {
        fault.rewrite(&mut answer, &request.question);
    }
    // What is recorded is what is sent: line breaks as the wire has them.
    answer.fragments = normalise_line_breaks(std::mem::take(&mut answer.fragments));
    let message_id = new_id("m_");
    let head = head(session_id, message_id.clone(), answer.status_messages());
    let citations_event = (!answer.citations.is_empty()).then(|| ChatEvent::Citations {
        citations: answer.citations.clone(),
    });
    let refuse_writes = request
        .fault
        .as_ref()
        .is_some_and(|fault| fault.fail_storage == Some(true));
    let prepared = match request.fault {
        Some(fault) => Some(
            fault::prepare(
                fault,
                fault::Script {
                    head: head.clone(),
                    fragments: answer.fragments.clone(),
                    citations: citations_event.clone(),
                    message_id: message_id.clone(),
                    received_at: request.received_at,
                    token_delay: state.token_delay,
                },
            )
            .await?,
        ),
        None => None,
    };

    let exchange = {
        let new = NewExchange {
            owner: user.id.clone(),
            session,
            question_id: new_id("m_"),
            question: request.question.clone(),
            answer_id: message_id.clone(),
        };
        state
            .store
            .blocking(move |store| store.start_exchange(&new))
            .await?
            // Deleted between reading its history and now.
            .ok_or_else(ApiError::session_not_found)?
    };
    state.monitor.prompted(&message_id, &history);
    let mut recorder = Recorder::new(
        state.store.clone(),
        Arc::clone(&state.monitor),
        &exchange,
        message_id.clone(),
        answer.citations,
        slot,
    );
    if refuse_writes {
        recorder.refuse_writes();
    }
    if let Some(prepared) = prepared {
        return Ok(prepared.respond(recorder, state.shutdown.clone()).await);
    }
    let answering = Answering {
        head: head.into_iter(),
        fragments: answer.fragments.into_iter(),
        citations: citations_event,
        tokens_sent: 0,
        token_delay: state.token_delay,
        received_at: request.received_at,
        message_id,
        seq: 0,
        recorder,
        shutdown: state.shutdown.clone(),
        over: false,
    };
    Ok(Sse::new(events(answering))
        .keep_alive(
            KeepAlive::new()
                .interval(KEEP_ALIVE_INTERVAL)
                .text("keep-alive"),
        )
        .into_response())
}

/// `ids` without repeats, in their order; 400 `unknown_conversation` if
/// one of them is not in the corpus.
fn known_conversations(corpus: &Corpus, ids: &[String]) -> Result<Vec<String>, ApiError> {
    let mut known: Vec<String> = Vec::with_capacity(ids.len());
    for id in ids {
        if !corpus.conversations().iter().any(|c| &c.id == id) {
            let shown: String = id.chars().take(80).collect();
            return Err(ApiError::bad_request(
                "unknown_conversation",
                format!("`scope.conversationIds`: no conversation {shown:?}"),
            ));
        }
        if !known.contains(id) {
            known.push(id.clone());
        }
    }
    Ok(known)
}

/// `session`, then the model's `status` messages (sent before the first token).
fn head(session_id: String, message_id: String, statuses: Vec<String>) -> Vec<ChatEvent> {
    let session = ChatEvent::Session {
        session_id,
        message_id,
    };
    std::iter::once(session)
        .chain(
            statuses
                .into_iter()
                .map(|message| ChatEvent::Status { message }),
        )
        .collect()
}

/// Where the ordinary stream is, between two events.
struct Answering {
    head: std::vec::IntoIter<ChatEvent>,
    /// The model's fragments not yet generated.
    fragments: std::vec::IntoIter<String>,
    citations: Option<ChatEvent>,
    tokens_sent: usize,
    token_delay: Duration,
    received_at: Instant,
    message_id: String,
    seq: usize,
    recorder: Recorder,
    shutdown: Shutdown,
    over: bool,
}

impl Answering {
    /// The next event, or `None` after `done` or `error`.
    async fn next(&mut self) -> Option<ChatEvent> {
        if self.over {
            return None;
        }
        // `session` is always first, even on a stream the shutdown cuts
        // short: the client learns which answer was cut.
        if self.seq > 0 && self.shutdown.streams_ended() {
            return Some(self.shut_down().await);
        }
        if let Some(event) = self.head.next() {
            return Some(event);
        }
        if self.fragments.len() > 0 {
            // The pause comes before the fragment is taken, so a client
            // that leaves during it gets nothing more generated.
            if self.tokens_sent > 0
                && !self.token_delay.is_zero()
                && !self.shutdown.pause(self.token_delay).await
            {
                return Some(self.shut_down().await);
            }
            let fragment = self.fragments.next()?;
            self.recorder.generated(&fragment);
            self.tokens_sent += 1;
            return Some(ChatEvent::Token(fragment));
        }
        if let Some(citations) = self.citations.take() {
            return Some(citations);
        }
        self.over = true;
        // Saved before `done` is sent: a client that has `done` finds the
        // answer in the history, and one whose answer could not be saved
        // is told so instead.
        if self.recorder.finish(Ending::Done).await.is_err() {
            return Some(ChatEvent::storage_failed());
        }
        Some(ChatEvent::Done {
            message_id: self.message_id.clone(),
            // Measured here, so that it covers the whole stream, pacing included.
            processing_ms: u64::try_from(self.received_at.elapsed().as_millis())
                .unwrap_or(u64::MAX),
            token_count: self.tokens_sent,
        })
    }

    /// Ends the stream for a shutdown: the partial answer is saved as
    /// stopped, as when the client goes (for the user it is the same: an
    /// answer cut short, to ask again), before the event says so.
    async fn shut_down(&mut self) -> ChatEvent {
        self.over = true;
        match self.recorder.finish(Ending::Stopped).await {
            Ok(()) => shutting_down_event(),
            Err(_) => ChatEvent::storage_failed(),
        }
    }
}

/// The ordinary stream, numbered `<messageId>:1`, `:2`, …
fn events(answering: Answering) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(answering, |mut answering| async move {
        let event = answering.next().await?;
        answering.seq += 1;
        let sse = event.to_sse(&answering.message_id, answering.seq);
        Some((Ok(sse), answering))
    })
}
