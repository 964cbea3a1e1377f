//! Bytes in, render-ready output out: the event-stream parser, the protocol
//! decoder and the citation buffer in one call per network chunk, with a
//! record of the answer so far.

mod batch;
mod error;
mod resume;
mod transcript;

use self::batch::Release;
pub use self::batch::SegmentBatch;
pub use self::error::PipelineError;
use self::resume::{event_id, seq_of, Position};
pub use self::transcript::{SegmentLog, StreamEnd, Transcript};
use super::adapter::{Adapter, AdapterError, ForeignEvent, Problem};
use super::citation::{
    resolve, table_class, CitationBuffer, CitationOptions, Classify, Resolution, Segment,
};
use super::markdown::{MarkdownSegment, MarkdownSegmenter};
use super::protocol::{
    decode_payload, ChatEvent, Citation, DoneInfo, EventKind, Json, ServerErrorInfo, SessionInfo,
    StatusInfo,
};
use super::sse::{decode, EventRef, EventSink, EventStreamParser};

/// What the pipeline hands to the application, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The `session` event.
    Session(SessionInfo),
    /// A `status` event.
    Status(StatusInfo),
    /// Consecutive pieces of the answer, ready to render.
    Segments(SegmentBatch),
    /// Consecutive pieces of the answer's Markdown tree (Markdown mode).
    Markdown(Vec<MarkdownSegment>),
    /// The `citations` event, with its sources matched to the inline
    /// citations already released.
    Citations(Vec<Citation>, Resolution),
    /// The `done` event.
    Done(DoneInfo),
    /// An `error` event.
    ServerError(ServerErrorInfo),
}

/// One answer's stream, from bytes to segments.
pub struct ChatPipeline {
    parser: EventStreamParser,
    answer: Answer,
    /// Another server's stream: how its events become this protocol's.
    adapter: Option<Box<dyn Adapter>>,
    /// The events handed to the adapter.
    foreign_events: u32,
}

impl std::fmt::Debug for ChatPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatPipeline")
            .field("parser", &self.parser)
            .field("answer", &self.answer)
            .field("adapter", &self.adapter.as_ref().map(|a| a.format()))
            .finish()
    }
}

/// Everything but the parser: what the events build up.
#[derive(Debug, Clone)]
struct Answer {
    segmenter: Segmenter,
    transcript: Transcript,
    /// The citation segments released so far, for resolving them against
    /// the sources: kept apart from the transcript, which the caller may
    /// take out at any time.
    cited: Vec<Segment>,
    /// The length of the chunk being fed.
    chunk_len: usize,
    /// The seq of the last event taken, for a resume.
    position: Position,
}

/// How the answer's text becomes segments.
#[derive(Debug, Clone)]
enum Segmenter {
    /// Flat text and citations.
    Flat(CitationBuffer),
    /// The Markdown tree, with citations in it.
    Markdown(Box<MarkdownSegmenter>),
}

/// Room for the text a held candidate can release: its longest bracket.
const HELD_CAPACITY: usize = 256;

/// Handles each event as the parser dispatches it: a token goes from the
/// parser's buffer through the citation buffer into the output batch with
/// no copy of its own; the first protocol error stops the rest of the chunk.
struct Events<'a, J> {
    answer: &'a mut Answer,
    adapter: Option<&'a mut (dyn Adapter + 'static)>,
    foreign_events: &'a mut u32,
    out: &'a mut Vec<Output>,
    now: f64,
    error: Option<PipelineError>,
    json: std::marker::PhantomData<J>,
}

impl<J: Json> EventSink for Events<'_, J> {
    fn event(&mut self, event: EventRef<'_>) {
        if self.error.is_some() || self.answer.transcript.end.is_some() {
            // After an error nothing more of this chunk is taken; after
            // `done` or `error` (exactly one ends a stream) nothing is part
            // of this answer.
            return;
        }
        if let Some(adapter) = self.adapter.as_deref_mut() {
            *self.foreign_events = self.foreign_events.saturating_add(1);
            let mut events = Vec::new();
            let foreign = ForeignEvent {
                event_type: &decode(event.event_type),
                data: &decode(event.data),
                id: &decode(event.last_event_id),
            };
            let result = adapter.event(foreign, &mut events);
            // What the adapter made of the stream before it failed is kept.
            for event in events {
                if self.answer.transcript.end.is_some() {
                    break;
                }
                self.answer.apply(event, self.now, self.out);
            }
            if let Err(error) = result {
                self.error = Some(error.into());
            }
            return;
        }
        let Some(kind) = EventKind::from_type_bytes(event.event_type) else {
            return;
        };
        let session = self.answer.transcript.session.as_ref();
        let seq = session.and_then(|info| seq_of(event.last_event_id, &info.message_id));
        let session_again = kind == EventKind::Session && session.is_some();
        if self.answer.position.repeated(seq, session_again) {
            return;
        }
        let result = if kind == EventKind::Token {
            match std::str::from_utf8(event.data) {
                Ok(text) => self.answer.token(text, self.now, self.out),
                Err(_) => self.answer.token(&decode(event.data), self.now, self.out),
            }
            Ok(())
        } else {
            self.answer
                .handle::<J>(kind, decode(event.data), self.now, self.out)
        };
        if let Err(error) = result {
            self.error = Some(error);
            return;
        }
        // The `session` event names the message its own id is numbered for.
        let seq = seq.or_else(|| {
            let info = self.answer.transcript.session.as_ref()?;
            seq_of(event.last_event_id, &info.message_id)
        });
        self.answer.position.took(seq);
    }
}

impl ChatPipeline {
    /// A pipeline with these limits, giving flat segments, whose
    /// citation buffer tells letters and marks by the generated table
    /// ([`table_class`]).
    pub fn new(max_event_bytes: usize, citations: CitationOptions) -> Self {
        Self::with_classify(max_event_bytes, citations, table_class)
    }

    /// A pipeline with these limits, giving flat segments, whose citation
    /// buffer tells letters and marks by `classify`.
    pub fn with_classify(
        max_event_bytes: usize,
        citations: CitationOptions,
        classify: Classify,
    ) -> Self {
        let buffer = CitationBuffer::with_classify(citations, classify);
        Self::with_segmenter(max_event_bytes, Segmenter::Flat(buffer))
    }

    /// A pipeline with these limits, giving Markdown segments
    /// ([`Output::Markdown`]); `classify` as for
    /// [`with_classify`](Self::with_classify).
    pub fn markdown(
        max_event_bytes: usize,
        citations: CitationOptions,
        classify: Classify,
    ) -> Self {
        let segmenter = Segmenter::Markdown(Box::new(MarkdownSegmenter::with_classify(
            citations, classify,
        )));
        Self::with_segmenter(max_event_bytes, segmenter)
    }

    /// Reads another server's stream through `adapter` (see
    /// [`crate::core::adapter`]) instead of this protocol: citation
    /// buffering, Markdown segments, errors and the transcript are the same.
    pub fn with_adapter(mut self, adapter: Box<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Whether the stream is read through an adapter.
    pub fn adapted(&self) -> bool {
        self.adapter.is_some()
    }

    /// The body ended cleanly: with an adapter, a stream that has not
    /// reached its format's end event is an error (the text so far stays
    /// in the transcript). This protocol's own streams are judged by the
    /// caller, which knows whether a cut connection can be resumed.
    pub fn end_of_body(&self) -> Result<(), PipelineError> {
        match &self.adapter {
            Some(adapter) if self.answer.transcript.end.is_none() => {
                Err(PipelineError::Adapter(AdapterError {
                    format: adapter.format(),
                    problem: Problem::NoEnd,
                    index: self.foreign_events,
                    event: String::new(),
                }))
            }
            _ => Ok(()),
        }
    }

    fn with_segmenter(max_event_bytes: usize, segmenter: Segmenter) -> Self {
        ChatPipeline {
            adapter: None,
            foreign_events: 0,
            parser: EventStreamParser::new(max_event_bytes),
            answer: Answer {
                segmenter,
                transcript: Transcript::default(),
                cited: Vec::new(),
                chunk_len: 0,
                position: Position::default(),
            },
        }
    }

    /// What has been received so far.
    pub fn transcript(&self) -> &Transcript {
        &self.answer.transcript
    }

    /// Takes the record out, leaving an empty one.
    pub fn take_transcript(&mut self) -> Transcript {
        std::mem::take(&mut self.answer.transcript)
    }

    /// A new connection carries on this answer after the last one dropped
    /// (see [`resume`]): the parser starts a new stream, discarding an
    /// event the drop cut short, and the events the new connection repeats
    /// are skipped. Everything else (held citations, open Markdown
    /// elements, the transcript) carries on.
    pub fn reconnect(&mut self) {
        // A parser that failed ended the stream with an error: there is
        // nothing to resume, and its error stands.
        let _ = self.parser.finish();
        self.answer.position.reconnected();
    }

    /// The `Last-Event-ID` that resumes the answer after the last event
    /// taken: `None` before the `session` event.
    pub fn resume_id(&self) -> Option<String> {
        let info = self.answer.transcript.session.as_ref()?;
        Some(event_id(&info.message_id, self.answer.position.last_seq()))
    }

    /// The seq of the last event taken (0 before any numbered one).
    pub fn last_seq(&self) -> u64 {
        self.answer.position.last_seq()
    }

    /// Whether `done` or `error` has arrived.
    pub fn ended(&self) -> bool {
        self.answer.transcript.end.is_some()
    }

    /// When a held citation candidate times out, if one is held.
    pub fn deadline(&self) -> Option<f64> {
        match &self.answer.segmenter {
            Segmenter::Flat(buffer) => buffer.deadline(),
            Segmenter::Markdown(segmenter) => segmenter.deadline(),
        }
    }

    /// Processes one network chunk received at `now` (ms). Output produced
    /// before an error is still appended to `out`: nothing received is lost.
    pub fn feed<J: Json>(
        &mut self,
        bytes: &[u8],
        now: f64,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        self.answer.chunk_len = bytes.len();
        let mut events = Events::<J> {
            answer: &mut self.answer,
            adapter: self.adapter.as_deref_mut(),
            foreign_events: &mut self.foreign_events,
            out,
            now,
            error: None,
            json: std::marker::PhantomData,
        };
        let parsed = self.parser.feed(bytes, &mut events);
        if let Some(error) = events.error {
            return Err(error);
        }
        parsed.map_err(PipelineError::from)
    }

    /// Releases a held candidate whose timeout has passed.
    pub fn poll(&mut self, now: f64, out: &mut Vec<Output>) {
        self.answer.poll(now, out);
    }

    /// The stream is over (ended, failed or stopped): releases everything
    /// still held as text.
    pub fn finish(&mut self, out: &mut Vec<Output>) {
        self.answer.finish(out);
    }
}

impl Answer {
    fn poll(&mut self, now: f64, out: &mut Vec<Output>) {
        match &mut self.segmenter {
            Segmenter::Flat(buffer) => buffer.poll(
                now,
                &mut Release {
                    out,
                    capacity: HELD_CAPACITY,
                    transcript: &mut self.transcript,
                    cited: &mut self.cited,
                },
            ),
            Segmenter::Markdown(segmenter) => {
                let mut segments = Vec::new();
                segmenter.poll(now, &mut segments);
                release_markdown(segments, &mut self.transcript, &mut self.cited, out);
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Output>) {
        match &mut self.segmenter {
            Segmenter::Flat(buffer) => buffer.finish(&mut Release {
                out,
                capacity: HELD_CAPACITY,
                transcript: &mut self.transcript,
                cited: &mut self.cited,
            }),
            Segmenter::Markdown(segmenter) => {
                let mut segments = Vec::new();
                segmenter.finish(&mut segments);
                release_markdown(segments, &mut self.transcript, &mut self.cited, out);
            }
        }
    }

    fn token(&mut self, text: &str, now: f64, out: &mut Vec<Output>) {
        self.transcript.text.push_str(text);
        match &mut self.segmenter {
            Segmenter::Flat(buffer) => buffer.push(
                text,
                now,
                &mut Release {
                    out,
                    // The chunk's released text is part of its bytes, plus
                    // what was held from before.
                    capacity: self.chunk_len + HELD_CAPACITY,
                    transcript: &mut self.transcript,
                    cited: &mut self.cited,
                },
            ),
            Segmenter::Markdown(segmenter) => {
                let mut segments = Vec::new();
                segmenter.push(text, now, &mut segments);
                release_markdown(segments, &mut self.transcript, &mut self.cited, out);
            }
        }
    }

    fn handle<J: Json>(
        &mut self,
        kind: EventKind,
        data: String,
        now: f64,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        let event = decode_payload::<J>(kind, data)?;
        self.apply(event, now, out);
        Ok(())
    }

    /// One protocol event, decoded or made by an adapter.
    fn apply(&mut self, event: ChatEvent, now: f64, out: &mut Vec<Output>) {
        match event {
            ChatEvent::Session(info) => {
                self.transcript.session = Some(info.clone());
                out.push(Output::Session(info));
            }
            ChatEvent::Status(info) => out.push(Output::Status(info)),
            // `Events` gives tokens the direct path; this one is equivalent.
            ChatEvent::Token(text) => self.token(&text, now, out),
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
    }
}

/// Markdown segments into the output's last batch of them (a new one when
/// something else came last), the transcript, and the citations to resolve.
fn release_markdown(
    segments: Vec<MarkdownSegment>,
    transcript: &mut Transcript,
    cited: &mut Vec<Segment>,
    out: &mut Vec<Output>,
) {
    if segments.is_empty() {
        return;
    }
    for segment in &segments {
        if let MarkdownSegment::Citation {
            text, citations, ..
        } = segment
        {
            cited.push(Segment::Citation {
                text: text.clone(),
                citations: citations.clone(),
            });
        }
    }
    transcript.markdown.extend(segments.iter().cloned());
    match out.last_mut() {
        Some(Output::Markdown(batch)) => batch.extend(segments),
        _ => out.push(Output::Markdown(segments)),
    }
}

#[cfg(test)]
mod tests;
