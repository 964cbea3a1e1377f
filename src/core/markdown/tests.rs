//! The segmenter's own tests: shapes, exactness and split invariance.

use super::*;

fn segment(source: &str) -> Vec<MarkdownSegment> {
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut out = Vec::new();
    segmenter.push(source, 0.0, &mut out);
    segmenter.finish(&mut out);
    out
}

/// The segments as compact HTML-like text, to compare shapes.
fn html(segments: &[MarkdownSegment]) -> String {
    let mut s = String::new();
    for segment in segments {
        match segment {
            MarkdownSegment::Open { tag, attrs, .. } => {
                s.push('<');
                s.push_str(tag.name());
                if let Some(href) = &attrs.href {
                    s.push_str(&format!(" href={href}"));
                }
                if let Some(start) = attrs.start {
                    s.push_str(&format!(" start={start}"));
                }
                if let Some(lang) = &attrs.lang {
                    s.push_str(&format!(" lang={lang}"));
                }
                if let Some(align) = attrs.align {
                    s.push_str(&format!(" align={}", align.name()));
                }
                s.push('>');
            }
            MarkdownSegment::Close { tag, .. } => s.push_str(&format!("</{}>", tag.name())),
            MarkdownSegment::Text { text, .. } => s.push_str(text),
            MarkdownSegment::Citation { text, .. } => s.push_str(&format!("{{{text}}}")),
        }
    }
    s
}

fn check(source: &str, expected: &str) {
    let out = segment(source);
    let raw: String = out.iter().map(MarkdownSegment::raw).collect();
    assert_eq!(raw, source, "raw of {source:?}");
    assert_eq!(html(&out), expected, "shape of {source:?}");
}

#[test]
fn paragraphs_and_headings() {
    check("Hello world", "<p>Hello world</p>");
    check("a\nb\n\nc\n", "<p>a\nb</p><p>c</p>");
    check("# Title\nText", "<h1>Title</h1><p>Text</p>");
    check("## Title ##\n", "<h2>Title</h2>");
    check("### a #b\n", "<h3>a #b</h3>");
    check("#hashtag", "<p>#hashtag</p>");
    check("foo  \nbar", "<p>foo<br></br>bar</p>");
    check("foo \nbar ", "<p>foo\nbar</p>");
}

#[test]
fn emphasis_follows_flanking_rules() {
    check(
        "**bold** and *em*",
        "<p><strong>bold</strong> and <em>em</em></p>",
    );
    check("snake_case_name", "<p>snake_case_name</p>");
    check("***both***", "<p><em><strong>both</strong></em></p>");
    check("a * b", "<p>a * b</p>");
    check("~~gone~~", "<p><del>gone</del></p>");
    check("__strong__", "<p><strong>strong</strong></p>");
}

#[test]
fn code_links_and_citations() {
    check("use `a_b` now", "<p>use <code>a_b</code> now</p>");
    check("`` a`b ``", "<p><code>a`b</code></p>");
    // Not a link (a space in the destination), but a bare URL.
    check(
        "see [docs](https://x.io/a b)",
        "<p>see [docs](<a href=https://x.io/a>https://x.io/a</a> b)</p>",
    );
    check(
        "see [docs](https://x.io/a)",
        "<p>see <a href=https://x.io/a>docs</a></p>",
    );
    check(
        "**Acme** [12:45, Sarah Johnson] said",
        "<p><strong>Acme</strong> {[12:45, Sarah Johnson]} said</p>",
    );
    check("[not a link] x", "<p>[not a link] x</p>");
    check(
        "<https://a.io>",
        "<p><a href=https://a.io>https://a.io</a></p>",
    );
    check(
        "go to https://a.io/x.",
        "<p>go to <a href=https://a.io/x>https://a.io/x</a>.</p>",
    );
    check("a &amp; b &#35; \\*", "<p>a & b # *</p>");
}

#[test]
fn lists_quotes_code_and_tables() {
    check("- a\n- b\n", "<ul><li><p>a</p></li><li><p>b</p></li></ul>");
    check(
        "3. a\n4. b",
        "<ol start=3><li><p>a</p></li><li><p>b</p></li></ol>",
    );
    check(
        "- a\n  - b\n- c",
        "<ul><li><p>a</p><ul><li><p>b</p></li></ul></li><li><p>c</p></li></ul>",
    );
    check(
        "> quote\n> more\n\nafter",
        "<blockquote><p>quote\nmore</p></blockquote><p>after</p>",
    );
    check(
        "> lazy\ncontinued",
        "<blockquote><p>lazy\ncontinued</p></blockquote>",
    );
    check(
        "```rust\nfn x() {}\n```\n",
        "<pre lang=rust><code>fn x() {}\n</code></pre>",
    );
    check("---\n", "<hr></hr>");
    check("* * *", "<hr></hr>");
    check(
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
        "<table><thead><tr><th align=left>a</th><th align=right>b</th></tr></thead>\
         <tbody><tr><td align=left>1</td><td align=right>2</td></tr></tbody></table>",
    );
    check("| a |\nnot a table", "<p>| a |\nnot a table</p>");
}

#[test]
fn every_split_gives_the_same_segments() {
    let source = "# Churn risk\n\nThree accounts:\n\n- **Acme** [12:45, Sarah Johnson]: *pricing*\n  concerns.\n- **Globex** [1:02:03, Zoë; 14:02, Mark Lee]\n\n| Name | Risk |\n|---|:-:|\n| Acme | high |\n\n> \"We may leave\" [3:10, Ana]\n\n```js\nx = `y`\n```\n";
    let whole = html(&segment(source));
    for cut in 1..source.len() {
        if !source.is_char_boundary(cut) {
            continue;
        }
        let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
        let mut out = Vec::new();
        segmenter.push(&source[..cut], 0.0, &mut out);
        segmenter.push(&source[cut..], 0.0, &mut out);
        segmenter.finish(&mut out);
        let raw: String = out.iter().map(MarkdownSegment::raw).collect();
        assert_eq!(raw, source, "raw at cut {cut}");
        assert_eq!(html(&out), whole, "shape at cut {cut}");
    }
}

/// Fixes the CommonMark spec's examples showed (their numbers in the
/// spec, 0.31.2).
#[test]
fn spec_examples_that_were_bugs() {
    // 234: `---` that does not continue the quote is a break, not a
    // setext underline (which can't be lazy).
    check(
        "> foo\n---\n",
        "<blockquote><p>foo</p></blockquote><hr></hr>",
    );
    check("- foo\n---\n", "<ul><li><p>foo</p></li></ul><hr></hr>");
    // 302: a new delimiter starts a new list, with its own number, since
    // the paragraph it follows is inside the item that ended.
    check(
        "1. foo\n2. bar\n3) baz\n",
        "<ol><li><p>foo</p></li><li><p>bar</p></li></ol><ol start=3><li><p>baz</p></li></ol>",
    );
    check(
        "> a\n2. b",
        "<blockquote><p>a</p></blockquote><ol start=2><li><p>b</p></li></ol>",
    );
    // Inside the same container, `2.` still may not interrupt.
    check("a\n2. b", "<p>a\n2. b</p>");
    // 24, 34: the info string's escapes and entities are resolved.
    check(
        "``` foo\\+bar\nfoo\n```\n",
        "<pre lang=foo+bar><code>foo\n</code></pre>",
    );
    check(
        "``` f&ouml;&ouml;\nfoo\n```\n",
        "<pre lang=föö><code>foo\n</code></pre>",
    );
    // 121, 335, 336: a code span that starts with a line end strips it
    // like a space, and its source stays in order.
    check("``\nfoo\n``\n", "<p><code>foo</code></p>");
    check("``\nfoo \n``\n", "<p><code>foo </code></p>");
    check(
        "> ``\n>  a\n> ``",
        "<blockquote><p><code>a</code></p></blockquote>",
    );
    // 411, 415: the rule of 3.
    check(
        "*foo**bar**baz*",
        "<p><em>foo<strong>bar</strong>baz</em></p>",
    );
    check("*foo**bar***", "<p><em>foo<strong>bar</strong></em></p>");
    check(
        "**foo*bar*baz**",
        "<p><strong>foo<em>bar</em>baz</strong></p>",
    );
    // 9: a tab may be partly one container's indentation and partly the
    // next one's.
    check(
        " - foo\n   - bar\n\t - baz\n",
        "<ul><li><p>foo</p><ul><li><p>bar</p><ul><li><p>baz</p></li></ul></li></ul></li></ul>",
    );
    check(">\tquote", "<blockquote><p>quote</p></blockquote>");
}

/// Fixes that hostile input showed.
#[test]
fn hostile_input_bugs() {
    // A possible table header at the very end: no line end is invented.
    check("|[", "<p>|[</p>");
    check("| a", "<p>| a</p>");
    // Source fed again after a bracket fails goes through the bracket
    // rules again, in order.
    check("[a]([a](", "<p>[a]([a](</p>");
    check("<a[b] c", "<p><a[b] c</p>");
    check("<x[y](z) w", "<p><x<a href=z>y</a> w</p>");
    check("[a](b[c](d) e", "<p>[a](b<a href=d>c</a> e</p>");
    // Blank lines and runs of `#` or backticks are not held or re-read.
    let mut segmenter = MarkdownSegmenter::new(MarkdownOptions::default());
    let mut out = Vec::new();
    for _ in 0..10_000 {
        segmenter.push("\n", 0.0, &mut out);
    }
    assert!(segmenter.held_bytes() <= 1024 + 1);
    for _ in 0..10_000 {
        segmenter.push("#", 0.0, &mut out);
    }
    assert!(segmenter.line_decisions() <= 10_000 + 3);
}
