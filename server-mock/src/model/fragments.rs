//! Cuts an answer into fragments the way an LLM streams tokens: mostly a
//! word with its leading space (` budget`), long words in sub-word pieces
//! (` const` `raints`), digits in short groups, punctuation on its own, and
//! now and then two tokens in one event. A citation arrives in pieces
//! (`[` `12` `:` `45` `, Sarah` ` Johnson` `]`), cut at different places
//! from one citation to the next.
//!
//! The cuts are pseudo-random but seeded by the question, so the same
//! question always streams the same fragments (tests and demos can rely on
//! it). The generator and hash are written out here rather than taken from a
//! crate, whose output may change between versions.

/// Longest fragment, in characters: two tokens of at most six each.
pub const MAX_FRAGMENT_CHARS: usize = 12;
/// Longest token, in characters; longer words are cut into sub-words.
const MAX_TOKEN_CHARS: usize = 6;
/// Longest run of digits in one token, as in GPT-style tokenizers.
const MAX_DIGITS: usize = 3;

/// Splits `text` into fragments of 1 to [`MAX_FRAGMENT_CHARS`] characters,
/// never inside a character. Joined, they give back `text`; none is empty.
pub fn split(text: &str, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64(seed);
    let mut fragments = Vec::new();
    let mut pending = String::new();
    for token in tokens(text, &mut rng) {
        pending.push_str(token);
        // About one event in four carries two tokens.
        if rng.next() % 4 != 0 || pending.chars().count() > MAX_TOKEN_CHARS {
            fragments.push(std::mem::take(&mut pending));
        }
    }
    if !pending.is_empty() {
        fragments.push(pending);
    }
    fragments
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Digit,
    Space,
    Newline,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '\n' => Class::Newline,
        ' ' => Class::Space,
        c if c.is_numeric() => Class::Digit,
        c if c.is_alphanumeric() || c == '\'' => Class::Word,
        _ => Class::Other,
    }
}

/// The tokens of `text`, in order: a word with at most one leading space,
/// cut into sub-words of 2 to [`MAX_TOKEN_CHARS`] characters when long;
/// up to [`MAX_DIGITS`] digits; a run of newlines; any other character alone.
fn tokens<'t>(text: &'t str, rng: &mut SplitMix64) -> Vec<&'t str> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        // A single space joins the word after it.
        let lead = usize::from(
            first == ' '
                && matches!(
                    rest[1..].chars().next().map(class),
                    Some(Class::Word | Class::Digit)
                ),
        );
        let kind = rest[lead..].chars().next().map_or(Class::Other, class);
        let run = rest[lead..]
            .char_indices()
            .find(|&(_, c)| class(c) != kind)
            .map_or(rest.len() - lead, |(i, _)| i);
        let limit = match kind {
            Class::Word => {
                let chars = rest[lead..lead + run].chars().count();
                if chars + lead > MAX_TOKEN_CHARS {
                    2 + usize::try_from(rng.next() % 4).unwrap_or(0)
                } else {
                    chars
                }
            }
            Class::Digit => MAX_DIGITS,
            Class::Space | Class::Newline => MAX_TOKEN_CHARS,
            Class::Other => 1,
        };
        let end = rest[lead..lead + run]
            .char_indices()
            .nth(limit)
            .map_or(lead + run, |(i, _)| lead + i);
        let (token, tail) = rest.split_at(end.max(first.len_utf8()));
        tokens.push(token);
        rest = tail;
    }
    tokens
}

/// A stable 64-bit FNV-1a hash, used to seed [`split`] from the question.
pub fn seed_for(question: &str) -> u64 {
    question.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, and good enough to vary
/// fragment lengths.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_rejoin_and_respect_char_bounds() {
        let text = "José said “budget” [02:15, José Álvarez; 1:02:03, 李娜].\n\n- Zoë  x 12345\n\n\n\n\n\n\n\n              end";
        for seed in 0..300 {
            let fragments = split(text, seed);
            assert_eq!(fragments.concat(), text);
            for f in &fragments {
                let n = f.chars().count();
                assert!((1..=MAX_FRAGMENT_CHARS).contains(&n), "{f:?}");
            }
        }
    }

    #[test]
    fn fragments_look_like_tokens() {
        let text = "Budget constraints came up [12:45, Sarah Johnson].\n\n- Acme";
        let fragments = split(text, seed_for("q"));
        assert!(
            fragments.iter().any(|f| f.starts_with(' ')),
            "{fragments:?}"
        );
        assert!(fragments.iter().any(|f| f.contains('\n')), "{fragments:?}");
        // A citation never arrives whole.
        assert!(!fragments
            .iter()
            .any(|f| f.contains("[12:45, Sarah Johnson]")));
    }

    #[test]
    fn citations_are_cut_at_different_places_for_different_seeds() {
        let text = "See [12:45, Sarah Johnson].";
        let cuts: std::collections::BTreeSet<Vec<String>> =
            (0..50).map(|seed| split(text, seed)).collect();
        assert!(cuts.len() > 5, "{cuts:?}");
    }

    #[test]
    fn same_seed_same_fragments_and_lengths_vary() {
        let text = "Sarah Johnson said budget is frozen until Q3 [12:45, Sarah Johnson].";
        let seed = seed_for("Which prospects mentioned budget constraints?");
        assert_eq!(split(text, seed), split(text, seed));
        assert_ne!(split(text, seed), split(text, seed_for("another question")));
        let lengths: std::collections::BTreeSet<usize> = split(text, seed)
            .iter()
            .map(|f| f.chars().count())
            .collect();
        assert!(lengths.len() >= 3, "{lengths:?}");
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(seed_for(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(seed_for("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn empty_text_has_no_fragments() {
        assert!(split("", 1).is_empty());
    }
}
