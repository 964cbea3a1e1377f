//! Bytes in, render-ready output out: the event-stream parser, the protocol
//! decoder and the citation buffer in one call per network chunk, with a
//! record of the answer so far.

use std::fmt;

use super::citation::{resolve, CitationBuffer, CitationOptions, Resolution, Segment};
use super::protocol::{
    decode_payload, ChatEvent, Citation, DoneInfo, EventKind, Json, ProtocolError, ServerErrorInfo, SessionInfo,
    StatusInfo,
};
use super::sse::{EventRef, EventSink, EventStreamParser, SseError};

/// What the pipeline hands to the application, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The `session` event.
    Session(SessionInfo),
    /// A `status` event.
    Status(StatusInfo),
    /// A piece of the answer, ready to render.
    Segment(Segment),
    /// The `citations` event, with its sources matched to the inline
    /// citations already released.
    Citations(Vec<Citation>, Resolution),
    /// The `done` event.
    Done(DoneInfo),
    /// An `error` event.
    ServerError(ServerErrorInfo),
}

/// Why the pipeline could not go on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipelineError {
    /// The byte stream broke the event-stream rules or its size limit.
    Sse(SseError),
    /// A known event carried a payload of the wrong shape.
    Protocol(ProtocolError),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::Sse(error) => error.fmt(f),
            PipelineError::Protocol(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<SseError> for PipelineError {
    fn from(error: SseError) -> Self {
        PipelineError::Sse(error)
    }
}

impl From<ProtocolError> for PipelineError {
    fn from(error: ProtocolError) -> Self {
        PipelineError::Protocol(error)
    }
}

/// Everything received of one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// From the `session` event.
    pub session: Option<SessionInfo>,
    /// The answer text: every token joined, equal to the segments' texts
    /// joined once the buffer is finished.
    pub text: String,
    /// Every segment released so far.
    pub segments: Vec<Segment>,
    /// From the `citations` event.
    pub citations: Vec<Citation>,
    /// How the stream ended, when it did.
    pub end: Option<StreamEnd>,
}

/// The event that ended a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEnd {
    /// `done`.
    Done(DoneInfo),
    /// `error`.
    Error(ServerErrorInfo),
}

/// One answer's stream, from bytes to segments.
#[derive(Debug, Clone)]
pub struct ChatPipeline {
    parser: EventStreamParser,
    buffer: CitationBuffer,
    transcript: Transcript,
    events: Vec<(EventKind, String)>,
    keep_segments: bool,
    /// The citation segments released so far, for resolving them against
    /// the sources (kept even when the transcript keeps no segments).
    cited: Vec<Segment>,
}

/// Collects the events of the kinds the protocol defines, decoding only
/// their data: an unknown type costs no allocation, the ID none at all.
struct KnownEvents<'a>(&'a mut Vec<(EventKind, String)>);

impl EventSink for KnownEvents<'_> {
    fn event(&mut self, event: EventRef<'_>) {
        let kind = std::str::from_utf8(event.event_type)
            .ok()
            .and_then(EventKind::from_type);
        if let Some(kind) = kind {
            self.0.push((kind, String::from_utf8_lossy(event.data).into_owned()));
        }
    }
}

impl ChatPipeline {
    /// A pipeline with these limits.
    pub fn new(max_event_bytes: usize, citations: CitationOptions) -> Self {
        ChatPipeline {
            parser: EventStreamParser::new(max_event_bytes),
            buffer: CitationBuffer::new(citations),
            transcript: Transcript::default(),
            events: Vec::new(),
            keep_segments: true,
            cited: Vec::new(),
        }
    }

    /// Whether the transcript keeps a copy of every segment (it does by
    /// default); a caller that keeps the segments it receives can turn it off.
    pub fn keep_segments(mut self, keep: bool) -> Self {
        self.keep_segments = keep;
        self
    }

    /// What has been received so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Takes the record out, leaving an empty one.
    pub fn take_transcript(&mut self) -> Transcript {
        std::mem::take(&mut self.transcript)
    }

    /// Whether `done` or `error` has arrived.
    pub fn ended(&self) -> bool {
        self.transcript.end.is_some()
    }

    /// When a held citation candidate times out, if one is held.
    pub fn deadline(&self) -> Option<f64> {
        self.buffer.deadline()
    }

    /// Processes one network chunk received at `now` (ms). Output produced
    /// before an error is still appended to `out`: nothing received is lost.
    pub fn feed<J: Json>(
        &mut self,
        bytes: &[u8],
        now: f64,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        let mut events = std::mem::take(&mut self.events);
        let parsed = self
            .parser
            .feed(bytes, &mut KnownEvents(&mut events));
        let mut result = Ok(());
        for (kind, data) in events.drain(..) {
            if let Err(error) = self.handle::<J>(kind, data, now, out) {
                result = Err(error);
                break;
            }
        }
        events.clear();
        self.events = events;
        result?;
        parsed.map_err(PipelineError::from)
    }

    /// Releases a held candidate whose timeout has passed.
    pub fn poll(&mut self, now: f64, out: &mut Vec<Output>) {
        let mut segments = Vec::new();
        self.buffer.poll(now, &mut segments);
        self.record_segments(segments, out);
    }

    /// The stream is over (ended, failed or stopped): releases everything
    /// still held as text.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        let mut segments = Vec::new();
        self.buffer.finish(&mut segments);
        self.record_segments(segments, out);
    }

    fn handle<J: Json>(
        &mut self,
        kind: EventKind,
        data: String,
        now: f64,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        if self.ended() {
            // Exactly one `done` or `error` ends a stream; anything after it
            // is not part of this answer.
            return Ok(());
        }
        match decode_payload::<J>(kind, data)? {
            ChatEvent::Session(info) => {
                self.transcript.session = Some(info.clone());
                out.push(Output::Session(info));
            }
            ChatEvent::Status(info) => out.push(Output::Status(info)),
            ChatEvent::Token(text) => {
                self.transcript.text.push_str(&text);
                let mut segments = Vec::new();
                self.buffer.push_owned(text, now, &mut segments);
                self.record_segments(segments, out);
            }
            ChatEvent::Citations(citations) => {
                // Sent after the last token: a candidate still held can no
                // longer complete.
                self.finish(out);
                let resolution = resolve(&self.cited, &citations);
                self.transcript.citations = citations.clone();
                out.push(Output::Citations(citations, resolution));
            }
            ChatEvent::Done(info) => {
                self.finish(out);
                self.transcript.end = Some(StreamEnd::Done(info.clone()));
                out.push(Output::Done(info));
            }
            ChatEvent::Error(info) => {
                self.finish(out);
                self.transcript.end = Some(StreamEnd::Error(info.clone()));
                out.push(Output::ServerError(info));
            }
        }
        Ok(())
    }

    fn record_segments(&mut self, segments: Vec<Segment>, out: &mut Vec<Output>) {
        for segment in segments {
            if matches!(segment, Segment::Citation { .. }) {
                self.cited.push(segment.clone());
            }
            if self.keep_segments {
                self.transcript.segments.push(segment.clone());
            }
            out.push(Output::Segment(segment));
        }
    }
}

#[cfg(test)]
mod tests;
