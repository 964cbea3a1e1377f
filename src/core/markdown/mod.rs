//! Markdown-aware segments: the answer as an append-only tree that a
//! renderer builds as it goes. Each segment opens an element, closes the
//! innermost one, or adds text (or a citation) to it; once released, a
//! segment is never revised. Joining every segment's `raw` gives the source
//! exactly.
//!
//! The subset is what LLM answers use (CommonMark 0.31 with GFM tables,
//! strikethrough and autolinks): paragraphs, ATX headings, thematic breaks,
//! block quotes, bullet and ordered lists, fenced code, inline code,
//! emphasis, strong, strikethrough, links, autolinks, hard breaks,
//! backslash escapes, entity references and tables. Setext headings,
//! indented code, reference links, footnotes and raw HTML stay text.
//!
//! Where the source is ambiguous until more of it comes, only the
//! undecided part is held:
//! - a run of `*`, `_`, `~` or `` ` `` until the character after it;
//! - a `[` until it closes as a citation, as a link `[text](url)` or as
//!   plain text (at most [`MAX_LINK_HOLD`] bytes, the rest of its line, or
//!   the citation timeout);
//! - `<`, `&`, `\` and a bare `https://`, `http://` or `www.` until they end;
//! - spaces until the next character (trailing spaces are no text);
//! - a line's start until its block structure is known (a few characters;
//!   whole, since only its end decides: a fence line, a table's header and
//!   delimiter rows, a line that is so far only a thematic break's
//!   characters or one run of `#` or `` ` ``);
//! - a paragraph's line break until the next line shows whether the
//!   paragraph goes on.
//!
//! Emphasis opens when its delimiter can open, so a reader sees bold text
//! as bold while it streams; the tree equals CommonMark's when delimiters
//! are balanced. Since whether a list is loose is known only when it ends,
//! list items always hold their paragraphs in `p`.

// Every function here is marked `optimize(size)` when the pinned nightly
// builds the release module (`cite_stream_size`, see lib.rs): this code is
// not on the flat path, and size is what it costs the package most.

mod block;
mod entity;
mod inline;
mod line;
mod link;
mod out;
mod table;

use crate::core::citation::{CitationOptions, CitationRef};

pub use self::block::MarkdownSegmenter;

/// The longest source a `[` may hold before it is released as text.
pub const MAX_LINK_HOLD: usize = 2048;
/// Block containers (block quotes, list items) nest this deep at most;
/// deeper markers are text.
pub const MAX_BLOCK_DEPTH: usize = 32;
/// Inline elements (emphasis, strong, strikethrough, code, links) nest
/// this deep at most; deeper delimiters are text.
pub const MAX_INLINE_DEPTH: usize = 16;

/// An element of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// A paragraph.
    P,
    /// A heading, level 1 to 6.
    H(u8),
    /// A bullet list.
    Ul,
    /// An ordered list.
    Ol,
    /// A list item.
    Li,
    /// A block quote.
    Blockquote,
    /// A fenced code block: holds one `Code`.
    Pre,
    /// Inline code, or the code of a `Pre`.
    Code,
    /// A thematic break.
    Hr,
    /// A hard line break.
    Br,
    /// Strong emphasis.
    Strong,
    /// Emphasis.
    Em,
    /// Strikethrough.
    Del,
    /// A link.
    A,
    /// A table.
    Table,
    /// A table's header.
    Thead,
    /// A table's body.
    Tbody,
    /// A table row.
    Tr,
    /// A header cell.
    Th,
    /// A body cell.
    Td,
}

impl Tag {
    /// The HTML element name.
    pub fn name(self) -> &'static str {
        match self {
            Tag::P => "p",
            Tag::H(1) => "h1",
            Tag::H(2) => "h2",
            Tag::H(3) => "h3",
            Tag::H(4) => "h4",
            Tag::H(5) => "h5",
            Tag::H(_) => "h6",
            Tag::Ul => "ul",
            Tag::Ol => "ol",
            Tag::Li => "li",
            Tag::Blockquote => "blockquote",
            Tag::Pre => "pre",
            Tag::Code => "code",
            Tag::Hr => "hr",
            Tag::Br => "br",
            Tag::Strong => "strong",
            Tag::Em => "em",
            Tag::Del => "del",
            Tag::A => "a",
            Tag::Table => "table",
            Tag::Thead => "thead",
            Tag::Tbody => "tbody",
            Tag::Tr => "tr",
            Tag::Th => "th",
            Tag::Td => "td",
        }
    }
}

/// A table column's alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// `:---`
    Left,
    /// `:---:`
    Center,
    /// `---:`
    Right,
}

impl Align {
    /// As CSS and API.md name it.
    pub fn name(self) -> &'static str {
        match self {
            Align::Left => "left",
            Align::Center => "center",
            Align::Right => "right",
        }
    }
}

/// What an opened element carries besides its tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// A link's destination, normalised as CommonMark's reference
    /// renderer does (escapes and entities resolved, then percent-encoded).
    pub href: Option<String>,
    /// An ordered list's first number, when it is not 1.
    pub start: Option<u32>,
    /// A code block's language: the first word of its info string.
    pub lang: Option<String>,
    /// A table cell's alignment.
    pub align: Option<Align>,
}

/// One piece of the append-only tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkdownSegment {
    /// Opens an element inside the innermost open one.
    Open {
        /// The element.
        tag: Tag,
        /// Its attributes.
        attrs: Attrs,
        /// The source it accounts for (`"## "`, `"**"`, a fence line).
        raw: String,
    },
    /// Closes the innermost open element.
    Close {
        /// The element closed.
        tag: Tag,
        /// The source it accounts for.
        raw: String,
    },
    /// Text for the innermost open element.
    Text {
        /// What a reader sees (escapes and entities resolved).
        text: String,
        /// The source it accounts for.
        raw: String,
    },
    /// One complete inline citation.
    Citation {
        /// The bracket as written, `[12:45, Sarah Johnson]`.
        text: String,
        /// Its entries.
        citations: Vec<CitationRef>,
        /// The source it accounts for.
        raw: String,
    },
}

impl MarkdownSegment {
    /// The source this segment accounts for.
    pub fn raw(&self) -> &str {
        match self {
            MarkdownSegment::Open { raw, .. }
            | MarkdownSegment::Close { raw, .. }
            | MarkdownSegment::Text { raw, .. }
            | MarkdownSegment::Citation { raw, .. } => raw,
        }
    }

    fn raw_mut(&mut self) -> &mut String {
        match self {
            MarkdownSegment::Open { raw, .. }
            | MarkdownSegment::Close { raw, .. }
            | MarkdownSegment::Text { raw, .. }
            | MarkdownSegment::Citation { raw, .. } => raw,
        }
    }
}

/// The options of a segmenter: the citation rules, which hold `[` as in
/// flat mode.
pub type MarkdownOptions = CitationOptions;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod hostile;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod oracle;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod spec;
#[cfg(test)]
mod tests;
