//! The citation buffer on arbitrary text: it never panics, joining its
//! segments gives back the input exactly, and the citations it finds are the
//! same however the text is split into tokens.
#![no_main]

use cite_stream::core::citation::{CitationBuffer, CitationOptions, Pattern, Segment};
use libfuzzer_sys::fuzz_target;

fn run(pieces: &[&str], options: CitationOptions) -> Vec<Segment> {
    let mut buffer = CitationBuffer::new(options);
    let mut out = Vec::new();
    for piece in pieces {
        buffer.push(piece, 0.0, &mut out);
    }
    buffer.finish(&mut out);
    out
}

fn citations(segments: &[Segment]) -> Vec<&Segment> {
    segments
        .iter()
        .filter(|s| matches!(s, Segment::Citation { .. }))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let options = CitationOptions {
        pattern: if control & 1 == 0 { Pattern::TimestampSpeaker } else { Pattern::Numeric },
        max_length: 8 + usize::from(control >> 1),
        ..CitationOptions::default()
    };
    let whole = run(&[text], options);
    let joined: String = whole.iter().map(Segment::text).collect();
    assert_eq!(joined, text);
    let step = usize::from(control % 7) + 1;
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let mut pieces = Vec::new();
    let mut start = 0;
    for &cut in chars.iter().skip(step).step_by(step) {
        pieces.push(&text[start..cut]);
        start = cut;
    }
    pieces.push(&text[start..]);
    let split = run(&pieces, options);
    let joined: String = split.iter().map(Segment::text).collect();
    assert_eq!(joined, text);
    assert_eq!(citations(&split), citations(&whole));
});
