//! The segmenter against an outside oracle: pulldown-cmark's reading of
//! the same document, for generated documents in the supported subset cut
//! at random points, and at every cut of small ones.

use super::link::percent_encode;
use super::*;
use proptest::prelude::*;
use pulldown_cmark::{Alignment, CodeBlockKind, Event, Options, Parser, Tag as Pd, TagEnd};

/// A tree as a flat token list: `<tag attrs>`, `</tag>`, text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open(String),
    Close(&'static str),
    Text(String),
}

/// Adjacent text merged; `p` right inside `li` unwrapped (list items hold
/// paragraphs here whether or not the list is tight).
fn normalise(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut stack: Vec<(String, bool)> = Vec::new();
    for token in tokens {
        match token {
            Token::Open(open) => {
                let name = open
                    .split([' ', '>'])
                    .next()
                    .unwrap_or("")
                    .trim_start_matches('<')
                    .to_owned();
                let dropped = name == "p" && stack.last().is_some_and(|(parent, _)| parent == "li");
                stack.push((name, dropped));
                if !dropped {
                    out.push(Token::Open(open));
                }
            }
            Token::Close(name) => {
                if let Some((_, dropped)) = stack.pop() {
                    if dropped {
                        continue;
                    }
                }
                out.push(Token::Close(name));
            }
            Token::Text(text) if text.is_empty() => {}
            Token::Text(text) => match out.last_mut() {
                Some(Token::Text(last)) => last.push_str(&text),
                _ => out.push(Token::Text(text)),
            },
        }
    }
    out
}

fn ours(segments: &[MarkdownSegment]) -> Vec<Token> {
    let mut tokens = Vec::new();
    for segment in segments {
        tokens.push(match segment {
            MarkdownSegment::Open { tag, attrs, .. } => {
                let mut open = format!("<{}", tag.name());
                if let Some(href) = &attrs.href {
                    open.push_str(&format!(" href={href}"));
                }
                if let Some(start) = attrs.start {
                    open.push_str(&format!(" start={start}"));
                }
                if let Some(lang) = &attrs.lang {
                    open.push_str(&format!(" lang={lang}"));
                }
                if let Some(align) = attrs.align {
                    open.push_str(&format!(" align={}", align.name()));
                }
                Token::Open(open + ">")
            }
            MarkdownSegment::Close { tag, .. } => Token::Close(tag.name()),
            MarkdownSegment::Text { text, .. } | MarkdownSegment::Citation { text, .. } => {
                Token::Text(text.clone())
            }
        });
    }
    normalise(tokens)
}

fn oracle(source: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut aligns: Vec<Alignment> = Vec::new();
    let (mut in_head, mut column, mut body) = (false, 0, false);
    let open = |s: &str| Token::Open(format!("<{s}>"));
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(source, options) {
        match event {
            Event::Start(tag) => match tag {
                Pd::Paragraph => tokens.push(open("p")),
                Pd::Heading { level, .. } => tokens.push(open(&format!("h{}", level as u8))),
                Pd::BlockQuote(_) => tokens.push(open("blockquote")),
                Pd::CodeBlock(kind) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => info
                            .split_whitespace()
                            .next()
                            .map(|w| format!(" lang={w}"))
                            .unwrap_or_default(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    tokens.push(open(&format!("pre{lang}")));
                    tokens.push(open("code"));
                }
                Pd::List(Some(start)) if start != 1 => {
                    tokens.push(open(&format!("ol start={start}")))
                }
                Pd::List(Some(_)) => tokens.push(open("ol")),
                Pd::List(None) => tokens.push(open("ul")),
                Pd::Item => tokens.push(open("li")),
                Pd::Emphasis => tokens.push(open("em")),
                Pd::Strong => tokens.push(open("strong")),
                Pd::Strikethrough => tokens.push(open("del")),
                Pd::Link { dest_url, .. } => {
                    tokens.push(open(&format!("a href={}", percent_encode(&dest_url))))
                }
                Pd::Table(table_aligns) => {
                    aligns = table_aligns;
                    body = false;
                    tokens.push(open("table"));
                }
                Pd::TableHead => {
                    in_head = true;
                    column = 0;
                    tokens.push(open("thead"));
                    tokens.push(open("tr"));
                }
                Pd::TableRow => {
                    if !body {
                        body = true;
                        tokens.push(open("tbody"));
                    }
                    column = 0;
                    tokens.push(open("tr"));
                }
                Pd::TableCell => {
                    let cell = if in_head { "th" } else { "td" };
                    let align = match aligns.get(column) {
                        Some(Alignment::Left) => " align=left",
                        Some(Alignment::Center) => " align=center",
                        Some(Alignment::Right) => " align=right",
                        _ => "",
                    };
                    column += 1;
                    tokens.push(open(&format!("{cell}{align}")));
                }
                other => panic!("unexpected {other:?} in {source:?}"),
            },
            Event::End(end) => match end {
                TagEnd::Paragraph => tokens.push(Token::Close("p")),
                TagEnd::Heading(level) => tokens.push(Token::Close(Tag::H(level as u8).name())),
                TagEnd::BlockQuote(_) => tokens.push(Token::Close("blockquote")),
                TagEnd::CodeBlock => {
                    tokens.push(Token::Close("code"));
                    tokens.push(Token::Close("pre"));
                }
                TagEnd::List(true) => tokens.push(Token::Close("ol")),
                TagEnd::List(false) => tokens.push(Token::Close("ul")),
                TagEnd::Item => tokens.push(Token::Close("li")),
                TagEnd::Emphasis => tokens.push(Token::Close("em")),
                TagEnd::Strong => tokens.push(Token::Close("strong")),
                TagEnd::Strikethrough => tokens.push(Token::Close("del")),
                TagEnd::Link => tokens.push(Token::Close("a")),
                TagEnd::Table => {
                    if body {
                        tokens.push(Token::Close("tbody"));
                    }
                    tokens.push(Token::Close("table"));
                }
                TagEnd::TableHead => {
                    in_head = false;
                    tokens.push(Token::Close("tr"));
                    tokens.push(Token::Close("thead"));
                }
                TagEnd::TableRow => tokens.push(Token::Close("tr")),
                TagEnd::TableCell => tokens.push(Token::Close(if in_head { "th" } else { "td" })),
                other => panic!("unexpected end {other:?} in {source:?}"),
            },
            Event::Text(text) => tokens.push(Token::Text(text.to_string())),
            Event::Code(code) => {
                tokens.push(open("code"));
                tokens.push(Token::Text(code.to_string()));
                tokens.push(Token::Close("code"));
            }
            Event::SoftBreak => tokens.push(Token::Text("\n".to_owned())),
            Event::HardBreak => {
                tokens.push(open("br"));
                tokens.push(Token::Close("br"));
            }
            Event::Rule => {
                tokens.push(open("hr"));
                tokens.push(Token::Close("hr"));
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                tokens.push(Token::Text(html.to_string()))
            }
            other => panic!("unexpected {other:?} in {source:?}"),
        }
    }
    normalise(tokens)
}

/// Segments `source` pushed in the pieces that `cuts` (sorted byte
/// offsets) make, checking that the raw texts join to the source.
fn segmented(source: &str, cuts: &[usize]) -> Vec<MarkdownSegment> {
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut out = Vec::new();
    let mut at = 0;
    for &cut in cuts.iter().chain([source.len()].iter()) {
        let cut = (at..=cut.min(source.len()))
            .rev()
            .find(|&c| source.is_char_boundary(c))
            .unwrap_or(at);
        segmenter.push(&source[at..cut], 0.0, &mut out);
        at = cut;
    }
    segmenter.finish(&mut out);
    let raw: String = out.iter().map(MarkdownSegment::raw).collect();
    assert_eq!(raw, source, "the raw texts join to the source");
    out
}

/// Documents in the supported subset with balanced delimiters, the way
/// LLM answers write them.
fn words() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "Acme",
        "pricing",
        "the",
        "renewal",
        "Q3",
        "team",
        "snake_case_name",
        "2024",
        "a",
        "it's",
        "50%",
        "e.g.",
        "Zoë",
        "x_y",
        "(see",
        "below)",
        "café",
        "—",
        "&amp;",
        "\\*",
        "5 < 6",
        "AT&T",
        "&#35;1",
        "&#x41;",
        "&copy;",
        "\\_",
        "\\[x\\]",
        "\\#",
        "\\`",
        "\\\\",
    ]);
    prop::collection::vec(word, 1..4).prop_map(|w| w.join(" "))
}

fn inline_item() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => words(),
        1 => words().prop_map(|w| format!("**{w}**")),
        1 => words().prop_map(|w| format!("*{w}*")),
        1 => words().prop_map(|w| format!("_{w}_")),
        1 => words().prop_map(|w| format!("~~{w}~~")),
        1 => "[a-z_ ]{1,8}".prop_map(|c| format!("`{}`", c.trim().replace(' ', "_") + "x")),
        1 => (words(), "[a-z]{1,6}").prop_map(|(w, p)| format!("[{w}](https://example.com/{p})")),
        1 => prop::sample::select(vec![
            "[12:45, Sarah Johnson]", "[1:02:03, Zoë; 14:02, Mark Lee]", "[0:07, Ana]",
        ])
        .prop_map(str::to_owned),
        1 => words().prop_map(|w| format!("**{w} [12:45, Sarah Johnson]**")),
        1 => words().prop_map(|w| format!("*{w}* **{w}**")),
        1 => prop::sample::select(vec![
            "<https://example.com/a?b=1>", "<https://x.io>", "<mailto:ana@example.com>",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Starts with words: a bracket first then `:` would be a link reference
/// definition, which stays text here.
fn sentence() -> impl Strategy<Value = String> {
    (
        words(),
        prop::collection::vec(inline_item(), 0..4),
        prop::sample::select(vec!["", ".", ":", "!"]),
    )
        .prop_map(|(first, items, end)| {
            std::iter::once(first)
                .chain(items)
                .collect::<Vec<_>>()
                .join(" ")
                + end
        })
}

fn lines() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(sentence(), 1..3),
        prop::sample::select(vec!["\n", "  \n", "\\\n"]),
    )
        .prop_map(|(s, sep)| s.join(sep))
}

fn block() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => lines(),
        1 => (1..=6usize, sentence()).prop_map(|(n, s)| format!("{} {s}", "#".repeat(n))),
        1 => (1..=6usize, sentence(), 1..4usize).prop_map(|(n, s, m)| format!("{} {s} {}", "#".repeat(n), "#".repeat(m))),
        1 => prop::collection::vec(sentence(), 1..3).prop_map(|l| l.iter().map(|s| format!("> > {s}")).collect::<Vec<_>>().join("\n")),
        1 => (sentence(), prop::collection::vec(sentence(), 1..3)).prop_map(|(intro, items)| {
            let items: Vec<String> = items.iter().map(|s| format!("> - {s}")).collect();
            format!("> {intro}\n>\n{}", items.join("\n"))
        }),
        1 => (sentence(), prop::sample::select(vec!["", "rust"]), "[a-z =;]{1,12}", any::<bool>()).prop_map(|(s, lang, code, loose)| {
            let sep = if loose { "\n\n" } else { "\n" };
            format!("- {s}{sep}  ```{lang}\n  {code}\n  ```\n- {s}")
        }),
        2 => (prop::collection::vec(sentence(), 1..4), any::<bool>(), any::<bool>()).prop_map(|(items, loose, nested)| {
            let sep = if loose { "\n\n" } else { "\n" };
            let mut out: Vec<String> = items.iter().map(|s| format!("- {s}")).collect();
            if nested {
                out[0].push_str("\n  - nested item");
            }
            out.join(sep)
        }),
        1 => (prop::collection::vec(sentence(), 1..4), prop_oneof![1..12u32, 90..120u32, Just(0u32)]).prop_map(|(items, start)| {
            items.iter().enumerate().map(|(i, s)| format!("{}. {s}", start + i as u32)).collect::<Vec<_>>().join("\n")
        }),
        1 => prop::collection::vec(sentence(), 1..3).prop_map(|l| l.iter().map(|s| format!("> {s}")).collect::<Vec<_>>().join("\n")),
        1 => (prop::sample::select(vec!["", "rust", "js"]), prop::collection::vec("[a-z *_`\\[\\]]{0,12}", 1..3))
            .prop_map(|(lang, code)| format!("```{lang}\n{}\n```", code.join("\n"))),
        1 => prop::sample::select(vec!["***", "---", "___", "- - -"]).prop_map(str::to_owned),
        1 => (prop::collection::vec(inline_item(), 2..4), 1..3usize).prop_map(|(cells, rows)| {
            let n = cells.len();
            let head = format!("| {} |", cells.join(" | "));
            let delim = format!("|{}|", [":---", "---:", ":---:", "---"].iter().cycle().take(n).cloned().collect::<Vec<_>>().join("|"));
            let body: Vec<String> = (0..rows).map(|r| format!("| {} |", cells.iter().map(|c| format!("{c} {r}")).collect::<Vec<_>>().join(" | "))).collect();
            format!("{head}\n{delim}\n{}", body.join("\n"))
        }),
    ]
}

fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec(block(), 1..6), any::<bool>())
        .prop_map(|(blocks, newline)| blocks.join("\n\n") + if newline { "\n" } else { "" })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The final tree equals pulldown-cmark's, however the text arrives.
    #[test]
    fn generated_documents_match_pulldown_cmark_at_random_cuts(
        source in document(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(source.len() + 1)).collect();
        cuts.sort_unstable();
        let expected = oracle(&source);
        prop_assert_eq!(ours(&segmented(&source, &[])), expected.clone(), "whole: {:?}", source);
        prop_assert_eq!(ours(&segmented(&source, &cuts)), expected, "cut at {:?}: {:?}", cuts, source);
    }

    /// Small documents at every 2-way cut.
    #[test]
    fn small_documents_match_at_every_cut(source in block()) {
        let expected = oracle(&source);
        for cut in 0..=source.len() {
            prop_assert_eq!(ours(&segmented(&source, &[cut])), expected.clone(), "cut at {}: {:?}", cut, source);
        }
    }
}

/// One document of each shape the generator makes, at every cut, so each
/// is compared whatever the random draw.
#[test]
fn each_shape_matches_pulldown_cmark_at_every_cut() {
    let shapes = [
        "> > nested **quote** &#35;1\n> > more",
        "> intro:\n>\n> - one [12:45, Sarah Johnson]\n> - two",
        "- item\n  ```rust\n  let x = 1;\n  ```\n- next",
        "- item\n\n  ```\n  code\n  ```\n\n- next",
        "## Title *em* ##\n### x #\n# a # b",
        "&#x41; &copy; &#35; \\_ \\[x\\] \\# \\` \\\\",
        "see <https://example.com/a?b=1> and <mailto:ana@example.com>",
        "97. ninety-seven\n98. next\n\n0. zero",
        "line one\\\nline two  \nline three",
    ];
    for source in shapes {
        let expected = oracle(source);
        for cut in 0..=source.len() {
            assert_eq!(
                ours(&segmented(source, &[cut])),
                expected,
                "cut at {cut}: {source:?}"
            );
        }
    }
}
