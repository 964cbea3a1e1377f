//! The answers as they arrive over the wire are Markdown (docs/protocol.md,
//! "Inline citations in the token stream"): read back from the `token`
//! events with `pulldown-cmark`, a list answer is a bullet per account in
//! bold, a comparison is a table, and every citation stays plain text that
//! the `citations` event backs.

use crate::support::*;
use cite_stream::core::sse::SseEvent;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::BTreeSet;
use std::time::Duration;

const COMPARE: &str = "Compare Globex and Wayne Enterprises on pricing";

/// The text of each `**…**` that opens a list item or a table row, the
/// number of table body rows, and the plain text a reader sees.
struct Read {
    leading_bold: Vec<String>,
    body_rows: usize,
    plain: String,
    links: usize,
}

fn read(markdown: &str) -> Read {
    let mut read = Read {
        leading_bold: Vec::new(),
        body_rows: 0,
        plain: String::new(),
        links: 0,
    };
    let mut opened = false;
    let mut bold: Option<String> = None;
    let options = Options::ENABLE_TABLES;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Item | Tag::TableRow) => opened = true,
            Event::End(TagEnd::TableRow) => read.body_rows += 1,
            Event::Start(Tag::Strong) if opened => bold = Some(String::new()),
            Event::End(TagEnd::Strong) => read.leading_bold.extend(bold.take()),
            Event::Start(Tag::Link { .. }) => read.links += 1,
            Event::Text(text) => {
                if let Some(bold) = bold.as_mut() {
                    bold.push_str(&text);
                }
                read.plain.push_str(&text);
                opened = false;
            }
            Event::End(TagEnd::Paragraph | TagEnd::TableCell | TagEnd::Item) => {
                read.plain.push('\n');
            }
            _ => {}
        }
    }
    read
}

/// `(timestamp, speaker)` of every inline citation of `text`.
fn cited(text: &str) -> BTreeSet<(String, String)> {
    inline_citations(text)
        .into_iter()
        .flat_map(|(_, refs)| refs)
        .collect()
}

fn listed(events: &[SseEvent]) -> BTreeSet<(String, String)> {
    let data = json(only(events, "citations"));
    data["citations"]
        .as_array()
        .expect("citations array")
        .iter()
        .map(|c| {
            let field = |name: &str| c[name].as_str().expect(name).to_owned();
            (field("timestamp"), field("speaker"))
        })
        .collect()
}

#[tokio::test]
async fn a_list_answer_streams_a_bullet_per_account_in_bold() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let events = ask(&base, BUDGET_QUESTION).await;
    let text = tokens(&events).concat();
    let rendered = read(&text);
    assert_eq!(
        rendered.leading_bold,
        [
            "Globex",
            "Tyrell Corporation",
            "Acme Corp",
            "Northwind Logistics",
            "Wayne Enterprises",
            "Hooli"
        ],
        "{text}"
    );
    assert!(text.contains("\n\n> “"), "a block quote: {text}");
    assert_eq!(rendered.links, 0);
    assert_eq!(cited(&rendered.plain), cited(&text));
    assert_eq!(cited(&text), listed(&events));
}

#[tokio::test]
async fn a_comparison_streams_a_table_whose_citations_are_backed() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let events = ask(&base, COMPARE).await;
    let tokens = tokens(&events);
    let text = tokens.concat();
    let rendered = read(&text);
    assert!(text.contains("| --- | --- | --- |"), "{text}");
    assert_eq!(rendered.body_rows, 2, "{text}");
    assert_eq!(rendered.leading_bold, ["Globex", "Wayne Enterprises"]);
    assert_eq!(rendered.links, 0);
    assert_eq!(cited(&rendered.plain), cited(&text));
    assert_eq!(cited(&text), listed(&events));
    // The markup arrives in pieces, as an LLM's tokens would bring it: no
    // token holds a whole row, and some `**` is cut in two.
    assert!(
        tokens.iter().all(|t| t.matches('|').count() < 2),
        "{tokens:?}"
    );
    let mut ends = BTreeSet::new();
    let mut end = 0;
    for token in &tokens {
        end += token.len();
        ends.insert(end);
    }
    let cut_bold = text
        .match_indices("**")
        .any(|(at, _)| ends.contains(&(at + 1)));
    assert!(cut_bold, "{tokens:?}");
}
