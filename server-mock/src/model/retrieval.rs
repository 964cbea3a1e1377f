//! Ranks the passages (one turn each) of a corpus against a question with
//! Okapi BM25 (Robertson and Zaragoza, "The Probabilistic Relevance
//! Framework: BM25 and Beyond", 2009), written out here: the corpus is a few
//! hundred short turns, and a hand-written scorer keeps the ranking, and so
//! every answer, fixed across dependency upgrades.
//!
//! A passage is indexed with its speaker and the conversation's account, so
//! "What did Zoë say about data residency?" and "Globex pricing" find the
//! right people. Each question term is a *concept* that its synonyms
//! ([`text::expand`]) also match; how many concepts a passage covers decides
//! whether it is relevant at all, BM25 decides the order.

use super::text;
use crate::corpus::{Conversation, Corpus, Turn};
use std::collections::HashMap;

/// BM25 term-frequency saturation.
const K1: f64 = 1.2;
/// BM25 length normalisation.
const B: f64 = 0.75;
/// A relevant passage scores at least this share of the best one (30%).
const RELATIVE_FLOOR: f64 = 0.3;

/// A passage the question matched.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    /// Where the passage comes from.
    pub conversation: &'a Conversation,
    /// The passage: one speaker's turn.
    pub turn: &'a Turn,
    /// Place in corpus order, the tie-breaker.
    pub position: usize,
    /// BM25 score summed over the question's terms and their synonyms.
    pub score: f64,
    /// How many of the question's concepts the passage contains.
    pub covered: usize,
}

/// Every passage of a corpus, tokenized once, with the statistics BM25
/// needs. Owns its data, so a [`Corpus`] can keep the one built for it
/// ([`Corpus::index`]) and no question pays for indexing.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// One per turn, in corpus order.
    passages: Vec<Indexed>,
    document_frequency: HashMap<String, usize>,
    average_length: f64,
}

#[derive(Debug, Clone)]
struct Indexed {
    term_frequency: HashMap<String, usize>,
    length: usize,
}

impl Index {
    /// Indexes every turn of `corpus`, with its speaker and account.
    pub fn new(corpus: &Corpus) -> Self {
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let passages: Vec<Indexed> = corpus
            .turns()
            .map(|(conversation, turn)| {
                let document = format!("{} {} {}", turn.text, turn.speaker, conversation.account);
                let terms = text::terms(&document);
                let mut term_frequency: HashMap<String, usize> = HashMap::new();
                for term in &terms {
                    *term_frequency.entry(term.clone()).or_default() += 1;
                }
                for term in term_frequency.keys() {
                    *document_frequency.entry(term.clone()).or_default() += 1;
                }
                Indexed {
                    term_frequency,
                    length: terms.len(),
                }
            })
            .collect();
        let total: usize = passages.iter().map(|p| p.length).sum();
        let average_length = total as f64 / passages.len().max(1) as f64;
        Self {
            passages,
            document_frequency,
            average_length,
        }
    }

    /// The passages of `corpus` (the corpus this index was built from) in
    /// the conversations `in_scope` accepts that share at least one term or
    /// synonym with `question`, best first; equal scores keep corpus order.
    pub fn search<'a>(
        &self,
        corpus: &'a Corpus,
        question: &str,
        in_scope: impl Fn(&Conversation) -> bool,
    ) -> Vec<Hit<'a>> {
        let concepts = concepts(question);
        let mut hits: Vec<Hit<'a>> = corpus
            .turns()
            .zip(&self.passages)
            .enumerate()
            .filter(|(_, ((conversation, _), _))| in_scope(conversation))
            .filter_map(|(position, ((conversation, turn), passage))| {
                let mut score = 0.0;
                let mut covered = 0;
                for concept in &concepts {
                    let before = score;
                    for (term, weight) in concept {
                        score += weight * self.term_score(passage, term);
                    }
                    covered += usize::from(score > before);
                }
                (covered > 0).then_some(Hit {
                    conversation,
                    turn,
                    position,
                    score,
                    covered,
                })
            })
            .collect();
        sort(&mut hits);
        hits
    }

    fn term_score(&self, passage: &Indexed, term: &str) -> f64 {
        let Some(&tf) = passage.term_frequency.get(term) else {
            return 0.0;
        };
        let n = self.passages.len() as f64;
        let df = self.document_frequency.get(term).copied().unwrap_or(0) as f64;
        // The "+ 1" form of IDF stays positive even for a term in most passages.
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let tf = tf as f64;
        let norm = 1.0 - B + B * passage.length as f64 / self.average_length;
        idf * tf * (K1 + 1.0) / (tf + K1 * norm)
    }
}

/// Best score first, then corpus order: a total order, so the ranking never
/// depends on how the list was built.
pub fn sort(hits: &mut [Hit<'_>]) {
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.position.cmp(&b.position))
    });
}

/// The hits that answer the question rather than brush against it: those
/// covering (nearly) as many of its concepts as the best-covering hit, and
/// scoring at least 30% of the best score. Order is kept.
pub fn relevant<'a>(hits: &[Hit<'a>]) -> Vec<Hit<'a>> {
    let most = hits.iter().map(|h| h.covered).max().unwrap_or(0);
    // One concept of slack per three, so a long question isn't all-or-nothing
    // while "budget constraints" needs both words.
    let needed = most - most / 3;
    let best = hits
        .iter()
        .filter(|h| h.covered >= needed)
        .map(|h| h.score)
        .fold(0.0, f64::max);
    hits.iter()
        .filter(|h| h.covered >= needed && h.score >= RELATIVE_FLOOR * best)
        .copied()
        .collect()
}

/// The question's content terms, each with the synonyms that stand in for it.
fn concepts(question: &str) -> Vec<Vec<(String, f64)>> {
    let mut terms = text::terms(question);
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    terms.iter().map(|t| text::expand(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Corpus {
        Corpus::bundled().expect("bundled corpus parses")
    }

    #[test]
    fn a_specific_term_ranks_its_passage_first() {
        let corpus = bundled();
        let hits = corpus.index().search(&corpus, "penetration test", |_| true);
        assert_eq!(hits[0].turn.speaker, "Søren Østergaard");
        assert_eq!(hits[0].turn.seconds, 38 * 60 + 25);
        let hits = corpus
            .index()
            .search(&corpus, "Norwegian transcripts", |_| true);
        assert_eq!(hits[0].conversation.id, "c_massive_dynamic_renewal");
    }

    #[test]
    fn ranking_is_best_first_with_ties_in_corpus_order() {
        let corpus = bundled();
        let hits = Index::new(&corpus).search(&corpus, "budget constraints", |_| true);
        assert!(hits.windows(2).all(|w| w[0].score > w[1].score
            || (w[0].score == w[1].score && w[0].position < w[1].position)));
        // The turn that says both words outranks one that only says "budget".
        let top = hits[0];
        assert_eq!(top.covered, 2);
        assert!(
            top.turn.text.contains("budget constraints"),
            "{}",
            top.turn.text
        );
    }

    #[test]
    fn synonyms_match_but_count_less_than_the_word_itself() {
        let corpus = bundled();
        let hits = Index::new(&corpus).search(&corpus, "urgency", |_| true);
        assert!(hits.iter().any(|h| h.turn.text.contains("deadline")));
        let urgent = hits
            .iter()
            .find(|h| h.turn.text.contains("urgent"))
            .expect("an urgent passage");
        assert!(urgent.score > 0.0);
    }

    #[test]
    fn scope_excludes_other_conversations() {
        let corpus = bundled();
        let hits = Index::new(&corpus).search(&corpus, "pricing", |c| c.id == "c_wayne_pricing");
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|h| h.conversation.id == "c_wayne_pricing"));
    }

    #[test]
    fn relevant_needs_both_words_of_a_two_word_question() {
        let corpus = bundled();
        let hits = Index::new(&corpus).search(&corpus, "budget constraints", |_| true);
        let relevant = relevant(&hits);
        assert!(relevant.iter().all(|h| h.covered == 2));
        assert!(!relevant
            .iter()
            .any(|h| h.turn.text.starts_with("Budget is approved")));
        assert!(relevant.len() < hits.len());
    }

    #[test]
    fn nothing_matches_in_an_empty_corpus_or_for_stop_words() {
        let empty = Corpus::new(Vec::new());
        assert!(Index::new(&empty)
            .search(&empty, "budget", |_| true)
            .is_empty());
        let corpus = bundled();
        assert!(Index::new(&corpus)
            .search(&corpus, "what did they say", |_| true)
            .is_empty());
        assert!(relevant(&[]).is_empty());
    }
}
