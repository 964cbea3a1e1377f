//! A new session's title, made from its first question.

/// Longest title, in characters, before the ellipsis.
pub const MAX_TITLE_CHARS: usize = 60;

/// The question on one line (runs of whitespace, newlines included, become
/// one space), cut to [`MAX_TITLE_CHARS`] characters, at the last word
/// break when there is one in the second half, and marked with `…` when
/// cut. Cuts fall between characters, never inside one.
pub fn session_title(question: &str) -> String {
    let line = question.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some((cut, _)) = line.char_indices().nth(MAX_TITLE_CHARS) else {
        return line;
    };
    let head = &line[..cut];
    let at_word = match head.rfind(' ') {
        Some(space) if head[..space].chars().count() >= MAX_TITLE_CHARS / 2 => &head[..space],
        _ => head,
    };
    let mut title = at_word
        .trim_end_matches([' ', ',', ';', ':', '.', '-'])
        .to_owned();
    title.push('…');
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_questions_are_kept_on_one_line() {
        assert_eq!(
            session_title("  Which prospects\n mentioned  budget? "),
            "Which prospects mentioned budget?"
        );
        let exactly = "é".repeat(MAX_TITLE_CHARS);
        assert_eq!(session_title(&exactly), exactly);
    }

    #[test]
    fn long_questions_are_cut_at_a_word_or_a_character() {
        let question = "Which of the prospects we spoke with last quarter mentioned budget constraints, and when?";
        let title = session_title(question);
        assert_eq!(
            title,
            "Which of the prospects we spoke with last quarter mentioned…"
        );
        assert!(title.chars().count() <= MAX_TITLE_CHARS + 1);

        let unbroken = "ü".repeat(100);
        let title = session_title(&unbroken);
        assert_eq!(title, format!("{}…", "ü".repeat(MAX_TITLE_CHARS)));

        let cjk = "预算限制是什么".repeat(20);
        assert_eq!(session_title(&cjk).chars().count(), MAX_TITLE_CHARS + 1);
    }
}
