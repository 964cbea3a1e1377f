//! The answers read back as CommonMark + GFM by an outside parser
//! (`pulldown-cmark`): the bold names, list items, tables and block quotes
//! come out as written, nothing else (no emphasis, links, code or HTML)
//! appears by accident, and every inline citation is still plain text.

use super::tests::{assert_citations_consistent, exchange};
use super::{answer, Answer, Turn};
use crate::corpus::Corpus;
use crate::protocol::inline_citations;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// What an answer renders to, block by block.
#[derive(Debug, Default)]
struct Rendered {
    /// Top-level paragraphs, as plain text.
    paragraphs: Vec<String>,
    /// Items of bullet lists: the bold text the item starts with, and the
    /// item's plain text.
    bullets: Vec<(Option<String>, String)>,
    /// Items of numbered lists, likewise, with the list's start number.
    numbered: Vec<(Option<String>, String)>,
    starts: Vec<u64>,
    /// Table rows (header first), cells as plain text; and whether each
    /// body row's first cell is bold.
    rows: Vec<Vec<String>>,
    bold_first_cells: usize,
    /// Block quotes, as plain text.
    quotes: Vec<String>,
    /// All the text a reader sees, blocks joined by `\n`.
    text: String,
    /// What must never appear: emphasis, links, images, code, HTML,
    /// headings, soft breaks inside a block.
    stray: Vec<String>,
}

fn render(markdown: &str) -> Rendered {
    let mut out = Rendered::default();
    let mut block = String::new();
    let mut item_bold: Option<String> = None;
    let mut strong: Option<String> = None;
    let mut item_started = false;
    let mut strong_opens_item = false;
    let mut strong_opens_row = false;
    let mut in_body = false;
    let mut ordered: Vec<bool> = Vec::new();
    let mut in_quote = false;
    let mut in_item = false;
    let mut row: Vec<String> = Vec::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Text(t) => {
                block.push_str(&t);
                out.text.push_str(&t);
                if let Some(s) = strong.as_mut() {
                    s.push_str(&t);
                }
                item_started = true;
            }
            Event::Start(Tag::Strong) => {
                strong_opens_item = in_item && !item_started;
                strong_opens_row = in_body && row.is_empty() && block.is_empty();
                strong = Some(String::new());
            }
            Event::End(TagEnd::Strong) => {
                if strong_opens_item {
                    item_bold = strong.take();
                }
                if strong_opens_row {
                    out.bold_first_cells += 1;
                }
                strong = None;
            }
            Event::Start(Tag::List(start)) => {
                ordered.push(start.is_some());
                if let Some(n) = start {
                    out.starts.push(n);
                }
            }
            Event::End(TagEnd::List(_)) => {
                ordered.pop();
            }
            Event::Start(Tag::Item) => {
                in_item = true;
                item_started = false;
                item_bold = None;
                block.clear();
            }
            Event::End(TagEnd::Item) => {
                in_item = false;
                let item = (item_bold.take(), std::mem::take(&mut block));
                if ordered.last() == Some(&true) {
                    out.numbered.push(item);
                } else {
                    out.bullets.push(item);
                }
                out.text.push('\n');
            }
            Event::Start(Tag::BlockQuote(_)) => in_quote = true,
            Event::End(TagEnd::BlockQuote(_)) => {
                in_quote = false;
                out.quotes.push(std::mem::take(&mut block));
                out.text.push('\n');
            }
            Event::Start(Tag::Paragraph) => {
                if !in_quote && !in_item {
                    block.clear();
                }
            }
            Event::End(TagEnd::Paragraph) => {
                if !in_quote && !in_item {
                    out.paragraphs.push(std::mem::take(&mut block));
                    out.text.push('\n');
                }
            }
            Event::Start(Tag::TableCell) => block.clear(),
            Event::End(TagEnd::TableCell) => row.push(std::mem::take(&mut block)),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                out.rows.push(std::mem::take(&mut row));
                out.text.push('\n');
            }
            Event::Start(Tag::TableRow) => in_body = true,
            Event::Start(Tag::Table(_) | Tag::TableHead) => {}
            Event::End(TagEnd::Table) => in_body = false,
            Event::SoftBreak if in_quote => {}
            other => out.stray.push(format!("{other:?}")),
        }
    }
    out
}

/// The questions every check runs over, asked in one session so the
/// follow-ups refer back.
const SESSION: &[&str] = &[
    "Which prospects mentioned budget constraints?",
    "Of those, which ones also expressed urgency?",
    "Tell me more about the second one",
    "Which customers are at risk of churning?",
    "Compare Globex and Wayne Enterprises on pricing",
    "Which competitors came up?",
    "How do they compare?",
    "What are the next steps with Hooli?",
    "What are the next steps?",
    "What did Zoë say about data residency?",
    "Whose budget cut is bigger, Globex or Hooli?",
    "Who talked about SOC 2 or security reviews?",
    "Tell me more about them",
    "the ninth one",
    "xyzzy?",
    "pricing",
];

fn session() -> (Corpus, Vec<(&'static str, Answer)>) {
    let corpus = Corpus::bundled().expect("bundled corpus parses");
    let mut history: Vec<Turn> = Vec::new();
    let mut answers = Vec::new();
    for question in SESSION {
        let answer = answer(&corpus, question, None, &history);
        history.extend(exchange(question, &answer));
        answers.push((*question, answer));
    }
    (corpus, answers)
}

fn accounts(corpus: &Corpus) -> Vec<&str> {
    corpus
        .conversations()
        .iter()
        .map(|c| c.account.as_str())
        .collect()
}

#[test]
fn every_answer_is_balanced_markdown_with_citations_as_text() {
    let (corpus, answers) = session();
    for (question, answer) in &answers {
        let text = &answer.text;
        let rendered = render(text);
        assert!(
            rendered.stray.is_empty(),
            "{question}: {:?}\n{text}",
            rendered.stray
        );
        // Every `*`, `|` and `>` was markup: none is left in what is read.
        for marker in ['*', '|', '>', '`', '\\'] {
            assert!(
                !rendered.text.contains(marker),
                "{question}: {marker}\n{text}"
            );
        }
        // Citations are text, read the same from the source and the render.
        let read = |s: &str| -> Vec<(u32, String)> { inline_citations(s) };
        assert_eq!(read(&rendered.text), read(text), "{question}\n{text}");
        assert!(!text.contains("]("), "{question}: reads as a link\n{text}");
        assert_citations_consistent(&corpus, answer);
        assert_eq!(answer.fragments.concat(), *text);
        // Blocks are apart: a line that starts a list item, a row or a
        // quote follows a blank line or a line of the same block.
        let kind = |line: &str| -> Option<&'static str> {
            match line.as_bytes().first() {
                Some(b'-') => Some("bullet"),
                Some(b'|') => Some("table"),
                Some(b'>') => Some("quote"),
                Some(b'0'..=b'9') if line.contains(". **") => Some("numbered"),
                _ => None,
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.windows(2) {
            let (a, b) = (kind(pair[0]), kind(pair[1]));
            let apart = pair[0].is_empty() || pair[1].is_empty() || a == b;
            assert!(apart, "{question}: no blank line between {pair:?}\n{text}");
        }
        assert!(!text.contains("\n\n\n"), "{question}\n{text}");
    }
}

#[test]
fn list_answers_bullet_each_account_in_bold_and_quote_the_best_passage() {
    let (corpus, answers) = session();
    let accounts = accounts(&corpus);
    let budget = render(&answers[0].1.text);
    assert_eq!(budget.paragraphs.len(), 3, "{budget:#?}");
    assert!(budget.paragraphs[0].starts_with("Budget constraints came up in 6 of the 13"));
    let names: Vec<&str> = budget
        .bullets
        .iter()
        .map(|(bold, _)| bold.as_deref().expect("a bold name"))
        .collect();
    assert_eq!(
        names,
        [
            "Globex",
            "Tyrell Corporation",
            "Acme Corp",
            "Northwind Logistics",
            "Wayne Enterprises",
            "Hooli"
        ]
    );
    for (_, item) in &budget.bullets {
        assert!(!inline_citations(item).is_empty(), "{item}");
    }
    assert_eq!(budget.quotes.len(), 1);
    let quote = &budget.quotes[0];
    assert!(quote.starts_with('“') && quote.ends_with(']'), "{quote}");
    let cited = answers[0]
        .1
        .citations
        .iter()
        .find(|c| quote.contains(&format!("“{}”", c.quote)))
        .expect("the quote is a cited passage, verbatim");
    assert!(quote.ends_with(&format!("[{}, {}]", cited.timestamp, cited.speaker)));
    assert!(budget.rows.is_empty() && budget.numbered.is_empty());

    // Every list answer: one bold account per bullet, or one bold person
    // when it is about one conversation.
    for (question, answer) in &answers {
        let rendered = render(&answer.text);
        for (bold, item) in &rendered.bullets {
            let bold = bold
                .as_deref()
                .unwrap_or_else(|| panic!("{question}: {item}"));
            let person = answer.citations.iter().any(|c| c.speaker == bold);
            assert!(accounts.contains(&bold) || person, "{question}: {bold}");
        }
    }
    let second = render(&answers[2].1.text);
    let people: Vec<Option<&str>> = second.bullets.iter().map(|(b, _)| b.as_deref()).collect();
    assert_eq!(people, [Some("José Álvarez"), Some("Priya Natarajan")]);
}

#[test]
fn comparisons_are_tables_with_a_row_per_account() {
    let (corpus, answers) = session();
    let accounts = accounts(&corpus);
    for (index, first_cells) in [
        (4, vec!["Globex", "Wayne Enterprises"]),
        (10, vec!["Globex", "Hooli"]),
    ] {
        let (question, answer) = &answers[index];
        let rendered = render(&answer.text);
        assert_eq!(
            rendered.rows[0],
            ["Account", "Who", "What they said"],
            "{question}"
        );
        let firsts: Vec<&str> = rendered.rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(firsts, first_cells, "{question}\n{}", answer.text);
        assert_eq!(rendered.bold_first_cells, first_cells.len(), "{question}");
        for row in &rendered.rows[1..] {
            assert_eq!(row.len(), 3);
            assert!(!inline_citations(&row[2]).is_empty(), "{row:?}");
        }
        assert!(rendered.bullets.is_empty(), "{question}");
        assert!(
            rendered.paragraphs[0].starts_with(&format!(
                "Here is how {} and {} compare",
                first_cells[0], first_cells[1]
            )),
            "{question}: {:?}",
            rendered.paragraphs
        );
    }
    // A follow-up comparison tabulates the accounts the list named.
    let (_, list) = &answers[5];
    let (_, compared) = &answers[6];
    let rendered = render(&compared.text);
    let listed: Vec<String> = render(&list.text)
        .bullets
        .iter()
        .filter_map(|(b, _)| b.clone())
        .collect();
    let rows: Vec<String> = rendered.rows[1..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(rows, listed);
    assert!(rows.iter().all(|r| accounts.contains(&r.as_str())));
}

#[test]
fn steps_are_a_numbered_list() {
    let (_, answers) = session();
    let (_, hooli) = &answers[7];
    let rendered = render(&hooli.text);
    assert_eq!(rendered.starts, [1]);
    assert!(rendered.numbered.len() >= 3, "{}", hooli.text);
    assert!(rendered.paragraphs[0].starts_with("Here are the next steps with Hooli"));
    assert!(hooli
        .citations
        .iter()
        .all(|c| c.conversation_id == "c_hooli_churn_risk"));
    // In the order they were said.
    let seconds: Vec<u32> = inline_citations(&hooli.text)
        .into_iter()
        .map(|(s, _)| s)
        .take(rendered.numbered.len())
        .collect();
    assert!(seconds.windows(2).all(|w| w[0] < w[1]), "{seconds:?}");
    let (_, all) = &answers[8];
    let rendered = render(&all.text);
    assert!(rendered.numbered.len() > 1);
    assert!(rendered.numbered.iter().all(|(bold, _)| bold.is_some()));
}

#[test]
fn answers_that_cite_nothing_are_one_paragraph() {
    let (_, answers) = session();
    for index in [13, 14] {
        let (question, answer) = &answers[index];
        let rendered = render(&answer.text);
        assert_eq!(rendered.paragraphs.len(), 1, "{question}");
        assert!(answer.citations.is_empty());
    }
}

#[test]
fn markers_are_cut_across_fragments_as_tokens_are() {
    let (_, answers) = session();
    let mut split_bold = 0;
    let mut whole_bold = 0;
    for (_, answer) in &answers {
        let mut offset = 0;
        let mut cuts = Vec::new();
        for f in &answer.fragments {
            offset += f.len();
            cuts.push(offset);
            whole_bold += f.matches("**").count();
        }
        split_bold += answer
            .text
            .match_indices("**")
            .filter(|(at, _)| cuts.contains(&(at + 1)))
            .count();
    }
    assert!(
        split_bold > 0 && whole_bold > 0,
        "{split_bold} {whole_bold}"
    );
}
