//! Native throughput of the core alone, in MB/s: the event-stream parser
//! on a generated stream of chat-token events (the same shape as
//! `bench/streams.mjs`), in several chunk sizes, and one large event; the
//! citation buffer's cost, the pipeline, and the Markdown segmenter
//! (`bench/markdown.rs`).
//!
//!     cargo bench --bench core --features serde_json

mod markdown;

use std::hint::black_box;
use std::time::Instant;

use cite_stream::core::citation::{CitationBuffer, CitationOptions, SegmentSink};
use cite_stream::core::pipeline::ChatPipeline;
use cite_stream::core::protocol::{decode_event, ChatEvent};
use cite_stream::core::sse::{EventRef, EventSink, EventStreamParser};

struct Count {
    events: usize,
    bytes: usize,
}

impl EventSink for Count {
    fn event(&mut self, event: EventRef<'_>) {
        self.events += 1;
        self.bytes += event.data.len();
    }
}

#[rustfmt::skip]
const WORDS: &[&str] = &[
        "the",
        "budget",
        "is",
        "frozen",
        "until",
        "Q3,",
        "and",
        "procurement",
        "wants",
        "a",
        "discount",
        "before",
        "signing.",
        "José",
        "Álvarez",
        "mentioned",
        "renewal",
        "risk;",
        "Zoë",
        "Müller",
        "asked",
        "about",
        "東京",
        "pricing",
        "😀",
        "seats",
        "[12:45, Sarah Johnson]",
    ];

/// A small deterministic generator (an LCG), so every run sees the same
/// stream.
fn random(seed: u64) -> impl FnMut() -> usize {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    }
}

fn token_stream(events: usize) -> Vec<u8> {
    token_stream_of(events, WORDS)
}

fn token_stream_of(events: usize, words: &[&str]) -> Vec<u8> {
    let mut next = random(42);
    let mut out = String::new();
    for i in 0..events {
        let mut text = String::new();
        let target = 60 + next() % 40;
        while text.len() < target {
            text.push(' ');
            text.push_str(words[next() % words.len()]);
        }
        out.push_str(&format!(
            "event: token\nid: m_8f3a2c1d:{}\ndata:{text}\n\n",
            i + 2
        ));
    }
    out.into_bytes()
}

fn big_event(size: usize) -> Vec<u8> {
    let mut out = b"event: token\nid: big\ndata: ".to_vec();
    out.extend(std::iter::repeat_n(b'x', size));
    out.extend_from_slice(b"\n\n");
    out
}

/// Median MB/s of `runs` passes over `input` in `chunk`-byte pieces.
fn measure(input: &[u8], chunk: usize, max: usize, runs: usize) -> (f64, usize) {
    let mut times = Vec::new();
    let mut events = 0;
    for _ in 0..runs {
        let mut parser = EventStreamParser::new(max);
        let mut sink = Count {
            events: 0,
            bytes: 0,
        };
        let start = Instant::now();
        for piece in input.chunks(chunk) {
            parser
                .feed(black_box(piece), &mut sink)
                .expect("within limits");
        }
        times.push(start.elapsed().as_secs_f64());
        events = black_box(sink.events);
        black_box(sink.bytes);
    }
    times.sort_by(f64::total_cmp);
    (input.len() as f64 / 1e6 / times[runs / 2], events)
}

/// serde_json as the host's JSON (only the session event needs it here).
type SerdeJson = serde_json::Value;

/// Segments packed into one string, CR after each: a stand-in for what a
/// shell does with the segments before they cross to JS.
#[derive(Default)]
struct Packed {
    text: String,
    count: usize,
}

impl SegmentSink for Packed {
    fn text(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push('\r');
        self.count += 1;
    }

    fn citation(&mut self, text: String, _entries: Vec<cite_stream::core::citation::CitationRef>) {
        self.text(&text);
    }
}

/// Parser, protocol decoding and packing of the tokens as segments, with or
/// without the citation buffer in between: what the buffer adds to the
/// pipeline.
struct Segments<'a> {
    buffer: Option<&'a mut CitationBuffer>,
    out: Packed,
}

impl EventSink for Segments<'_> {
    fn event(&mut self, event: EventRef<'_>) {
        if let Ok(Some(ChatEvent::Token(text))) = decode_event::<SerdeJson>(event.to_owned()) {
            match self.buffer.as_deref_mut() {
                Some(buffer) => buffer.push(&text, 0.0, &mut self.out),
                None => self.out.text(&text),
            }
        }
    }
}

fn segments_mbps(input: &[u8], with_buffer: bool, runs: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut parser = EventStreamParser::default();
        let mut buffer = CitationBuffer::new(CitationOptions::default());
        let mut sink = Segments {
            buffer: with_buffer.then_some(&mut buffer),
            out: Packed::default(),
        };
        let start = Instant::now();
        for piece in input.chunks(16384) {
            parser
                .feed(black_box(piece), &mut sink)
                .expect("within limits");
            black_box(&sink.out.text);
            sink.out.text.clear();
        }
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    input.len() as f64 / 1e6 / times[runs / 2]
}

/// An answer of `tokens` fragments of 1 to 6 characters, an inline citation
/// every 40 or so: what `streamChat` receives (as in bench/pipeline.mjs).
fn answer_stream(tokens: usize) -> Vec<u8> {
    let words = [
        "the", "budget", "is", "frozen", "José", "Álvarez", "東京", "pricing",
    ];
    let mut next = random(7);
    let mut out = String::from(
        "event: session\nid: m_1:1\ndata: {\"sessionId\":\"s_1\",\"messageId\":\"m_1\"}\n\n",
    );
    let mut pending: Vec<char> = Vec::new();
    let mut count = 0;
    while count < tokens {
        let word = if count % 40 == 39 {
            " [12:45, Sarah Johnson]".to_string()
        } else {
            format!(" {}", words[next() % words.len()])
        };
        pending.extend(word.chars());
        while pending.len() > 6 && count < tokens {
            let n = 1 + next() % 6;
            let fragment: String = pending.drain(..n).collect();
            out.push_str(&format!(
                "event: token\nid: m_1:{}\ndata: {fragment}\n\n",
                count + 2
            ));
            count += 1;
        }
    }
    out.push_str("event: done\nid: m_1:x\ndata: {\"messageId\":\"m_1\",\"processingMs\":1,\"tokenCount\":1}\n\n");
    out.into_bytes()
}

fn pipeline_mbps(input: &[u8], runs: usize) -> f64 {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut pipeline = ChatPipeline::new(1 << 20, CitationOptions::default());
        let mut out = Vec::new();
        let start = Instant::now();
        for piece in input.chunks(16384) {
            pipeline
                .feed::<SerdeJson>(black_box(piece), 0.0, &mut out)
                .expect("valid");
            black_box(&out);
            out.clear();
        }
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    input.len() as f64 / 1e6 / times[runs / 2]
}

fn main() {
    let tokens = token_stream(200_000);
    let big = big_event(4 << 20);
    println!("| stream | chunk | MB/s |");
    println!("|---|---:|---:|");
    for chunk in [64, 1024, 16384] {
        let (mbps, events) = measure(&tokens, chunk, 1 << 20, 9);
        assert_eq!(events, 200_000);
        println!(
            "| {:.1} MB, 200,000 token events | {chunk} B | {mbps:.0} |",
            tokens.len() as f64 / 1e6
        );
    }
    // Linear time: the same event in small chunks costs what it costs whole.
    for chunk in [256, big.len()] {
        let (mbps, events) = measure(&big, chunk, 8 << 20, 9);
        assert_eq!(events, 1);
        println!("| one 4 MB event | {chunk} B | {mbps:.0} |");
    }

    // The citation buffer's cost on a long answer without brackets.
    let plain: Vec<&str> = WORDS.iter().copied().filter(|w| !w.contains('[')).collect();
    let answer = token_stream_of(200_000, &plain);
    // Alternated, so both see the same machine conditions.
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        without.push(segments_mbps(&answer, false, 1));
        with.push(segments_mbps(&answer, true, 1));
    }
    without.sort_by(f64::total_cmp);
    with.sort_by(f64::total_cmp);
    let (without, with) = (without[4], with[4]);
    println!();
    println!("| pipeline on 200,000 tokens without brackets, 16 KiB chunks | MB/s |");
    println!("|---|---:|");
    println!("| parser + protocol, tokens packed as text segments | {without:.0} |");
    println!("| parser + protocol + citation buffer | {with:.0} |");
    println!("| ratio with / without | {:.2}x |", with / without);

    let answer = answer_stream(200_000);
    let mbps = pipeline_mbps(&answer, 9);
    println!();
    println!("| ChatPipeline, bytes to segment batches, 16 KiB chunks | MB/s | ns per token |");
    println!("|---|---:|---:|");
    println!(
        "| {:.1} MB, 200,000 tokens of 1 to 6 characters | {mbps:.0} | {:.0} |",
        answer.len() as f64 / 1e6,
        answer.len() as f64 / mbps / 1e6 * 1e9 / 200_000.0
    );

    markdown::rows();
}
