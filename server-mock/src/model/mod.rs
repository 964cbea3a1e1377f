//! The deterministic stand-in for an LLM: retrieves turns, writes an answer
//! that cites them inline as `[MM:SS, Speaker]`, and cuts it into fragments.
//!
//! Everything here is a pure function of the corpus and the question, so the
//! same question always gives the same answer, citations and fragments.

pub mod fragments;
pub mod retrieval;

use crate::corpus::{format_timestamp, Corpus};
use crate::protocol::Citation;
use retrieval::Hit;
use std::fmt::Write as _;

/// Fewest passages an answer cites, even when few or none match.
pub const MIN_CITED: usize = 2;
/// Most passages an answer cites.
pub const MAX_CITED: usize = 3;

/// What the model says to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The full answer text, with inline citations.
    pub text: String,
    /// `text` cut into the fragments streamed as `token` events.
    pub fragments: Vec<String>,
    /// One entry per cited passage, in order of first citation.
    pub citations: Vec<Citation>,
    /// How many passages share at least one term with the question.
    pub passages_found: usize,
}

/// Answers `question` from `corpus`.
pub fn answer(corpus: &Corpus, question: &str) -> Answer {
    let hits = retrieval::rank(corpus, question);
    let passages_found = hits.iter().filter(|h| h.score > 0).count();
    // A demo answer always cites something: when too few turns match, the
    // next best by corpus order fill in, and the text says so.
    let cited = &hits[..passages_found.clamp(MIN_CITED, MAX_CITED).min(hits.len())];
    let text = compose(cited, passages_found);
    Answer {
        fragments: fragments::split(&text, fragments::seed_for(question)),
        citations: cited
            .iter()
            .enumerate()
            .map(|(i, hit)| citation(i, hit))
            .collect(),
        text,
        passages_found,
    }
}

fn compose(cited: &[Hit<'_>], passages_found: usize) -> String {
    if cited.is_empty() {
        return String::from("There are no conversations to search yet.");
    }
    let mut text = String::from(if passages_found == 0 {
        "Nothing in the calls answers this directly. The closest passages are these:\n\n"
    } else {
        "Here is what came up in the calls:\n\n"
    });
    // `write!` into a String cannot fail; the results are ignored for that reason.
    for hit in cited {
        let _ = writeln!(
            text,
            "- {speaker} ({title}): “{quote}” [{time}, {speaker}]",
            speaker = hit.turn.speaker,
            title = hit.conversation.title,
            quote = hit.turn.text,
            time = format_timestamp(hit.turn.seconds),
        );
    }
    if let [first, second, ..] = cited {
        if passages_found >= 2 {
            let _ = write!(
                text,
                "\nThe strongest matches are the first two [{}, {}; {}, {}].",
                format_timestamp(first.turn.seconds),
                first.turn.speaker,
                format_timestamp(second.turn.seconds),
                second.turn.speaker,
            );
        }
    }
    text.truncate(text.trim_end().len());
    text
}

fn citation(index: usize, hit: &Hit<'_>) -> Citation {
    Citation {
        id: format!("c{}", index + 1),
        conversation_id: hit.conversation.id.clone(),
        conversation_title: hit.conversation.title.clone(),
        timestamp: format_timestamp(hit.turn.seconds),
        seconds: hit.turn.seconds,
        speaker: hit.turn.speaker.clone(),
        quote: hit.turn.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Corpus {
        Corpus::bundled().expect("bundled corpus parses")
    }

    #[test]
    fn budget_question_cites_the_budget_turns() {
        let answer = answer(&bundled(), "Which prospects mentioned budget constraints?");
        let speakers: Vec<&str> = answer
            .citations
            .iter()
            .map(|c| c.speaker.as_str())
            .collect();
        assert_eq!(speakers, ["José Álvarez", "Sarah Johnson", "José Álvarez"]);
        assert_eq!(answer.passages_found, 4);
        assert!(
            answer.text.contains("[12:45, Sarah Johnson]"),
            "{}",
            answer.text
        );
        assert!(answer
            .text
            .contains("[03:50, José Álvarez; 12:45, Sarah Johnson]."));
        assert_eq!(answer.fragments.concat(), answer.text);
    }

    #[test]
    fn unmatched_question_still_cites_two_and_says_so() {
        let answer = answer(&bundled(), "xyzzy?");
        assert_eq!(answer.passages_found, 0);
        assert_eq!(answer.citations.len(), MIN_CITED);
        assert!(answer.text.starts_with("Nothing in the calls"));
        assert!(!answer.text.contains(';'));
    }

    #[test]
    fn answers_are_deterministic_and_not_ascii() {
        let corpus = bundled();
        let a = answer(&corpus, "What did Zoë say about data residency?");
        assert_eq!(a, answer(&corpus, "What did Zoë say about data residency?"));
        assert!(!a.text.is_ascii());
        assert_eq!(a.citations[0].timestamp, "07:45");
    }

    #[test]
    fn empty_corpus_gives_an_answer_without_citations() {
        let answer = answer(&Corpus::new(Vec::new()), "budget");
        assert!(answer.citations.is_empty());
        assert!(!answer.text.is_empty());
    }
}
