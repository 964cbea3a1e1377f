//! Words as retrieval sees them: tokenizing, stop words, a naive plural
//! stem, and the small thesaurus that lets a question about "urgency" find a
//! passage that says "deadline".

/// Words that say how a question is asked rather than what it is about,
/// including the ones a follow-up uses to point back ("of those", "ones").
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "a", "about", "account", "across", "all", "also", "am", "among", "an", "and", "any",
    "anyone", "are", "as", "at", "be", "been", "both", "bring", "brought", "but", "by",
    "call", "came", "can", "come", "coming", "could", "customer", "discuss", "discussed", "did", "do", "doe", "does", "each", "else", "express", "expressed", "for",
    "from", "get", "give", "go", "had", "happen", "happened", "has", "have", "how", "i", "if", "in", "is", "it", "its",
    "just", "list", "me", "more", "mention", "mentioned", "my", "no", "not", "of", "on", "one", "ones",
    "only", "or", "other", "our", "prospect", "raise", "raised", "regarding", "said", "say",
    "show", "so", "some", "someone", "talk", "talked", "tell", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "wa", "was",
    "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with",
    "would", "you", "your",
];

/// Words that stand in for a question's word, at a lower weight
/// ([`SYNONYM_WEIGHT`]). A question word in the first list of an entry also
/// matches the rest of that list and the whole second list; a word only in
/// the second list (a product or company name) matches nothing but itself,
/// so "Salesforce" never finds a passage about HubSpot. Entries are stemmed.
#[rustfmt::skip]
const SYNONYMS: &[(&[&str], &[&str])] = &[
    (&["budget", "funding"], &[]),
    (&["constraint", "constrained", "tight", "cut", "frozen", "freeze", "limited", "capped", "afford"], &[]),
    (&["urgency", "urgent", "urgently", "asap", "deadline", "hurry", "quickly", "immediately"], &[]),
    (&["price", "pricing", "cost", "discount", "expensive"], &[]),
    (&["security", "compliance", "encryption", "audit"], &["soc", "sso", "gdpr", "hipaa", "lgpd"]),
    (&["residency", "region", "sovereignty", "hosted", "hosting"], &[]),
    (&["competitor", "competition", "alternative"], &["gong", "chorus", "clari"]),
    (&["integration", "integrate", "sync", "crm"], &["salesforce", "hubspot"]),
    (&["churn", "churning", "churned", "cancel", "switch", "switching", "leave"], &[]),
    (&["step", "action"], &["plan", "monday", "tuesday", "wednesday", "thursday", "friday", "tomorrow", "week"]),
    (&["onboarding", "onboarded", "training", "rollout", "ramp", "ramping"], &[]),
];

/// How much a synonym counts against the word the question used.
pub const SYNONYM_WEIGHT: f64 = 0.6;

/// The words of `text` in order, lowercased and stemmed, stop words kept:
/// split on anything that is not a letter or digit, so `Globex's` gives
/// `globex` and a stray `s`, which (one letter) is dropped.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().nth(1).is_some() || w.chars().all(|c| c.is_numeric()))
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
}

/// The content words of `text`, in order: [`words`] without stop words.
pub fn terms(text: &str) -> Vec<String> {
    words(text).filter(|w| !is_stop_word(w)).collect()
}

/// Whether `word` (already lowercased and stemmed) carries no topic.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// Trims a plural `s` (`constraints` → `constraint`) but not the end of
/// `business` or `this`, nor of words too short to be plurals.
fn stem(word: &str) -> String {
    match word.strip_suffix('s') {
        Some(stem) if stem.chars().count() >= 3 && !stem.ends_with(['s', 'u', 'i']) => {
            stem.to_owned()
        }
        _ => word.to_owned(),
    }
}

/// `term` and the words that stand in for it, with their weights; the term
/// itself first.
pub fn expand(term: &str) -> Vec<(String, f64)> {
    let mut expansion = vec![(term.to_owned(), 1.0)];
    for (words, names) in SYNONYMS.iter().filter(|(words, _)| words.contains(&term)) {
        expansion.extend(
            words
                .iter()
                .chain(names.iter())
                .filter(|w| **w != term)
                .map(|w| ((*w).to_owned(), SYNONYM_WEIGHT)),
        );
    }
    expansion
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fold_case_plurals_and_keep_accents_and_scripts() {
        assert_eq!(
            terms("Which prospects raised BUDGET constraints, Zoë?"),
            ["budget", "constraint", "zoë"]
        );
        assert_eq!(terms("Дмитрий and 李娜"), ["дмитрий", "李娜"]);
        assert_eq!(terms("business status is this"), ["business", "status"]);
        assert_eq!(
            terms("Globex's SOC 2 report"),
            ["globex", "soc", "2", "report"]
        );
    }

    #[test]
    fn follow_up_words_carry_no_topic() {
        assert_eq!(
            terms("Of those, which ones also expressed urgency?"),
            ["urgency"]
        );
    }

    #[test]
    fn expansion_puts_the_term_first_then_its_group() {
        let expanded = expand("urgency");
        assert_eq!(expanded[0], ("urgency".to_owned(), 1.0));
        assert!(expanded.contains(&("deadline".to_owned(), SYNONYM_WEIGHT)));
        assert_eq!(expand("frankfurt"), [("frankfurt".to_owned(), 1.0)]);
        assert!(expand("crm").contains(&("hubspot".to_owned(), SYNONYM_WEIGHT)));
        assert_eq!(expand("salesforce"), [("salesforce".to_owned(), 1.0)]);
    }
}
