//! The few pieces of CommonMark + GFM the answers are written in, kept
//! well-formed by construction: text from the corpus is escaped where it
//! could open inline syntax, bold is always a closed pair around a name,
//! table rows always have the header's cell count, and every block ends
//! with a blank line before the next.
//!
//! Citations are written by the caller as plain text (`[12:45, Sarah
//! Johnson]`) and never put inside a code span or right before `(`, so
//! Markdown reads them as text, never as a link.

/// `text` with every ASCII character that could open or close inline
/// Markdown (`*`, `_`, `` ` ``, `[`, `]`, `<`, `>`, `|`, `~`, `&`, `\`)
/// backslash-escaped (CommonMark 0.31, 2.4 "Backslash escapes"), so a
/// quote from the corpus renders as it was said.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '*' | '_' | '`' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '\\'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `**name**`, `name` escaped. The caller puts a space or punctuation
/// after it, so the closing `**` is always right-flanking.
pub fn bold(name: &str) -> String {
    format!("**{}**", escape(name))
}

/// A GFM table: the header row, the delimiter row, one row per entry of
/// `rows`, each padded or cut to the header's width. Cells are written as
/// given (the caller escapes corpus text), trimmed of line breaks, which
/// would end the table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = String>| {
        out.push('|');
        for cell in cells {
            out.push(' ');
            out.push_str(&cell.replace(['\n', '\r'], " "));
            out.push_str(" |");
        }
        out.push('\n');
    };
    line(&mut out, &mut header.iter().map(|h| (*h).to_owned()));
    line(&mut out, &mut header.iter().map(|_| String::from("---")));
    for row in rows {
        let mut cells = row
            .iter()
            .cloned()
            .chain(std::iter::repeat(String::new()))
            .take(header.len());
        line(&mut out, &mut cells);
    }
    out
}

/// `text` as a block quote: every line prefixed with `> `.
pub fn block_quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        out.push_str("> ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_touches_only_markdown_punctuation() {
        assert_eq!(escape("Zoë said “fine”."), "Zoë said “fine”.");
        assert_eq!(
            escape("a*b_c `d` [1] <e> f|g ~h & \\"),
            "a\\*b\\_c \\`d\\` \\[1\\] \\<e\\> f\\|g \\~h \\& \\\\"
        );
        assert_eq!(bold("R&D *Co*"), "**R\\&D \\*Co\\***");
    }

    #[test]
    fn tables_have_a_delimiter_row_and_even_rows() {
        let rows = vec![
            vec!["**A**".to_owned(), "x".to_owned(), "extra".to_owned()],
            vec!["**B**".to_owned()],
        ];
        assert_eq!(
            table(&["Account", "Said"], &rows),
            "| Account | Said |\n| --- | --- |\n| **A** | x |\n| **B** |  |\n"
        );
    }

    #[test]
    fn block_quotes_prefix_every_line() {
        assert_eq!(block_quote("one\ntwo"), "> one\n> two\n");
    }
}
