//! Consecutive segments gathered for one delivery, and the sink that
//! releases segments into them.

use super::{Output, SegmentLog, Transcript};
use crate::core::citation::{CitationRef, Segment, SegmentSink};

/// Consecutive segments released together: their texts one after the
/// other, and where each ends. The pipeline gathers what one call releases
/// into one batch, so the shell can hand it on in one crossing, in a form
/// of its own choosing; [`segments`](Self::segments) cuts it up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentBatch {
    /// The segments' texts, joined.
    pub text: String,
    /// Where each segment ends in `text`, and the citation segments'
    /// entries: the same record the transcript keeps of the whole answer.
    pub log: SegmentLog,
}

impl SegmentBatch {
    /// Adds text at the end: to the last segment when that is text too, so
    /// that the tokens of one network chunk reach the application as one
    /// text segment (one object and one callback instead of one per token;
    /// the text a reader sees at each moment is the same).
    pub fn push_text(&mut self, text: &str) {
        self.text.push_str(text);
        self.log.text(text.len());
    }

    /// Adds a citation segment at the end.
    pub fn push_citation(&mut self, text: &str, entries: Vec<CitationRef>) {
        self.text.push_str(text);
        self.log.citation(text.len(), entries);
    }

    /// Adds one segment at the end; text joins a text segment before it.
    pub fn add(&mut self, segment: Segment) {
        match segment {
            Segment::Text { text } => self.push_text(&text),
            Segment::Citation { text, citations } => self.push_citation(&text, citations),
        }
    }

    /// How many segments.
    pub fn len(&self) -> usize {
        self.log.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.log.ends.is_empty()
    }

    /// The segments, one by one.
    pub fn segments(&self) -> Vec<Segment> {
        self.log.segments(&self.text)
    }
}

/// Segments exactly as a citation buffer releases them, each text piece a
/// segment of its own (the low-level `CitationBuffer`'s output).
impl SegmentSink for SegmentBatch {
    fn text(&mut self, text: &str) {
        self.log.break_text();
        self.push_text(text);
    }

    fn citation(&mut self, text: String, entries: Vec<CitationRef>) {
        self.push_citation(&text, entries);
    }
}

/// The pipeline's sink for released segments: straight into the output's
/// last batch (a new one when something else came last), and into the
/// transcript's record of the same segments.
pub(super) struct Release<'a> {
    pub(super) out: &'a mut Vec<Output>,
    /// Room to reserve for a new batch's text: enough for what this call
    /// can release, so the text is not copied as it grows.
    pub(super) capacity: usize,
    pub(super) transcript: &'a mut Transcript,
    pub(super) cited: &'a mut Vec<Segment>,
}

impl Release<'_> {
    fn with_batch(&mut self, add: impl FnOnce(&mut SegmentBatch)) {
        if !matches!(self.out.last(), Some(Output::Segments(_))) {
            self.out.push(Output::Segments(SegmentBatch {
                text: String::with_capacity(self.capacity),
                log: SegmentLog::default(),
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
        self.transcript.segments.text(text.len());
    }

    fn citation(&mut self, text: String, entries: Vec<CitationRef>) {
        self.with_batch(|batch| batch.push_citation(&text, entries.clone()));
        self.transcript
            .segments
            .citation(text.len(), entries.clone());
        self.cited.push(Segment::Citation {
            text,
            citations: entries,
        });
    }
}
