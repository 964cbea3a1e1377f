//! The segmenter: block structure line by line (CommonMark section 5),
//! each line's content handed on as soon as its structure is decided.

use super::inline::{Fed, Inline};
use super::line::{self, Container, Leaf, ListKind, OpenLeaf, Plan, StartKind, Wait};
use super::out::Out;
use super::{table, Align, Attrs, MarkdownOptions, MarkdownSegment, Tag};
use crate::core::citation::{table_class, Classify};

#[derive(Debug, Clone, Default)]
enum LeafState {
    #[default]
    None,
    Paragraph,
    Heading {
        level: u8,
        /// A trailing run that may be the closing `#`s.
        tail: String,
        /// Content has come.
        seen: bool,
    },
    Fence {
        ch: u8,
        len: usize,
        indent: usize,
    },
    /// A line that may be a table's header, held whole.
    TableHead {
        content: String,
        cells: usize,
        /// A line end followed it (not the end of the answer).
        newline: bool,
    },
    Table(TableState),
}

#[derive(Debug, Clone)]
struct TableState {
    aligns: Vec<Option<Align>>,
    body: bool,
    row: Row,
}

#[derive(Debug, Clone, Default)]
struct Row {
    head: bool,
    cell: usize,
    in_cell: bool,
    /// Something other than spaces came: a `|` now separates cells.
    started: bool,
    /// Its `tr` is open.
    open: bool,
}

/// Turns Markdown text, pushed in pieces of any size, into append-only
/// [`MarkdownSegment`]s.
///
/// ```
/// use cite_stream::core::markdown::{MarkdownSegmenter, MarkdownSegment, Tag};
/// let mut segmenter = MarkdownSegmenter::new(Default::default());
/// let mut out = Vec::new();
/// segmenter.push("- **Acme** [12:45, Sa", 0.0, &mut out);
/// segmenter.push("rah Johnson]\n", 10.0, &mut out);
/// segmenter.finish(&mut out);
/// assert!(matches!(&out[0], MarkdownSegment::Open { tag: Tag::Ul, .. }));
/// assert!(out.iter().any(|s| matches!(s, MarkdownSegment::Citation { .. })));
/// let source: String = out.iter().map(MarkdownSegment::raw).collect();
/// assert_eq!(source, "- **Acme** [12:45, Sarah Johnson]\n");
/// ```
#[derive(Debug, Clone)]
pub struct MarkdownSegmenter {
    out: Out,
    inline: Inline,
    containers: Vec<Container>,
    leaf: LeafState,
    /// The current line while its structure is undecided.
    line: String,
    deciding: bool,
    wait: Wait,
    /// A paragraph's line end, held until the next line shows whether the
    /// paragraph goes on.
    newline: bool,
    /// How many times a line's structure was worked out: a measure of
    /// work that must stay proportional to the lines, not their length.
    decisions: u64,
}

impl MarkdownSegmenter {
    /// A segmenter at the start of an answer, which tells letters and
    /// marks of citations' speakers by the generated table.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn new(options: MarkdownOptions) -> Self {
        Self::with_classify(options, table_class)
    }

    /// A segmenter that tells letters and marks by `classify`.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn with_classify(options: MarkdownOptions, classify: Classify) -> Self {
        MarkdownSegmenter {
            out: Out::default(),
            inline: Inline::new(options, classify),
            containers: Vec::new(),
            leaf: LeafState::None,
            line: String::new(),
            deciding: true,
            wait: Wait::Char,
            newline: false,
            decisions: 0,
        }
    }

    /// Takes the next piece of the answer at `now` (ms) and appends to
    /// `out` what can be shown now.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn push(&mut self, text: &str, now: f64, out: &mut Vec<MarkdownSegment>) {
        self.inline.poll(now, &mut self.out);
        self.inline.now = now;
        for c in text.chars() {
            self.char(c);
        }
        self.out.drain(out);
    }

    /// Releases a held `[` whose timeout has passed.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn poll(&mut self, now: f64, out: &mut Vec<MarkdownSegment>) {
        self.inline.poll(now, &mut self.out);
        self.out.drain(out);
    }

    /// When [`poll`](Self::poll) would release a held `[`, if one is held.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn deadline(&self) -> Option<f64> {
        self.inline.deadline()
    }

    /// How many bytes of source and output the segmenter holds now: the
    /// undecided line, held inline markers and held brackets' output.
    /// For tests of hostile input; not part of the API.
    #[doc(hidden)]
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn held_bytes(&self) -> usize {
        let leaf = match &self.leaf {
            LeafState::Heading { tail, .. } => tail.len(),
            LeafState::TableHead { content, .. } => content.len(),
            _ => 0,
        };
        self.line.len() + leaf + self.inline.held_bytes() + self.out.held_bytes()
    }

    /// How many times a line's block structure was decided (or found
    /// still undecided) so far. For tests of hostile input.
    #[doc(hidden)]
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn line_decisions(&self) -> u64 {
        self.decisions
    }

    /// The answer has ended: everything held is decided and every open
    /// element closed.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub fn finish(&mut self, out: &mut Vec<MarkdownSegment>) {
        if self.deciding && !self.line.is_empty() {
            self.decide_line(true, false);
        }
        self.close_leaf();
        self.close_containers(0);
        self.out.finish(out);
        let decisions = self.decisions;
        let (options, classify) = self.inline.options();
        *self = MarkdownSegmenter::with_classify(options, classify);
        self.decisions = decisions;
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn char(&mut self, c: char) {
        if !self.deciding {
            self.content(c);
        } else if c == '\n' {
            self.decide_line(true, true);
        } else {
            self.line.push(c);
            if !self.wait.still(c) {
                self.decide_line(false, false);
            }
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn open_leaf(&self) -> OpenLeaf {
        match &self.leaf {
            LeafState::Paragraph => OpenLeaf::Paragraph,
            &LeafState::Fence { ch, len, indent } => OpenLeaf::Fence { ch, len, indent },
            LeafState::TableHead { cells, .. } => OpenLeaf::TableHead { cells: *cells },
            LeafState::Table(_) => OpenLeaf::Table,
            LeafState::None | LeafState::Heading { .. } => OpenLeaf::None,
        }
    }

    /// `eol`: the line has ended (`newline`: with a line end, not the end
    /// of the answer).
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn decide_line(&mut self, eol: bool, newline: bool) {
        loop {
            self.decisions += 1;
            match line::decide(&self.containers, self.open_leaf(), &self.line, eol) {
                Ok(plan) if plan.leaf == Leaf::NoTable => self.table_fails(),
                Ok(plan) => return self.apply(plan, newline),
                Err(wait) if !eol => {
                    self.wait = wait;
                    return;
                }
                // A whole line always decides; should it not, it is text.
                Err(_) => {
                    let leaf = if self.open_leaf() == OpenLeaf::Paragraph {
                        Leaf::Continue
                    } else {
                        Leaf::Paragraph
                    };
                    let plan = Plan {
                        matched: self.containers.len(),
                        prefix: 0,
                        starts: Vec::new(),
                        leaf,
                        content: 0,
                    };
                    return self.apply(plan, newline);
                }
            }
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn apply(&mut self, plan: Plan, newline: bool) {
        let line = std::mem::take(&mut self.line);
        self.deciding = false;
        self.wait = Wait::Char;
        let rest = &line[plan.content.min(line.len())..];
        match plan.leaf {
            Leaf::Continue => {
                if std::mem::take(&mut self.newline) {
                    self.inline.feed('\n', &mut self.out);
                }
                self.out.skip(&line[..plan.content]);
                return self.content_str(rest, newline);
            }
            Leaf::Code => {
                self.out.skip(&line[..plan.content]);
                return self.content_str(rest, newline);
            }
            Leaf::CloseFence => {
                self.out.skip(&line);
                self.out.close(Tag::Code, "");
                self.out.close(Tag::Pre, "");
                self.leaf = LeafState::None;
                return self.line_end(newline);
            }
            Leaf::Delimiter(aligns) => return self.table_starts(aligns, &line, newline),
            Leaf::Row => {
                self.out.skip(&line[..plan.content]);
                if let LeafState::Table(table) = &mut self.leaf {
                    if !table.body {
                        table.body = true;
                        self.out.open(Tag::Tbody, Attrs::default(), "");
                    }
                    table.row = Row {
                        open: true,
                        ..Row::default()
                    };
                }
                self.out.open(Tag::Tr, Attrs::default(), "");
                return self.content_str(rest, newline);
            }
            _ => {}
        }
        self.close_leaf();
        self.out.skip(&line[..plan.prefix]);
        let mut keep = plan.matched;
        if let (Some(Container::Item { .. }), Some(&Container::List(kind))) = (
            self.containers.get(keep),
            keep.checked_sub(1).and_then(|i| self.containers.get(i)),
        ) {
            let sibling = matches!(plan.starts.first(),
                Some(start) if matches!(start.kind, StartKind::Item { list, .. } if list == kind));
            if !sibling {
                keep -= 1;
            }
        }
        self.close_containers(keep);
        let mut at = plan.prefix;
        for start in &plan.starts {
            let raw = &line[at..start.end];
            at = start.end;
            match start.kind {
                StartKind::Quote => {
                    self.out.open(Tag::Blockquote, Attrs::default(), raw);
                    self.containers.push(Container::Quote);
                }
                StartKind::Item {
                    list,
                    number,
                    width,
                } => {
                    if self.containers.last() == Some(&Container::List(list)) {
                        self.out.open(Tag::Li, Attrs::default(), raw);
                    } else {
                        let (tag, start) = match list {
                            ListKind::Bullet(_) => (Tag::Ul, None),
                            ListKind::Ordered(_) => (Tag::Ol, (number != 1).then_some(number)),
                        };
                        self.out.open(
                            tag,
                            Attrs {
                                start,
                                ..Attrs::default()
                            },
                            raw,
                        );
                        self.out.open(Tag::Li, Attrs::default(), "");
                        self.containers.push(Container::List(list));
                    }
                    self.containers.push(Container::Item { width });
                }
            }
        }
        self.out.skip(&line[at..plan.content.max(at)]);
        match plan.leaf {
            Leaf::Paragraph => {
                self.out.open(Tag::P, Attrs::default(), "");
                self.inline.start(false);
                self.leaf = LeafState::Paragraph;
                self.content_str(rest, newline);
            }
            Leaf::Heading(level) => {
                self.out.open(Tag::H(level), Attrs::default(), "");
                self.inline.start(false);
                self.leaf = LeafState::Heading {
                    level,
                    tail: String::new(),
                    seen: false,
                };
                self.content_str(rest, newline);
            }
            Leaf::Fence {
                ch,
                len,
                indent,
                lang,
            } => {
                self.out.open(
                    Tag::Pre,
                    Attrs {
                        lang,
                        ..Attrs::default()
                    },
                    "",
                );
                self.out.open(Tag::Code, Attrs::default(), "");
                self.leaf = LeafState::Fence { ch, len, indent };
                self.line_end(newline);
            }
            Leaf::Break => {
                self.out.void(Tag::Hr, "");
                self.line_end(newline);
            }
            Leaf::TableHead => {
                self.leaf = LeafState::TableHead {
                    content: rest.to_owned(),
                    cells: table::cells(rest).len(),
                    newline,
                };
                self.deciding = true;
            }
            _ => self.line_end(newline),
        }
    }

    /// A line that opened no content ends.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn line_end(&mut self, newline: bool) {
        if newline {
            self.out.skip("\n");
        }
        self.deciding = true;
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn content_str(&mut self, rest: &str, newline: bool) {
        for c in rest.chars() {
            self.content(c);
        }
        if newline {
            self.content('\n');
        }
    }

    /// A character of a decided line.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn content(&mut self, c: char) {
        match &mut self.leaf {
            LeafState::Paragraph => {
                if c == '\n' {
                    self.newline = true;
                    self.deciding = true;
                } else {
                    self.inline.feed(c, &mut self.out);
                }
            }
            LeafState::Heading { .. } => self.heading_char(c),
            LeafState::Fence { .. } => {
                if c == '\n' {
                    self.out.text("\n", "\n");
                    self.deciding = true;
                } else {
                    self.out.char(c);
                }
            }
            LeafState::Table(_) => self.row_char(c),
            LeafState::None | LeafState::TableHead { .. } => {
                if c == '\n' {
                    self.line_end(true);
                } else {
                    self.out.char(c);
                }
            }
        }
    }

    /// A heading's character: a trailing run of spaces and `#` is held,
    /// since a closing sequence is no text (CommonMark section 4.2).
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn heading_char(&mut self, c: char) {
        let LeafState::Heading { level, tail, seen } = &mut self.leaf else {
            return;
        };
        let level = *level;
        if c == '\n' {
            let tail = std::mem::take(tail);
            self.end_heading(tail);
            self.out.skip("\n");
            self.out.close(Tag::H(level), "");
            self.leaf = LeafState::None;
            self.deciding = true;
            return;
        }
        let blank = c == ' ' || c == '\t';
        let mut flush = String::new();
        if tail.is_empty() {
            if blank || (c == '#' && !*seen) {
                tail.push(c);
                return;
            }
        } else if blank {
            tail.push(c);
            return;
        } else if c == '#' {
            // `#` after spaces after `#`: only the last run may close.
            if tail.ends_with([' ', '\t']) && tail.contains('#') {
                let cut = tail.trim_end_matches([' ', '\t']).len();
                flush = tail[..cut].to_owned();
                tail.drain(..cut);
            }
            tail.push(c);
            if !flush.is_empty() {
                *seen = true;
                self.feed_str(&flush);
            }
            return;
        } else {
            flush = std::mem::take(tail);
        }
        *seen = true;
        self.feed_str(&flush);
        self.inline.feed(c, &mut self.out);
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn end_heading(&mut self, tail: String) {
        let seen = matches!(self.leaf, LeafState::Heading { seen: true, .. });
        let closing = tail.trim_matches([' ', '\t']).bytes().all(|b| b == b'#')
            && (!seen || tail.starts_with([' ', '\t']));
        if closing {
            self.inline.end(&mut self.out);
            self.out.skip(&tail);
        } else {
            self.feed_str(&tail);
            self.inline.end(&mut self.out);
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn feed_str(&mut self, s: &str) {
        for c in s.chars() {
            self.inline.feed(c, &mut self.out);
        }
    }

    /// A table row's character (GFM section 4.10): cells split at `|`,
    /// trimmed; cells past the header's count are dropped, missing ones
    /// added empty.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn row_char(&mut self, c: char) {
        let LeafState::Table(table) = &mut self.leaf else {
            return;
        };
        let cols = table.aligns.len();
        let tag = if table.row.head { Tag::Th } else { Tag::Td };
        let row = &mut table.row;
        if c == '\n' {
            return self.row_end(true);
        }
        if row.cell >= cols {
            self.out.skip(c.encode_utf8(&mut [0; 4]));
            return;
        }
        let align = table.aligns[row.cell];
        if !row.in_cell {
            if c == ' ' || c == '\t' {
                self.out.skip(c.encode_utf8(&mut [0; 4]));
                return;
            }
            if c == '|' {
                if row.started {
                    self.out.open(
                        tag,
                        Attrs {
                            align,
                            ..Attrs::default()
                        },
                        "",
                    );
                    self.out.close(tag, "|");
                    row.cell += 1;
                } else {
                    self.out.skip("|");
                }
                row.started = true;
                return;
            }
            row.started = true;
            row.in_cell = true;
            self.out.open(
                tag,
                Attrs {
                    align,
                    ..Attrs::default()
                },
                "",
            );
            self.inline.start(true);
        }
        if self.inline.feed(c, &mut self.out) == Fed::Pipe {
            self.inline.end(&mut self.out);
            self.out.close(tag, "|");
            if let LeafState::Table(table) = &mut self.leaf {
                table.row.in_cell = false;
                table.row.cell += 1;
            }
        }
    }

    /// A table row ends, with a line end or with the answer.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn row_end(&mut self, newline: bool) {
        let LeafState::Table(table) = &mut self.leaf else {
            return;
        };
        let tag = if table.row.head { Tag::Th } else { Tag::Td };
        let mut done = table.row.cell;
        if table.row.in_cell {
            self.inline.end(&mut self.out);
            self.out.close(tag, "");
            done += 1;
        }
        for &align in table.aligns.iter().skip(done) {
            self.out.open(
                tag,
                Attrs {
                    align,
                    ..Attrs::default()
                },
                "",
            );
            self.out.close(tag, "");
        }
        if newline {
            self.out.skip("\n");
        }
        self.out.close(Tag::Tr, "");
        table.row = Row::default();
        self.deciding = true;
    }

    /// The held line is a table's header: `line` is its delimiter row.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn table_starts(&mut self, aligns: Vec<Option<Align>>, line: &str, newline: bool) {
        let LeafState::TableHead { content, .. } = std::mem::take(&mut self.leaf) else {
            return;
        };
        self.out.open(Tag::Table, Attrs::default(), "");
        self.out.open(Tag::Thead, Attrs::default(), "");
        self.out.open(Tag::Tr, Attrs::default(), "");
        self.leaf = LeafState::Table(TableState {
            aligns,
            body: false,
            row: Row {
                head: true,
                open: true,
                ..Row::default()
            },
        });
        for c in content.chars() {
            self.row_char(c);
        }
        self.row_char('\n');
        self.out.skip(line);
        if newline {
            self.out.skip("\n");
        }
        self.out.close(Tag::Thead, "");
        self.deciding = true;
    }

    /// The held line was no table header: it starts a paragraph.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn table_fails(&mut self) {
        let LeafState::TableHead {
            content, newline, ..
        } = std::mem::take(&mut self.leaf)
        else {
            return;
        };
        self.out.open(Tag::P, Attrs::default(), "");
        self.inline.start(false);
        self.feed_str(&content);
        self.leaf = LeafState::Paragraph;
        self.newline = newline;
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn close_leaf(&mut self) {
        match std::mem::take(&mut self.leaf) {
            LeafState::None => {}
            LeafState::Paragraph => {
                self.inline.end(&mut self.out);
                if std::mem::take(&mut self.newline) {
                    self.out.skip("\n");
                }
                self.out.close(Tag::P, "");
            }
            LeafState::Heading { level, tail, seen } => {
                self.leaf = LeafState::Heading {
                    level,
                    tail: String::new(),
                    seen,
                };
                self.end_heading(tail);
                self.leaf = LeafState::None;
                self.out.close(Tag::H(level), "");
            }
            LeafState::Fence { .. } => {
                self.out.close(Tag::Code, "");
                self.out.close(Tag::Pre, "");
            }
            head @ LeafState::TableHead { .. } => {
                self.leaf = head;
                self.table_fails();
                self.close_leaf();
            }
            LeafState::Table(mut table) => {
                if table.row.open {
                    // The answer ended inside a row.
                    self.leaf = LeafState::Table(table);
                    self.row_end(false);
                    let LeafState::Table(rest) = std::mem::take(&mut self.leaf) else {
                        return;
                    };
                    table = rest;
                }
                if table.body {
                    self.out.close(Tag::Tbody, "");
                }
                self.out.close(Tag::Table, "");
            }
        }
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn close_containers(&mut self, keep: usize) {
        while self.containers.len() > keep {
            let tag = match self.containers.pop() {
                Some(Container::Quote) => Tag::Blockquote,
                Some(Container::List(ListKind::Bullet(_))) => Tag::Ul,
                Some(Container::List(ListKind::Ordered(_))) => Tag::Ol,
                Some(Container::Item { .. }) | None => Tag::Li,
            };
            self.out.close(tag, "");
        }
    }
}
