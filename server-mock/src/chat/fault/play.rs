//! Playing a faulty answer: the steps laid out by [`super::plan`] become
//! the response body, event by event, with the recorder told what was
//! generated and how the answer ended. A shutdown's end of drain cuts the
//! play short as it does the ordinary stream: pauses end early, the answer
//! is saved as stopped and a `shutting_down` error is the last event.

use super::{plan, sliced, Fault, Script, Step};
use crate::chat::recorder::{Ending, Recorder};
use crate::error::ApiError;
use crate::protocol::ChatEvent;
use crate::shutdown::{shutting_down_event, Shutdown};
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::io;
use std::time::{Duration, Instant};

/// A faulty answer laid out and checked, ready to be played once its
/// question is stored.
#[derive(Debug)]
pub struct Prepared {
    steps: Vec<Step>,
    writer: Writer,
    pause_before_first_byte: Option<Duration>,
    /// With `splitAt` the body is rendered before it is sent: what it
    /// generated and how it ends, for the history.
    rendered: Option<(Vec<String>, Ending)>,
}

/// Lays out `script` with `fault` applied. 400 for a fault this answer
/// can't honour (a count past its tokens, an offset past its body, no
/// citation to pause in); checked before anything is stored, so a refused
/// request leaves no trace.
pub async fn prepare(fault: Fault, script: Script) -> Result<Prepared, ApiError> {
    let mut writer = Writer {
        message_id: script.message_id.clone(),
        received_at: script.received_at,
        seq: 0,
        recorder: None,
        shutdown: Shutdown::new(),
    };
    let mut steps = plan(&fault, script)?;
    let mut rendered = None;
    if let Some(offsets) = &fault.split_at {
        rendered = Some(outcome(&steps));
        let (body, aborted) = writer.flatten(steps).await?;
        steps = sliced(body, offsets, aborted)?;
    }
    Ok(Prepared {
        steps,
        writer,
        pause_before_first_byte: fault.pause_before_first_byte_ms.map(Duration::from_millis),
        rendered,
    })
}

impl Prepared {
    /// The `text/event-stream` response, with `recorder` saving the answer
    /// as the body plays (or at once when it was rendered ahead), cut short
    /// when `shutdown` ends the streams.
    pub async fn respond(self, mut recorder: Recorder, shutdown: Shutdown) -> Response {
        let mut writer = self.writer;
        writer.shutdown = shutdown;
        match self.rendered {
            Some((fragments, ending)) => {
                for fragment in &fragments {
                    recorder.generated(fragment);
                }
                // `failStorage` is refused with `splitAt`; a real failure
                // here is in the log, and the body was rendered already.
                let _logged = recorder.finish(ending).await;
            }
            None => writer.recorder = Some(recorder),
        }
        if let Some(pause) = self.pause_before_first_byte {
            // Cut short, the body's first step sees the shutdown and ends it.
            writer.shutdown.pause(pause).await;
        }
        // The ordinary path's headers, taken from an `Sse` response.
        let (parts, _) = Sse::new(stream::empty::<Result<Event, Infallible>>())
            .into_response()
            .into_parts();
        Response::from_parts(parts, Body::from_stream(play(self.steps, writer)))
    }
}

/// The fragments `steps` send and how they end.
fn outcome(steps: &[Step]) -> (Vec<String>, Ending) {
    let mut fragments = Vec::new();
    for step in steps {
        match step {
            Step::Event(ChatEvent::Token(fragment)) => fragments.push(fragment.clone()),
            Step::Event(ChatEvent::Error { code, message, .. }) => {
                return (fragments, Ending::failed(code, message))
            }
            Step::Abort => return (fragments, Ending::Stopped),
            _ => {}
        }
    }
    (fragments, Ending::Done)
}

/// Turns steps into body bytes, numbering events as it goes, and tells the
/// recorder (if any) what was generated and how the answer ends.
#[derive(Debug)]
pub(super) struct Writer {
    pub(super) message_id: String,
    pub(super) received_at: Instant,
    pub(super) seq: usize,
    pub(super) recorder: Option<Recorder>,
    /// Watched only while `recorder` is here: a body rendered ahead was
    /// saved whole before it was sent, and plays out in milliseconds.
    pub(super) shutdown: Shutdown,
}

impl Writer {
    /// Performs one step: `None` for a sleep (once it is over).
    async fn step(&mut self, step: Step) -> Option<Result<Bytes, io::Error>> {
        let event = match step {
            Step::Event(event) => {
                if let Some(recorder) = &mut self.recorder {
                    match &event {
                        ChatEvent::Token(fragment) => recorder.generated(fragment),
                        ChatEvent::Error { code, message, .. } => {
                            // The error is sent either way; a failed save is logged.
                            let _logged = recorder.finish(Ending::failed(code, message)).await;
                        }
                        _ => {}
                    }
                }
                event
            }
            Step::Done { token_count } => {
                let saved = match &mut self.recorder {
                    Some(recorder) => recorder.finish(Ending::Done).await.is_ok(),
                    None => true,
                };
                if !saved {
                    self.seq += 1;
                    let event = ChatEvent::storage_failed().to_sse(&self.message_id, self.seq);
                    return Some(encode(event).await);
                }
                ChatEvent::Done {
                    message_id: self.message_id.clone(),
                    processing_ms: u64::try_from(self.received_at.elapsed().as_millis())
                        .unwrap_or(u64::MAX),
                    token_count,
                }
            }
            Step::KeepAlive => return Some(encode(Event::default().comment("keep-alive")).await),
            Step::Bytes(bytes) => return Some(Ok(bytes)),
            Step::Sleep(pause) => {
                if self.recorder.is_some() {
                    self.shutdown.pause(pause).await;
                } else {
                    tokio::time::sleep(pause).await;
                }
                return None;
            }
            Step::Abort => {
                if let Some(recorder) = &mut self.recorder {
                    // The connection is cut either way; a failed save is logged.
                    let _logged = recorder.finish(Ending::Stopped).await;
                }
                return Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "connection cut by an injected fault",
                )));
            }
        };
        self.seq += 1;
        Some(encode(event.to_sse(&self.message_id, self.seq)).await)
    }

    /// Whether the play must end here for a shutdown: streams were told to
    /// end, the answer is still being recorded, and `session` is out (it
    /// is always first, as on the ordinary stream).
    fn shutting_down(&self) -> bool {
        self.seq > 0 && self.recorder.is_some() && self.shutdown.streams_ended()
    }

    /// Saves the answer as stopped and gives the `shutting_down` event's
    /// bytes, the last of the body.
    async fn shut_down(&mut self) -> Result<Bytes, io::Error> {
        let saved = match &mut self.recorder {
            Some(recorder) => recorder.finish(Ending::Stopped).await.is_ok(),
            None => true,
        };
        self.recorder = None;
        self.seq += 1;
        let event = if saved {
            shutting_down_event()
        } else {
            ChatEvent::storage_failed()
        };
        encode(event.to_sse(&self.message_id, self.seq)).await
    }

    /// The bytes of every event in `steps`, without sleeping, and whether
    /// the steps end with an abort.
    pub(super) async fn flatten(&mut self, steps: Vec<Step>) -> Result<(Bytes, bool), ApiError> {
        let mut body = Vec::new();
        let mut aborted = false;
        for step in steps {
            match step {
                Step::Sleep(_) => {}
                Step::Abort => aborted = true,
                step => {
                    if let Some(bytes) = self.step(step).await {
                        body.extend_from_slice(&bytes.map_err(|err| {
                            ApiError::new(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "internal",
                                format!("could not encode the stream: {err}"),
                            )
                        })?);
                    }
                }
            }
        }
        Ok((Bytes::from(body), aborted))
    }
}

/// The response body: `steps` performed in order, lazily, so a client that
/// hangs up drops the rest; a shutdown ends it with its own event instead
/// of the next step.
fn play(steps: Vec<Step>, writer: Writer) -> impl Stream<Item = Result<Bytes, io::Error>> {
    stream::unfold(
        (steps.into_iter(), writer),
        |(mut steps, mut writer)| async move {
            loop {
                let step = steps.next()?;
                if writer.shutting_down() {
                    let last = writer.shut_down().await;
                    return Some((last, (Vec::new().into_iter(), writer)));
                }
                if let Some(item) = writer.step(step).await {
                    return Some((item, (steps, writer)));
                }
            }
        },
    )
}

/// The exact bytes axum's `Sse` writes for `event`.
pub(crate) async fn encode(event: Event) -> Result<Bytes, io::Error> {
    let body = Sse::new(stream::iter([Ok::<_, Infallible>(event)]))
        .into_response()
        .into_body();
    axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(io::Error::other)
}
