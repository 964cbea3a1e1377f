//! The event-stream parser on arbitrary bytes: it never panics, and the
//! events it dispatches (and the error it stops with, if any) are the same
//! however the input is cut into chunks.
#![no_main]

use cite_stream::core::sse::{EventStreamParser, SseError, SseEvent};
use libfuzzer_sys::fuzz_target;

fn parse(input: &[u8], max: usize, cuts: &[usize]) -> (Vec<SseEvent>, Option<SseError>) {
    let mut parser = EventStreamParser::new(max);
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        if let Err(error) = parser.feed(&input[start..cut], &mut |e| events.push(e)) {
            return (events, Some(error));
        }
        start = cut;
    }
    let end = parser.finish().err();
    (events, end)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    // A small limit half the time, so the size checks are exercised too.
    let max = if control & 1 == 0 { 64 + usize::from(control) } else { 1 << 20 };
    let whole = parse(data, max, &[]);
    let step = usize::from(control % 13) + 1;
    let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
    assert_eq!(parse(data, max, &cuts), whole, "chunks of {step}");
    let bytes: Vec<usize> = (1..data.len()).collect();
    assert_eq!(parse(data, max, &bytes), whole, "1-byte chunks");
});
