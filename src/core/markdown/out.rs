//! Where the segmenter's output gathers. Every source character is
//! accounted for exactly once: markup and text add to the `raw` of the
//! segment being built, and each segment takes the raw gathered since the
//! one before it, so joining every `raw` gives the source back.
//!
//! Output under a held `[` goes to a context of its own, stacked on the one
//! below: when the bracket turns out to be a link, its context is wrapped
//! in the link's open and close; when it is plain text, the context joins
//! the one below after a literal `[`; when it is a citation, the context is
//! dropped for one citation segment. Nothing is parsed twice.

use super::{Attrs, MarkdownSegment, Tag};
use crate::core::citation::CitationRef;

/// The most source that shows as nothing the released output gathers for
/// its next segment before an empty text takes it.
const MAX_PENDING_RAW: usize = 1024;

#[derive(Debug, Clone, Default)]
struct Context {
    segments: Vec<MarkdownSegment>,
    /// Text not yet made a segment, so that consecutive text is one.
    text: String,
    /// Source consumed since the last segment of this context.
    raw: String,
}

impl Context {
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            self.segments.push(MarkdownSegment::Text {
                text: std::mem::take(&mut self.text),
                raw: std::mem::take(&mut self.raw),
            });
        }
    }

    /// Adds a segment whose own raw is `raw`, after what this context has
    /// gathered.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn push(&mut self, mut segment: MarkdownSegment) {
        self.flush_text();
        if !self.raw.is_empty() {
            let raw = segment.raw_mut();
            raw.insert_str(0, &self.raw);
            self.raw.clear();
        }
        self.segments.push(segment);
    }
}

/// The segmenter's output, with one context per held bracket.
#[derive(Debug, Clone)]
pub(super) struct Out {
    /// `stack[0]` is released output; each held bracket adds one.
    stack: Vec<Context>,
}

impl Default for Out {
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn default() -> Self {
        Out {
            stack: vec![Context::default()],
        }
    }
}

impl Out {
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn top(&mut self) -> &mut Context {
        if self.stack.is_empty() {
            self.stack.push(Context::default());
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    /// Visible `text` standing for source `raw`.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn text(&mut self, text: &str, raw: &str) {
        let top = self.top();
        top.text.push_str(text);
        top.raw.push_str(raw);
    }

    /// One character that shows as itself.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn char(&mut self, c: char) {
        let top = self.top();
        // NUL shows as U+FFFD, as CommonMark says (section 2.3).
        top.text.push(if c == '\0' { '\u{FFFD}' } else { c });
        top.raw.push(c);
    }

    /// Source that shows as nothing (markers, stripped spaces).
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn skip(&mut self, raw: &str) {
        self.top().raw.push_str(raw);
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn open(&mut self, tag: Tag, attrs: Attrs, raw: &str) {
        self.top().push(MarkdownSegment::Open {
            tag,
            attrs,
            raw: raw.to_owned(),
        });
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn close(&mut self, tag: Tag, raw: &str) {
        self.top().push(MarkdownSegment::Close {
            tag,
            raw: raw.to_owned(),
        });
    }

    /// An element with nothing inside (`hr`, `br`).
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn void(&mut self, tag: Tag, raw: &str) {
        self.open(tag, Attrs::default(), raw);
        self.close(tag, "");
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn citation(&mut self, text: String, citations: Vec<CitationRef>) {
        let raw = text.clone();
        self.top().push(MarkdownSegment::Citation {
            text,
            citations,
            raw,
        });
    }

    /// Output from here on is held, in a new context.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn hold(&mut self) {
        self.top().flush_text();
        self.stack.push(Context::default());
    }

    /// The bytes held: output not yet released and source gathered for
    /// the next segment.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn held_bytes(&self) -> usize {
        self.stack
            .iter()
            .map(|context| {
                context.text.len()
                    + context.raw.len()
                    + context
                        .segments
                        .iter()
                        .map(|segment| match segment {
                            MarkdownSegment::Text { text, raw }
                            | MarkdownSegment::Citation { text, raw, .. } => text.len() + raw.len(),
                            MarkdownSegment::Open { raw, .. }
                            | MarkdownSegment::Close { raw, .. } => raw.len(),
                        })
                        .sum::<usize>()
            })
            .sum()
    }

    /// How many contexts are held.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn held(&self) -> usize {
        self.stack.len() - 1
    }

    /// Drops the innermost held context (its source is accounted for by
    /// the caller's next segment).
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn drop_held(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    /// Joins held context `level` (1 = outermost) into the one below,
    /// after `before` and followed by `after`: a literal `[`, or a link's
    /// open and close.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn release(
        &mut self,
        level: usize,
        before: Option<MarkdownSegment>,
        after: Option<MarkdownSegment>,
    ) {
        if level == 0 || level >= self.stack.len() {
            return;
        }
        let mut held = self.stack.remove(level);
        held.flush_text();
        let below = &mut self.stack[level - 1];
        if let Some(segment) = before {
            below.push(segment);
        }
        for segment in held.segments {
            below.push(segment);
        }
        below.raw.push_str(&held.raw);
        if let Some(segment) = after {
            below.push(segment);
        }
    }

    /// Moves what is released into `into`. Source that shows as nothing
    /// (blank lines, stripped spaces) waits for the next segment, unless
    /// there is much of it: then an empty text takes it, so that it is
    /// not held without bound.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn drain(&mut self, into: &mut Vec<MarkdownSegment>) {
        let base = &mut self.stack[0];
        base.flush_text();
        if base.raw.len() > MAX_PENDING_RAW {
            base.segments.push(MarkdownSegment::Text {
                text: String::new(),
                raw: std::mem::take(&mut base.raw),
            });
        }
        into.append(&mut base.segments);
    }

    /// At the end of the answer: source that no segment took (trailing
    /// blank lines) goes into an empty text segment.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn finish(&mut self, into: &mut Vec<MarkdownSegment>) {
        while self.stack.len() > 1 {
            self.release(self.stack.len() - 1, None, None);
        }
        let base = &mut self.stack[0];
        base.flush_text();
        if !base.raw.is_empty() {
            base.segments.push(MarkdownSegment::Text {
                text: String::new(),
                raw: std::mem::take(&mut base.raw),
            });
        }
        self.drain(into);
    }
}
