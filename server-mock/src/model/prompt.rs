//! What the model is given for one question: the retrieved passages, then
//! the most recent messages of the session, then the question
//! (docs/protocol.md, "Server-side history").
//!
//! The history is not decoration. A follow-up that points back ("Of those,
//! which ones also expressed urgency?", "Tell me more about the second
//! one") is resolved against the answers in the window before anything is
//! retrieved ([`reference`](super::reference)): the search narrows to the
//! conversations the previous answer cited, or to the one it points at.
//! Only the window is read, so a message older than [`HISTORY_WINDOW`] can
//! influence nothing.

use super::reference::{Context, Reference, Referent, Resolution, Unresolved};
use super::retrieval::{self, Hit};
use super::shape::{self, Shape};
use super::{Role, Turn};
use crate::corpus::{format_timestamp, Conversation, Corpus};
use std::fmt::Write as _;

/// Read from the answers' text with the client's own grammar.
pub use crate::protocol::inline_citations;

/// How many of the most recent messages of the session go into the prompt.
pub const HISTORY_WINDOW: usize = 10;

/// The model's input for one question.
#[derive(Debug, Clone)]
pub struct Prompt<'a> {
    /// The relevant passages, best first.
    pub passages: Vec<Hit<'a>>,
    /// At most [`HISTORY_WINDOW`] messages, oldest first.
    pub history: &'a [Turn],
    /// The question being answered.
    pub question: &'a str,
    /// What was searched for: the question (without the words that point
    /// back), or for a follow-up with no topic of its own ("Tell me more
    /// about them.") the last question before it that had one.
    pub query: String,
    /// Whether `query` was carried over from an earlier question.
    pub carried: bool,
    /// The conversations the search covered, in corpus order.
    pub searched: Vec<&'a Conversation>,
    /// Set when the question is a follow-up narrowed to the previous answer.
    pub focus: Option<Focus<'a>>,
    /// Set when the follow-up is about one conversation, or one person, of
    /// the previous answer ("the second one", "she").
    pub referent: Option<Referent<'a>>,
    /// Set when the question points back at something that is not there;
    /// nothing is searched.
    pub unresolved: Option<Unresolved>,
    /// The layout the question asks for.
    pub shape: Shape,
    /// The accounts a fresh comparison (at least two) or request for steps
    /// (at least one) names, in the order it names them ("Compare Wayne
    /// Enterprises and Globex", "next steps with Hooli"): the search covers
    /// only their conversations. Empty otherwise.
    pub named: Vec<&'a Conversation>,
}

/// What a follow-up points back to: the conversations (and the people in
/// them) that the previous answer cited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Focus<'a> {
    /// In order of first citation in the previous answer.
    pub conversations: Vec<&'a Conversation>,
    /// `(conversation, speaker)` of every passage it cited, in order of
    /// first citation.
    pub speakers: Vec<(&'a Conversation, &'a str)>,
}

/// Builds the prompt for `question`: resolves a follow-up against the last
/// [`HISTORY_WINDOW`] messages of `history`, then retrieves from the
/// conversations in `scope` (all when `None`), narrowed to the previous
/// answer's conversations for a follow-up.
pub fn prompt<'a>(
    corpus: &'a Corpus,
    question: &'a str,
    scope: Option<&[String]>,
    history: &'a [Turn],
) -> Prompt<'a> {
    let history = &history[history.len().saturating_sub(HISTORY_WINDOW)..];
    let reference = Reference::parse(question);
    let context = Context::read(corpus, history);
    let resolution = reference
        .as_ref()
        .map_or(Resolution::Fresh, |r| context.resolve(r));
    let (focus, referent, unresolved) = match resolution {
        Resolution::Fresh => (None, None, None),
        Resolution::All(focus) => (Some(focus), None, None),
        Resolution::One(referent) => {
            let focus = Focus {
                conversations: vec![referent.conversation],
                speakers: Vec::new(),
            };
            (Some(focus), Some(referent), None)
        }
        Resolution::Unresolved(unresolved) => (None, None, Some(unresolved)),
    };
    let shape = Shape::of(question);
    let mut named = match (shape, &focus, &unresolved) {
        (Shape::Compare | Shape::Steps, None, None) => {
            shape::named_accounts(question, corpus.conversations())
        }
        _ => Vec::new(),
    };
    if shape == Shape::Compare && named.len() < 2 {
        named.clear();
    }
    let in_scope = |c: &Conversation| {
        unresolved.is_none()
            && scope.is_none_or(|ids| ids.contains(&c.id))
            && (named.is_empty() || named.iter().any(|n| n.id == c.id))
            && focus
                .as_ref()
                .is_none_or(|f| f.conversations.iter().any(|fc| fc.id == c.id))
    };
    let searched: Vec<&Conversation> = corpus
        .conversations()
        .iter()
        .filter(|c| in_scope(c))
        .collect();
    // A follow-up asks about what is left once the words that point back
    // are cut out; with no topic of its own ("Tell me more about them.") it
    // searches for what the last question with one asked. Words that only
    // ask for a layout, and the accounts that are already the scope, are
    // not searched for.
    let asked = match (&reference, &focus) {
        (Some(r), Some(_)) => r.rest.as_str(),
        _ => question,
    };
    let asked = match shape {
        Shape::List => asked.to_owned(),
        _ => shape::search_words(asked, &named),
    };
    let has_topic = !super::text::terms(&asked).is_empty();
    let (query, carried) = match (&reference, &focus) {
        (Some(_), Some(_)) if has_topic => (asked, false),
        (Some(_), Some(_)) => context
            .topic()
            .map_or((question.to_owned(), false), |t| (t.to_owned(), true)),
        // Nothing left but the names: search for them.
        _ if !has_topic => (question.to_owned(), false),
        _ => (asked, false),
    };
    let mut hits = corpus.index().search(corpus, &query, in_scope);
    match (&referent, &focus) {
        // Asked about one person: only what they said.
        (Some(referent), _) => {
            if let Some(speaker) = referent.speaker {
                hits.retain(|h| h.turn.speaker == speaker);
            }
        }
        (None, Some(focus)) => hits = by_cited_speakers(hits, focus),
        (None, None) => {}
    }
    Prompt {
        passages: retrieval::relevant(&hits),
        history,
        question,
        query,
        carried,
        searched,
        focus,
        referent,
        unresolved,
        shape,
        named,
    }
}

impl Prompt<'_> {
    /// The prompt as text, the way it would be sent to a language model:
    /// passages, then the conversation so far, then the question.
    pub fn render(&self) -> String {
        let mut out = String::from("Passages:\n");
        // `write!` into a String cannot fail.
        for hit in &self.passages {
            let _ = writeln!(
                out,
                "[{}, {}] ({}) {}",
                format_timestamp(hit.turn.seconds),
                hit.turn.speaker,
                hit.conversation.title,
                hit.turn.text
            );
        }
        out.push_str("\nConversation so far:\n");
        for message in self.history {
            let role = match message.role {
                Role::User => "User",
                Role::Assistant => "Assistant",
            };
            let _ = writeln!(out, "{role}: {}", message.text);
        }
        let _ = write!(out, "\nQuestion: {}", self.question);
        out
    }
}

/// Whether `question` refers back to an earlier answer.
pub fn is_follow_up(question: &str) -> bool {
    Reference::parse(question).is_some()
}

/// Within each conversation of a follow-up, what the people the previous
/// answer cited said, when they said anything that matches: "which ones
/// also expressed urgency" asks about the prospects quoted, not about the
/// seller promising to hurry. Others' passages stay where the cited people
/// are silent on the topic.
fn by_cited_speakers<'a>(hits: Vec<Hit<'a>>, focus: &Focus<'_>) -> Vec<Hit<'a>> {
    let cited = |h: &Hit<'_>| {
        focus
            .speakers
            .iter()
            .any(|(c, s)| c.id == h.conversation.id && *s == h.turn.speaker)
    };
    let answered: Vec<&str> = hits
        .iter()
        .filter(|h| cited(h))
        .map(|h| h.conversation.id.as_str())
        .collect();
    let keep: Vec<bool> = hits
        .iter()
        .map(|h| cited(h) || !answered.contains(&h.conversation.id.as_str()))
        .collect();
    hits.into_iter()
        .zip(keep)
        .filter_map(|(h, keep)| keep.then_some(h))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Corpus {
        Corpus::bundled().expect("bundled corpus parses")
    }

    fn message(role: Role, text: String) -> Turn {
        Turn { role, text }
    }

    #[test]
    fn only_the_last_ten_messages_sit_between_passages_and_question() {
        let corpus = bundled();
        let history: Vec<Turn> = (1..=14)
            .map(|n| {
                let role = if n % 2 == 1 {
                    Role::User
                } else {
                    Role::Assistant
                };
                message(role, format!("message number {n:02} of fourteen"))
            })
            .collect();
        let question = "What did Zoë say about data residency?";
        let prompt = prompt(&corpus, question, None, &history);

        assert_eq!(prompt.history.len(), HISTORY_WINDOW);
        assert_eq!(prompt.history, &history[4..]);
        let rendered = prompt.render();
        for n in 1..=4 {
            assert!(!rendered.contains(&format!("number {n:02}")), "{n} leaked");
        }
        let passages = rendered.find("Passages:").expect("passages section");
        let last_passage = rendered
            .find(&prompt.passages.last().expect("a passage").turn.text)
            .expect("passage text");
        let question_at = rendered.rfind(question).expect("question");
        let mut at = last_passage;
        for n in 5..=14 {
            let role = if n % 2 == 1 { "User" } else { "Assistant" };
            let line = format!("{role}: message number {n:02} of fourteen\n");
            let found = rendered
                .find(&line)
                .unwrap_or_else(|| panic!("{line:?} missing"));
            assert!(found > at, "message {n} out of order");
            at = found;
        }
        assert!(passages < last_passage && at < question_at);
    }

    #[test]
    fn a_follow_up_narrows_to_the_conversations_the_previous_answer_cited() {
        let corpus = bundled();
        let history = vec![
            message(Role::User, "Who talked about pricing?".to_owned()),
            message(
                Role::Assistant,
                "Globex and Wayne did [08:10, José Álvarez; 03:20, محمد العلي]. Not [1] or [x, y]."
                    .to_owned(),
            ),
        ];
        let prompt = prompt(
            &corpus,
            "Which of them mentioned Salesforce?",
            None,
            &history,
        );
        let focus = prompt.focus.as_ref().expect("a follow-up");
        let ids: Vec<&str> = focus.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c_globex_renewal", "c_wayne_pricing"]);
        assert_eq!(prompt.searched.len(), 2);
        assert!(prompt
            .passages
            .iter()
            .all(|h| h.conversation.id == "c_wayne_pricing"));
    }

    #[test]
    fn history_outside_the_window_cannot_be_pointed_at() {
        let corpus = bundled();
        let mut history = vec![
            message(Role::User, "Who talked about pricing?".to_owned()),
            message(
                Role::Assistant,
                "Globex did [08:10, José Álvarez].".to_owned(),
            ),
        ];
        for n in 0..HISTORY_WINDOW {
            let role = if n % 2 == 0 {
                Role::User
            } else {
                Role::Assistant
            };
            history.push(message(role, format!("small talk {n}")));
        }
        let prompt = prompt(&corpus, "Which of them mentioned urgency?", None, &history);
        assert!(prompt.focus.is_none());
        assert_eq!(prompt.searched.len(), corpus.conversations().len());
    }

    #[test]
    fn follow_ups_are_told_from_fresh_questions() {
        for q in [
            "Of those, which ones also expressed urgency?",
            "Which of them use HubSpot?",
            "What about security?",
            "Did they mention a deadline?",
        ] {
            assert!(is_follow_up(q), "{q}");
        }
        for q in [
            "Which prospects mentioned budget constraints?",
            "What did Zoë say about data residency?",
            "Thesis: other theme",
        ] {
            assert!(!is_follow_up(q), "{q}");
        }
    }

    #[test]
    fn inline_citations_reads_single_and_grouped_brackets() {
        assert_eq!(
            inline_citations("a[0] [12:45, Sarah Johnson] [1:02:03, Zoë Müller; 14:02, Mark Lee]"),
            [
                (765, "Sarah Johnson".to_owned()),
                (3723, "Zoë Müller".to_owned()),
                (842, "Mark Lee".to_owned()),
            ]
        );
    }
}
