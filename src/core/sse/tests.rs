use super::*;

fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut parser = EventStreamParser::default();
    let mut events = Vec::new();
    for chunk in chunks {
        parser
            .feed(chunk, &mut |e| events.push(e))
            .expect("within limits");
    }
    parser.finish().expect("finish");
    events
}

fn parse(input: &str) -> Vec<SseEvent> {
    parse_chunks(&[input.as_bytes()])
}

fn ev(event_type: &str, data: &str, id: &str) -> SseEvent {
    SseEvent {
        event_type: event_type.into(),
        data: data.into(),
        last_event_id: id.into(),
    }
}

/// One row per rule of "Interpreting an event stream".
#[test]
fn spec_rules() {
    let table: &[(&str, &str, Vec<SseEvent>)] = &[
        (
            "LF line endings",
            "data: a\n\n",
            vec![ev("message", "a", "")],
        ),
        (
            "CRLF line endings",
            "data: a\r\n\r\n",
            vec![ev("message", "a", "")],
        ),
        (
            "CR line endings",
            "data: a\r\r",
            vec![ev("message", "a", "")],
        ),
        (
            "mixed line endings",
            "data: a\rdata: b\r\ndata: c\n\n",
            vec![ev("message", "a\nb\nc", "")],
        ),
        (
            "comment lines are ignored",
            ": hi\ndata: a\n: there\n\n",
            vec![ev("message", "a", "")],
        ),
        (
            "only one leading space is removed",
            "data:  two\n\n",
            vec![ev("message", " two", "")],
        ),
        (
            "no space after the colon",
            "data:x\n\n",
            vec![ev("message", "x", "")],
        ),
        (
            "value split at the first colon only",
            "data: a:b: c\n\n",
            vec![ev("message", "a:b: c", "")],
        ),
        (
            "a line without a colon is a field with an empty value",
            "data\ndata\n\n",
            vec![ev("message", "\n", "")],
        ),
        (
            "data lines are joined with LF and one trailing LF removed",
            "data: a\ndata:\n\n",
            vec![ev("message", "a\n", "")],
        ),
        (
            "field names are case-sensitive",
            "Data: a\nDATA: b\n\n",
            vec![],
        ),
        (
            "event sets the type",
            "event: token\ndata: a\n\n",
            vec![ev("token", "a", "")],
        ),
        (
            "the type defaults to message",
            "event:\ndata: a\n\n",
            vec![ev("message", "a", "")],
        ),
        (
            "the type does not carry over",
            "event: x\ndata: a\n\ndata: b\n\n",
            vec![ev("x", "a", ""), ev("message", "b", "")],
        ),
        (
            "an empty data buffer dispatches nothing",
            "event: x\n\ndata: b\n\n",
            vec![ev("message", "b", "")],
        ),
        (
            "an event without data dispatches nothing",
            "id: 1\n\n",
            vec![],
        ),
        (
            "id is carried forward",
            "id: 7\ndata: a\n\ndata: b\n\n",
            vec![ev("message", "a", "7"), ev("message", "b", "7")],
        ),
        (
            "an empty id clears it",
            "id: 7\ndata: a\n\nid\ndata: b\n\n",
            vec![ev("message", "a", "7"), ev("message", "b", "")],
        ),
        (
            "an id with NUL is ignored",
            "id: 7\ndata: a\n\nid: 8\0x\ndata: b\n\n",
            vec![ev("message", "a", "7"), ev("message", "b", "7")],
        ),
        (
            "unknown fields are ignored",
            "foo: bar\ndata: a\n\n",
            vec![ev("message", "a", "")],
        ),
        (
            "an unfinished event at the end is discarded",
            "data: a\n\ndata: b\n",
            vec![ev("message", "a", "")],
        ),
        (
            "an unterminated last line is discarded",
            "data: a\n\ndata: b",
            vec![ev("message", "a", "")],
        ),
        (
            "a leading BOM is removed",
            "\u{FEFF}data: a\n\n",
            vec![ev("message", "a", "")],
        ),
        (
            "a second BOM is part of the first line",
            "\u{FEFF}\u{FEFF}data: a\n\n",
            vec![],
        ),
        (
            "spaces before a field name are part of it",
            " data: a\n\n",
            vec![],
        ),
        (
            "a blank line of only CR LF between events",
            "data: a\r\n\r\ndata: b\r\n\r\n",
            vec![ev("message", "a", ""), ev("message", "b", "")],
        ),
        (
            "non-ASCII data",
            "data: Zoë 東京 😀\n\n",
            vec![ev("message", "Zoë 東京 😀", "")],
        ),
    ];
    for (rule, input, expected) in table {
        assert_eq!(&parse(input), expected, "{rule}");
    }
}

/// (bytes of a data line, what `new TextDecoder().decode(bytes)` gives)
const DECODING: &[(&[u8], &str)] = &[
    (b"plain", "plain"),
    ("é€😀".as_bytes(), "é€😀"),
    (b"\xFF", "\u{FFFD}"),
    (b"\xC0\xAF", "\u{FFFD}\u{FFFD}"),
    (b"\xE0\x80\x80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
    (b"\xED\xA0\x80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
    (b"\xF0\x9F\x98", "\u{FFFD}"),
    (b"\xF0\x9F\x98A", "\u{FFFD}A"),
    (b"\xE2\x82", "\u{FFFD}"),
    (b"\xE2\x82\xE2\x82\xAC", "\u{FFFD}€"),
    (b"\xF4\x90\x80\x80", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
    (b"x\xEF\xBB\xBF", "x\u{FEFF}"),
    (b"\x80abc", "\u{FFFD}abc"),
];

#[test]
fn invalid_utf8_is_replaced_as_text_decoder_does() {
    for (bytes, expected) in DECODING {
        let input = [b"data: ", *bytes, b"\n\n"].concat();
        let whole = parse_chunks(&[&input]);
        assert_eq!(whole, vec![ev("message", expected, "")], "{bytes:02X?}");
        for cut in 0..=input.len() {
            assert_eq!(
                parse_with_cuts(&input, &[cut]),
                whole,
                "{bytes:02X?} cut at {cut}"
            );
        }
    }
}

#[test]
fn a_split_character_waits_for_its_last_byte() {
    let mut parser = EventStreamParser::default();
    let mut events = Vec::new();
    for piece in [&b"data: \xF0\x9F"[..], b"\x98", b"\x80!\n", b"\n"] {
        parser.feed(piece, &mut |e| events.push(e)).unwrap();
    }
    assert_eq!(events, vec![ev("message", "😀!", "")]);
}

#[test]
fn a_bom_is_removed_only_at_the_start_whatever_the_cuts() {
    let input = b"\xEF\xBB\xBFdata: \xEF\xBB\xBFx\n\n";
    let expected = vec![ev("message", "\u{FEFF}x", "")];
    for cut in 0..=input.len() {
        assert_eq!(parse_with_cuts(input, &[cut]), expected, "cut at {cut}");
    }
    let bytes: Vec<usize> = (1..input.len()).collect();
    assert_eq!(parse_with_cuts(input, &bytes), expected);
    // A start that only looks like a BOM is kept (and decoded as U+FFFD).
    assert_eq!(parse_chunks(&[b"\xEF", b"\xBBdata: a\n\n"]), vec![]);
    assert_eq!(
        parse_chunks(&[b"\xEF\xBB", b"\n\xEF\xBB\xBFdata: a\n\n"]),
        vec![]
    );
}

#[test]
fn retry_takes_ascii_digits_only() {
    let table: &[(&str, Option<u64>)] = &[
        ("retry: 1500\n", Some(1500)),
        ("retry: 15a\n", None),
        ("retry: +5\n", None),
        ("retry: -5\n", None),
        ("retry:  5\n", None),
        ("retry: 5.0\n", None),
        ("retry:\n", None),
        ("retry: 3000\nretry: x\n", Some(3000)),
        ("retry: 99999999999999999999999\n", Some(u64::MAX)),
    ];
    for (input, expected) in table {
        let mut parser = EventStreamParser::default();
        parser.feed(input.as_bytes(), &mut |_| {}).unwrap();
        assert_eq!(parser.retry(), *expected, "{input:?}");
    }
}

#[test]
fn cr_at_the_end_of_one_chunk_and_lf_at_the_start_of_the_next_are_one_line_ending() {
    // Read as two line endings, the LF would be a blank line and dispatch
    // "a" early, then "b" would be a second event.
    let events = parse_chunks(&[b"data: a\r", b"\ndata: b\r\n\r\n"]);
    assert_eq!(events, vec![ev("message", "a\nb", "")]);
    // An empty chunk between the CR and the LF changes nothing.
    let events = parse_chunks(&[b"data: a\r", b"", b"\ndata: b\n\n"]);
    assert_eq!(events, vec![ev("message", "a\nb", "")]);
}

#[test]
fn last_event_id_is_reported_after_dispatch() {
    let mut parser = EventStreamParser::default();
    parser.feed(b"id: 1\ndata: a\n", &mut |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), "");
    parser.feed(b"\n", &mut |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), "1");
    // "set the last event ID string ... to the value of the last event ID
    // buffer" happens even when no event is dispatched.
    parser.feed(b"id: 2\n\n", &mut |_| {}).unwrap();
    assert_eq!(parser.last_event_id(), "2");
}

#[test]
fn oversized_line_is_an_error_and_reset_recovers() {
    let mut parser = EventStreamParser::new(16);
    let mut events = Vec::new();
    let error = parser
        .feed(b"data: 0123456789abcdef", &mut |e| events.push(e))
        .unwrap_err();
    assert_eq!(error, SseError::LineTooLong { limit: 16 });
    // Refuses further input until reset.
    assert_eq!(
        parser.feed(b"\n\n", &mut |e| events.push(e)),
        Err(SseError::LineTooLong { limit: 16 })
    );
    parser.reset();
    parser
        .feed(b"data: ok\n\n", &mut |e| events.push(e))
        .unwrap();
    assert_eq!(events, vec![ev("message", "ok", "")]);
}

#[test]
fn oversized_line_is_refused_even_when_it_arrives_in_small_chunks() {
    let mut parser = EventStreamParser::new(64);
    let mut result = Ok(());
    for _ in 0..100 {
        result = parser.feed(b"xxxxxxxx", &mut |_| {});
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(SseError::LineTooLong { limit: 64 }));
}

#[test]
fn a_comment_longer_than_the_limit_is_ignored_at_every_split() {
    // A keep-alive or padding comment is not an event: it takes no memory
    // and counts against no limit, however it is cut into chunks.
    let comment = format!(": {}\r\n", "p".repeat(40));
    let input = format!("data: a\n\n{comment}:\n:{}\ndata: b\n\n", "q".repeat(30));
    let bytes = input.as_bytes();
    let expected = vec![ev("message", "a", ""), ev("message", "b", "")];
    for cut in 0..=bytes.len() {
        for second in cut..=bytes.len() {
            let mut parser = EventStreamParser::new(16);
            let mut events = Vec::new();
            for chunk in [&bytes[..cut], &bytes[cut..second], &bytes[second..]] {
                parser
                    .feed(chunk, &mut |e| events.push(e))
                    .unwrap_or_else(|e| panic!("cut at {cut}/{second}: {e:?}"));
            }
            parser.finish().expect("finish");
            assert_eq!(events, expected, "cut at {cut}/{second}");
        }
    }
    // Byte by byte, too; and a data line over the limit is still refused.
    let mut parser = EventStreamParser::new(16);
    let mut events = Vec::new();
    for byte in bytes {
        parser
            .feed(std::slice::from_ref(byte), &mut |e| events.push(e))
            .expect("comments never count");
    }
    assert_eq!(events, expected);
    assert_eq!(
        parser.feed(b"data: 0123456789abcdef", &mut |_| {}),
        Err(SseError::LineTooLong { limit: 16 })
    );
}

#[test]
fn oversized_event_of_short_lines_is_an_error() {
    let mut parser = EventStreamParser::new(32);
    let error = parser
        .feed(
            b"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n",
            &mut |_| {},
        )
        .unwrap_err();
    assert_eq!(error, SseError::EventTooLarge { limit: 32 });
}

#[test]
fn events_before_an_error_in_the_same_chunk_are_delivered() {
    let mut parser = EventStreamParser::new(16);
    let mut events = Vec::new();
    let result = parser.feed(b"data: a\n\ndata: 0123456789abcdef\n", &mut |e| {
        events.push(e)
    });
    assert!(result.is_err());
    assert_eq!(events, vec![ev("message", "a", "")]);
}

/// Streams that exercise every rule at once, for the split-invariance checks.
pub(crate) const FIXTURES: &[&[u8]] = &[
    b"\xEF\xBB\xBFid: 1\r\nevent: token\r\ndata:  x\r\n\r\n: c\rdata: y\rretry: 10\r\rid\ndata: z\n\n",
    "event: token\ndata: Zoë 東京 😀 [12:45, José Álvarez]\ndata:\n\nid: 2\0\ndata\n\n".as_bytes(),
    b"data: a\r\n\r\ndata: bad \xF0\x9F\x98 \xE0\x80 \xC3\n\ndata: unfinished",
    b"event: session\ndata: {\"sessionId\":\"s_1\"}\nid: m_1:1\n\nevent: done\ndata: {}\nid: m_1:2\n\n",
];

fn parse_with_cuts(input: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut chunks = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        chunks.push(&input[start..cut]);
        start = cut;
    }
    chunks.push(&input[start..]);
    parse_chunks(&chunks)
}

#[test]
fn every_split_point_gives_the_same_events() {
    for input in FIXTURES {
        let whole = parse_chunks(&[input]);
        assert!(!whole.is_empty());
        for cut in 0..=input.len() {
            assert_eq!(parse_with_cuts(input, &[cut]), whole, "cut at {cut}");
        }
        let every_byte: Vec<usize> = (1..input.len()).collect();
        assert_eq!(parse_with_cuts(input, &every_byte), whole, "1-byte chunks");
    }
}

/// Bytes that differ from CR or LF in one bit, or that make the
/// word-at-a-time scan's subtraction borrow: what a broken zero-byte test
/// would mistake for a line ending.
const NEAR_MISSES: [u8; 8] = [0x0C, 0x0B, 0x8A, 0x8D, 0x00, 0x01, 0x0E, 0xFF];

/// The line-end scan against a byte-by-byte scan with the first line
/// ending at every position of every length up to 300 (and with none),
/// each slice starting at every alignment of an eight-byte word, between
/// line endings it must not see.
#[test]
fn the_line_end_scan_finds_a_line_ending_at_every_position() {
    for len in 0..=300 {
        for offset in 0..8 {
            // CR before the slice and LF after it, near misses inside.
            let mut buffer = vec![b'\r'; offset];
            buffer.extend((0..len).map(|i| NEAR_MISSES[i % NEAR_MISSES.len()]));
            buffer.extend([b'\n'; 8]);
            let bytes = &mut buffer[offset..offset + len];
            for long_line in [false, true] {
                assert_eq!(find_line_end(bytes, long_line), None, "len {len}, none");
            }
            for at in 0..len {
                let near_miss = bytes[at];
                for needle in [b'\r', b'\n'] {
                    bytes[at] = needle;
                    for long_line in [false, true] {
                        assert_eq!(
                            find_line_end(bytes, long_line),
                            Some(at),
                            "len {len}, offset {offset}, at {at}, long_line {long_line}"
                        );
                    }
                }
                bytes[at] = near_miss;
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cuts(len: usize) -> impl Strategy<Value = Vec<usize>> {
        proptest::collection::vec(0..=len, 0..12).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts
        })
    }

    /// Arbitrary streams built from the pieces that matter: fields, colons,
    /// spaces, every line ending, multi-byte and invalid bytes.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"data".to_vec()),
            Just(b"event".to_vec()),
            Just(b"id".to_vec()),
            Just(b"retry".to_vec()),
            Just(b":".to_vec()),
            Just(b" ".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\0".to_vec()),
            Just("é東😀".as_bytes().to_vec()),
            Just(b"\xEF\xBB\xBF".to_vec()),
            Just(b"\xF0\x9F".to_vec()),
            Just(b"\xFF".to_vec()),
            Just(b"42".to_vec()),
            Just(b"text".to_vec()),
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn random_cuts_give_the_same_events(input in stream(), cuts in cuts(400)) {
            let cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
            prop_assert_eq!(parse_with_cuts(&input, &cuts), parse_chunks(&[&input]));
        }

        /// The word-at-a-time line-end search against a plain scan, over
        /// lengths around its 8-byte words and 64-byte window, with bytes
        /// that differ from CR and LF in one bit or by a borrow.
        #[test]
        fn line_ends_are_found_as_a_plain_scan_finds_them(
            bytes in proptest::collection::vec(
                prop_oneof![
                    1 => Just(b'\r'),
                    1 => Just(b'\n'),
                    8 => prop_oneof![Just(0x0Cu8), Just(0x0B), Just(0x8A), Just(0x8D), Just(0x00)],
                    40 => any::<u8>(),
                ],
                0..150,
            ),
            long_line: bool,
        ) {
            let plain = bytes.iter().position(|&b| b == b'\r' || b == b'\n');
            prop_assert_eq!(find_line_end(&bytes, long_line), plain);
        }

        /// The word-at-a-time line-end scan against a byte-by-byte scan on
        /// arbitrary bytes: lengths 0..=300 (inside and past the 64-byte
        /// word window, where memchr takes over), the slice starting at any
        /// offset into its buffer (so at every alignment, with line endings
        /// just before and after it that it must not see), and the first
        /// line ending at any position or nowhere, more of them after it.
        #[test]
        fn the_line_end_scan_agrees_with_a_byte_by_byte_scan(
            offset in 0usize..16,
            filler in proptest::collection::vec(
                prop_oneof![1 => proptest::sample::select(&NEAR_MISSES[..]), 3 => any::<u8>()],
                0..=300,
            ),
            first in proptest::option::of((any::<proptest::sample::Index>(), any::<bool>())),
            more in proptest::collection::vec(
                (any::<proptest::sample::Index>(), any::<bool>()),
                0..4,
            ),
            long_line: bool,
        ) {
            let line_ending = |cr: bool| if cr { b'\r' } else { b'\n' };
            // No line ending but where this test puts one.
            let mut bytes: Vec<u8> = filler
                .into_iter()
                .map(|b| if b == b'\r' || b == b'\n' { b ^ 0x80 } else { b })
                .collect();
            let len = bytes.len();
            if let (Some((at, cr)), true) = (first, len > 0) {
                let at = at.index(len);
                bytes[at] = line_ending(cr);
                for (later, cr) in &more {
                    bytes[at + later.index(len - at)] = line_ending(*cr);
                }
            }
            let mut buffer = vec![b'\n'; offset];
            buffer.extend_from_slice(&bytes);
            buffer.extend([b'\r'; 8]);
            let slice = &buffer[offset..offset + len];
            let plain = slice.iter().position(|&b| b == b'\r' || b == b'\n');
            prop_assert_eq!(find_line_end(slice, long_line), plain);
        }

        #[test]
        fn fixtures_at_random_cuts(index in 0..FIXTURES.len(), cuts in cuts(200)) {
            let input = FIXTURES[index];
            let cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(input.len())).collect();
            prop_assert_eq!(parse_with_cuts(input, &cuts), parse_chunks(&[input]));
        }
    }
}
