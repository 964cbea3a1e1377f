//! Hostile input (CommonMark's known quadratic cases, very long lines and
//! runs, deep nesting, NUL): structural facts only, never timings. For
//! each input pushed in 4-byte fragments: the raw texts join to the source,
//! every close matches the innermost open element, nesting stays within
//! [`MAX_BLOCK_DEPTH`] and [`MAX_INLINE_DEPTH`], what is held stays under a
//! bound that does not grow with the input, and the work of deciding lines
//! stays proportional to their number.

use super::*;

/// Held bytes allowed whatever the input: a held `[` holds at most
/// [`MAX_LINK_HOLD`] bytes of source, and its output and destination
/// besides, with a little more for markers.
const HELD: usize = 4 * MAX_LINK_HOLD + 1024;

/// Line decisions allowed per line: a decision waits for a character that
/// can change it, so a line is decided once, or a few times while its
/// container markers come (at most one per marker, and markers stop at
/// the depth limit).
const DECISIONS_PER_LINE: u64 = 4 * MAX_BLOCK_DEPTH as u64;

#[derive(Default)]
struct Checked {
    /// The open elements.
    stack: Vec<Tag>,
    in_pre: bool,
    max_blocks: usize,
    max_inlines: usize,
    raw: String,
    text: String,
}

impl Checked {
    fn take(&mut self, segments: &[MarkdownSegment]) {
        for segment in segments {
            self.raw.push_str(segment.raw());
            match segment {
                MarkdownSegment::Open { tag, .. } => {
                    if *tag == Tag::Pre {
                        self.in_pre = true;
                    }
                    self.stack.push(*tag);
                    let blocks = self
                        .stack
                        .iter()
                        .filter(|t| matches!(t, Tag::Blockquote | Tag::Li))
                        .count();
                    let inlines = self
                        .stack
                        .iter()
                        .filter(|t| {
                            matches!(t, Tag::Em | Tag::Strong | Tag::Del | Tag::A)
                                || (**t == Tag::Code && !self.in_pre)
                        })
                        .count();
                    self.max_blocks = self.max_blocks.max(blocks);
                    self.max_inlines = self.max_inlines.max(inlines);
                }
                MarkdownSegment::Close { tag, .. } => {
                    assert_eq!(self.stack.pop(), Some(*tag), "closes the innermost open");
                    if *tag == Tag::Pre {
                        self.in_pre = false;
                    }
                }
                MarkdownSegment::Text { text, .. } | MarkdownSegment::Citation { text, .. } => {
                    self.text.push_str(text)
                }
            }
        }
    }
}

struct Report {
    checked: Checked,
    max_held: usize,
    decisions: u64,
}

/// Pushes `source` in 4-byte fragments (cut back to a character boundary)
/// and checks every fact; `line_held`: the input is one line whose block
/// structure stays undecided to its end, which is held whole by design.
fn run(source: &str, line_held: bool) -> Report {
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut checked = Checked::default();
    let mut out = Vec::new();
    let (mut at, mut max_held, mut line_start) = (0, 0, 0);
    while at < source.len() {
        let mut end = (at + 4).min(source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        segmenter.push(&source[at..end], 0.0, &mut out);
        checked.take(&out);
        out.clear();
        if let Some(nl) = source[at..end].rfind('\n') {
            line_start = at + nl + 1;
        }
        at = end;
        let held = segmenter.held_bytes();
        max_held = max_held.max(held);
        let bound = HELD + if line_held { at - line_start } else { 0 };
        assert!(
            held <= bound,
            "holds {held} bytes at {at}, over {bound}: {:?}…",
            &source[..source.len().min(16)]
        );
    }
    segmenter.finish(&mut out);
    checked.take(&out);
    let decisions = segmenter.line_decisions();
    let lines = source.matches('\n').count() as u64 + 1;
    assert!(
        decisions <= lines * DECISIONS_PER_LINE,
        "{decisions} line decisions for {lines} lines: {:?}…",
        &source[..source.len().min(16)]
    );
    assert!(checked.stack.is_empty(), "finish closes every element");
    assert!(checked.raw == source, "the raw texts join to the source");
    assert!(checked.max_blocks <= MAX_BLOCK_DEPTH, "block depth");
    assert!(checked.max_inlines <= MAX_INLINE_DEPTH, "inline depth");
    println!(
        "{:<24} {:>8} bytes: held at most {max_held:>6}, {decisions} line decisions",
        format!("{:?}…", &source[..source.len().min(12)]),
        source.len()
    );
    Report {
        checked,
        max_held,
        decisions,
    }
}

fn times(s: &str, n: usize) -> String {
    s.repeat(n)
}

#[test]
fn long_delimiter_runs() {
    // A line of only `*`, `_` or `~` may be a thematic break or a fence
    // until its end: held as one line.
    for c in ["*", "_", "~", "* "] {
        run(&times(c, 100_000), true);
        let source = String::from("x") + &times(c, 100_000);
        let report = run(&source, false);
        assert!(report.max_held < 64, "a run is held as a count");
    }
    for source in [
        times("*a", 50_000),
        times("a**", 33_000),
        times("_a *b ", 20_000),
    ] {
        let report = run(&source, false);
        assert!(report.max_held < 64, "a run is held as a count");
    }
}

#[test]
fn open_brackets() {
    for source in [
        times("[", 100_000),
        times("[a](", 25_000),
        times("[12:45, ", 12_000),
        times("](", 50_000),
    ] {
        run(&source, false);
    }
}

#[test]
fn nested_backtick_runs() {
    let mut source = String::new();
    for n in 1..=400 {
        source.push_str(&times("`", n));
        source.push('a');
    }
    run(&source, false);
    run(&times("` `` ", 20_000), false);
    // A line of backticks, and one inside an open fence.
    run(&times("`", 100_000), true);
    run(&(String::from("```\n") + &times("`", 100_000)), true);
    run(&times("#", 100_000), true);
}

#[test]
fn ten_thousand_quote_and_list_markers() {
    let quotes = run(&times(">", 10_000), false);
    assert_eq!(quotes.checked.max_blocks, MAX_BLOCK_DEPTH);
    run(&times("> ", 10_000), false);
    // `- - - …` may be a thematic break until its end: held as one line.
    let dashes = run(&(times("- ", 10_000) + "x"), true);
    assert_eq!(dashes.checked.max_blocks, MAX_BLOCK_DEPTH);
    run(&(times("1. ", 10_000) + "x"), false);
    run(&(times("+ ", 10_000) + "x"), false);
    // Nested by indentation, one level per line.
    let mut nested = String::new();
    for level in 0..700 {
        nested.push_str(&times("  ", level));
        nested.push_str("- x\n");
    }
    let report = run(&nested, true);
    assert_eq!(report.checked.max_blocks, MAX_BLOCK_DEPTH);
    let mut quoted = String::new();
    for level in 1..2_000 {
        quoted.push_str(&times(">", level % 50));
        quoted.push_str(" x\n");
    }
    run(&quoted, false);
}

#[test]
fn a_one_megabyte_line() {
    let source = times("word **bold** [12:45, Sarah Johnson] `x` ", 1 << 20 >> 5);
    let report = run(&source, false);
    assert!(report.decisions <= DECISIONS_PER_LINE);
    run(&times("a", 1 << 20), false);
    // Blank lines and spaces are no text, and still not held.
    run(&times("\n", 1 << 20), false);
    run(&(String::from("x") + &times(" ", 1 << 20) + "y"), false);
}

#[test]
fn an_unclosed_fence_is_closed_by_finish() {
    let source = String::from("```rust\n") + &times("let x = 1;\n", 10_000);
    let report = run(&source, false);
    assert!(report.checked.text.starts_with("let x = 1;\n"));
    assert!(report.checked.text.ends_with("let x = 1;\n"));
}

#[test]
fn nul_and_invalid_characters() {
    let source = times("a\0b \u{FFFD} `\0` *\0* [\0](\0) &#0; \u{10FFFF}\n", 5_000);
    let report = run(&source, false);
    assert!(!report.checked.text.contains('\0'), "NUL shows as U+FFFD");
    assert!(report.checked.text.contains('\u{FFFD}'));
}

#[test]
fn depth_limits_continue_as_text() {
    let quotes = run(&(times("> ", 40) + "x"), false);
    assert_eq!(quotes.checked.max_blocks, MAX_BLOCK_DEPTH);
    assert!(quotes.checked.text.contains("> > x"));
    let items = run(&(times("- ", 40) + "x"), true);
    assert_eq!(items.checked.max_blocks, MAX_BLOCK_DEPTH);
    let mixed = run(&(times("> 1. - ", 20) + "x"), false);
    assert_eq!(mixed.checked.max_blocks, MAX_BLOCK_DEPTH);
    // Held brackets count toward the depth too, but show no element.
    let inline = run(&(times("*a _b ~~c **d [e ", 10) + "x"), false);
    assert!(inline.checked.max_inlines > MAX_INLINE_DEPTH / 2);
    let spans = run(&(times("*a _b ~~c **d ", 10) + "x"), false);
    assert_eq!(spans.checked.max_inlines, MAX_INLINE_DEPTH);
    run(&(times("[", 40) + &times("](u)", 40)), false);
}

#[test]
fn long_held_lines_are_bounded_by_the_line() {
    // A heading's trailing `#`s and a table header are held to the line's
    // end, since only the line end decides them.
    run(&(String::from("# a") + &times(" #", 50_000)), true);
    run(&(String::from("|") + &times("a|", 50_000)), true);
    run(&(String::from("|a|\n") + &times("|-", 50_000)), true);
}
