//! What kind of answer a question asks for, which decides the Markdown the
//! answer is laid out in: a bullet list per account (most questions), a
//! table when the question compares, a numbered list when it asks for
//! steps or next actions.
//!
//! Read from the question's own words, lowercased. The words that only say
//! how to lay the answer out ("compare", "versus", "next steps") and the
//! accounts a comparison names are cut from what is searched for
//! ([`search_words`]); the index itself is the same for every shape.

use crate::corpus::Conversation;

/// The layout an answer is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An intro, a bullet per account with its name in bold, a block quote
    /// of the passage that answers best, a closing summary.
    List,
    /// "Compare Globex and Wayne on pricing", "Acme versus Hooli", "Whose
    /// budget cut is bigger?": an intro, a table with a row per account,
    /// the closing summary.
    Compare,
    /// "What are the next steps with Hooli?", "What should we do about
    /// onboarding?": an intro, a numbered list, the closing summary.
    Steps,
}

/// Words that ask for a comparison wherever they stand.
const COMPARE: &[&str] = &[
    "compare",
    "compared",
    "compares",
    "comparing",
    "comparison",
    "contrast",
    "versus",
    "vs",
    "differ",
    "differs",
    "difference",
    "differences",
];

/// Comparatives that make "which is bigger"-style questions comparisons.
const COMPARATIVES: &[&str] = &[
    "bigger", "larger", "smaller", "higher", "lower", "greater", "cheaper", "stronger", "weaker",
    "riskier", "better", "worse",
];

/// Words that, besides [`COMPARE`] and [`COMPARATIVES`], only say how to
/// lay an answer out.
const LAYOUT: &[&str] = &["whose", "next", "should"];

/// Word pairs that ask for steps.
const STEP_PAIRS: &[(&str, &str)] = &[
    ("next", "step"),
    ("next", "steps"),
    ("action", "item"),
    ("action", "items"),
    ("what", "should"),
    ("how", "should"),
    ("should", "we"),
    ("how", "can"),
];

impl Shape {
    /// The shape `question` asks for.
    pub fn of(question: &str) -> Self {
        let words = words(question);
        let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        if has(COMPARE) || has(COMPARATIVES) {
            return Self::Compare;
        }
        let steps = words.windows(2).any(|pair| {
            STEP_PAIRS
                .iter()
                .any(|(a, b)| pair[0] == *a && pair[1] == *b)
        }) || has(&["steps", "todo", "todos"]);
        if steps {
            Self::Steps
        } else {
            Self::List
        }
    }
}

/// The conversations a question names by account ("Compare Globex and
/// Wayne Enterprises"), in the order it names them: an account is named
/// when its first word is a word of the question (`Hooli's` names Hooli).
pub fn named_accounts<'a>(
    question: &str,
    conversations: &'a [Conversation],
) -> Vec<&'a Conversation> {
    let asked = words(question);
    let mut named: Vec<(usize, &Conversation)> = conversations
        .iter()
        .filter_map(|c| {
            let account = words(&c.account);
            let first = account.first()?;
            let at = asked
                .iter()
                .position(|w| w == first || strip_possessive(w) == first)?;
            Some((at, c))
        })
        .collect();
    named.sort_by_key(|(at, _)| *at);
    named.into_iter().map(|(_, c)| c).collect()
}

/// `question` without the words that only ask for a layout and without
/// the words of `accounts` (already the scope): "Compare Globex and Hooli
/// on pricing" searches for "and on pricing".
pub fn search_words(question: &str, accounts: &[&Conversation]) -> String {
    let names: Vec<String> = accounts.iter().flat_map(|c| words(&c.account)).collect();
    question
        .split_whitespace()
        .filter(|w| {
            let bare = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            let bare = strip_possessive(&bare);
            !(names.iter().any(|n| n == bare)
                || COMPARE.contains(&bare)
                || COMPARATIVES.contains(&bare)
                || LAYOUT.contains(&bare))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The words of `text`, lowercased, split on anything but letters, digits
/// and apostrophes.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// `globex's` → `globex`.
fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    #[test]
    fn questions_are_told_apart_by_their_words() {
        for (question, shape) in [
            ("Which prospects mentioned budget constraints?", Shape::List),
            (
                "Compare Globex and Wayne Enterprises on pricing",
                Shape::Compare,
            ),
            ("Acme versus Hooli on budget", Shape::Compare),
            ("Acme vs. Hooli", Shape::Compare),
            (
                "Whose budget cut is bigger, Globex or Hooli?",
                Shape::Compare,
            ),
            ("How do their security needs differ?", Shape::Compare),
            ("What are the next steps with Hooli?", Shape::Steps),
            ("What should we do about onboarding?", Shape::Steps),
            ("Which customers are at risk of churning?", Shape::List),
            ("Who raised security or compliance concerns?", Shape::List),
            (
                "Which accounts mentioned more than one competitor?",
                Shape::List,
            ),
        ] {
            assert_eq!(Shape::of(question), shape, "{question}");
        }
    }

    #[test]
    fn named_accounts_come_in_the_order_asked() {
        let corpus = Corpus::bundled().expect("bundled corpus parses");
        let ids = |q: &str| -> Vec<String> {
            named_accounts(q, corpus.conversations())
                .iter()
                .map(|c| c.id.clone())
                .collect()
        };
        assert_eq!(
            ids("Compare Wayne Enterprises and Globex on pricing"),
            ["c_wayne_pricing", "c_globex_renewal"]
        );
        assert_eq!(
            ids("Is Hooli's budget cut bigger than Acme's?"),
            ["c_hooli_churn_risk", "c_acme_discovery"]
        );
        assert!(ids("Compare budget constraints").is_empty());
    }

    #[test]
    fn search_words_leave_what_is_asked_about() {
        let corpus = Corpus::bundled().expect("bundled corpus parses");
        let named = named_accounts("Compare Globex and Hooli's pricing", corpus.conversations());
        assert_eq!(
            search_words("Compare Globex and Hooli's pricing?", &named),
            "and pricing?"
        );
        assert_eq!(
            search_words("Whose budget cut is bigger?", &[]),
            "budget cut is"
        );
        assert_eq!(
            search_words("What are the next steps?", &[]),
            "What are the steps?"
        );
    }
}
