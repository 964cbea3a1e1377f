//! The deterministic stand-in for an LLM: retrieves passages with BM25,
//! reads the session's recent history, writes an answer in Markdown (laid
//! out as the question's [`shape`] asks) that cites the passages inline as
//! `[MM:SS, Speaker]`, and cuts it into fragments.
//!
//! Everything here is a pure function of the corpus, the question, the scope
//! and the history, so the same inputs always give the same answer,
//! citations and fragments.

pub mod compose;
pub mod fragments;
pub mod layout;
pub mod markdown;
#[cfg(test)]
mod markdown_tests;
pub mod prompt;
pub mod reference;
pub mod retrieval;
pub mod shape;
pub mod text;

use crate::corpus::Corpus;
use crate::protocol::Citation;
use compose::counted;
pub use prompt::{prompt, Prompt, HISTORY_WINDOW};

/// Who wrote a message of the session history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The person asking.
    User,
    /// The model's earlier answers.
    Assistant,
}

/// One earlier message of the session, oldest first in a history slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Who wrote it.
    pub role: Role,
    /// What was written, inline citations included.
    pub text: String,
}

/// What the model says to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The full answer text, Markdown with inline citations.
    pub text: String,
    /// `text` cut into the fragments streamed as `token` events.
    pub fragments: Vec<String>,
    /// One entry per cited passage, in order of first citation.
    pub citations: Vec<Citation>,
    /// How many conversations the search covered: the scope, narrowed to
    /// the previous answer's conversations for a follow-up, or to the one
    /// a reference points at; none when it points at nothing.
    pub conversations_searched: usize,
    /// How many passages were relevant (more than the answer may cite).
    pub passages_found: usize,
    /// How many distinct conversations those passages come from.
    pub conversations_matched: usize,
    /// Whether the question was read as a follow-up to the previous answer.
    pub follow_up: bool,
    /// The words that pointed back at nothing ("the fifth one" of three),
    /// when the answer only says so.
    pub unresolved_reference: Option<String>,
}

impl Answer {
    /// The `status` messages to send before the first token, with the real
    /// counts: "Searching across 13 conversations...", then "Found 7
    /// relevant passages in 4 conversations".
    pub fn status_messages(&self) -> Vec<String> {
        if let Some(phrase) = &self.unresolved_reference {
            return vec![
                String::from("Looking back for what the question refers to..."),
                format!("Found nothing that “{phrase}” could mean"),
            ];
        }
        let searching = if self.follow_up {
            format!(
                "Searching the {} from the previous answer...",
                counted(self.conversations_searched, "conversation")
            )
        } else {
            format!(
                "Searching across {}...",
                counted(self.conversations_searched, "conversation")
            )
        };
        let found = if self.passages_found == 0 {
            String::from("Found no relevant passages")
        } else {
            format!(
                "Found {} in {}",
                counted(self.passages_found, "relevant passage"),
                counted(self.conversations_matched, "conversation")
            )
        };
        vec![searching, found]
    }
}

/// Answers `question` from `corpus`, searching only the conversations whose
/// ids are in `scope` when it is given, with `history` (the session's
/// earlier messages, oldest first; only the last [`HISTORY_WINDOW`] are
/// read) as context. See [`prompt()`] for how the history is used.
pub fn answer(
    corpus: &Corpus,
    question: &str,
    scope: Option<&[String]>,
    history: &[Turn],
) -> Answer {
    let prompt = prompt(corpus, question, scope, history);
    let composed = compose::compose(&prompt, corpus.conversations().len());
    let mut matched: Vec<&str> = prompt
        .passages
        .iter()
        .map(|h| h.conversation.id.as_str())
        .collect();
    matched.sort_unstable();
    matched.dedup();
    Answer {
        fragments: fragments::split(&composed.text, fragments::seed_for(question)),
        text: composed.text,
        citations: composed.citations,
        conversations_searched: prompt.searched.len(),
        passages_found: prompt.passages.len(),
        conversations_matched: matched.len(),
        follow_up: prompt.focus.is_some(),
        unresolved_reference: prompt.unresolved.map(|u| u.phrase),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const BUDGET: &str = "Which prospects mentioned budget constraints?";
    const URGENCY: &str = "Of those, which ones also expressed urgency?";

    fn bundled() -> Corpus {
        Corpus::bundled().expect("bundled corpus parses")
    }

    fn conversations(answer: &Answer) -> BTreeSet<&str> {
        answer
            .citations
            .iter()
            .map(|c| c.conversation_id.as_str())
            .collect()
    }

    pub(super) fn exchange(question: &str, answer: &Answer) -> [Turn; 2] {
        [
            Turn {
                role: Role::User,
                text: question.to_owned(),
            },
            Turn {
                role: Role::Assistant,
                text: answer.text.clone(),
            },
        ]
    }

    /// Every inline citation names a `citations` entry and every entry is
    /// cited inline; ids count from c1 and quotes are the cited turns.
    pub(super) fn assert_citations_consistent(corpus: &Corpus, answer: &Answer) {
        let inline: BTreeSet<(u32, String)> =
            prompt::inline_citations(&answer.text).into_iter().collect();
        let listed: BTreeSet<(u32, String)> = answer
            .citations
            .iter()
            .map(|c| (c.seconds, c.speaker.clone()))
            .collect();
        assert_eq!(inline, listed, "{}", answer.text);
        assert_eq!(listed.len(), answer.citations.len(), "duplicate entries");
        for (i, c) in answer.citations.iter().enumerate() {
            assert_eq!(c.id, format!("c{}", i + 1));
            assert_eq!(c.timestamp, crate::corpus::format_timestamp(c.seconds));
            let conversation = corpus
                .conversations()
                .iter()
                .find(|conv| conv.id == c.conversation_id)
                .expect("cited conversation exists");
            assert_eq!(c.conversation_title, conversation.title);
            assert!(conversation
                .turns
                .iter()
                .any(|t| t.seconds == c.seconds && t.speaker == c.speaker && t.text == c.quote));
        }
    }

    #[test]
    fn budget_question_cites_the_six_constrained_prospects() {
        let corpus = bundled();
        let answer = answer(&corpus, BUDGET, None, &[]);
        assert_eq!(
            conversations(&answer),
            BTreeSet::from([
                "c_acme_discovery",
                "c_globex_renewal",
                "c_hooli_churn_risk",
                "c_northwind_discovery",
                "c_tyrell_demo",
                "c_wayne_pricing",
            ])
        );
        // Initech's budget is approved: it mentions budget, not a constraint.
        assert!(!answer.text.contains("Budget is approved"));
        assert!(answer
            .text
            .starts_with("Budget constraints came up in 6 of the 13"));
        assert!(
            answer.text.contains("[12:45, Sarah Johnson]"),
            "{}",
            answer.text
        );
        assert!(
            answer.text.contains("; 33:40, Kwame Mensah]"),
            "{}",
            answer.text
        );
        assert_eq!(
            answer.status_messages(),
            [
                "Searching across 13 conversations...",
                "Found 11 relevant passages in 6 conversations",
            ]
        );
        assert_citations_consistent(&corpus, &answer);
        assert_eq!(answer.fragments.concat(), answer.text);
    }

    #[test]
    fn urgency_follow_up_narrows_the_budget_answer() {
        let corpus = bundled();
        let budget = answer(&corpus, BUDGET, None, &[]);
        let history = exchange(BUDGET, &budget);
        let urgent = answer(&corpus, URGENCY, None, &history);

        assert!(urgent.follow_up);
        assert_eq!(urgent.conversations_searched, 6);
        assert_eq!(
            conversations(&urgent),
            BTreeSet::from([
                "c_globex_renewal",
                "c_hooli_churn_risk",
                "c_northwind_discovery",
                "c_tyrell_demo",
            ])
        );
        assert!(conversations(&urgent).is_subset(&conversations(&budget)));
        assert!(
            urgent
                .text
                .contains("Acme Corp and Wayne Enterprises did not mention urgency"),
            "{}",
            urgent.text
        );
        assert_eq!(
            urgent.status_messages()[0],
            "Searching the 6 conversations from the previous answer..."
        );
        assert_citations_consistent(&corpus, &urgent);

        // Without the history the same words search everything, and find
        // urgency where budget was never a problem.
        let fresh = answer(&corpus, URGENCY, None, &[]);
        assert!(!fresh.follow_up);
        assert_eq!(fresh.conversations_searched, 13);
        assert!(conversations(&fresh).contains("c_stark_onboarding"));
        assert!(conversations(&fresh).contains("c_soylent_support"));
    }

    #[test]
    fn inline_citations_match_the_citations_for_many_questions() {
        let corpus = bundled();
        let mut history = Vec::new();
        for question in [
            BUDGET,
            URGENCY,
            "What did Zoë say about data residency?",
            "Which competitors came up?",
            "Which of them mentioned Salesforce?",
            "Who talked about SOC 2 or security reviews?",
            "Tell me more about them",
            "Which customers are at risk of churn?",
            "How are teams handling onboarding and training?",
            "pricing",
        ] {
            let answer = answer(&corpus, question, None, &history);
            assert!(!answer.citations.is_empty(), "{question}");
            assert_citations_consistent(&corpus, &answer);
            assert_eq!(answer.fragments.concat(), answer.text);
            assert!(answer.fragments.iter().all(|f| !f.is_empty()));
            history.extend(exchange(question, &answer));
        }
    }

    #[test]
    fn same_question_corpus_and_history_give_the_same_answer() {
        let corpus = bundled();
        let budget = answer(&corpus, BUDGET, None, &[]);
        let history = exchange(BUDGET, &budget);
        let first = answer(&corpus, URGENCY, None, &history);
        assert_eq!(first, answer(&corpus, URGENCY, None, &history));
        assert_eq!(budget, answer(&bundled(), BUDGET, None, &[]));
        assert_ne!(first.text, answer(&corpus, URGENCY, None, &[]).text);
    }

    #[test]
    fn answers_carry_accented_and_non_latin_names() {
        let corpus = bundled();
        let answer = answer(&corpus, BUDGET, None, &[]);
        assert!(answer.text.contains("José Álvarez"));
        assert!(answer.text.contains("[06:40, Дмитрий Смирнов]"));
        assert!(answer.text.contains("محمد العلي"));
        assert!(answer.fragments.iter().any(|f| !f.is_ascii()));
        let zoe = super::answer(&corpus, "What did Zoë say about data residency?", None, &[]);
        assert_eq!(zoe.citations[0].speaker, "Zoë Müller");
        assert_eq!(zoe.citations[0].timestamp, "07:45");
    }

    #[test]
    fn hour_long_calls_are_cited_with_hours() {
        let corpus = bundled();
        let answer = answer(&corpus, "patient deletion request", None, &[]);
        assert_eq!(answer.citations[0].timestamp, "1:06:20");
        assert!(
            answer.text.contains("[1:06:20, Søren Østergaard]"),
            "{}",
            answer.text
        );
    }

    #[test]
    fn scope_restricts_the_search() {
        let corpus = bundled();
        let scope = ["c_globex_renewal".to_owned(), "c_initech_demo".to_owned()];
        let answer = answer(&corpus, BUDGET, Some(&scope), &[]);
        assert_eq!(answer.conversations_searched, 2);
        assert_eq!(conversations(&answer), BTreeSet::from(["c_globex_renewal"]));
        assert!(
            answer.text.contains("1 of the 2 conversations"),
            "{}",
            answer.text
        );
        assert_eq!(
            answer.status_messages()[0],
            "Searching across 2 conversations..."
        );

        let nowhere = ["c_unknown".to_owned()];
        let none = super::answer(&corpus, BUDGET, Some(&nowhere), &[]);
        assert_eq!(none.conversations_searched, 0);
        assert!(none.citations.is_empty());
        assert_eq!(
            none.text,
            "None of the selected conversations could be searched."
        );
    }

    #[test]
    fn unmatched_question_says_so_and_cites_nothing() {
        let corpus = bundled();
        let answer = answer(&corpus, "xyzzy?", None, &[]);
        assert_eq!(answer.passages_found, 0);
        assert!(answer.citations.is_empty());
        assert_eq!(
            answer.text,
            "None of the 13 conversations I searched mention xyzzy."
        );
        assert_eq!(answer.status_messages()[1], "Found no relevant passages");
        assert_eq!(answer.fragments.concat(), answer.text);
    }

    #[test]
    fn empty_corpus_gives_an_answer_without_citations() {
        let answer = answer(&Corpus::new(Vec::new()), "budget", None, &[]);
        assert!(answer.citations.is_empty());
        assert_eq!(answer.text, "There are no conversations to search yet.");
        assert_eq!(
            answer.status_messages(),
            [
                "Searching across 0 conversations...",
                "Found no relevant passages"
            ]
        );
    }
}
