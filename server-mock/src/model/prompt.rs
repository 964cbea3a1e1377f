//! What the model is given for one question: the retrieved passages, then
//! the most recent messages of the session, then the question
//! (docs/protocol.md, "Server-side history").
//!
//! The history is not decoration. A follow-up that points back ("Of those,
//! which ones also expressed urgency?") is resolved against the inline
//! citations of the latest answer in the window, and the search narrows to
//! the conversations that answer cited. Only the window is read, so a
//! message older than [`HISTORY_WINDOW`] can influence nothing.

use super::retrieval::{self, Hit};
use super::{text, Role, Turn};
use crate::corpus::{format_timestamp, is_citable_speaker, parse_timestamp, Conversation, Corpus};
use std::fmt::Write as _;

/// How many of the most recent messages of the session go into the prompt.
pub const HISTORY_WINDOW: usize = 10;

/// Words and phrases with which a question points back at the previous
/// answer. Matched against the lowercased question, phrases as substrings
/// and single words as whole words.
const BACK_REFERENCE_PHRASES: &[&str] = &["what about", "how about", "which of", "among"];
const BACK_REFERENCE_WORDS: &[&str] = &["those", "these", "they", "them", "their", "ones"];

/// The model's input for one question.
#[derive(Debug, Clone)]
pub struct Prompt<'a> {
    /// The relevant passages, best first.
    pub passages: Vec<Hit<'a>>,
    /// At most [`HISTORY_WINDOW`] messages, oldest first.
    pub history: &'a [Turn],
    /// The question being answered.
    pub question: &'a str,
    /// What was searched for: the question, or for a follow-up with no
    /// topic of its own ("Tell me more about them.") the question before it.
    pub query: &'a str,
    /// The conversations the search covered, in corpus order.
    pub searched: Vec<&'a Conversation>,
    /// Set when the question is a follow-up narrowed to the previous answer.
    pub focus: Option<Focus<'a>>,
}

/// What a follow-up points back to: the conversations (and the people in
/// them) that the previous answer cited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Focus<'a> {
    /// In order of first citation in the previous answer.
    pub conversations: Vec<&'a Conversation>,
    /// `(conversation id, speaker)` of every passage it cited.
    pub speakers: Vec<(&'a str, &'a str)>,
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
    let focus = is_follow_up(question)
        .then(|| previous_answer_focus(corpus, history))
        .flatten();
    let in_scope = |c: &Conversation| {
        scope.is_none_or(|ids| ids.contains(&c.id))
            && focus
                .as_ref()
                .is_none_or(|f| f.conversations.iter().any(|fc| fc.id == c.id))
    };
    let searched: Vec<&Conversation> = corpus
        .conversations()
        .iter()
        .filter(|c| in_scope(c))
        .collect();
    // A follow-up with no topic of its own ("Tell me more about them.")
    // searches for what the question before it asked.
    let query = match (&focus, text::terms(question).is_empty()) {
        (Some(_), true) => last_user_question(history).unwrap_or(question),
        _ => question,
    };
    let mut hits = corpus.index().search(corpus, query, in_scope);
    if let Some(focus) = &focus {
        hits = by_cited_speakers(hits, focus);
    }
    Prompt {
        passages: retrieval::relevant(&hits),
        history,
        question,
        query,
        searched,
        focus,
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
    let lower = question.to_lowercase();
    BACK_REFERENCE_PHRASES.iter().any(|p| lower.contains(p))
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| BACK_REFERENCE_WORDS.contains(&w))
}

/// The focus of the most recent assistant message in `history` that cites
/// at least one passage of `corpus`.
fn previous_answer_focus<'a>(corpus: &'a Corpus, history: &[Turn]) -> Option<Focus<'a>> {
    history
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| {
            let mut focus = Focus {
                conversations: Vec::new(),
                speakers: Vec::new(),
            };
            for (seconds, speaker) in inline_citations(&m.text) {
                let Some((conversation, turn)) = corpus
                    .turns()
                    .find(|(_, t)| t.seconds == seconds && t.speaker == speaker)
                else {
                    continue;
                };
                if !focus.conversations.iter().any(|c| c.id == conversation.id) {
                    focus.conversations.push(conversation);
                }
                let cited = (conversation.id.as_str(), turn.speaker.as_str());
                if !focus.speakers.contains(&cited) {
                    focus.speakers.push(cited);
                }
            }
            (!focus.conversations.is_empty()).then_some(focus)
        })
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
            .contains(&(h.conversation.id.as_str(), h.turn.speaker.as_str()))
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

fn last_user_question(history: &[Turn]) -> Option<&str> {
    history
        .iter()
        .rev()
        .find(|m| m.role == Role::User)
        .map(|m| m.text.as_str())
}

/// The `(seconds, speaker)` of every inline citation in `text`, in order:
/// `[12:45, Sarah Johnson]` and each part of `[12:45, A; 1:02:03, B]`.
/// Brackets that are not citations are skipped, as a client would.
pub fn inline_citations(text: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let parts: Option<Vec<(u32, String)>> = rest[..close]
            .split("; ")
            .map(|part| {
                let (time, speaker) = part.split_once(", ")?;
                let seconds = parse_timestamp(time)?;
                is_citable_speaker(speaker).then(|| (seconds, speaker.to_owned()))
            })
            .collect();
        if let Some(parts) = parts {
            found.extend(parts);
            rest = &rest[close + 1..];
        }
    }
    found
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
