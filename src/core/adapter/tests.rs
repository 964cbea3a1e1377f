//! The presets against fixtures written from each provider's published
//! stream reference (and, for the AI SDK, produced by the `ai` package
//! itself: tests/node/adapters.test.mjs checks it still produces these
//! bytes), fed whole and at seeded random cuts.

use super::*;
use crate::core::citation::{table_class, CitationOptions};
use crate::core::pipeline::{ChatPipeline, Output, PipelineError, StreamEnd};
use crate::core::protocol::tests::SerdeJson;

const ANSWER: &str = include_str!("../../../tests/data/adapters/answer.txt");
const FIXTURES: [(Format, &str); 4] = [
    (
        Format::OpenAiChat,
        include_str!("../../../tests/data/adapters/openai-chat.sse"),
    ),
    (
        Format::OpenAiResponses,
        include_str!("../../../tests/data/adapters/openai-responses.sse"),
    ),
    (
        Format::Anthropic,
        include_str!("../../../tests/data/adapters/anthropic.sse"),
    ),
    (
        Format::AiSdk,
        include_str!("../../../tests/data/adapters/ai-sdk.sse"),
    ),
];
const MESSAGE_IDS: [&str; 4] = [
    "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
    "msg_ai_1",
];
/// The fragments every fixture carries, in order.
const DELTAS: usize = 8;

fn preset(format: Format) -> Box<dyn Adapter> {
    Box::new(Preset::<SerdeJson>::new(format).expect("a preset"))
}

fn pipeline(markdown: bool, adapter: Option<Format>) -> ChatPipeline {
    let options = CitationOptions::default();
    let pipeline = if markdown {
        ChatPipeline::markdown(1 << 20, options, table_class)
    } else {
        ChatPipeline::new(1 << 20, options)
    };
    match adapter {
        Some(format) => pipeline.with_adapter(preset(format)),
        None => pipeline,
    }
}

/// Feeds `chunks`, then ends the body; the outputs, the first error, the
/// transcript.
fn run(
    mut pipeline: ChatPipeline,
    chunks: &[&[u8]],
) -> (
    Vec<Output>,
    Option<PipelineError>,
    crate::core::pipeline::Transcript,
) {
    let mut out = Vec::new();
    let mut error = None;
    for chunk in chunks {
        if let Err(e) = pipeline.feed::<SerdeJson>(chunk, 0.0, &mut out) {
            error = Some(e);
            break;
        }
    }
    if error.is_none() {
        error = pipeline.end_of_body().err();
    }
    pipeline.finish(&mut out);
    (out, error, pipeline.take_transcript())
}

/// Cuts `bytes` at `cuts` random places, seeded (xorshift).
fn random_cuts(bytes: &[u8], seed: u64) -> Vec<&[u8]> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut cuts: Vec<usize> = (0..(next() % 40))
        .map(|_| (next() % (bytes.len() as u64 + 1)) as usize)
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        chunks.push(&bytes[start..cut]);
        start = cut;
    }
    chunks
}

/// This protocol's own stream of the same fragments.
fn native_stream(deltas: &[String]) -> String {
    let mut text =
        String::from("event: session\ndata: {\"sessionId\":\"\",\"messageId\":\"m\"}\n\n");
    for delta in deltas {
        text.push_str("event: token\n");
        for line in delta.split('\n') {
            text.push_str("data: ");
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }
    text + "event: done\ndata: {\"messageId\":\"m\",\"processingMs\":0,\"tokenCount\":8}\n\n"
}

/// The segments of the outputs, Markdown or flat, with everything else.
fn segments(out: &[Output]) -> (Vec<String>, usize) {
    let mut texts = Vec::new();
    let mut others = 0;
    for output in out {
        match output {
            Output::Segments(batch) => {
                texts.extend(batch.segments().iter().map(|s| format!("{s:?}")))
            }
            Output::Markdown(batch) => texts.extend(batch.iter().map(|s| format!("{s:?}"))),
            _ => others += 1,
        }
    }
    (texts, others)
}

fn deltas_of(format: Format, fixture: &str) -> Vec<String> {
    let mut pipeline = pipeline(false, Some(format));
    let mut out = Vec::new();
    pipeline
        .feed::<SerdeJson>(fixture.as_bytes(), 0.0, &mut out)
        .expect("the fixture reads");
    // One token event per fragment: the native stream sends the same.
    let text = pipeline.transcript().text.clone();
    assert_eq!(text, ANSWER);
    let mut deltas = Vec::new();
    let mut adapter = preset(format);
    let mut parser = crate::core::sse::EventStreamParser::new(1 << 20);
    let mut events = Vec::new();
    parser
        .feed(fixture.as_bytes(), &mut |e: crate::core::sse::SseEvent| {
            events.push(e)
        })
        .expect("parses");
    for e in events {
        let mut made = Vec::new();
        adapter
            .event(
                ForeignEvent {
                    event_type: &e.event_type,
                    data: &e.data,
                    id: &e.last_event_id,
                },
                &mut made,
            )
            .expect("reads");
        deltas.extend(made.into_iter().filter_map(|m| match m {
            ChatEvent::Token(t) => Some(t),
            _ => None,
        }));
    }
    deltas
}

#[test]
fn each_fixture_gives_the_answer_its_session_and_done() {
    for ((format, fixture), id) in FIXTURES.iter().zip(MESSAGE_IDS) {
        let (out, error, transcript) = run(pipeline(true, Some(*format)), &[fixture.as_bytes()]);
        assert_eq!(error, None, "{format:?}");
        assert_eq!(transcript.text, ANSWER, "{format:?}");
        let session = transcript.session.expect("a session");
        assert_eq!(session.message_id, id, "{format:?}");
        match transcript.end {
            Some(StreamEnd::Done(info)) => {
                assert_eq!(info.message_id, id);
                assert_eq!(info.token_count, DELTAS as u64, "{format:?}");
            }
            other => panic!("{format:?}: {other:?}"),
        }
        assert!(
            matches!(out.first(), Some(Output::Session(_))),
            "{format:?}"
        );
        assert!(matches!(out.last(), Some(Output::Done(_))), "{format:?}");
        let raw: String = transcript.markdown.iter().map(|s| s.raw()).collect();
        assert_eq!(raw, ANSWER);
        assert_eq!(deltas_of(*format, fixture).len(), DELTAS);
    }
}

#[test]
fn segments_are_those_of_the_same_fragments_in_this_protocol_however_cut() {
    for (format, fixture) in FIXTURES {
        let native = native_stream(&deltas_of(format, fixture));
        for markdown in [false, true] {
            let (want, _, _) = run(pipeline(markdown, None), &[native.as_bytes()]);
            let want = segments(&want);
            for seed in 0..150 {
                let chunks = random_cuts(fixture.as_bytes(), seed);
                let (out, error, transcript) = run(pipeline(markdown, Some(format)), &chunks);
                assert_eq!(error, None, "{format:?} seed {seed}");
                assert_eq!(transcript.text, ANSWER, "{format:?} seed {seed}");
                assert_eq!(
                    segments(&out),
                    want,
                    "{format:?} markdown {markdown} seed {seed}"
                );
            }
        }
    }
}

#[test]
fn a_stream_of_another_format_names_the_format_expected() {
    let native = native_stream(&["Hi".to_owned()]);
    for (expected, _) in FIXTURES {
        let others = FIXTURES
            .iter()
            .filter(|(format, _)| *format != expected)
            .map(|(_, fixture)| *fixture)
            .chain([native.as_str()]);
        for other in others {
            let (_, error, transcript) = run(pipeline(false, Some(expected)), &[other.as_bytes()]);
            match error {
                Some(PipelineError::Adapter(error)) => {
                    assert_eq!(error.format, expected);
                    assert_eq!(error.problem, Problem::Foreign, "{expected:?}: {error}");
                    assert_eq!(error.index, 1);
                    assert!(error
                        .to_string()
                        .starts_with(&format!("expected a {} stream", expected.name())));
                }
                other => panic!("{expected:?}: {other:?}"),
            }
            assert_eq!(transcript.text, "");
        }
    }
}

/// The first `n` events of a fixture.
fn head(fixture: &str, n: usize) -> String {
    fixture.split_inclusive("\n\n").take(n).collect()
}

fn adapter_error(error: Option<PipelineError>) -> AdapterError {
    match error {
        Some(PipelineError::Adapter(error)) => error,
        other => panic!("expected an adapter error, got {other:?}"),
    }
}

#[test]
fn bad_json_and_bad_shapes_name_the_format_and_event_and_keep_the_text() {
    let chat = FIXTURES[0].1;
    let responses = FIXTURES[1].1;
    let anthropic = FIXTURES[2].1;
    let ai = FIXTURES[3].1;
    let cases: [(Format, String, Problem, u32, &str, &str); 8] = [
        (Format::OpenAiChat, head(chat, 3) + "data: {\"choices\":[{\"delta\n\n", Problem::NotJson, 4, "message", "## Budget\n\nAcme said **no"),
        (Format::OpenAiChat, head(chat, 2) + "data: {\"choices\":{}}\n\n", Problem::Shape, 3, "message", "## Bud"),
        (Format::OpenAiChat, head(chat, 2) + "data: {\"id\":\"x\"}\n\n", Problem::Shape, 3, "message", "## Bud"),
        (Format::OpenAiResponses, head(responses, 5) + "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":7}\n\n", Problem::Shape, 6, "response.output_text.delta", "## Bud"),
        (Format::OpenAiResponses, head(responses, 5) + "event: response.output_text.delta\ndata: nope\n\n", Problem::NotJson, 6, "response.output_text.delta", "## Bud"),
        (Format::Anthropic, head(anthropic, 4) + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\"}}\n\n", Problem::Shape, 5, "content_block_delta", "## Bud"),
        (Format::Anthropic, head(anthropic, 4) + "event: message_start\ndata: {\"type\":\"message_start\"}\n\n", Problem::Shape, 5, "message_start", "## Bud"),
        (Format::AiSdk, head(ai, 4) + "data: {\"type\":\"error\",\"message\":\"x\"}\n\n", Problem::Shape, 5, "error", "## Bud"),
    ];
    for (format, stream, problem, index, event, text) in cases {
        for markdown in [false, true] {
            let (_, error, transcript) =
                run(pipeline(markdown, Some(format)), &[stream.as_bytes()]);
            let error = adapter_error(error);
            assert_eq!(
                (
                    error.format,
                    error.problem,
                    error.index,
                    error.event.as_str()
                ),
                (format, problem, index, event),
                "{stream}"
            );
            assert_eq!(transcript.text, text);
        }
    }
}

#[test]
fn a_stream_cut_before_its_end_event_is_an_error_with_the_text_so_far() {
    for (format, fixture) in FIXTURES {
        let events = fixture.split_inclusive("\n\n").count();
        // Everything but the end event (and the AI SDK's `[DONE]` after it).
        let cut = if format == Format::AiSdk {
            events - 2
        } else {
            events - 1
        };
        let stream = head(fixture, cut);
        let (out, error, transcript) = run(pipeline(true, Some(format)), &[stream.as_bytes()]);
        let error = adapter_error(error);
        assert_eq!((error.format, error.problem), (format, Problem::NoEnd));
        assert_eq!(error.index as usize, cut);
        assert_eq!(transcript.text, ANSWER, "{format:?}");
        assert!(transcript.end.is_none());
        // The held text was released by `finish`, to the last close.
        let raw: String = transcript.markdown.iter().map(|s| s.raw()).collect();
        assert_eq!(raw, ANSWER);
        assert!(!out.iter().any(|o| matches!(o, Output::Done(_))));
    }
}

#[test]
fn provider_errors_become_error_events_with_the_providers_code() {
    let cases = [
        (Format::OpenAiChat, "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n", "server_error", "The server had an error", true),
        (Format::OpenAiChat, "data: {\"error\":{\"message\":\"Too long\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"context_length_exceeded\"}}\n\n", "context_length_exceeded", "Too long", false),
        (Format::OpenAiResponses, "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_1\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n", "server_error", "boom", true),
        (Format::OpenAiResponses, "event: error\ndata: {\"type\":\"error\",\"code\":\"ERR_SOMETHING\",\"message\":\"Something went wrong\",\"param\":null,\"sequence_number\":1}\n\n", "ERR_SOMETHING", "Something went wrong", false),
        (Format::Anthropic, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", "overloaded_error", "Overloaded", true),
        (Format::AiSdk, "data: {\"type\":\"error\",\"errorText\":\"rate limited\"}\n\n", "error", "rate limited", false),
        (Format::AiSdk, "data: {\"type\":\"abort\",\"reason\":\"user\"}\n\n", "aborted", "user", false),
    ];
    for (format, failure, code, message, retryable) in cases {
        let (_, fixture) = FIXTURES
            .iter()
            .find(|(f, _)| *f == format)
            .expect("fixture");
        let stream = head(fixture, 5) + failure;
        let (out, error, transcript) = run(pipeline(false, Some(format)), &[stream.as_bytes()]);
        assert_eq!(error, None, "{format:?}");
        assert!(!transcript.text.is_empty());
        match out.last() {
            Some(Output::ServerError(info)) => {
                assert_eq!(
                    (info.code.as_str(), info.message.as_str(), info.retryable),
                    (code, message, retryable)
                );
            }
            other => panic!("{format:?}: {other:?}"),
        }
    }
}

#[test]
fn unknown_event_types_are_ignored_once_the_format_is_known() {
    let stream = head(FIXTURES[2].1, 2)
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}\n\n"
        + "event: brand_new\ndata: {\"type\":\"brand_new\"}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let (_, error, transcript) = run(
        pipeline(false, Some(Format::Anthropic)),
        &[stream.as_bytes()],
    );
    assert_eq!(error, None);
    assert_eq!(transcript.text, "Hi");
    let stream = head(FIXTURES[3].1, 2)
        + "data: {\"type\":\"data-weather\",\"data\":{}}\n\ndata: {\"type\":\"reasoning-delta\",\"id\":\"r\",\"delta\":\"hm\"}\n\ndata: {\"type\":\"text-delta\",\"id\":\"t\",\"delta\":\"Yo\"}\n\ndata: {\"type\":\"finish\"}\n\n";
    let (_, error, transcript) = run(pipeline(false, Some(Format::AiSdk)), &[stream.as_bytes()]);
    assert_eq!(error, None);
    assert_eq!(transcript.text, "Yo");
}

#[test]
fn names_round_trip_and_long_event_types_are_cut() {
    for (format, _) in FIXTURES {
        assert_eq!(Format::from_name(format.name()), Some(format));
    }
    assert_eq!(Format::from_name("custom"), None);
    assert!(Preset::<SerdeJson>::new(Format::Custom).is_none());
    let long = format!("event: {}é\ndata: x\n\n", "a".repeat(63));
    let (_, error, _) = run(pipeline(false, Some(Format::Anthropic)), &[long.as_bytes()]);
    assert_eq!(adapter_error(error).event, "a".repeat(63));
}
