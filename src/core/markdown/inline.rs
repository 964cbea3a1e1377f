//! Inline structure (CommonMark section 6), one character at a time.
//!
//! Whatever cannot be decided yet sits in `hold` (a delimiter run until
//! the character after it, spaces until the line goes on, `&`, `<`, `\`
//! and bare URLs until they end) or, for `[`, in a frame whose output is
//! held by [`Out`] until the bracket is a citation, a link or text.

use super::entity;
use super::link::{self, Dest, DestStep, BARE_PREFIXES};
use super::out::Out;
use super::{Attrs, MarkdownSegment, Tag, MAX_INLINE_DEPTH, MAX_LINK_HOLD};
use crate::core::citation::{CitationOptions, Classify, State, Step};

/// Most characters of a code span that starts with a space held to see
/// whether it also ends with one (then one space each side is stripped).
const MAX_CODE_LEAD: usize = 256;

/// How deep held source fed again may open brackets of its own.
const MAX_REPLAY: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Hold {
    None,
    Backslash,
    Delims {
        c: char,
        n: usize,
        before: char,
    },
    Ticks(usize),
    Spaces(usize),
    Entity(String),
    Angle(String),
    /// A word start that may become `https://`, `http://` or `www.`.
    Prefix(String),
    Url(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Em(char),
    Strong(char),
    Del(usize),
}

impl Kind {
    /// The delimiters that open it.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn delimiter(self) -> String {
        match self {
            Kind::Em(c) => repeat(c, 1),
            Kind::Strong(c) => repeat(c, 2),
            Kind::Del(n) => repeat('~', n),
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn tag(self) -> Tag {
        match self {
            Kind::Em(_) => Tag::Em,
            Kind::Strong(_) => Tag::Strong,
            Kind::Del(_) => Tag::Del,
        }
    }
}

/// An open emphasis, strong or strikethrough span.
#[derive(Debug, Clone, Copy)]
struct Span {
    kind: Kind,
    /// How many frames were open when it opened: a delimiter closes only
    /// a span of its own frame.
    level: usize,
    /// The length of the delimiter run it opened from, and whether that
    /// run could also close (for the rule of 3).
    run: usize,
    both: bool,
}

#[derive(Debug, Clone)]
struct Code {
    ticks: usize,
    /// The content so far, when it began with a space or a line end, held
    /// as shown text (its source goes on into the output's raw in order).
    lead: Option<String>,
}

#[derive(Debug, Clone)]
enum Phase {
    /// The link text or citation.
    Text,
    /// Just after `]`.
    Closed,
    /// Inside `(…)`: the destination so far, and all the source after `]`.
    Dest {
        dest: Dest,
        url: String,
        raw: String,
    },
}

/// A held `[`.
#[derive(Debug, Clone)]
struct Frame {
    /// The citation grammar's state, while the bracket may be one.
    cite: Option<State>,
    chars: usize,
    /// The source since `[`, while it may be a citation.
    raw: String,
    phase: Phase,
    /// A link inside it was made, so it can be no link itself.
    no_link: bool,
    /// `fed` when its `[` came.
    start: usize,
}

/// What feeding a character did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fed {
    Taken,
    /// An unescaped `|` in a table row: the cell ends. The `|` itself is
    /// the caller's.
    Pipe,
}

enum Next {
    Done,
    Again(char),
    Pipe,
}

/// The inline parser of one block at a time.
#[derive(Debug, Clone)]
pub(super) struct Inline {
    options: CitationOptions,
    /// Tells letters and marks of a citation's speaker.
    classify: Classify,
    prev: char,
    hold: Hold,
    spans: Vec<Span>,
    frames: Vec<Frame>,
    code: Option<Code>,
    /// Inside a table row: `|` ends a cell.
    row: bool,
    /// Bytes fed so far.
    fed: usize,
    /// How deep held source is being fed again.
    replaying: usize,
    pub(super) now: f64,
    last_growth: f64,
}

#[cfg_attr(cite_stream_size, optimize(size))]
fn repeat(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// Unicode punctuation as CommonMark 0.31 counts it (categories P and S):
/// ASCII exactly; beyond it, the blocks where P and S live.
#[cfg_attr(cite_stream_size, optimize(size))]
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(u32::from(c),
        0xA1..=0xBF | 0xD7 | 0xF7 | 0x2010..=0x2027 | 0x2030..=0x205E
        | 0x20A0..=0x20CF | 0x2100..=0x214F | 0x2190..=0x23FF | 0x2500..=0x27BF
        | 0x2E00..=0x2E7F | 0x3000..=0x303F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20
        | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0x1F300..=0x1FAFF)
}

impl Inline {
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn new(options: CitationOptions, classify: Classify) -> Self {
        Inline {
            options,
            classify,
            prev: '\n',
            hold: Hold::None,
            spans: Vec::new(),
            frames: Vec::new(),
            code: None,
            row: false,
            fed: 0,
            replaying: 0,
            now: 0.0,
            last_growth: 0.0,
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn options(&self) -> (CitationOptions, Classify) {
        (self.options, self.classify)
    }

    /// A new block (paragraph, heading, cell) begins.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn start(&mut self, row: bool) {
        self.prev = '\n';
        self.row = row;
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn depth(&self) -> usize {
        self.spans.len() + self.frames.len() + usize::from(self.code.is_some())
    }

    /// The bytes of source held here (markers undecided, brackets'
    /// citation text and destinations), for tests of hostile input.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn held_bytes(&self) -> usize {
        let hold = match &self.hold {
            Hold::Entity(s) | Hold::Angle(s) | Hold::Prefix(s) | Hold::Url(s) => s.len(),
            _ => 0,
        };
        let lead = self
            .code
            .as_ref()
            .and_then(|code| code.lead.as_ref())
            .map_or(0, String::len);
        let frames: usize = self
            .frames
            .iter()
            .map(|frame| {
                frame.raw.len()
                    + match &frame.phase {
                        Phase::Dest { url, raw, .. } => url.len() + raw.len(),
                        _ => 0,
                    }
            })
            .sum();
        hold + lead + frames
    }

    /// When a held `[` is released as text if nothing more comes.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn deadline(&self) -> Option<f64> {
        (!self.frames.is_empty()).then_some(self.last_growth + self.options.timeout_ms)
    }

    /// Releases held brackets whose timeout has passed.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn poll(&mut self, now: f64, out: &mut Out) {
        if matches!(self.deadline(), Some(deadline) if now >= deadline) {
            self.release_frames(out);
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn feed(&mut self, c: char, out: &mut Out) -> Fed {
        self.fed += c.len_utf8();
        if !self.frames.is_empty() {
            self.last_growth = self.now;
            if c == '\n' {
                // Link text and citations stay within a line here.
                self.release_frames(out);
                return self.process(c, out);
            }
            if self
                .frames
                .first()
                .is_some_and(|f| self.fed - f.start > MAX_LINK_HOLD)
            {
                self.release_outermost(out);
            }
            if matches!(self.frames.last(), Some(f) if !matches!(f.phase, Phase::Text)) {
                return self.after_bracket(c, out);
            }
            if self.cite_step(c, out) {
                return Fed::Taken;
            }
        }
        self.process(c, out)
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn process(&mut self, c: char, out: &mut Out) -> Fed {
        let mut c = c;
        loop {
            // Source fed again may close a bracket: what follows its `]`
            // decides it, as when fed the first time.
            if matches!(self.frames.last(), Some(f) if !matches!(f.phase, Phase::Text)) {
                return self.after_bracket(c, out);
            }
            match self.step(c, out) {
                Next::Done => return Fed::Taken,
                Next::Again(next) => c = next,
                Next::Pipe => return Fed::Pipe,
            }
        }
    }

    /// Feeds source that was held and proved to be no markup of its own.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn process_str(&mut self, s: &str, out: &mut Out) {
        self.replaying += 1;
        for c in s.chars() {
            if self.process(c, out) == Fed::Pipe {
                // Held source never holds a row's `|`; should one come,
                // it is kept as text rather than lost.
                out.text("|", "|");
            }
        }
        self.replaying -= 1;
    }

    /// Steps the innermost bracket's citation grammar; true when `c`
    /// completed a citation.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn cite_step(&mut self, c: char, out: &mut Out) -> bool {
        let pattern = self.options.pattern;
        let max_length = self.options.max_length;
        let Some(frame) = self.frames.last_mut() else {
            return false;
        };
        let Some(state) = frame.cite else {
            return false;
        };
        frame.raw.push(c);
        frame.chars += 1;
        match pattern.step(state, c, self.classify) {
            Step::Continue(next) if frame.chars <= max_length => frame.cite = Some(next),
            Step::Close if frame.chars <= max_length => match pattern.entries(&frame.raw) {
                Some(entries) => {
                    let text = std::mem::take(&mut frame.raw);
                    self.frames.pop();
                    let level = self.frames.len();
                    self.spans.retain(|span| span.level <= level);
                    self.hold = Hold::None;
                    out.drop_held();
                    out.citation(text, entries);
                    self.prev = ']';
                    return true;
                }
                None => frame.cite = None,
            },
            _ => frame.cite = None,
        }
        if frame.cite.is_none() {
            frame.raw = String::new();
        }
        false
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn step(&mut self, c: char, out: &mut Out) -> Next {
        if self.code.is_some() {
            return self.code_step(c, out);
        }
        match std::mem::replace(&mut self.hold, Hold::None) {
            Hold::None => return self.start_char(c, out),
            Hold::Backslash => {
                if c.is_ascii_punctuation() {
                    let mut raw = String::from('\\');
                    raw.push(c);
                    out.text(&raw[1..], &raw);
                } else if c == '\n' {
                    out.void(Tag::Br, "\\\n");
                } else {
                    out.text("\\", "\\");
                    return Next::Again(c);
                }
            }
            Hold::Delims { c: d, n, before } => {
                if c == d {
                    self.hold = Hold::Delims {
                        c: d,
                        n: n + 1,
                        before,
                    };
                } else {
                    self.delims(d, n, before, c, out);
                    return Next::Again(c);
                }
            }
            Hold::Ticks(n) => {
                if c == '`' {
                    self.hold = Hold::Ticks(n + 1);
                } else {
                    self.open_code(n, c, out);
                    return Next::Again(c);
                }
            }
            Hold::Spaces(n) => {
                if c == ' ' {
                    self.hold = Hold::Spaces(n + 1);
                } else if c == '\n' {
                    let spaces = repeat(' ', n);
                    if n >= 2 {
                        out.void(Tag::Br, &(spaces + "\n"));
                    } else {
                        out.skip(&spaces);
                        out.text("\n", "\n");
                    }
                } else {
                    let spaces = repeat(' ', n);
                    if c == '|' && self.row {
                        out.skip(&spaces);
                    } else {
                        out.text(&spaces, &spaces);
                    }
                    return Next::Again(c);
                }
            }
            Hold::Entity(mut s) => {
                if c == ';' {
                    s.push(';');
                    match entity::decode(&s) {
                        Some(text) => out.text(&text, &s),
                        None => out.text(&s, &s),
                    }
                } else if entity::continues(&s, c) {
                    s.push(c);
                    self.hold = Hold::Entity(s);
                } else {
                    out.text(&s, &s);
                    return Next::Again(c);
                }
            }
            Hold::Angle(mut s) => {
                if c == '>' {
                    match link::autolink(&s[1..]) {
                        Some(href) => {
                            let attrs = Attrs {
                                href: Some(href),
                                ..Attrs::default()
                            };
                            out.open(Tag::A, attrs, "<");
                            out.text(&s[1..], &s[1..]);
                            out.close(Tag::A, ">");
                        }
                        None => {
                            out.text("<", "<");
                            self.process_str(&s[1..], out);
                            return Next::Again(c);
                        }
                    }
                } else if c.is_whitespace()
                    || c.is_ascii_control()
                    || c == '<'
                    || (c == '|' && self.row)
                    || s.len() >= MAX_LINK_HOLD
                {
                    out.text("<", "<");
                    self.process_str(&s[1..], out);
                    return Next::Again(c);
                } else {
                    s.push(c);
                    self.hold = Hold::Angle(s);
                }
            }
            Hold::Prefix(mut s) => {
                s.push(c);
                if BARE_PREFIXES.contains(&s.as_str()) {
                    self.hold = Hold::Url(s);
                } else if BARE_PREFIXES.iter().any(|p| p.starts_with(s.as_str())) {
                    self.hold = Hold::Prefix(s);
                } else {
                    s.pop();
                    out.text(&s, &s);
                    self.prev = s.chars().next_back().unwrap_or(self.prev);
                    return Next::Again(c);
                }
            }
            Hold::Url(mut s) => {
                if c.is_whitespace()
                    || c == '<'
                    || (c == '|' && self.row)
                    || s.len() >= MAX_LINK_HOLD
                {
                    self.end_url(s, out);
                    return Next::Again(c);
                }
                s.push(c);
                self.hold = Hold::Url(s);
            }
        }
        self.prev = c;
        Next::Done
    }

    /// A character with nothing held.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn start_char(&mut self, c: char, out: &mut Out) -> Next {
        match c {
            '\\' => self.hold = Hold::Backslash,
            '*' | '_' | '~' => {
                self.hold = Hold::Delims {
                    c,
                    n: 1,
                    before: self.prev,
                }
            }
            '`' => self.hold = Hold::Ticks(1),
            ' ' => self.hold = Hold::Spaces(1),
            '&' => self.hold = Hold::Entity("&".to_owned()),
            // No autolink inside what may become a link's text.
            '<' if self.frames.is_empty() => self.hold = Hold::Angle("<".to_owned()),
            '[' => self.open_bracket(out),
            ']' if !self.frames.is_empty() => {
                if let Some(frame) = self.frames.last_mut() {
                    frame.phase = Phase::Closed;
                }
            }
            '|' if self.row => {
                self.prev = c;
                return Next::Pipe;
            }
            '\n' => out.text("\n", "\n"),
            'h' | 'w'
                if self.frames.is_empty()
                    && (self.prev.is_whitespace()
                        || matches!(self.prev, '*' | '_' | '~' | '(')) =>
            {
                self.hold = Hold::Prefix(String::from(c));
            }
            _ => out.char(c),
        }
        self.prev = c;
        Next::Done
    }

    /// A run of `n` delimiters `d` between `before` and `after`
    /// (CommonMark section 6.2's flanking rules; GFM's for `~`).
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn delims(&mut self, d: char, n: usize, before: char, after: char, out: &mut Out) {
        let left = !after.is_whitespace()
            && (!is_punctuation(after) || before.is_whitespace() || is_punctuation(before));
        let right = !before.is_whitespace()
            && (!is_punctuation(before) || after.is_whitespace() || is_punctuation(after));
        let (can_open, can_close) = if d == '_' {
            (
                left && (!right || is_punctuation(before)),
                right && (!left || is_punctuation(after)),
            )
        } else {
            (left, right)
        };
        let level = self.frames.len();
        let (run, both) = (n, can_open && can_close);
        let mut n = n;
        while can_close && n > 0 {
            let Some(span) = self.spans.last().filter(|span| span.level == level) else {
                break;
            };
            // The rule of 3 (CommonMark section 6.2, rules 9 and 10): when
            // either run can both open and close, their lengths may not add
            // up to a multiple of 3 unless both are multiples of 3.
            if d != '~'
                && (both || span.both)
                && (span.run + run) % 3 == 0
                && !(span.run % 3 == 0 && run % 3 == 0)
            {
                break;
            }
            let used = match span.kind {
                Kind::Strong(c) if c == d && n >= 2 => 2,
                Kind::Em(c) if c == d => 1,
                Kind::Del(k) if d == '~' && k == n => k,
                _ => break,
            };
            out.close(span.kind.tag(), &repeat(d, used));
            self.spans.pop();
            n -= used;
        }
        if n > 0 && can_open {
            if d == '~' {
                if n <= 2 && self.depth() < MAX_INLINE_DEPTH {
                    self.open_span(Kind::Del(n), (run, both), out);
                    n = 0;
                }
            } else {
                if n % 2 == 1 && self.depth() < MAX_INLINE_DEPTH {
                    self.open_span(Kind::Em(d), (run, both), out);
                    n -= 1;
                }
                while n >= 2 && self.depth() < MAX_INLINE_DEPTH {
                    self.open_span(Kind::Strong(d), (run, both), out);
                    n -= 2;
                }
            }
        }
        if n > 0 {
            let text = repeat(d, n);
            out.text(&text, &text);
        }
    }

    /// Opens a span from a delimiter run of `run` characters (`both`: the
    /// run could also close).
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn open_span(&mut self, kind: Kind, (run, both): (usize, bool), out: &mut Out) {
        out.open(kind.tag(), Attrs::default(), &kind.delimiter());
        self.spans.push(Span {
            kind,
            level: self.frames.len(),
            run,
            both,
        });
    }

    /// A run of `n` backticks, then `next`: a code span opens.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn open_code(&mut self, n: usize, next: char, out: &mut Out) {
        let ticks = repeat('`', n);
        if self.depth() >= MAX_INLINE_DEPTH {
            out.text(&ticks, &ticks);
            return;
        }
        out.open(Tag::Code, Attrs::default(), &ticks);
        self.code = Some(Code {
            ticks: n,
            // A line end in code shows as a space, so it may be stripped.
            lead: (next == ' ' || next == '\n').then(String::new),
        });
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn code_step(&mut self, c: char, out: &mut Out) -> Next {
        if let Hold::Ticks(n) = self.hold {
            if c == '`' {
                self.hold = Hold::Ticks(n + 1);
                return Next::Done;
            }
            self.hold = Hold::None;
            let ticks = repeat('`', n);
            if self.code.as_ref().is_some_and(|code| code.ticks == n) {
                self.close_code(&ticks, out);
            } else {
                self.code_text(&ticks, &ticks, out);
            }
            return Next::Again(c);
        }
        match c {
            '`' => self.hold = Hold::Ticks(1),
            '\n' => self.code_text(" ", "\n", out),
            '|' if self.row => return Next::Pipe,
            '\0' => self.code_text("\u{FFFD}", "\0", out),
            _ => self.code_text(c.encode_utf8(&mut [0; 4]), c.encode_utf8(&mut [0; 4]), out),
        }
        Next::Done
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn code_text(&mut self, text: &str, raw: &str, out: &mut Out) {
        let Some(code) = self.code.as_mut() else {
            return;
        };
        match code.lead.as_mut() {
            Some(shown) => {
                shown.push_str(text);
                out.skip(raw);
                if shown.len() > MAX_CODE_LEAD {
                    out.text(shown, "");
                    code.lead = None;
                }
            }
            None => out.text(text, raw),
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn close_code(&mut self, raw: &str, out: &mut Out) {
        let Some(code) = self.code.take() else {
            return;
        };
        if let Some(shown) = code.lead {
            // One space each side goes when both are there and the content
            // is not all spaces (CommonMark section 6.1).
            let strip =
                shown.len() >= 2 && shown.ends_with(' ') && shown.bytes().any(|b| b != b' ');
            let shown = if strip {
                &shown[1..shown.len() - 1]
            } else {
                &shown[..]
            };
            out.text(shown, "");
        }
        out.close(Tag::Code, raw);
        self.prev = '`';
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn open_bracket(&mut self, out: &mut Out) {
        // A bracket in source fed again may fail and feed its own source
        // again: past a few levels brackets are text, so that stays
        // bounded.
        if self.depth() >= MAX_INLINE_DEPTH || self.replaying > MAX_REPLAY {
            out.text("[", "[");
            return;
        }
        out.hold();
        self.last_growth = self.now;
        self.frames.push(Frame {
            // The citation grammar steps only on source fed the first time.
            cite: (self.replaying == 0).then(|| self.options.pattern.start()),
            chars: 1,
            raw: "[".to_owned(),
            phase: Phase::Text,
            no_link: false,
            start: self.fed.saturating_sub(1),
        });
    }

    /// The innermost bracket has its `]`: `c` comes after it.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn after_bracket(&mut self, c: char, out: &mut Out) -> Fed {
        let Some(frame) = self.frames.last_mut() else {
            return self.process(c, out);
        };
        match &mut frame.phase {
            Phase::Closed if c == '(' && !frame.no_link => {
                frame.phase = Phase::Dest {
                    dest: Dest::Start,
                    url: String::new(),
                    raw: "(".to_owned(),
                };
                Fed::Taken
            }
            Phase::Dest { dest, url, raw } if !(c == '|' && self.row) => match dest.step(c) {
                DestStep::Url(next) => {
                    url.push(c);
                    raw.push(c);
                    *dest = next;
                    Fed::Taken
                }
                DestStep::Other(next) => {
                    raw.push(c);
                    *dest = next;
                    Fed::Taken
                }
                DestStep::Done => {
                    raw.push(')');
                    self.make_link(out);
                    Fed::Taken
                }
                DestStep::Fail => {
                    self.release_top(out);
                    self.process(c, out)
                }
            },
            _ => {
                self.release_top(out);
                self.process(c, out)
            }
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn make_link(&mut self, out: &mut Out) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let Phase::Dest { url, raw, .. } = frame.phase else {
            return;
        };
        let level = self.frames.len() + 1;
        while let Some(span) = self.spans.last().copied().filter(|s| s.level >= level) {
            out.close(span.kind.tag(), "");
            self.spans.pop();
        }
        let open = MarkdownSegment::Open {
            tag: Tag::A,
            attrs: Attrs {
                href: Some(link::href(&url)),
                ..Attrs::default()
            },
            raw: "[".to_owned(),
        };
        let close = MarkdownSegment::Close {
            tag: Tag::A,
            raw: String::from("]") + &raw,
        };
        out.release(out.held(), Some(open), Some(close));
        // Links do not nest: the brackets around this one are text.
        for outer in &mut self.frames {
            outer.no_link = true;
            outer.cite = None;
        }
        self.prev = ')';
    }

    /// The innermost bracket is text after all.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn release_top(&mut self, out: &mut Out) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        let level = self.frames.len();
        for span in &mut self.spans {
            span.level = span.level.min(level);
        }
        let bracket = MarkdownSegment::Text {
            text: "[".to_owned(),
            raw: "[".to_owned(),
        };
        out.release(out.held(), Some(bracket), None);
        match frame.phase {
            Phase::Text => {}
            Phase::Closed => out.text("]", "]"),
            Phase::Dest { raw, .. } => {
                out.text("]", "]");
                self.process_str(&raw, out);
            }
        }
    }

    /// The outermost bracket has held too much: it is text.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn release_outermost(&mut self, out: &mut Out) {
        if self.frames.len() <= 1 {
            self.release_top(out);
            return;
        }
        self.frames.remove(0);
        for span in &mut self.spans {
            span.level = span.level.saturating_sub(1);
        }
        let bracket = MarkdownSegment::Text {
            text: "[".to_owned(),
            raw: "[".to_owned(),
        };
        out.release(1, Some(bracket), None);
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn release_frames(&mut self, out: &mut Out) {
        while !self.frames.is_empty() {
            self.release_top(out);
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn end_url(&mut self, s: String, out: &mut Out) {
        match link::bare_url(&s) {
            Some((len, href)) => {
                let attrs = Attrs {
                    href: Some(href),
                    ..Attrs::default()
                };
                out.open(Tag::A, attrs, "");
                out.text(&s[..len], &s[..len]);
                out.close(Tag::A, "");
                self.prev = s[..len].chars().next_back().unwrap_or(self.prev);
                self.process_str(&s[len..], out);
            }
            None => {
                // The first letter as text keeps the rest from being taken
                // for a URL again.
                out.text(&s[..1], &s[..1]);
                self.prev = s.chars().next().unwrap_or(self.prev);
                self.process_str(&s[1..], out);
            }
        }
    }

    /// The block ends: everything held is decided as if a line end came,
    /// and the spans still open close.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn end(&mut self, out: &mut Out) {
        loop {
            match std::mem::replace(&mut self.hold, Hold::None) {
                Hold::None => {}
                Hold::Backslash => out.text("\\", "\\"),
                Hold::Delims { c, n, before } => self.delims(c, n, before, '\n', out),
                Hold::Ticks(n) => {
                    let ticks = repeat('`', n);
                    if self.code.as_ref().is_some_and(|code| code.ticks == n) {
                        self.close_code(&ticks, out);
                    } else if self.code.is_some() {
                        self.code_text(&ticks, &ticks, out);
                    } else {
                        out.text(&ticks, &ticks);
                    }
                }
                Hold::Spaces(n) => out.skip(&repeat(' ', n)),
                Hold::Entity(s) | Hold::Prefix(s) => out.text(&s, &s),
                Hold::Angle(s) => {
                    out.text("<", "<");
                    self.process_str(&s[1..], out);
                    continue;
                }
                Hold::Url(s) => {
                    self.end_url(s, out);
                    continue;
                }
            }
            if self.frames.is_empty() {
                break;
            }
            self.release_top(out);
        }
        if let Some(code) = self.code.take() {
            if let Some(shown) = code.lead {
                out.text(&shown, "");
            }
            out.close(Tag::Code, "");
        }
        while let Some(span) = self.spans.pop() {
            out.close(span.kind.tag(), "");
        }
        self.prev = '\n';
    }
}
