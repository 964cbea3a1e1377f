//! The Markdown segmenter on arbitrary text: it never panics, joining the
//! segments' raw gives back the input exactly, the segments are well nested
//! within the depth limits, and however the text is cut the tree and its
//! text are the same (only where a segment's raw starts may differ, since
//! text released at a cut is a segment of its own).
#![no_main]

use cite_stream::core::markdown::{
    MarkdownOptions, MarkdownSegment, MarkdownSegmenter, Tag, MAX_BLOCK_DEPTH, MAX_INLINE_DEPTH,
};
use libfuzzer_sys::fuzz_target;

fn run(pieces: &[&str]) -> Vec<MarkdownSegment> {
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut out = Vec::new();
    for piece in pieces {
        segmenter.push(piece, 0.0, &mut out);
    }
    segmenter.finish(&mut out);
    out
}

/// The tree and its text, adjacent text merged; checks nesting and depth
/// on the way.
fn tree(segments: &[MarkdownSegment]) -> Vec<String> {
    let mut stack: Vec<Tag> = Vec::new();
    let mut tree: Vec<String> = Vec::new();
    let mut text = String::new();
    for segment in segments {
        match segment {
            MarkdownSegment::Text { text: t, .. } => {
                text.push_str(t);
                continue;
            }
            _ if !text.is_empty() => tree.push(std::mem::take(&mut text)),
            _ => {}
        }
        match segment {
            MarkdownSegment::Open { tag, attrs, .. } => {
                stack.push(*tag);
                let blocks = stack
                    .iter()
                    .filter(|t| matches!(t, Tag::Blockquote | Tag::Li))
                    .count();
                let inlines = stack
                    .iter()
                    .filter(|t| matches!(t, Tag::Em | Tag::Strong | Tag::Del | Tag::A | Tag::Code))
                    .count();
                assert!(blocks <= MAX_BLOCK_DEPTH);
                // A code block's `code` is no inline element.
                assert!(inlines <= MAX_INLINE_DEPTH + 1);
                tree.push(format!("<{} {attrs:?}>", tag.name()));
            }
            MarkdownSegment::Close { tag, .. } => {
                assert_eq!(stack.pop(), Some(*tag), "closes the innermost open");
                tree.push(format!("</{}>", tag.name()));
            }
            MarkdownSegment::Citation {
                text, citations, ..
            } => {
                tree.push(format!("{{{text} {citations:?}}}"));
            }
            MarkdownSegment::Text { .. } => {}
        }
    }
    if !text.is_empty() {
        tree.push(text);
    }
    assert!(stack.is_empty(), "finish closes every element");
    tree
}

fn check(segments: &[MarkdownSegment], text: &str) -> Vec<String> {
    let raw: String = segments.iter().map(MarkdownSegment::raw).collect();
    assert_eq!(raw, text, "the raw texts join to the source");
    tree(segments)
}

fuzz_target!(|input: &[u8]| {
    // The first byte says how many bytes after it are piece lengths.
    let Some((&control, rest)) = input.split_first() else {
        return;
    };
    let (lengths, data) = rest.split_at(usize::from(control % 16).min(rest.len()));
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let whole = check(&run(&[text]), text);

    let mut pieces = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < text.len() {
        let len = lengths
            .get(i % lengths.len().max(1))
            .map_or(3, |&b| usize::from(b) + 1);
        let mut end = (at + len).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&text[at..end]);
        at = end;
        i += 1;
    }
    assert_eq!(check(&run(&pieces), text), whole, "cut as the fuzzer says");

    let chars: Vec<&str> = text
        .char_indices()
        .map(|(at, c)| &text[at..at + c.len_utf8()])
        .collect();
    assert_eq!(check(&run(&chars), text), whole, "one character at a time");
});
