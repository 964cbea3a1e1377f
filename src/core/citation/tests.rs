use super::*;

fn push_all(buffer: &mut CitationBuffer, tokens: &[&str]) -> Vec<Vec<Segment>> {
    tokens
        .iter()
        .map(|token| {
            let mut out = Vec::new();
            buffer.push(token, 0.0, &mut out);
            out
        })
        .collect()
}

fn text(s: &str) -> Segment {
    Segment::Text { text: s.into() }
}

fn stamp(timestamp: &str, seconds: u32, speaker: &str) -> CitationRef {
    CitationRef::Timestamp {
        timestamp: timestamp.into(),
        seconds,
        speaker: speaker.into(),
    }
}

fn run(pattern: Pattern, input: &str) -> Vec<Segment> {
    let mut buffer = CitationBuffer::new(CitationOptions {
        pattern,
        ..Default::default()
    });
    let mut out = Vec::new();
    buffer.push(input, 0.0, &mut out);
    buffer.finish(&mut out);
    out
}

#[test]
fn a_citation_split_across_tokens_comes_out_as_one_segment() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let steps = push_all(
        &mut buffer,
        &[
            "Budget is frozen ",
            "[",
            "12",
            ":45",
            ", Sarah",
            " Johnson",
            "]",
            " until Q3.",
        ],
    );
    assert_eq!(steps[0], vec![text("Budget is frozen ")]);
    for held in &steps[1..6] {
        assert_eq!(held, &Vec::<Segment>::new(), "held while incomplete");
    }
    assert_eq!(
        steps[6],
        vec![Segment::Citation {
            text: "[12:45, Sarah Johnson]".into(),
            citations: vec![stamp("12:45", 765, "Sarah Johnson")],
        }]
    );
    assert_eq!(steps[7], vec![text(" until Q3.")]);
}

#[test]
fn plain_text_passes_straight_through() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let mut out = Vec::new();
    buffer.push("no brackets here, é 東京", 0.0, &mut out);
    assert_eq!(out, vec![text("no brackets here, é 東京")]);
    assert_eq!(buffer.deadline(), None);
}

#[test]
fn grammar_table() {
    let cite = |raw: &str, refs: Vec<CitationRef>| Segment::Citation {
        text: raw.into(),
        citations: refs,
    };
    let table: Vec<(&str, Vec<Segment>)> = vec![
        (
            "[1:05, Bo]",
            vec![cite("[1:05, Bo]", vec![stamp("1:05", 65, "Bo")])],
        ),
        (
            "[1:02:03, Zoë Müller]",
            vec![cite(
                "[1:02:03, Zoë Müller]",
                vec![stamp("1:02:03", 3723, "Zoë Müller")],
            )],
        ),
        (
            "[12:45, Sarah Johnson; 14:02, Mark Lee]",
            vec![cite(
                "[12:45, Sarah Johnson; 14:02, Mark Lee]",
                vec![
                    stamp("12:45", 765, "Sarah Johnson"),
                    stamp("14:02", 842, "Mark Lee"),
                ],
            )],
        ),
        (
            "[03:10, Dr. Mary O'Neil-Smith]",
            vec![cite(
                "[03:10, Dr. Mary O'Neil-Smith]",
                vec![stamp("03:10", 190, "Dr. Mary O'Neil-Smith")],
            )],
        ),
        (
            "[0:07, 李小龙]",
            vec![cite("[0:07, 李小龙]", vec![stamp("0:07", 7, "李小龙")])],
        ),
        (
            "[0:07, Jose\u{301}]",
            vec![cite(
                "[0:07, Jose\u{301}]",
                vec![stamp("0:07", 7, "Jose\u{301}")],
            )],
        ),
        ("[a]", vec![text("[a]")]),
        ("[1]", vec![text("[1]")]),
        ("array[0]", vec![text("array[0]")]),
        ("[docs](https://x)", vec![text("[docs](https://x)")]),
        ("[12:60, Bob]", vec![text("[12:60, Bob]")]),
        ("[123:45, Bob]", vec![text("[123:45, Bob]")]),
        ("[12:45:30, Bob]", vec![text("[12:45:30, Bob]")]),
        ("[12:45,Bob]", vec![text("[12:45,Bob]")]),
        ("[12:45, 1Bob]", vec![text("[12:45, 1Bob]")]),
        ("[12:45, ]", vec![text("[12:45, ]")]),
        (
            "[12:45, Bob;14:02, Al]",
            vec![text("[12:45, Bob;14:02, Al]")],
        ),
        (
            "[[12:45, Bob]",
            vec![
                text("["),
                cite("[12:45, Bob]", vec![stamp("12:45", 765, "Bob")]),
            ],
        ),
        (
            "x [12:4[12:45, Bob] y",
            vec![
                text("x [12:4"),
                cite("[12:45, Bob]", vec![stamp("12:45", 765, "Bob")]),
                text(" y"),
            ],
        ),
        ("[12:45, Sarah", vec![text("[12:45, Sarah")]),
    ];
    for (input, expected) in table {
        assert_eq!(run(Pattern::TimestampSpeaker, input), expected, "{input}");
    }
}

#[test]
fn numeric_pattern() {
    let nums = |raw: &str, ns: &[u32]| Segment::Citation {
        text: raw.into(),
        citations: ns
            .iter()
            .map(|&number| CitationRef::Number { number })
            .collect(),
    };
    let table: Vec<(&str, Vec<Segment>)> = vec![
        ("[1]", vec![nums("[1]", &[1])]),
        ("[1, 2]", vec![nums("[1, 2]", &[1, 2])]),
        ("[1,2]", vec![nums("[1,2]", &[1, 2])]),
        ("[3-5]", vec![nums("[3-5]", &[3, 4, 5])]),
        ("[5-3]", vec![text("[5-3]")]),
        ("[a]", vec![text("[a]")]),
        ("[12:45, Bob]", vec![text("[12:45, Bob]")]),
        ("[1, ]", vec![text("[1, ]")]),
    ];
    for (input, expected) in table {
        assert_eq!(run(Pattern::Numeric, input), expected, "{input}");
    }
}

#[test]
fn a_speaker_longer_than_the_grammar_allows_is_text() {
    let name = "A".repeat(61);
    let input = format!("[1:00, {name}]");
    let mut buffer = CitationBuffer::new(CitationOptions {
        max_length: 200,
        ..Default::default()
    });
    let mut out = Vec::new();
    buffer.push(&input, 0.0, &mut out);
    assert_eq!(out, vec![text(&input)]);
}

#[test]
fn a_candidate_past_max_length_is_released() {
    let mut buffer = CitationBuffer::new(CitationOptions {
        max_length: 10,
        ..Default::default()
    });
    let mut out = Vec::new();
    buffer.push("[12:45, Sarah Johnson]", 0.0, &mut out);
    assert_eq!(out, vec![text("[12:45, Sarah Johnson]")]);
    assert_eq!(buffer.deadline(), None);
}

#[test]
fn timeout_releases_a_stalled_candidate() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let mut out = Vec::new();
    buffer.push("see [12:4", 100.0, &mut out);
    assert_eq!(out, vec![text("see ")]);
    assert_eq!(buffer.deadline(), Some(1100.0));
    out.clear();
    buffer.push("5", 900.0, &mut out);
    assert_eq!(buffer.deadline(), Some(1900.0), "growth moves the deadline");
    buffer.poll(1899.0, &mut out);
    assert!(out.is_empty());
    buffer.poll(1900.0, &mut out);
    assert_eq!(out, vec![text("[12:45")]);
    assert_eq!(buffer.deadline(), None);
}

#[test]
fn a_new_candidate_of_the_same_length_gets_a_fresh_deadline() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let mut out = Vec::new();
    buffer.push("[", 0.0, &mut out);
    buffer.push("x[", 500.0, &mut out);
    assert_eq!(buffer.deadline(), Some(1500.0));
}

#[test]
fn max_length_counts_characters_not_bytes() {
    let cases = [
        "[1:00, 李小龙]",
        "[1:00, Zoë]",
        "[1:00, Jose\u{301}]",
        "[1:00, Łukasz Żółć]",
    ];
    for input in cases {
        let chars = input.chars().count();
        assert!(input.len() > chars, "{input} has multi-byte characters");
        for (max_length, is_citation) in [(chars, true), (chars - 1, false)] {
            let mut buffer = CitationBuffer::new(CitationOptions {
                max_length,
                ..Default::default()
            });
            let mut out = Vec::new();
            buffer.push(input, 0.0, &mut out);
            buffer.finish(&mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(
                matches!(out[0], Segment::Citation { .. }),
                is_citation,
                "{input} with maxLength {max_length}"
            );
        }
    }
}

#[test]
fn a_pause_shorter_than_the_timeout_keeps_the_citation_whole() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let mut out = Vec::new();
    let mut now = 0.0;
    for token in ["[", "12", ":45", ", Sarah", " Johnson", "]"] {
        buffer.poll(now, &mut out);
        buffer.push(token, now, &mut out);
        now += 999.0;
    }
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0], Segment::Citation { .. }));
}

#[test]
fn a_pause_reaching_the_timeout_releases_the_candidate_as_text() {
    let mut buffer = CitationBuffer::new(CitationOptions::default());
    let mut out = Vec::new();
    buffer.push("[12:45, Sa", 0.0, &mut out);
    // No poll in between: the next push releases the stale candidate first.
    buffer.push("rah]", 1000.0, &mut out);
    assert_eq!(out, vec![text("[12:45, Sa"), text("rah]")]);
}

/// The tables build.rs generates agree with unicode-properties on every
/// code point.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn generated_unicode_tables_match_the_general_category() {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    let speaker_start = |c: char| {
        Pattern::TimestampSpeaker.step(State::Comma, ' ', table_class)
            == Step::Continue(State::SpeakerStart)
            && Pattern::TimestampSpeaker.step(State::SpeakerStart, c, table_class)
                == Step::Continue(State::Speaker(1))
    };
    let speaker_char = |c: char| {
        Pattern::TimestampSpeaker.step(State::Speaker(1), c, table_class)
            == Step::Continue(State::Speaker(2))
    };
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let group = c.general_category_group();
        let letter = group == GeneralCategoryGroup::Letter;
        let mark = group == GeneralCategoryGroup::Mark;
        assert_eq!(speaker_start(c), letter, "{c:?} as a first letter");
        let punctuation = matches!(c, ' ' | '.' | '\'' | '-');
        if c != ']' && c != ';' {
            assert_eq!(
                speaker_char(c),
                letter || mark || punctuation,
                "{c:?} in a name"
            );
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn answer() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("[12:45, Sarah Johnson]".to_string()),
            Just("[1:02:03, Zoë Müller; 14:02, 李小龙]".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("[1]".to_string()),
            Just("array[0]".to_string()),
            Just("[12:4".to_string()),
            Just(", ".to_string()),
            Just("text é 😀 ".to_string()),
            "[a-z :,;0-9]{0,6}",
        ];
        proptest::collection::vec(piece, 0..20).prop_map(|p| p.concat())
    }

    fn split(input: &str, cuts: &[usize]) -> Vec<String> {
        let bounds: Vec<usize> = input.char_indices().map(|(i, _)| i).collect();
        let mut points: Vec<usize> = cuts
            .iter()
            .filter_map(|c| bounds.get(c % bounds.len().max(1)).copied())
            .collect();
        points.sort_unstable();
        points.dedup();
        let mut pieces = Vec::new();
        let mut start = 0;
        for p in points {
            pieces.push(input[start..p].to_string());
            start = p;
        }
        pieces.push(input[start..].to_string());
        pieces
    }

    /// A grammar-valid citation, built from the grammar.
    fn citation() -> impl Strategy<Value = String> {
        let timestamp = prop_oneof![
            (0u32..10, 0u32..60).prop_map(|(m, s)| format!("{m}:{s:02}")),
            (0u32..100, 0u32..60).prop_map(|(m, s)| format!("{m:02}:{s:02}")),
            (0u32..10, 0u32..60, 0u32..60).prop_map(|(h, m, s)| format!("{h}:{m:02}:{s:02}")),
        ];
        let speaker = "[A-Za-zéüłŻ李][A-Za-zéü李 .'\\-]{0,20}";
        let entry = (timestamp, speaker).prop_map(|(t, s)| format!("{t}, {s}"));
        proptest::collection::vec(entry, 1..3)
            .prop_map(|entries| format!("[{}]", entries.join("; ")))
    }

    /// An independent reading of the grammar, for checking the buffer's.
    fn is_valid_citation(text: &str) -> bool {
        let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
            return false;
        };
        inner.split("; ").all(|entry| {
            let Some((timestamp, speaker)) = entry.split_once(", ") else {
                return false;
            };
            let groups: Vec<&str> = timestamp.split(':').collect();
            let digits = |g: &str, n: std::ops::RangeInclusive<usize>| {
                n.contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit())
            };
            let sexagesimal = |g: &str| digits(g, 2..=2) && g.as_bytes()[0] <= b'5';
            let timestamp_ok = match groups.as_slice() {
                [m, s] => digits(m, 1..=2) && sexagesimal(s),
                [h, m, s] => digits(h, 1..=1) && sexagesimal(m) && sexagesimal(s),
                _ => false,
            };
            let count = speaker.chars().count();
            let first_is_letter = speaker.chars().next().is_some_and(char::is_alphabetic);
            timestamp_ok
                && (1..=60).contains(&count)
                && first_is_letter
                && !speaker.contains([';', ']', '[', ','])
        })
    }

    proptest! {
        #[test]
        fn nothing_is_lost_or_taken_back(input in answer(), cuts in proptest::collection::vec(0usize..1000, 0..15)) {
            let mut buffer = CitationBuffer::new(CitationOptions::default());
            let mut released = String::new();
            let mut so_far = String::new();
            for piece in split(&input, &cuts) {
                let mut out = Vec::new();
                buffer.push(&piece, 0.0, &mut out);
                so_far.push_str(&piece);
                released.extend(out.iter().map(Segment::text));
                // What was shown stays shown: the released text only grows,
                // and with what is held it is exactly the input so far.
                prop_assert_eq!(format!("{released}{}", buffer.held()), so_far.clone());
            }
        }

        #[test]
        fn every_valid_citation_comes_out_whole(
            parts in proptest::collection::vec(("[^\\]]{0,12}", citation()), 1..6),
            cuts in proptest::collection::vec(0usize..1000, 0..20),
        ) {
            let input: String = parts.iter().map(|(noise, c)| format!("{noise}{c}")).collect();
            let mut buffer = CitationBuffer::new(CitationOptions { max_length: 200, ..Default::default() });
            let mut out = Vec::new();
            for piece in split(&input, &cuts) {
                buffer.push(&piece, 0.0, &mut out);
            }
            buffer.finish(&mut out);
            let found: Vec<&str> = out
                .iter()
                .filter(|s| matches!(s, Segment::Citation { .. }))
                .map(Segment::text)
                .collect();
            let expected: Vec<&str> = parts.iter().map(|(_, c)| c.as_str()).collect();
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn nothing_outside_the_grammar_is_a_citation(input in answer(), cuts in proptest::collection::vec(0usize..1000, 0..15)) {
            let mut buffer = CitationBuffer::new(CitationOptions::default());
            let mut out = Vec::new();
            for piece in split(&input, &cuts) {
                buffer.push(&piece, 0.0, &mut out);
            }
            buffer.finish(&mut out);
            for segment in &out {
                if let Segment::Citation { text, .. } = segment {
                    prop_assert!(is_valid_citation(text), "{}", text);
                }
            }
        }

        #[test]
        fn splitting_changes_nothing(input in answer(), cuts in proptest::collection::vec(0usize..1000, 0..15)) {
            let whole = run(Pattern::TimestampSpeaker, &input);
            let mut buffer = CitationBuffer::new(CitationOptions::default());
            let mut out = Vec::new();
            for piece in split(&input, &cuts) {
                buffer.push(&piece, 0.0, &mut out);
            }
            buffer.finish(&mut out);
            let joined: String = out.iter().map(Segment::text).collect();
            prop_assert_eq!(&joined, &input);
            let citations = |segs: &[Segment]| -> Vec<Segment> {
                segs.iter().filter(|s| matches!(s, Segment::Citation { .. })).cloned().collect()
            };
            prop_assert_eq!(citations(&out), citations(&whole));
        }
    }
}
