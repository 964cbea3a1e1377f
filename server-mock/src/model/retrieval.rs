//! Picks the turns a question is about.
//!
//! For now the score is keyword overlap: how many of the question's content
//! words a turn (its text and speaker) contains. BM25 will replace the score;
//! the contract stays: a ranked list, ties in corpus order, deterministic.

use crate::corpus::{Conversation, Corpus, Turn};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// A turn the question matched, with its score.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// Where the turn comes from.
    pub conversation: &'a Conversation,
    /// The matching turn.
    pub turn: &'a Turn,
    /// How many distinct question terms the turn contains (0 = no overlap).
    pub score: usize,
}

/// Words that say how a question is asked rather than what it is about.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "a", "about", "across", "all", "an", "and", "any", "anyone", "are", "as", "at", "be", "by",
    "call", "calls", "can", "could", "did", "do", "does", "for", "from", "had", "has", "have",
    "how", "i", "in", "is", "it", "me", "mention", "mentioned", "of", "on", "or", "our", "raise",
    "raised", "said", "say", "should", "that", "the", "their", "them", "they", "this", "to", "talk",
    "talked", "was", "we", "were", "what", "when", "where", "which", "who", "why", "with", "would",
    "you",
];

/// Every turn of `corpus`, best first; equal scores keep corpus order.
pub fn rank<'a>(corpus: &'a Corpus, question: &str) -> Vec<Hit<'a>> {
    let query = terms(question);
    let mut hits: Vec<Hit<'a>> = corpus
        .turns()
        .map(|(conversation, turn)| {
            let mut words = terms(&turn.text);
            words.extend(terms(&turn.speaker));
            let score = query.intersection(&words).count();
            Hit {
                conversation,
                turn,
                score,
            }
        })
        .collect();
    // `sort_by_key` is stable, which is what makes ties deterministic.
    hits.sort_by_key(|hit| Reverse(hit.score));
    hits
}

/// The content words of `text`: lowercased, split on anything that is not a
/// letter or digit, stop words dropped, a plural `s` trimmed.
pub fn terms(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if stem.chars().count() >= 3 && !stem.ends_with('s') => stem.to_owned(),
            _ => w,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fold_case_plurals_and_accents_stay() {
        let got: Vec<String> = terms("Which prospects raised BUDGET constraints, Zoë?")
            .into_iter()
            .collect();
        assert_eq!(got, ["budget", "constraint", "prospect", "zoë"]);
        assert!(terms("business").contains("business"));
    }

    #[test]
    fn ranking_is_stable_and_best_first() {
        let corpus = Corpus::bundled().expect("bundled corpus parses");
        let hits = rank(&corpus, "budget constraints");
        assert_eq!(hits[0].turn.speaker, "José Álvarez");
        assert_eq!(hits[0].score, 2);
        let budget: Vec<&str> = hits[1..]
            .iter()
            .take_while(|h| h.score == 1)
            .map(|h| h.turn.speaker.as_str())
            .collect();
        assert_eq!(budget, ["Sarah Johnson", "José Álvarez", "Zoë Müller"]);
    }
}
