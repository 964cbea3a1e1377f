//! A line's block structure (CommonMark section 5, the first phase of its
//! parsing strategy): which open containers it continues, which it opens,
//! and what kind of line it is. Decided from as few of its characters as
//! possible; until then, [`decide`] says what it is waiting for.

use super::{link, table, Align, MAX_BLOCK_DEPTH};

/// The kind of a list, which decides whether an item continues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListKind {
    /// `-`, `+` or `*`.
    Bullet(u8),
    /// `1.` or `1)`: the delimiter.
    Ordered(u8),
}

/// An open container block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Container {
    Quote,
    List(ListKind),
    /// A list item whose content starts `width` columns in.
    Item {
        width: usize,
    },
}

/// The open leaf, as far as a line's structure depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenLeaf {
    None,
    Paragraph,
    Fence {
        ch: u8,
        len: usize,
        indent: usize,
    },
    /// A held line that may be a table's header, with its cell count.
    TableHead {
        cells: usize,
    },
    Table,
}

/// What more of the line a decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// Any character may decide.
    Char,
    /// Only a character other than a space or a tab may decide.
    Spaces,
    /// A thematic break of this character so far: only another character
    /// may decide.
    Hr(u8),
    /// A run of this character so far (a heading's `#`s, a fence's
    /// backticks): only another character may decide.
    Run(u8),
    /// A delimiter row so far.
    Delimiter,
    /// The end of the line decides.
    Eol,
}

impl Wait {
    /// Whether `c`, coming next, leaves the line as undecided as it was.
    #[cfg_attr(cite_stream_size, optimize(size))]
    pub(super) fn still(self, c: char) -> bool {
        match self {
            Wait::Char => false,
            Wait::Spaces => c == ' ' || c == '\t',
            Wait::Hr(b) => c == ' ' || c == '\t' || c == char::from(b),
            Wait::Run(b) => c == char::from(b),
            Wait::Delimiter => c.is_ascii() && table::delimiter_char(c as u8),
            Wait::Eol => c != '\n',
        }
    }
}

/// A container the line opens, and where its marker ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Start {
    pub(super) kind: StartKind,
    pub(super) end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StartKind {
    Quote,
    Item {
        list: ListKind,
        number: u32,
        width: usize,
    },
}

/// What kind of line it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Leaf {
    /// More text of the open paragraph (perhaps lazily).
    Continue,
    Paragraph,
    Heading(u8),
    Fence {
        ch: u8,
        len: usize,
        indent: usize,
        lang: Option<String>,
    },
    CloseFence,
    /// A line of the open fence's code.
    Code,
    Break,
    Blank,
    /// May be a table's header: held until the next line.
    TableHead,
    /// The held header is a table's: its alignments.
    Delimiter(Vec<Option<Align>>),
    /// The held line was no table header after all.
    NoTable,
    Row,
}

/// A decided line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// The open containers the line continues.
    pub(super) matched: usize,
    /// Where their markers end.
    pub(super) prefix: usize,
    pub(super) starts: Vec<Start>,
    pub(super) leaf: Leaf,
    /// Where the leaf's content starts.
    pub(super) content: usize,
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
    col: usize,
    /// Columns of the tab just passed that no container took yet: a tab
    /// may be partly a container's indentation and partly what follows
    /// (CommonMark section 2.2).
    part: usize,
    eol: bool,
}

impl Cursor<'_> {
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn peek(&self) -> Result<Option<u8>, Wait> {
        match self.s.get(self.pos) {
            Some(&b) => Ok(Some(b)),
            None if self.eol => Ok(None),
            None => Err(Wait::Char),
        }
    }

    /// The column the cursor stands at, inside a tab when part of it is
    /// left.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn column(&self) -> usize {
        self.col - self.part
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn bump(&mut self) {
        self.part = 0;
        if let Some(&b) = self.s.get(self.pos) {
            self.col = if b == b'\t' {
                self.col + 4 - self.col % 4
            } else {
                self.col + 1
            };
            self.pos += 1;
        }
    }

    /// Skips spaces and tabs, up to `max` columns; how many it skipped.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn spaces(&mut self, max: usize) -> Result<usize, Wait> {
        let mut n = 0;
        while n < max {
            if self.part > 0 {
                let take = self.part.min(max - n);
                self.part -= take;
                n += take;
                continue;
            }
            match self.peek() {
                Ok(Some(b' ')) => {
                    self.bump();
                    n += 1;
                }
                Ok(Some(b'\t')) => {
                    let before = self.col;
                    self.bump();
                    let width = self.col - before;
                    if n + width > max {
                        self.part = n + width - max;
                        n = max;
                    } else {
                        n += width;
                    }
                }
                Ok(_) => break,
                Err(_) => return Err(Wait::Spaces),
            }
        }
        Ok(n)
    }

    /// Skips a run of `b`; its length.
    #[cfg_attr(cite_stream_size, optimize(size))]
    fn run(&mut self, b: u8) -> Result<usize, Wait> {
        let mut n = 0;
        while self.peek().map_err(|_| Wait::Run(b))? == Some(b) {
            self.bump();
            n += 1;
        }
        Ok(n)
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn save(&self) -> (usize, usize, usize) {
        (self.pos, self.col, self.part)
    }

    #[cfg_attr(cite_stream_size, optimize(size))]
    fn restore(&mut self, (pos, col, part): (usize, usize, usize)) {
        self.pos = pos;
        self.col = col;
        self.part = part;
    }
}

/// Decides the structure of `line` (without its line end; `eol` says
/// whether the line end has come), or says what it waits for.
#[cfg_attr(cite_stream_size, optimize(size))]
pub(super) fn decide(
    containers: &[Container],
    open: OpenLeaf,
    line: &str,
    eol: bool,
) -> Result<Plan, Wait> {
    let mut c = Cursor {
        s: line.as_bytes(),
        pos: 0,
        col: 0,
        part: 0,
        eol,
    };
    let mut matched = 0;
    for container in containers {
        let save = c.save();
        let continues = match *container {
            Container::Quote => {
                c.spaces(3)?;
                if c.peek()? == Some(b'>') {
                    c.bump();
                    c.spaces(1)?;
                    true
                } else {
                    false
                }
            }
            Container::List(_) => true,
            Container::Item { width } => c.spaces(width)? >= width || c.peek()?.is_none(),
        };
        if !continues {
            c.restore(save);
            break;
        }
        matched += 1;
    }
    let all = matched == containers.len();
    let prefix = c.pos;
    let plan = |leaf, content, starts| Plan {
        matched,
        prefix,
        starts,
        leaf,
        content,
    };

    if let (true, OpenLeaf::Fence { ch, len, indent }) = (all, open) {
        let save = c.save();
        c.spaces(3)?;
        if c.peek()? == Some(ch) && c.run(ch)? >= len {
            c.spaces(usize::MAX)?;
            match c.peek() {
                Ok(None) => return Ok(plan(Leaf::CloseFence, c.pos, Vec::new())),
                Err(_) => return Err(Wait::Eol),
                Ok(Some(_)) => {}
            }
        }
        c.restore(save);
        c.spaces(indent)?;
        return Ok(plan(Leaf::Code, c.pos, Vec::new()));
    }
    if let OpenLeaf::TableHead { cells } = open {
        if !all {
            return Ok(plan(Leaf::NoTable, prefix, Vec::new()));
        }
        let rest = &line[prefix..];
        if !rest.bytes().all(table::delimiter_char) {
            return Ok(plan(Leaf::NoTable, prefix, Vec::new()));
        }
        if !eol {
            return Err(Wait::Delimiter);
        }
        return Ok(match table::delimiter(rest) {
            Some(aligns) if aligns.len() == cells => {
                plan(Leaf::Delimiter(aligns), line.len(), Vec::new())
            }
            _ => plan(Leaf::NoTable, prefix, Vec::new()),
        });
    }

    let paragraph = open == OpenLeaf::Paragraph;
    // The list an item on this line would continue rather than start.
    let sibling = match (
        containers.get(matched),
        matched.checked_sub(1).map(|i| containers[i]),
    ) {
        (Some(Container::Item { .. }), Some(Container::List(kind))) => Some(kind),
        _ => None,
    };
    let mut depth = containers[..matched]
        .iter()
        .filter(|c| !matches!(c, Container::List(_)))
        .count();
    let mut starts: Vec<Start> = Vec::new();
    loop {
        let start_col = c.column();
        let indent = c.spaces(usize::MAX)?;
        let Some(first) = c.peek()? else {
            return Ok(plan(Leaf::Blank, c.pos, starts));
        };
        // Where the line would otherwise go on with the open paragraph: a
        // block here interrupts it. When not every container continues,
        // the paragraph is no longer the innermost open block, so nothing
        // interrupts it (commonmark.js checks the innermost matched
        // container): `2.` then starts a list, `---` is a break.
        let interrupting = paragraph && starts.is_empty() && all;
        let in_paragraph = paragraph && starts.is_empty();
        let table_row = open == OpenLeaf::Table && all && starts.is_empty();
        if indent >= 4
            || depth >= MAX_BLOCK_DEPTH && matches!(first, b'>' | b'-' | b'*' | b'+' | b'0'..=b'9')
        {
            break;
        }
        let after_indent = c.save();
        match first {
            b'>' => {
                c.bump();
                c.spaces(1)?;
                starts.push(Start {
                    kind: StartKind::Quote,
                    end: c.pos,
                });
                depth += 1;
                continue;
            }
            b'#' => {
                let n = c.run(b'#')?;
                if n <= 6 && matches!(c.peek()?, None | Some(b' ' | b'\t')) {
                    c.spaces(usize::MAX)?;
                    return Ok(plan(Leaf::Heading(n as u8), c.pos, starts));
                }
            }
            b'`' | b'~' => {
                let run = c.run(first)?;
                if run >= 3 {
                    if !eol {
                        return Err(Wait::Eol);
                    }
                    let len = run;
                    let info = line[c.pos..].trim_matches([' ', '\t']);
                    if first == b'~' || !info.contains('`') {
                        let lang = info.split([' ', '\t']).next().filter(|w| !w.is_empty());
                        let fence = Leaf::Fence {
                            ch: first,
                            len,
                            indent,
                            lang: lang.map(link::unescape),
                        };
                        return Ok(plan(fence, line.len(), starts));
                    }
                }
            }
            b'-' | b'*' | b'_' | b'+' => {
                // `---` right after paragraph text would be a setext
                // heading's underline, which stays text here.
                if first != b'+' && !(first == b'-' && interrupting) {
                    let rest = &c.s[c.pos..];
                    let mut marks = 0;
                    let only = rest.iter().all(|&b| {
                        marks += usize::from(b == first);
                        b == first || b == b' ' || b == b'\t'
                    });
                    if only && !eol {
                        return Err(Wait::Hr(first));
                    }
                    if only && marks >= 3 {
                        return Ok(plan(Leaf::Break, line.len(), starts));
                    }
                }
                if first != b'_' {
                    c.bump();
                    let list = ListKind::Bullet(first);
                    if let Some(start) = item(
                        &mut c,
                        start_col,
                        list,
                        1,
                        interrupting && sibling != Some(list),
                    )? {
                        starts.push(start);
                        depth += 1;
                        continue;
                    }
                }
            }
            b'0'..=b'9' => {
                let mut number: u32 = 0;
                let mut digits = 0;
                while let Some(d @ b'0'..=b'9') = c.peek()? {
                    if digits == 9 {
                        break;
                    }
                    number = number * 10 + u32::from(d - b'0');
                    digits += 1;
                    c.bump();
                }
                if let Some(delim @ (b'.' | b')')) = c.peek()? {
                    c.bump();
                    let list = ListKind::Ordered(delim);
                    let new_list = interrupting && sibling != Some(list);
                    if !(new_list && number != 1) {
                        if let Some(start) = item(&mut c, start_col, list, number, new_list)? {
                            starts.push(start);
                            depth += 1;
                            continue;
                        }
                    }
                }
            }
            b'|' if !in_paragraph && !table_row => {
                if !eol {
                    return Err(Wait::Eol);
                }
                return Ok(plan(Leaf::TableHead, c.pos, starts));
            }
            _ => {}
        }
        c.restore(after_indent);
        break;
    }
    let content = c.pos;
    let leaf = if open == OpenLeaf::Table && all && starts.is_empty() {
        Leaf::Row
    } else if paragraph && starts.is_empty() {
        Leaf::Continue
    } else {
        Leaf::Paragraph
    };
    Ok(plan(leaf, content, starts))
}

/// A list item's start, the cursor just past its marker (CommonMark
/// section 5.2): the spaces after it decide where its content starts.
/// `new_list_interrupting`: the item would start a new list in the middle
/// of a paragraph, which an empty item may not.
#[cfg_attr(cite_stream_size, optimize(size))]
fn item(
    c: &mut Cursor<'_>,
    start_col: usize,
    list: ListKind,
    number: u32,
    new_list_interrupting: bool,
) -> Result<Option<Start>, Wait> {
    let marker_end = c.save();
    let width = match c.peek()? {
        None => {
            if new_list_interrupting {
                return Ok(None);
            }
            c.col + 1 - start_col
        }
        Some(b' ' | b'\t') => {
            let n = c.spaces(5)?;
            match c.peek()? {
                None if new_list_interrupting => return Ok(None),
                None => marker_end.1 + 1 - start_col,
                // Five or more spaces: the content is indented code (here
                // text) one space after the marker.
                Some(_) if n >= 5 => {
                    c.restore(marker_end);
                    c.spaces(1)?;
                    marker_end.1 + 1 - start_col
                }
                Some(_) => c.column() - start_col,
            }
        }
        Some(_) => return Ok(None),
    };
    Ok(Some(Start {
        kind: StartKind::Item {
            list,
            number,
            width,
        },
        end: c.pos,
    }))
}
