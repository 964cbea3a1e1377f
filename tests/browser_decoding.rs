//! The parser's UTF-8 decoding against the browser's own `TextDecoder`, in
//! headless Chromium and Firefox: thousands of random byte strings, valid
//! and invalid, with and without a BOM, cut at random points.
#![cfg(target_arch = "wasm32")]

use cite_stream::core::sse::{EventStreamParser, SseEvent};
use wasm_bindgen_test::*;
use web_sys::TextDecoder;

wasm_bindgen_test_configure!(run_in_browser);

/// xorshift64*: a fixed seed, so a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A byte string that stresses the decoder: valid characters of every
/// length, lead bytes without their continuations, stray continuations,
/// overlongs, surrogates, bytes that never occur in UTF-8, and BOMs.
fn random_bytes(random: &mut Random) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"a",
        b" ",
        b":",
        b"\0",
        "é".as_bytes(),
        "€".as_bytes(),
        "東".as_bytes(),
        "😀".as_bytes(),
        b"\xEF\xBB\xBF",
        b"\xC2",
        b"\xE2\x82",
        b"\xF0\x9F\x98",
        b"\x80",
        b"\xBF",
        b"\xC0\xAF",
        b"\xE0\x80\x80",
        b"\xED\xA0\x80",
        b"\xF4\x90\x80\x80",
        b"\xF5",
        b"\xFF",
        b"\xF8\x88\x80\x80\x80",
    ];
    let mut bytes = Vec::new();
    for _ in 0..random.below(24) {
        if random.below(4) == 0 {
            // Any byte but CR and LF, which would end the data line.
            let byte = random.below(256) as u8;
            bytes.push(if byte == b'\r' || byte == b'\n' {
                b'x'
            } else {
                byte
            });
        } else {
            bytes.extend_from_slice(PIECES[random.below(PIECES.len())]);
        }
    }
    bytes
}

fn parse_in_pieces(stream: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut parser = EventStreamParser::default();
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
        parser
            .feed(&stream[start..cut], &mut |e| events.push(e))
            .expect("small input");
        start = cut;
    }
    parser.finish().expect("finish");
    events
}

#[wasm_bindgen_test]
fn decoding_matches_the_browsers_text_decoder() {
    let decoder = TextDecoder::new().expect("TextDecoder");
    let mut random = Random(0x5EED_CAFE_F00D_0001);
    for case in 0..4000 {
        let payload = random_bytes(&mut random);
        let bom: &[u8] = if case % 5 == 0 { b"\xEF\xBB\xBF" } else { b"" };
        let stream = [bom, b"data: ", &payload, b"\n\n"].concat();
        // The browser decodes the whole stream (dropping a leading BOM, as
        // the event-stream spec asks), and the data is what lies between
        // the field name and the blank line.
        let decoded = decoder
            .decode_with_u8_array(&stream)
            .expect("non-fatal decoding never throws");
        let expected = decoded
            .strip_prefix("data: ")
            .and_then(|rest| rest.strip_suffix("\n\n"))
            .expect("the structure is ASCII");
        let mut cuts: Vec<usize> = (0..random.below(4))
            .map(|_| random.below(stream.len() + 1))
            .collect();
        cuts.sort_unstable();
        let events = parse_in_pieces(&stream, &cuts);
        assert_eq!(events.len(), 1, "case {case}: {stream:02X?}");
        assert_eq!(
            events[0].data, expected,
            "case {case}: {stream:02X?} cut at {cuts:?}"
        );
    }
}
