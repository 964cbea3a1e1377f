//! Native throughput of the core alone, in MB/s: the event-stream parser
//! on a generated stream of chat-token events (the same shape as
//! `bench/streams.mjs`), in several chunk sizes, and one large event.
//!
//!     cargo bench --bench core

use std::hint::black_box;
use std::time::Instant;

use cite_stream::core::citation::{CitationBuffer, CitationOptions, Segment};
use cite_stream::core::protocol::{decode_event, ChatEvent, Json};
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

fn token_stream(events: usize) -> Vec<u8> {
    token_stream_of(events, WORDS)
}

fn token_stream_of(events: usize, words: &[&str]) -> Vec<u8> {
    let mut state = 42u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
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
struct SerdeJson(serde_json::Value);

impl Json for SerdeJson {
    fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok().map(SerdeJson)
    }
    fn member(&self, name: &str) -> Option<Self> {
        self.0.get(name).cloned().map(SerdeJson)
    }
    fn string(&self) -> Option<String> {
        self.0.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.0.as_bool()
    }
    fn elements(&self) -> Option<Vec<Self>> {
        Some(self.0.as_array()?.iter().cloned().map(SerdeJson).collect())
    }
}

/// Parser, protocol decoding and, when `buffer` is given, the citation
/// buffer: the part of the pipeline the buffer's cost is measured against.
struct Segments<'a> {
    buffer: Option<&'a mut CitationBuffer>,
    out: Vec<Segment>,
}

impl EventSink for Segments<'_> {
    fn event(&mut self, event: EventRef<'_>) {
        if let Ok(Some(ChatEvent::Token(text))) = decode_event::<SerdeJson>(event.to_owned()) {
            match self.buffer.as_deref_mut() {
                Some(buffer) => buffer.push(&text, 0.0, &mut self.out),
                None => self.out.push(Segment::Text { text }),
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
            out: Vec::new(),
        };
        let start = Instant::now();
        for piece in input.chunks(16384) {
            parser
                .feed(black_box(piece), &mut sink)
                .expect("within limits");
            black_box(&sink.out);
            sink.out.clear();
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
    let without = segments_mbps(&answer, false, 9);
    let with = segments_mbps(&answer, true, 9);
    println!();
    println!("| pipeline on 200,000 tokens without brackets, 16 KiB chunks | MB/s |");
    println!("|---|---:|");
    println!("| parser + protocol, tokens as text segments | {without:.0} |");
    println!("| parser + protocol + citation buffer | {with:.0} |");
    println!("| ratio with / without | {:.2}x |", with / without);
}
