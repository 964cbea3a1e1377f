//! The record of one answer: what it said, where its segments were cut,
//! its sources and how it ended.

use crate::core::citation::{CitationRef, Segment};
use crate::core::markdown::MarkdownSegment;
use crate::core::protocol::{Citation, DoneInfo, ServerErrorInfo, SessionInfo};

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
    /// In Markdown mode, every segment released so far (`segments` then
    /// stays empty).
    pub markdown: Vec<MarkdownSegment>,
    /// From the `citations` event.
    pub citations: Vec<Citation>,
    /// How the stream ended, when it did.
    pub end: Option<StreamEnd>,
}

impl Transcript {
    /// The segments released so far, cut out of `text`.
    pub fn segments(&self) -> Vec<Segment> {
        self.segments.segments(&self.text)
    }
}

/// A run of segments without their text: where each ends in the text they
/// were cut from (a batch's, or the transcript's, of which released text is
/// always a prefix), and the entries of the citation segments. Logging one
/// costs a few integer operations, not a copy of the text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentLog {
    /// The byte offset in the text where each segment ends.
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
    pub(super) fn text(&mut self, len: usize) {
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
    pub(super) fn citation(&mut self, len: usize, entries: Vec<CitationRef>) {
        let end = self.released() + len;
        self.citations.push((self.ends.len(), entries));
        self.ends.push(end);
        self.text_open = false;
    }

    /// A new chunk: the next text starts a segment of its own.
    pub(super) fn break_text(&mut self) {
        self.text_open = false;
    }

    /// The segments, cut out of `text`, the text they were logged from.
    pub fn segments(&self, text: &str) -> Vec<Segment> {
        let mut citations = self.citations.iter().peekable();
        let mut start = 0;
        let mut segments = Vec::with_capacity(self.ends.len());
        for (i, &end) in self.ends.iter().enumerate() {
            let text = text.get(start..end).unwrap_or_default().to_owned();
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

/// The event that ended a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEnd {
    /// `done`.
    Done(DoneInfo),
    /// `error`.
    Error(ServerErrorInfo),
}
