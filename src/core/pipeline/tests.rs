use super::*;

use crate::core::protocol::tests::SerdeJson;

const STREAM: &str = concat!(
    ": keep-alive\n\n",
    "event: session\nid: m_1:1\ndata: {\"sessionId\":\"s_1\",\"messageId\":\"m_1\"}\n\n",
    "event: status\nid: m_1:2\ndata: {\"message\":\"Searching across 3 conversations...\"}\n\n",
    "event: token\nid: m_1:3\ndata: Budget is frozen \n\n",
    "event: token\nid: m_1:4\ndata: [\n\n",
    "event: token\nid: m_1:5\ndata: 12\n\n",
    "event: token\nid: m_1:6\ndata: :45\n\n",
    "event: token\nid: m_1:7\ndata: , Sarah\n\n",
    "event: token\nid: m_1:8\ndata:  Johnson\n\n",
    "event: token\nid: m_1:9\ndata: ].\ndata: Next line é\n\n",
    "event: future-thing\nid: m_1:10\ndata: ignored\n\n",
    "event: citations\nid: m_1:11\ndata: {\"citations\":[{\"id\":\"c1\",\"conversationId\":\"c_a\",\"conversationTitle\":\"Acme\",\"timestamp\":\"12:45\",\"seconds\":765,\"speaker\":\"Sarah Johnson\",\"quote\":\"No budget until Q3.\"}]}\n\n",
    "event: done\nid: m_1:12\ndata: {\"messageId\":\"m_1\",\"processingMs\":12,\"tokenCount\":7}\n\n",
);

/// Outputs with every batch unpacked into one `Output::Segments` per
/// segment, for comparing.
fn flat(out: Vec<Output>) -> Vec<Output> {
    out.into_iter()
        .flat_map(|o| match o {
            Output::Segments(batch) => batch
                .segments()
                .into_iter()
                .map(|segment| {
                    let mut one = SegmentBatch::default();
                    one.add(segment);
                    Output::Segments(one)
                })
                .collect(),
            other => vec![other],
        })
        .collect()
}

fn text_out(text: &str) -> Output {
    let mut one = SegmentBatch::default();
    one.add(Segment::Text { text: text.into() });
    Output::Segments(one)
}

fn run(chunks: &[&[u8]]) -> (Vec<Output>, Transcript) {
    let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
    let mut out = Vec::new();
    for chunk in chunks {
        pipeline
            .feed::<SerdeJson>(chunk, 0.0, &mut out)
            .expect("valid stream");
    }
    pipeline.finish(&mut out);
    (flat(out), pipeline.take_transcript())
}

#[test]
fn a_whole_answer_becomes_outputs_in_order() {
    let (out, transcript) = run(&[STREAM.as_bytes()]);
    let kinds: Vec<&str> = out
        .iter()
        .map(|o| match o {
            Output::Session(_) => "session",
            Output::Status(_) => "status",
            Output::Segments(batch) if batch.log.citations.is_empty() => "text",
            Output::Segments(_) => "citation",
            Output::Markdown(_) => "markdown",
            Output::Citations(..) => "citations",
            Output::Done(_) => "done",
            Output::ServerError(_) => "error",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "session",
            "status",
            "text",
            "citation",
            "text",
            "citations",
            "done"
        ]
    );
    assert_eq!(
        transcript.text,
        "Budget is frozen [12:45, Sarah Johnson].\nNext line é"
    );
    let joined: String = transcript.segments().iter().map(Segment::text).collect();
    assert_eq!(joined, transcript.text);
    match &out[5] {
        Output::Citations(sources, resolution) => {
            assert_eq!(sources.len(), 1);
            assert_eq!(resolution.matches, vec![vec![0]]);
            assert!(resolution.unbacked.is_empty());
        }
        other => panic!("expected citations, got {other:?}"),
    }
    assert!(matches!(transcript.end, Some(StreamEnd::Done(_))));
}

#[test]
fn one_byte_chunks_give_the_same_transcript() {
    let (_, whole) = run(&[STREAM.as_bytes()]);
    let bytes: Vec<&[u8]> = STREAM.as_bytes().chunks(1).collect();
    let (_, split) = run(&bytes);
    assert_eq!(split, whole);
}

#[test]
fn malformed_json_is_a_protocol_error_after_earlier_output() {
    let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
    let mut out = Vec::new();
    let input = b"event: token\ndata: hi\n\nevent: done\ndata: {nope\n\n";
    let error = pipeline
        .feed::<SerdeJson>(input, 0.0, &mut out)
        .unwrap_err();
    assert!(matches!(error, PipelineError::Protocol(_)));
    assert_eq!(flat(out), vec![text_out("hi")]);
}

#[test]
fn an_error_event_releases_held_text_and_ends_the_stream() {
    let input = b"event: token\ndata: see [12:4\n\nevent: error\ndata: {\"code\":\"llm_failed\",\"message\":\"m\"}\n\nevent: token\ndata: late\n\n";
    let (out, transcript) = run(&[input]);
    // The held candidate is released as text, joining the text before it.
    assert_eq!(out[0], text_out("see [12:4"));
    assert!(matches!(out[1], Output::ServerError(_)));
    assert_eq!(out.len(), 2, "nothing after the error event");
    assert_eq!(transcript.text, "see [12:4");
}

#[test]
fn the_segments_of_one_chunk_come_out_as_one_batch() {
    let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
    let mut out = Vec::new();
    pipeline
        .feed::<SerdeJson>(STREAM.as_bytes(), 0.0, &mut out)
        .expect("valid stream");
    let batches: Vec<&SegmentBatch> = out
        .iter()
        .filter_map(|o| match o {
            Output::Segments(batch) => Some(batch),
            _ => None,
        })
        .collect();
    assert_eq!(
        batches.len(),
        1,
        "tokens between status and citations: one batch"
    );
    let batch = batches[0];
    assert_eq!(batch.len(), 3);
    assert_eq!(batch.log.citations.len(), 1);
    assert_eq!(batch.segments(), pipeline.transcript().segments());
}

#[test]
fn the_text_of_one_chunk_is_one_segment_and_citations_stay_apart() {
    let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
    let mut batches = Vec::new();
    let chunks: [&[u8]; 2] = [
        "event: token\ndata: a\n\nevent: token\ndata:  b [1:02, Zo\n\nevent: token\ndata: ë]\n\nevent: token\ndata:  c\n\nevent: token\ndata:  d\n\n".as_bytes(),
        b"event: token\ndata:  e\n\n",
    ];
    for chunk in chunks {
        let mut out = Vec::new();
        pipeline
            .feed::<SerdeJson>(chunk, 0.0, &mut out)
            .expect("valid");
        for output in out {
            match output {
                Output::Segments(batch) => batches.push((
                    batch
                        .segments()
                        .iter()
                        .map(|segment| segment.text().to_owned())
                        .collect::<Vec<_>>(),
                    batch
                        .log
                        .citations
                        .iter()
                        .map(|(at, _)| *at)
                        .collect::<Vec<_>>(),
                )),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!(
        batches,
        vec![
            (
                vec![
                    "a b ".to_owned(),
                    "[1:02, Zoë]".to_owned(),
                    " c d".to_owned()
                ],
                vec![1]
            ),
            (vec![" e".to_owned()], vec![]),
        ]
    );
    // The transcript keeps the segments as delivered: " e" came in a
    // chunk of its own, so it does not join " c d".
    let kept: Vec<String> = pipeline
        .transcript()
        .segments()
        .iter()
        .map(|segment| segment.text().to_owned())
        .collect();
    assert_eq!(kept, ["a b ", "[1:02, Zoë]", " c d", " e"]);
}

/// Markdown mode: the same stream gives a tree whose raw texts join to the
/// answer, at every cut of the bytes, with its citation resolved.
#[test]
fn markdown_mode_gives_the_tree_at_every_cut() {
    let stream = concat!(
        "event: session\nid: m_1:1\ndata: {\"sessionId\":\"s_1\",\"messageId\":\"m_1\"}\n\n",
        "event: token\nid: m_1:2\ndata: - **Ac\n\n",
        "event: token\nid: m_1:3\ndata: me** [12:4\n\n",
        "event: token\nid: m_1:4\ndata: 5, Sarah Johnson]\ndata: - b\n\n",
        "event: citations\nid: m_1:5\ndata: {\"citations\":[{\"id\":\"c1\",\"conversationId\":\"c_a\",\"conversationTitle\":\"Acme\",\"timestamp\":\"12:45\",\"seconds\":765,\"speaker\":\"Sarah Johnson\",\"quote\":\"q\"}]}\n\n",
        "event: done\nid: m_1:6\ndata: {\"messageId\":\"m_1\",\"processingMs\":12,\"tokenCount\":3}\n\n",
    );
    let answer = "- **Acme** [12:45, Sarah Johnson]\n- b";
    let bytes = stream.as_bytes();
    let mut first: Option<Vec<MarkdownSegment>> = None;
    for cut in 0..=bytes.len() {
        let mut pipeline = ChatPipeline::markdown(
            1 << 20,
            CitationOptions::default(),
            crate::core::citation::table_class,
        );
        let mut out = Vec::new();
        for chunk in [&bytes[..cut], &bytes[cut..]] {
            pipeline
                .feed::<SerdeJson>(chunk, 0.0, &mut out)
                .expect("valid stream");
        }
        pipeline.finish(&mut out);
        let segments: Vec<MarkdownSegment> = out
            .iter()
            .flat_map(|o| match o {
                Output::Markdown(batch) => batch.clone(),
                _ => Vec::new(),
            })
            .collect();
        let raw: String = segments.iter().map(MarkdownSegment::raw).collect();
        assert_eq!(raw, answer, "cut {cut}");
        let transcript = pipeline.take_transcript();
        assert_eq!(
            transcript.markdown, segments,
            "the transcript keeps them, cut {cut}"
        );
        assert!(transcript.segments.ends.is_empty());
        let resolution = out.iter().find_map(|o| match o {
            Output::Citations(_, resolution) => Some(resolution.clone()),
            _ => None,
        });
        let resolution = resolution.expect("a citations output");
        assert_eq!(resolution.matches.len(), 1, "cut {cut}");
        assert!(resolution.unbacked.is_empty(), "cut {cut}");
        // However the bytes were cut, the tree is the same (text pieces may
        // be split differently, so compare them joined).
        let shape = |s: &[MarkdownSegment]| -> Vec<String> {
            let mut v: Vec<String> = Vec::new();
            for segment in s {
                match segment {
                    MarkdownSegment::Text { text, .. } => match v.last_mut() {
                        Some(last) if last.starts_with('"') => last.push_str(text),
                        _ => v.push(format!("\"{text}")),
                    },
                    other => v.push(
                        format!("{other:?}")
                            .split(", raw")
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    ),
                }
            }
            v
        };
        match &first {
            None => first = Some(segments),
            Some(first) => assert_eq!(shape(&segments), shape(first), "cut {cut}"),
        }
    }
}

/// What a server resuming after `last_event_id` sends: the `session`
/// event, then every event of `stream` numbered after it, and `extra`
/// events before that (repeats, which the pipeline must skip).
fn resumed_stream(stream: &str, last_event_id: &str, extra: u64) -> String {
    let after: u64 = last_event_id
        .rsplit(':')
        .next()
        .and_then(|seq| seq.parse().ok())
        .expect("a numbered id");
    let events = stream
        .split_inclusive("\n\n")
        .filter(|e| e.contains("id: "));
    events
        .filter(|event| {
            let seq: u64 = event
                .split("id: m_1:")
                .nth(1)
                .and_then(|rest| rest.split('\n').next())
                .and_then(|seq| seq.parse().ok())
                .expect("numbered");
            seq == 1 || seq + extra > after
        })
        .collect()
}

/// The answer's text, its citation segments, and its other outputs, as
/// they come out however the stream was cut and resumed.
fn outcome(out: &[Output], transcript: &Transcript) -> (String, Vec<Segment>, Vec<Output>) {
    let cited = transcript
        .segments()
        .into_iter()
        .filter(|s| matches!(s, Segment::Citation { .. }))
        .collect();
    let others = out
        .iter()
        .filter(|o| !matches!(o, Output::Segments(_) | Output::Markdown(_)))
        .cloned()
        .collect();
    (transcript.text.clone(), cited, others)
}

#[test]
fn a_stream_dropped_at_any_byte_and_resumed_gives_the_same_answer() {
    let (whole_out, whole) = run(&[STREAM.as_bytes()]);
    let expected = outcome(&whole_out, &whole);
    let bytes = STREAM.as_bytes();
    // From the end of the session event on: before it, there is no answer
    // to resume.
    let start = STREAM.find("event: session").unwrap();
    let session_end = start + STREAM[start..].find("\n\n").unwrap() + 2;
    let mut replayed_total = 0;
    for cut in session_end..=bytes.len() {
        let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
        let mut out = Vec::new();
        pipeline
            .feed::<SerdeJson>(&bytes[..cut], 0.0, &mut out)
            .expect("valid");
        pipeline.reconnect();
        let id = pipeline.resume_id().expect("after session");
        let again = resumed_stream(STREAM, &id, cut as u64 % 3);
        replayed_total += again.len();
        // The second connection may itself be cut anywhere: its bytes go
        // in two pieces.
        let half = again.len() / 2;
        for piece in [&again.as_bytes()[..half], &again.as_bytes()[half..]] {
            pipeline
                .feed::<SerdeJson>(piece, 0.0, &mut out)
                .expect("valid");
        }
        pipeline.finish(&mut out);
        let transcript = pipeline.take_transcript();
        assert_eq!(
            outcome(&out, &transcript),
            expected,
            "dropped at byte {cut}"
        );
        assert_eq!(
            out.iter()
                .filter(|o| matches!(o, Output::Session(_)))
                .count(),
            1,
            "one session output, dropped at byte {cut}"
        );
    }
    assert!(replayed_total > 0);
}

#[test]
fn without_a_reconnect_repeated_ids_are_not_skipped() {
    // A stream whose ids repeat (not this protocol's numbering) is taken
    // as it comes: skipping is for resumed connections only.
    let stream = concat!(
        "event: session\nid: m_1:1\ndata: {\"sessionId\":\"s_1\",\"messageId\":\"m_1\"}\n\n",
        "event: token\nid: m_1:1\ndata: a\n\n",
        "event: token\nid: m_1:1\ndata: b\n\n",
    );
    let (_, transcript) = run(&[stream.as_bytes()]);
    assert_eq!(transcript.text, "ab");
}

#[test]
fn a_markdown_stream_resumed_mid_bold_and_mid_citation_gives_the_same_tree() {
    let stream = concat!(
        "event: session\nid: m_1:1\ndata: {\"sessionId\":\"s_1\",\"messageId\":\"m_1\"}\n\n",
        "event: token\nid: m_1:2\ndata: - **Ac\n\n",
        "event: token\nid: m_1:3\ndata: me** [12:4\n\n",
        "event: token\nid: m_1:4\ndata: 5, Sarah Johnson]\ndata: - b\n\n",
        "event: done\nid: m_1:5\ndata: {\"messageId\":\"m_1\",\"processingMs\":12,\"tokenCount\":3}\n\n",
    );
    let markdown = || {
        ChatPipeline::markdown(
            1 << 20,
            CitationOptions::default(),
            crate::core::citation::table_class,
        )
    };
    let tree = |out: &[Output]| -> Vec<String> {
        out.iter()
            .flat_map(|o| match o {
                Output::Markdown(batch) => batch.clone(),
                _ => Vec::new(),
            })
            .filter(|s| !matches!(s, MarkdownSegment::Text { .. }))
            .map(|s| {
                format!("{s:?}")
                    .split(", raw")
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    let mut whole = markdown();
    let mut whole_out = Vec::new();
    whole
        .feed::<SerdeJson>(stream.as_bytes(), 0.0, &mut whole_out)
        .expect("valid");
    whole.finish(&mut whole_out);
    let session_end = stream.find("\n\n").unwrap() + 2;
    for cut in session_end..=stream.len() {
        let mut pipeline = markdown();
        let mut out = Vec::new();
        pipeline
            .feed::<SerdeJson>(&stream.as_bytes()[..cut], 0.0, &mut out)
            .expect("valid");
        pipeline.reconnect();
        let again = resumed_stream(stream, &pipeline.resume_id().expect("id"), 1);
        pipeline
            .feed::<SerdeJson>(again.as_bytes(), 0.0, &mut out)
            .expect("valid");
        pipeline.finish(&mut out);
        let raw: String = out
            .iter()
            .flat_map(|o| match o {
                Output::Markdown(batch) => batch.iter().map(MarkdownSegment::raw).collect(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            raw, "- **Acme** [12:45, Sarah Johnson]\n- b",
            "dropped at byte {cut}"
        );
        assert_eq!(tree(&out), tree(&whole_out), "dropped at byte {cut}");
    }
}
