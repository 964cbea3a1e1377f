//! Bytes in, render-ready output out: the event-stream parser, the protocol
//! decoder and the citation buffer in one call per network chunk, with a
//! record of the answer so far.

use std::fmt;

use super::citation::{
    resolve, CitationBuffer, CitationOptions, CitationRef, Resolution, Segment, SegmentSink,
};
use super::protocol::{
    decode_payload, ChatEvent, Citation, DoneInfo, EventKind, Json, ProtocolError, ServerErrorInfo,
    SessionInfo, StatusInfo,
};
use super::sse::{decode, EventRef, EventSink, EventStreamParser, SseError};

/// What the pipeline hands to the application, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The `session` event.
    Session(SessionInfo),
    /// A `status` event.
    Status(StatusInfo),
    /// Consecutive pieces of the answer, ready to render.
    Segments(SegmentBatch),
    /// The `citations` event, with its sources matched to the inline
    /// citations already released.
    Citations(Vec<Citation>, Resolution),
    /// The `done` event.
    Done(DoneInfo),
    /// An `error` event.
    ServerError(ServerErrorInfo),
}

/// Consecutive segments, packed: their texts joined by CR, which no text
/// can contain (answer text comes from event-stream data, where CR ends a
/// line), with the entries of the citation segments among them. One batch
/// crosses to JS in one call; [`segments`](Self::segments) unpacks it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentBatch {
    /// The texts, joined by CR.
    pub packed: String,
    /// How many segments.
    pub len: usize,
    /// For each citation segment, its index in the batch and its entries.
    pub citations: Vec<(usize, Vec<CitationRef>)>,
    /// Whether the last segment is text that more text may join.
    text_open: bool,
}

impl SegmentBatch {
    /// Starts a new segment with `text`.
    fn add_segment(&mut self, text: &str) {
        if self.len > 0 {
            self.packed.push('\r');
        }
        self.packed.push_str(text);
        self.len += 1;
    }

    /// Adds text at the end: to the last segment when that is text too, so
    /// that the tokens of one network chunk reach JS as one text segment
    /// (one object and one callback instead of one per token; the text a
    /// reader sees at each moment is the same).
    pub fn push_text(&mut self, text: &str) {
        if self.text_open {
            self.packed.push_str(text);
        } else {
            self.add_segment(text);
            self.text_open = true;
        }
    }

    /// Adds a citation segment at the end.
    pub fn push_citation(&mut self, text: &str, entries: Vec<CitationRef>) {
        self.citations.push((self.len, entries));
        self.add_segment(text);
        self.text_open = false;
    }

    /// The next text starts a segment of its own: a new network chunk
    /// begins.
    pub fn break_text(&mut self) {
        self.text_open = false;
    }

    /// Adds one segment at the end; text joins a text segment before it.
    pub fn add(&mut self, segment: Segment) {
        match segment {
            Segment::Text { text } => self.push_text(&text),
            Segment::Citation { text, citations } => self.push_citation(&text, citations),
        }
    }

    /// The segments, one by one.
    pub fn segments(&self) -> Vec<Segment> {
        let mut citations = self.citations.iter().peekable();
        self.packed
            .split('\r')
            .enumerate()
            .map(|(i, text)| match citations.next_if(|(at, _)| *at == i) {
                Some((_, entries)) => Segment::Citation {
                    text: text.to_owned(),
                    citations: entries.clone(),
                },
                None => Segment::Text {
                    text: text.to_owned(),
                },
            })
            .collect()
    }
}

/// The pipeline's sink for released segments: straight into the output's
/// last batch (a new one when something else came last), and into the
/// transcript's record of the same segments.
struct Release<'a> {
    out: &'a mut Vec<Output>,
    /// Room to reserve for a new batch's text: enough for what this call
    /// can release, so the text is not copied as it grows.
    capacity: usize,
    transcript: &'a mut Transcript,
    keep_segments: bool,
    cited: &'a mut Vec<Segment>,
}

impl Release<'_> {
    fn with_batch(&mut self, add: impl FnOnce(&mut SegmentBatch)) {
        if !matches!(self.out.last(), Some(Output::Segments(_))) {
            self.out.push(Output::Segments(SegmentBatch {
                packed: String::with_capacity(self.capacity),
                ..SegmentBatch::default()
            }));
            // The transcript keeps the segments as they are delivered.
            self.transcript.segments.break_text();
        }
        if let Some(Output::Segments(batch)) = self.out.last_mut() {
            add(batch);
        }
    }
}

impl SegmentSink for Release<'_> {
    fn text(&mut self, text: &str) {
        self.with_batch(|batch| batch.push_text(text));
        if self.keep_segments {
            self.transcript.segments.text(text.len());
        }
    }

    fn citation(&mut self, text: String, entries: Vec<CitationRef>) {
        self.with_batch(|batch| batch.push_citation(&text, entries.clone()));
        if self.keep_segments {
            self.transcript
                .segments
                .citation(text.len(), entries.clone());
        }
        self.cited.push(Segment::Citation {
            text,
            citations: entries,
        });
    }
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
    /// Where each segment released so far ends in `text`, as they were
    /// delivered (the text of one chunk is one segment);
    /// [`segments`](Self::segments) cuts them out.
    pub segments: SegmentLog,
    /// From the `citations` event.
    pub citations: Vec<Citation>,
    /// How the stream ended, when it did.
    pub end: Option<StreamEnd>,
}

impl Transcript {
    /// The segments released so far, cut out of `text`.
    pub fn segments(&self) -> Vec<Segment> {
        let mut citations = self.segments.citations.iter().peekable();
        let mut start = 0;
        let mut segments = Vec::with_capacity(self.segments.ends.len());
        for (i, &end) in self.segments.ends.iter().enumerate() {
            let text = self.text.get(start..end).unwrap_or_default().to_owned();
            start = end;
            segments.push(match citations.next_if(|(at, _)| *at == i) {
                Some((_, entries)) => Segment::Citation {
                    text,
                    citations: entries.clone(),
                },
                None => Segment::Text { text },
            });
        }
        segments
    }
}

/// The segments of an answer as they were delivered, without their text:
/// where each ends in the transcript's text (released text is always a
/// prefix of it), and the entries of the citation segments. Logging one
/// costs a few integer operations, not a copy of the text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentLog {
    /// The byte offset in the transcript's text where each segment ends.
    pub ends: Vec<usize>,
    /// For each citation segment, its index and its entries.
    pub citations: Vec<(usize, Vec<CitationRef>)>,
    /// Whether the last segment is text that more text may join.
    text_open: bool,
}

impl SegmentLog {
    fn released(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// `len` more bytes of text, joining a text segment of the same chunk.
    fn text(&mut self, len: usize) {
        let end = self.released() + len;
        match self.ends.last_mut() {
            Some(last) if self.text_open => *last = end,
            _ => {
                self.ends.push(end);
                self.text_open = true;
            }
        }
    }

    /// A citation segment of `len` bytes.
    fn citation(&mut self, len: usize, entries: Vec<CitationRef>) {
        let end = self.released() + len;
        self.citations.push((self.ends.len(), entries));
        self.ends.push(end);
        self.text_open = false;
    }

    /// A new chunk: the next text starts a segment of its own.
    fn break_text(&mut self) {
        self.text_open = false;
    }
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
    answer: Answer,
}

/// Everything but the parser: what the events build up.
#[derive(Debug, Clone)]
struct Answer {
    buffer: CitationBuffer,
    transcript: Transcript,
    keep_segments: bool,
    /// The citation segments released so far, for resolving them against
    /// the sources (kept even when the transcript keeps no segments).
    cited: Vec<Segment>,
    /// The length of the chunk being fed.
    chunk_len: usize,
}

/// Room for the text a held candidate can release: its longest bracket.
const HELD_CAPACITY: usize = 256;

/// Handles each event as the parser dispatches it: a token goes from the
/// parser's buffer through the citation buffer into the output batch with
/// no copy of its own; the first protocol error stops the rest of the chunk.
struct Events<'a, J> {
    answer: &'a mut Answer,
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
        let Some(kind) = EventKind::from_type_bytes(event.event_type) else {
            return;
        };
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
        }
    }
}

impl ChatPipeline {
    /// A pipeline with these limits.
    pub fn new(max_event_bytes: usize, citations: CitationOptions) -> Self {
        ChatPipeline {
            parser: EventStreamParser::new(max_event_bytes),
            answer: Answer {
                buffer: CitationBuffer::new(citations),
                transcript: Transcript::default(),
                keep_segments: true,
                cited: Vec::new(),
                chunk_len: 0,
            },
        }
    }

    /// Whether the transcript keeps a copy of every segment (it does by
    /// default); a caller that keeps the segments it receives can turn it off.
    pub fn keep_segments(mut self, keep: bool) -> Self {
        self.answer.keep_segments = keep;
        self
    }

    /// What has been received so far.
    pub fn transcript(&self) -> &Transcript {
        &self.answer.transcript
    }

    /// Takes the record out, leaving an empty one.
    pub fn take_transcript(&mut self) -> Transcript {
        std::mem::take(&mut self.answer.transcript)
    }

    /// Whether `done` or `error` has arrived.
    pub fn ended(&self) -> bool {
        self.answer.transcript.end.is_some()
    }

    /// When a held citation candidate times out, if one is held.
    pub fn deadline(&self) -> Option<f64> {
        self.answer.buffer.deadline()
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
        let mut release = Release {
            out,
            capacity: HELD_CAPACITY,
            transcript: &mut self.transcript,
            keep_segments: self.keep_segments,
            cited: &mut self.cited,
        };
        self.buffer.poll(now, &mut release);
    }

    fn finish(&mut self, out: &mut Vec<Output>) {
        let mut release = Release {
            out,
            capacity: HELD_CAPACITY,
            transcript: &mut self.transcript,
            keep_segments: self.keep_segments,
            cited: &mut self.cited,
        };
        self.buffer.finish(&mut release);
    }

    fn token(&mut self, text: &str, now: f64, out: &mut Vec<Output>) {
        self.transcript.text.push_str(text);
        let mut release = Release {
            out,
            // The chunk's released text is part of its bytes, plus what
            // was held from before.
            capacity: self.chunk_len + HELD_CAPACITY,
            transcript: &mut self.transcript,
            keep_segments: self.keep_segments,
            cited: &mut self.cited,
        };
        self.buffer.push(text, now, &mut release);
    }

    fn handle<J: Json>(
        &mut self,
        kind: EventKind,
        data: String,
        now: f64,
        out: &mut Vec<Output>,
    ) -> Result<(), PipelineError> {
        match decode_payload::<J>(kind, data)? {
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
        Ok(())
    }
}

#[cfg(test)]
mod tests;
