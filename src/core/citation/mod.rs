//! The citation buffer: text streams through untouched, except that a `[`
//! which may start an inline citation is held back until it either closes
//! as a citation (released as one citation segment) or proves not to be one
//! (released as text at once). Nothing released is ever taken back.
//!
//! Time is an argument: `push` and `poll` take `now` in milliseconds and
//! [`CitationBuffer::deadline`] says when a held candidate times out. The
//! buffer never reads a clock.

mod grammar;
mod resolve;
mod unicode;

pub use grammar::{Pattern, State, Step, MAX_SPEAKER_CHARS};
pub use resolve::{resolve, Resolution, UnbackedCitation};
pub use unicode::{table_class, CharClass, Classify};

/// One entry of an inline citation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CitationRef {
    /// `12:45, Sarah Johnson`.
    Timestamp {
        /// As written: `M:SS`, `MM:SS` or `H:MM:SS`.
        timestamp: String,
        /// The timestamp in seconds.
        seconds: u32,
        /// The speaker's name as written.
        speaker: String,
    },
    /// One number of a numeric citation (`[3-5]` gives 3, 4 and 5).
    Number {
        /// The source number.
        number: u32,
    },
}

/// A render-ready piece of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// One complete inline citation.
    Citation {
        /// The raw bracket text, `[12:45, Sarah Johnson]`.
        text: String,
        /// Its entries, in order.
        citations: Vec<CitationRef>,
    },
}

impl Segment {
    /// The text this segment stands for in the answer.
    pub fn text(&self) -> &str {
        match self {
            Segment::Text { text } | Segment::Citation { text, .. } => text,
        }
    }
}

/// Where released segments go: a `Vec<Segment>`, or a sink of the caller's
/// that packs them without a `Segment` (and its allocation) per piece.
pub trait SegmentSink {
    /// A piece of plain text (never empty).
    fn text(&mut self, text: &str);
    /// One complete inline citation: its raw bracket text and entries.
    fn citation(&mut self, text: String, entries: Vec<CitationRef>);
}

impl SegmentSink for Vec<Segment> {
    fn text(&mut self, text: &str) {
        self.push(Segment::Text {
            text: text.to_owned(),
        });
    }

    fn citation(&mut self, text: String, citations: Vec<CitationRef>) {
        self.push(Segment::Citation { text, citations });
    }
}

/// How the buffer recognises and bounds candidates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CitationOptions {
    /// A candidate that receives no text for this long is released as text.
    pub timeout_ms: f64,
    /// A candidate longer than this many characters is released as text.
    pub max_length: usize,
    /// The citation grammar.
    pub pattern: Pattern,
}

impl Default for CitationOptions {
    fn default() -> Self {
        CitationOptions {
            timeout_ms: 1000.0,
            max_length: 64,
            pattern: Pattern::TimestampSpeaker,
        }
    }
}

/// Holds back possible inline citations until they are complete.
#[derive(Debug, Clone)]
pub struct CitationBuffer {
    options: CitationOptions,
    classify: Classify,
    /// The candidate being held: empty, or starting with `[`.
    held: String,
    held_chars: usize,
    state: State,
    /// When the candidate last received text.
    last_growth: f64,
    /// Counts the characters ever added to a candidate, to tell whether a
    /// call made the held text grow.
    growth: u64,
}

impl CitationBuffer {
    /// An empty buffer that tells letters and marks by the table
    /// generated from unicode-properties ([`table_class`]).
    pub fn new(options: CitationOptions) -> Self {
        Self::with_classify(options, table_class)
    }

    /// An empty buffer that tells letters and marks by `classify`.
    pub fn with_classify(options: CitationOptions, classify: Classify) -> Self {
        CitationBuffer {
            options,
            classify,
            held: String::new(),
            held_chars: 0,
            state: options.pattern.start(),
            last_growth: 0.0,
            growth: 0,
        }
    }

    /// The options this buffer was made with.
    pub fn options(&self) -> CitationOptions {
        self.options
    }

    /// Takes the next piece of answer text and releases what can be shown
    /// now: all of it, except a trailing candidate that may still become a
    /// citation. A candidate whose pause has reached the timeout is released
    /// before the new text is looked at.
    pub fn push<S: SegmentSink>(&mut self, text: &str, now: f64, out: &mut S) {
        if self.held.is_empty() && crate::core::find_byte(text.as_bytes(), b'[').is_none() {
            // The common case, inlined for each sink: nothing held (so
            // nothing to time out), nothing to hold.
            if !text.is_empty() {
                out.text(text);
            }
            return;
        }
        self.push_held(text, now, out);
    }

    /// `push` when a candidate is held or the text opens one.
    fn push_held(&mut self, text: &str, now: f64, out: &mut dyn SegmentSink) {
        self.poll(now, out);
        let mut run = String::new();
        let growth_before = self.growth;
        let mut rest = text;
        while !rest.is_empty() {
            if self.held.is_empty() {
                // Outside a candidate only `[` matters: copy up to it at once.
                let Some(open) = crate::core::find_byte(rest.as_bytes(), b'[') else {
                    run.push_str(rest);
                    break;
                };
                run.push_str(&rest[..open]);
                rest = &rest[open..];
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                self.step(c, &mut run, out);
            }
            rest = chars.as_str();
        }
        if !self.held.is_empty() && self.growth != growth_before {
            self.last_growth = now;
        }
        flush_text(&mut run, out);
    }

    /// Releases a held candidate whose timeout has passed.
    pub fn poll(&mut self, now: f64, out: &mut dyn SegmentSink) {
        if matches!(self.deadline(), Some(deadline) if now >= deadline) {
            self.finish(out);
        }
    }

    /// Releases everything still held, as text: the stream has ended.
    pub fn finish(&mut self, out: &mut dyn SegmentSink) {
        if !self.held.is_empty() {
            let mut run = std::mem::take(&mut self.held);
            self.clear_candidate();
            flush_text(&mut run, out);
        }
    }

    /// When [`poll`](Self::poll) would release the held candidate, if any.
    pub fn deadline(&self) -> Option<f64> {
        (!self.held.is_empty()).then_some(self.last_growth + self.options.timeout_ms)
    }

    /// The text held back right now.
    pub fn held(&self) -> &str {
        &self.held
    }

    fn clear_candidate(&mut self) {
        self.held.clear();
        self.held_chars = 0;
        self.state = self.options.pattern.start();
    }

    fn step(&mut self, c: char, run: &mut String, out: &mut dyn SegmentSink) {
        if self.held.is_empty() {
            if c == '[' {
                self.held.push(c);
                self.held_chars = 1;
                self.growth += 1;
            } else {
                run.push(c);
            }
            return;
        }
        let pattern = self.options.pattern;
        match pattern.step(self.state, c, self.classify) {
            Step::Continue(state) => {
                self.held.push(c);
                self.held_chars += 1;
                self.growth += 1;
                self.state = state;
                if self.held_chars > self.options.max_length {
                    run.push_str(&self.held);
                    self.clear_candidate();
                }
            }
            Step::Close => {
                self.held.push(c);
                self.held_chars += 1;
                let entries = if self.held_chars > self.options.max_length {
                    None
                } else {
                    pattern.entries(&self.held)
                };
                match entries {
                    Some(citations) => {
                        flush_text(run, out);
                        out.citation(std::mem::take(&mut self.held), citations);
                    }
                    None => run.push_str(&self.held),
                }
                self.clear_candidate();
            }
            Step::Reject => {
                run.push_str(&self.held);
                self.clear_candidate();
                // The character that broke the candidate may start another.
                self.step(c, run, out);
            }
        }
    }
}

fn flush_text(run: &mut String, out: &mut dyn SegmentSink) {
    if !run.is_empty() {
        out.text(run);
        run.clear();
    }
}

#[cfg(test)]
mod tests;
