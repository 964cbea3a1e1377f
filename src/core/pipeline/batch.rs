//! Consecutive segments packed for one delivery, and the sink that
//! releases segments into them.

use super::{Output, Transcript};
use crate::core::citation::{CitationRef, Segment, SegmentSink};

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
