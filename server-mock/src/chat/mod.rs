//! `POST /api/chat`: answers one question as a stream of server-sent events
//! and keeps the exchange in the session's history.
//!
//! Shaped after axum's `examples/sse`: the handler returns
//! `Sse<impl Stream<…>>`. The stream is pulled: each fragment is taken from
//! the model only when a reader asks for the next event, after the previous
//! one was written. The answer is registered in [`live`], which logs its
//! events: a client that hangs up pauses generation (nobody asks for more)
//! and may resume it (`GET /api/chat/{messageId}/stream`, [`answers`])
//! within the resume window; after the window the [`recorder::Recorder`]
//! saves the partial answer as `stopped`, as `POST …/stop` does at once.
//! When a shutdown's drain ends ([`crate::shutdown`]), the stream saves its
//! partial answer as `stopped` too and ends with a `shutting_down` error.

pub mod answers;
pub mod fault;
pub mod live;
pub mod observe;
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
use crate::store::{NewExchange, SessionTarget, StoreError};
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fault::Fault;
use futures_util::stream::Stream;
use recorder::{Ending, Recorder};
use request::ChatRequest;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The response header of a resumable answer's `POST /api/chat` stream
/// that names its `messageId` before any event: a connection cut before the
/// client has read the `session` event can still be resumed.
pub const MESSAGE_ID_HEADER: HeaderName = HeaderName::from_static("cite-stream-message-id");

/// How often a `: keep-alive` comment is sent while nothing else is.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// How many of a session's latest messages go into a follow-up's prompt
/// (docs/protocol.md, "History": 5 question–answer pairs).
pub const PROMPT_HISTORY_MESSAGES: usize = 10;

/// Streams the answer to one question: `session`, `status`…, `token`…,
/// `citations`, `done`, each with `id: <messageId>:<seq>`. A request with a
/// `fault` (test mode only) that shapes the connection is played by
/// [`fault::Prepared`] instead, and is not resumable; `answerText` and
/// `dropAtSeqs` alone keep the ordinary path.
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
    state.monitor.chat_posted(&session_id);

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
    let resumable = request.fault.as_ref().is_none_or(Fault::is_resumable);
    let drops = match &request.fault {
        Some(fault) if resumable => {
            let last_seq =
                head.len() + answer.fragments.len() + usize::from(citations_event.is_some()) + 1;
            fault.drops_before(last_seq)?
        }
        _ => Vec::new(),
    };
    let prepared = match request.fault {
        Some(fault) if !resumable => Some(
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
        _ => None,
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
        answer.citations.clone(),
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
        message_id: message_id.clone(),
        seq: 0,
        recorder,
        shutdown: state.shutdown.clone(),
        over: false,
    };
    let announced = HeaderValue::from_str(&message_id).ok();
    let reader = state.live.start(live::Start {
        answering,
        owner: user.id.clone(),
        message_id,
        citations: answer.citations,
        drops,
        window: state.resume_window,
        shutdown: state.shutdown.clone(),
        monitor: Arc::clone(&state.monitor),
    });
    let mut response = event_stream(reader.events());
    if let Some(value) = announced {
        response.headers_mut().insert(MESSAGE_ID_HEADER, value);
    }
    Ok(response)
}

/// The `text/event-stream` response of `events`, with keep-alive comments:
/// the same for a POST and for a resume.
pub(crate) fn event_stream(
    events: impl Stream<Item = Result<Event, std::io::Error>> + Send + 'static,
) -> Response {
    Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(KEEP_ALIVE_INTERVAL)
                .text("keep-alive"),
        )
        .into_response()
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

/// Where the ordinary answer's generation is, between two events: the
/// generator [`live`] pulls from.
pub struct Answering {
    head: std::vec::IntoIter<ChatEvent>,
    /// The model's fragments not yet generated.
    fragments: std::vec::IntoIter<String>,
    citations: Option<ChatEvent>,
    tokens_sent: usize,
    token_delay: Duration,
    received_at: Instant,
    message_id: String,
    /// Events generated so far.
    seq: usize,
    recorder: Recorder,
    shutdown: Shutdown,
    over: bool,
}

/// How a pacing pause ended.
enum Paced {
    Over,
    ShuttingDown,
    Stopped,
}

impl Answering {
    /// The next event, or `None` after `done` or `error`, or once `stop`
    /// is cancelled (even in the middle of a pacing pause: the answer is
    /// then ended by [`Answering::stop`]).
    pub(crate) async fn next(&mut self, stop: &CancellationToken) -> Option<ChatEvent> {
        if self.over || stop.is_cancelled() {
            return None;
        }
        let event = self.generate(stop).await;
        if event.is_some() {
            self.seq += 1;
        }
        event
    }

    async fn generate(&mut self, stop: &CancellationToken) -> Option<ChatEvent> {
        // `session` is always first, even on a stream the shutdown cuts
        // short: the client learns which answer was cut.
        if self.seq > 0 && self.shutdown.streams_ended() {
            return Some(self.shut_down().await);
        }
        if let Some(event) = self.head.next() {
            return Some(event);
        }
        if self.fragments.len() > 0 {
            // The pause comes before the fragment is taken, so an answer
            // stopped during it gets nothing more generated.
            if self.tokens_sent > 0 && !self.token_delay.is_zero() {
                match self.pace(stop).await {
                    Paced::Over => {}
                    Paced::ShuttingDown => return Some(self.shut_down().await),
                    Paced::Stopped => return None,
                }
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

    /// The pause between two tokens, cut short by the drain's end or a stop.
    async fn pace(&self, stop: &CancellationToken) -> Paced {
        tokio::select! {
            biased;
            () = stop.cancelled() => Paced::Stopped,
            paused = self.shutdown.pause(self.token_delay) => {
                if paused { Paced::Over } else { Paced::ShuttingDown }
            }
        }
    }

    /// Ends the answer as stopped, unless it has ended: the partial answer
    /// is saved. `Err` if the save failed.
    pub(crate) async fn stop(&mut self) -> Result<(), StoreError> {
        self.over = true;
        self.recorder.finish(Ending::Stopped).await
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
