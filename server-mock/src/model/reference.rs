//! Follow-ups that point back at an earlier answer: "tell me more about the
//! second one", "what else did she say?", "of those, which ...".
//!
//! Resolution happens before retrieval, in two small steps that each read
//! their input once, front to back:
//!
//! 1. [`Reference::parse`] reads the question's words and recognises the
//!    phrase that points back (an ordinal or position, a personal pronoun,
//!    a demonstrative, a plural pronoun, or "tell me more"), and what is
//!    left of the question once that phrase is cut out: its own topic, if
//!    any ("Did the second one mention security?" asks about security).
//! 2. [`Context::read`] replays the session's history oldest first, as a
//!    state machine fed one message at a time, and keeps what a reference
//!    can point at: the *list* (the conversations an answer named, in the
//!    order its inline citations named them) and the *latest* answer's
//!    conversations and speakers. The history holds nothing but text, so
//!    both come from the answers' inline citations.
//!
//! An answer about one item of a list does not replace the list: after
//! "Tell me more about the second one", "What about the first one?" still
//! means the first of the list, not the first (and only) conversation of
//! the answer about the second. Every other answer does replace it.
//!
//! When the words cannot be resolved (no earlier answer, "the fifth one" of
//! three, "she" when several people were quoted) the model says so in one
//! sentence naming what there was to choose from, instead of guessing.

use super::prompt::Focus;
use crate::corpus::Conversation;

mod context;
mod grammar;

pub use context::Context;

/// Ordinal words, first to tenth; past those, "11th" is read from its digits.
const ORDINALS: &[&str] = &[
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

/// Which item of a list a positional reference picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nth {
    /// 1-based: "the second one" is `At(2)`.
    At(usize),
    /// "the last one".
    Last,
}

/// How a question points back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An item of the list by position: "the second one", "number 3",
    /// "the third prospect"; of people with "the second person".
    Position {
        /// Which item.
        nth: Nth,
        /// Counts the people quoted, not the conversations.
        people: bool,
    },
    /// "she", "he", "him", "her": the one person the latest answer quoted.
    Person,
    /// "that one", "that company": the one conversation the latest answer named.
    That,
    /// "those", "these", "which of", "among": the whole list.
    Those,
    /// "they", "them", "their": the one company the latest answer named, or
    /// the whole list.
    They,
    /// "tell me more", "what else", "what about": like [`Kind::They`].
    More,
}

/// A phrase of the question that points back at an earlier answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// How it points back.
    pub kind: Kind,
    /// The phrase as asked, lowercased: "the second one", "she".
    pub phrase: String,
    /// The question with the phrase cut out: what it asks about the referent.
    pub rest: String,
}

/// What a reference resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution<'a> {
    /// No reference, or a plural one with nothing to point at but a topic
    /// of its own ("What about security?" first thing): a fresh question.
    Fresh,
    /// The whole list: the search narrows to its conversations.
    All(Focus<'a>),
    /// One conversation of the list, or one person in it.
    One(Referent<'a>),
    /// Nothing the words could mean.
    Unresolved(Unresolved),
}

/// A reference that points at nothing, and the answer that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The phrase that could not be resolved, as asked: "the fifth one".
    pub phrase: String,
    /// The one plain sentence that is the whole answer, naming what there
    /// was to choose from.
    pub sentence: String,
}

/// The one conversation (and maybe the one person) a follow-up is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referent<'a> {
    /// The conversation answered from.
    pub conversation: &'a Conversation,
    /// Set when the reference meant a person: only their turns are cited.
    pub speaker: Option<&'a str>,
    /// Set when the reference picked the item by position.
    pub nth: Option<Nth>,
}

impl Referent<'_> {
    /// The answer's lead sentence, which says which item it is about:
    /// "The second one, Globex, talked about budget constraints in the
    /// Globex renewal negotiation." When nothing there matched (`found` is
    /// false) it says so and names the call that was checked.
    pub fn lead(&self, topic: Option<&str>, carried: bool, found: bool) -> String {
        let topic = topic.unwrap_or("this");
        let conversation = self.conversation;
        let who = match self.speaker {
            Some(speaker) => format!("{speaker} of {}", conversation.account),
            None => conversation.account.clone(),
        };
        let (subject, plain) = match self.nth {
            Some(nth) => (
                format!("{}, {who},", ordinal_name(nth, self.speaker.is_some())),
                false,
            ),
            None => (who.clone(), true),
        };
        match (found, carried && plain) {
            (true, true) => format!("Here is more on {topic} from {who}."),
            (true, false) => format!(
                "{subject} talked about {topic} in the {}.",
                conversation.title
            ),
            (false, _) => format!(
                "{subject} did not mention {topic}: I checked the {}.",
                conversation.title
            ),
        }
    }
}

/// The words that name a picked item in an answer's lead: "The second one",
/// "The last one", "The second person".
pub fn ordinal_name(nth: Nth, person: bool) -> String {
    let which = match nth {
        Nth::Last => "last".to_owned(),
        Nth::At(n) => ORDINALS
            .get(n.wrapping_sub(1))
            .map_or_else(|| format!("{n}{}", suffix(n)), |o| (*o).to_owned()),
    };
    format!("The {which} {}", if person { "person" } else { "one" })
}

fn suffix(n: usize) -> &'static str {
    match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

#[cfg(test)]
mod tests;
