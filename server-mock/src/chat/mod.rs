//! `POST /api/chat`: answers one question as a stream of server-sent events.
//!
//! Shaped after axum's `examples/sse`: the handler returns
//! `Sse<impl Stream<…>>` built lazily from combinators, so a client that
//! hangs up simply drops the stream and nothing more is generated.

pub mod fault;
pub mod request;

use crate::app::AppState;
use crate::ids::new_id;
use crate::model;
use crate::protocol::ChatEvent;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use request::ChatRequest;
use std::convert::Infallible;
use std::time::Duration;

/// How often a `: keep-alive` comment is sent while nothing else is.
pub const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(15);

/// Streams the answer to one question: `session`, `status`…, `token`…,
/// `citations`, `done`, each with `id: <messageId>:<seq>`. A request with a
/// `fault` (test mode only) is answered by [`fault::respond`] instead.
pub async fn chat(State(state): State<AppState>, request: ChatRequest) -> Response {
    let session_id = request.session_id.unwrap_or_else(|| new_id("s_"));
    let message_id = new_id("m_");
    let answer = model::answer(&state.corpus, &request.question);
    let head = head(
        session_id,
        message_id.clone(),
        state.corpus.conversations().len(),
        answer.passages_found,
    );
    let citations = (!answer.citations.is_empty()).then_some(ChatEvent::Citations {
        citations: answer.citations,
    });
    let Some(fault) = request.fault else {
        return Sse::new(events(
            head,
            answer.fragments,
            citations,
            message_id,
            request.received_at,
            state.token_delay,
        ))
        .keep_alive(
            KeepAlive::new()
                .interval(KEEP_ALIVE_INTERVAL)
                .text("keep-alive"),
        )
        .into_response();
    };
    let script = fault::Script {
        head,
        fragments: answer.fragments,
        citations,
        message_id,
        received_at: request.received_at,
        token_delay: state.token_delay,
    };
    match fault::respond(fault, script).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// `session` and the `status` events sent before the first token.
fn head(
    session_id: String,
    message_id: String,
    conversations: usize,
    passages_found: usize,
) -> Vec<ChatEvent> {
    vec![
        ChatEvent::Session {
            session_id,
            message_id,
        },
        ChatEvent::Status {
            message: format!(
                "Searching across {}...",
                counted(conversations, "conversation")
            ),
        },
        ChatEvent::Status {
            message: format!("Found {}", counted(passages_found, "relevant passage")),
        },
    ]
}

/// The ordinary stream: built lazily from combinators, so a client that
/// hangs up simply drops it and nothing more is generated.
fn events(
    head: Vec<ChatEvent>,
    fragments: Vec<String>,
    citations: Option<ChatEvent>,
    message_id: String,
    received_at: std::time::Instant,
    token_delay: Duration,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let token_count = fragments.len();
    let tokens = paced(fragments, token_delay).map(ChatEvent::Token);
    let done_id = message_id.clone();
    // Lazy, so that `processingMs` covers the whole stream, pacing included.
    let done = stream::once(async move {
        ChatEvent::Done {
            message_id: done_id,
            processing_ms: u64::try_from(received_at.elapsed().as_millis()).unwrap_or(u64::MAX),
            token_count,
        }
    });
    stream::iter(head)
        .chain(tokens)
        .chain(stream::iter(citations))
        .chain(done)
        .enumerate()
        .map(move |(i, event)| Ok(event.to_sse(&message_id, i + 1)))
}

/// Yields `items` with `delay` between consecutive ones (none before the
/// first, and no timer at all when `delay` is zero).
fn paced<T>(items: Vec<T>, delay: Duration) -> impl Stream<Item = T> {
    stream::iter(items.into_iter().enumerate()).then(move |(i, item)| async move {
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        item
    })
}

/// `1 conversation`, `3 conversations`.
fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
