//! The Markdown segmenter's rows of `bench/core.rs`: a realistic ~1 MB
//! answer pushed in 4-byte fragments (time per byte in its first and last
//! tenth, which must be flat), and each hostile case at 100 KB and 1 MB
//! (time per byte at both, whose ratio must stay about 1). Prints ratios;
//! asserts no timing.

use std::hint::black_box;
use std::time::Instant;

use cite_stream::core::markdown::{MarkdownOptions, MarkdownSegment, MarkdownSegmenter};

use super::random;

/// An answer the way LLMs write them: headings, lists of bold names with
/// citations, tables, quotes and code, about `size` bytes.
fn answer(size: usize) -> String {
    let names = [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Zoë Müller",
        "東京 Ltd",
    ];
    let cites = [
        "[12:45, Sarah Johnson]",
        "[1:02:03, Zoë; 14:02, Mark Lee]",
        "[0:07, Ana]",
    ];
    let mut next = random(11);
    let mut out = String::from("Here is what the calls say about churn risk.\n\n");
    let mut section = 0;
    while out.len() < size {
        section += 1;
        let name = names[next() % names.len()];
        let cite = cites[next() % cites.len()];
        out.push_str(&format!(
            "## {section}. {name}\n\n**{name}** raised *pricing* concerns {cite} and \
             asked about `renewal_date`, see [the notes](https://example.com/n/{section}).\n\n"
        ));
        for item in 0..1 + next() % 4 {
            let who = names[(section + item) % names.len()];
            out.push_str(&format!(
                "- **{who}** {}: budget frozen until Q3 &amp; seats at 50%\n",
                cites[item % cites.len()]
            ));
            if item == 1 {
                out.push_str("  - follow up with procurement_team\n");
            }
        }
        out.push('\n');
        match section % 4 {
            0 => out.push_str(&format!(
                "| Account | Risk | Owner |\n|:---|:-:|---:|\n| {name} | high {cite} | Ana |\n| Globex | low | Mark |\n\n"
            )),
            1 => out.push_str(&format!("> \"We may leave if the price goes up\" {cite}\n\n")),
            2 => out.push_str("```js\nconst risk = accounts.filter(a => a.score > 0.7);\n```\n\n"),
            _ => out.push_str("1. Call back\n2. Send the *revised* offer\n3. Escalate\n\n"),
        }
    }
    out
}

/// `source` cut into 4-byte fragments at character boundaries.
fn fragments(source: &str) -> Vec<&str> {
    let mut pieces = Vec::with_capacity(source.len() / 4 + 1);
    let mut at = 0;
    while at < source.len() {
        let mut end = (at + 4).min(source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        pieces.push(&source[at..end]);
        at = end;
    }
    pieces
}

/// Seconds for each tenth of `source`, pushed in 4-byte fragments.
fn tenths(source: &str) -> [f64; 10] {
    let pieces = fragments(source);
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut out: Vec<MarkdownSegment> = Vec::new();
    let mut times = [0.0; 10];
    let per = pieces.len().div_ceil(10);
    for (tenth, chunk) in pieces.chunks(per).enumerate() {
        let start = Instant::now();
        for piece in chunk {
            segmenter.push(black_box(piece), 0.0, &mut out);
            black_box(&out);
            out.clear();
        }
        if tenth == 9 {
            segmenter.finish(&mut out);
            black_box(&out);
        }
        times[tenth.min(9)] = start.elapsed().as_secs_f64();
    }
    times
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Nanoseconds per byte of `source` pushed whole in 4-byte fragments,
/// median of `runs`.
fn ns_per_byte(source: &str, runs: usize) -> f64 {
    let times: Vec<f64> = (0..runs).map(|_| tenths(source).iter().sum()).collect();
    median(times) * 1e9 / source.len() as f64
}

/// The hostile cases, each as input of about `size` bytes.
fn hostile(size: usize) -> Vec<(&'static str, String)> {
    let fit = |unit: &str| unit.repeat(size / unit.len());
    let mut backticks = String::new();
    let mut n = 1;
    while backticks.len() < size {
        backticks.push_str(&"`".repeat(n));
        backticks.push('a');
        n = n % 200 + 1;
    }
    let mut nested = String::new();
    let mut level = 0;
    while nested.len() < size {
        nested.push_str(&"  ".repeat(level));
        nested.push_str("- x\n");
        level = (level + 1) % 40;
    }
    vec![
        ("text then `*` run", String::from("x") + &fit("*")),
        ("text then `_` run", String::from("x") + &fit("_")),
        ("`*a` alternating", fit("*a")),
        ("`[` run", fit("[")),
        ("`[a](` repeated", fit("[a](")),
        ("`[12:45, ` repeated", fit("[12:45, ")),
        ("nested backtick runs", backticks),
        ("`>` run", fit(">")),
        ("`- ` run then x (one held line)", fit("- ") + "x"),
        ("lists nested by indentation", nested),
        (
            "one line of words",
            fit("word **bold** [12:45, Sarah Johnson] `x` "),
        ),
        ("blank lines", fit("\n")),
        ("NUL and U+FFFD", fit("a\0b \u{FFFD} `\0` ")),
        (
            "unclosed fence",
            String::from("```rust\n") + &fit("let x = 1;\n"),
        ),
    ]
}

pub fn rows() {
    let source = answer(1 << 20);
    let runs = 5;
    let mut first = Vec::new();
    let mut last = Vec::new();
    let mut total = Vec::new();
    for _ in 0..runs {
        let times = tenths(&source);
        let tenth = source.len() as f64 / 10.0;
        first.push(times[0] * 1e9 / tenth);
        last.push(times[9] * 1e9 / tenth);
        total.push(times.iter().sum::<f64>());
    }
    let (first, last, total) = (median(first), median(last), median(total));
    println!();
    println!("| MarkdownSegmenter, 4-byte fragments | ns/byte, first tenth | ns/byte, last tenth | last / first | MB/s |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| {:.2} MB realistic answer | {first:.1} | {last:.1} | {:.2}x | {:.1} |",
        source.len() as f64 / 1e6,
        last / first,
        source.len() as f64 / 1e6 / total
    );

    println!();
    println!(
        "| hostile case, 4-byte fragments | ns/byte at 100 KB | ns/byte at 1 MB | 1 MB / 100 KB |"
    );
    println!("|---|---:|---:|---:|");
    let small = hostile(100 << 10);
    let large = hostile(1 << 20);
    for ((name, small), (_, large)) in small.iter().zip(&large) {
        let a = ns_per_byte(small, 5);
        let b = ns_per_byte(large, 3);
        println!("| {name} | {a:.1} | {b:.1} | {:.2}x |", b / a);
    }
}
