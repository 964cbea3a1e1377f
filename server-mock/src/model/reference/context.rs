//! The session's history as a state machine: fed the messages oldest
//! first, it keeps what a reference can point at, and resolves one.

use super::{ordinal_name, Kind, Nth, Reference, Referent, Resolution, Unresolved};
use crate::corpus::{Conversation, Corpus};
use crate::model::compose;
use crate::model::prompt::{inline_citations, Focus};
use crate::model::shape::{self, Shape};
use crate::model::{text, Role, Turn};

/// What the session's earlier answers leave for a reference to point at.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// Whether any answer is in the history.
    answered: bool,
    /// The list: what the last answer that was not about one item named.
    /// Empty when that answer has left the window; [`Context::list`] then
    /// falls back to the latest answer.
    list: Focus<'a>,
    /// What the latest answer cited.
    latest: Focus<'a>,
    /// The last question with a topic of its own, with any reference cut out.
    topic: Option<String>,
    /// The words of the question the latest answer answered, lowercased:
    /// "she" after "What did Zoë say ...?" is Zoë, however many people
    /// the answer quoted.
    asked: Vec<String>,
}

impl<'a> Context<'a> {
    /// Replays `history`, oldest first: each answer is read with the
    /// question before it, resolved against what came before, as it was
    /// when it was asked.
    pub fn read(corpus: &'a Corpus, history: &[Turn]) -> Self {
        let mut context = Self::default();
        let mut asked: Option<&str> = None;
        for turn in history {
            if turn.role == Role::User {
                asked = Some(&turn.text);
                continue;
            }
            let asked_text = asked.unwrap_or("");
            let reference = asked.take().and_then(|q| {
                context.note_topic(q);
                Reference::parse(q)
            });
            let resolution = reference.as_ref().map(|r| context.resolve(r));
            let cited = cited(corpus, &turn.text);
            context.answered = true;
            if reference.is_some() && cited.conversations.is_empty() {
                // A follow-up answered without citations (the words meant
                // nothing, or nothing there matched) leaves the list as it was.
                continue;
            }
            // An answer about one item leaves the list; so does one whose
            // question pointed at a single item that has since left the
            // window (it was resolved, then, against older messages).
            let about_one = match (&resolution, &reference) {
                (Some(Resolution::One(_)), _) => true,
                (Some(Resolution::Unresolved(_)), Some(r)) => {
                    matches!(r.kind, Kind::Position { .. } | Kind::Person | Kind::That)
                }
                _ => false,
            };
            if !about_one {
                context.list = cited.clone();
            }
            context.latest = cited;
            context.asked = reference_words(asked_text);
        }
        context
    }

    fn note_topic(&mut self, question: &str) {
        let rest = Reference::parse(question).map_or_else(|| question.to_owned(), |r| r.rest);
        // "Compare Globex and Hooli on pricing" leaves "pricing" to carry,
        // with the names: the words that only asked for a table are not.
        let rest = match Shape::of(&rest) {
            Shape::List => rest,
            _ => shape::search_words(&rest, &[]),
        };
        if !text::terms(&rest).is_empty() {
            self.topic = Some(rest);
        }
    }

    /// The list a position or a plural counts in: the last list, or what
    /// the latest answer named when the list has left the window.
    fn list(&self) -> &Focus<'a> {
        if self.list.conversations.is_empty() {
            &self.latest
        } else {
            &self.list
        }
    }

    /// The people the latest answer quoted whom its question named.
    fn named(&self) -> Vec<(&'a Conversation, &'a str)> {
        let mut named: Vec<(&'a Conversation, &'a str)> = Vec::new();
        for &(c, speaker) in &self.latest.speakers {
            let in_question = reference_words(speaker)
                .iter()
                .any(|w| w.chars().count() > 1 && self.asked.contains(w));
            if in_question && !named.iter().any(|(_, s)| *s == speaker) {
                named.push((c, speaker));
            }
        }
        named
    }

    /// "previous" when the list is the latest answer's, "earlier" when an
    /// answer about one of its items came after it.
    fn which_answer(&self) -> &'static str {
        if self.list() == &self.latest {
            "previous"
        } else {
            "earlier"
        }
    }

    /// The last topic asked about, for a follow-up with none of its own.
    pub fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    /// What `reference` means after this history.
    pub fn resolve(&self, reference: &Reference) -> Resolution<'a> {
        let unresolved = |sentence: String| {
            Resolution::Unresolved(Unresolved {
                phrase: reference.phrase.clone(),
                sentence,
            })
        };
        let quoted = format!("“{}”", reference.phrase);
        if self.list().conversations.is_empty() {
            return match reference.kind {
                Kind::Those | Kind::They | Kind::More if reference.has_topic() => Resolution::Fresh,
                _ if !self.answered => unresolved(format!(
                    "There is no earlier answer in this session for {quoted} to refer to."
                )),
                _ => unresolved(format!(
                    "My previous answer named no conversations, so there is nothing for {quoted} to refer to."
                )),
            };
        }
        match reference.kind {
            Kind::Position { nth, people: false } => {
                let list = &self.list().conversations;
                match pick(list, nth) {
                    Some(c) => Resolution::One(Referent {
                        conversation: c,
                        speaker: None,
                        nth: Some(nth),
                    }),
                    None => unresolved(format!(
                        "My {} answer named {}, {}, so there is no {}.",
                        self.which_answer(),
                        named(list.len(), "conversation"),
                        accounts(list),
                        missing(nth, false),
                    )),
                }
            }
            Kind::Position { nth, people: true } => {
                let people = &self.list().speakers;
                match pick(people, nth) {
                    Some((c, speaker)) => Resolution::One(Referent {
                        conversation: c,
                        speaker: Some(speaker),
                        nth: Some(nth),
                    }),
                    None => unresolved(format!(
                        "My {} answer quoted {}, {}, so there is no {}.",
                        self.which_answer(),
                        named(people.len(), "person"),
                        names(people),
                        missing(nth, true),
                    )),
                }
            }
            Kind::Person => match (self.latest.speakers.as_slice(), self.named().as_slice()) {
                ([(c, speaker)], _) | (_, [(c, speaker)]) => Resolution::One(Referent {
                    conversation: c,
                    speaker: Some(speaker),
                    nth: None,
                }),
                (people, _) => unresolved(format!(
                    "My previous answer quoted {}, {}, so I can't tell who {quoted} is.",
                    named(people.len(), "person"),
                    names(people),
                )),
            },
            Kind::That => match self.latest.conversations.as_slice() {
                [c] => self.one(c),
                list => unresolved(format!(
                    "My previous answer named {}, {}, so I can't tell which one {quoted} is.",
                    named(list.len(), "conversation"),
                    accounts(list),
                )),
            },
            Kind::They | Kind::More => match self.latest.conversations.as_slice() {
                [c] => self.one(c),
                _ => Resolution::All(self.list().clone()),
            },
            Kind::Those => Resolution::All(self.list().clone()),
        }
    }

    fn one(&self, conversation: &'a Conversation) -> Resolution<'a> {
        Resolution::One(Referent {
            conversation,
            speaker: None,
            nth: None,
        })
    }
}

/// The conversations and `(conversation, speaker)` pairs that `answer`
/// cites inline, in order of first citation.
fn cited<'a>(corpus: &'a Corpus, answer: &str) -> Focus<'a> {
    let mut focus = Focus::default();
    for (seconds, speaker) in inline_citations(answer) {
        let Some((conversation, turn)) = corpus
            .turns()
            .find(|(_, t)| t.seconds == seconds && t.speaker == speaker)
        else {
            continue;
        };
        if !focus.conversations.iter().any(|c| c.id == conversation.id) {
            focus.conversations.push(conversation);
        }
        let pair = (conversation, turn.speaker.as_str());
        if !focus
            .speakers
            .iter()
            .any(|(c, s)| c.id == conversation.id && *s == pair.1)
        {
            focus.speakers.push(pair);
        }
    }
    focus
}

/// The words of `text`, lowercased, for telling whether a question named
/// someone.
fn reference_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn pick<T: Copy>(items: &[T], nth: Nth) -> Option<T> {
    match nth {
        Nth::At(n) => items.get(n.checked_sub(1)?).copied(),
        Nth::Last => items.last().copied(),
    }
}

/// "fifth one", "third person": the item that is not there.
fn missing(nth: Nth, person: bool) -> String {
    ordinal_name(nth, person)
        .trim_start_matches("The ")
        .to_owned()
}

/// "one conversation", "3 conversations", "no conversations".
fn named(n: usize, noun: &str) -> String {
    match (n, noun) {
        (0, "person") => "no one".to_owned(),
        (0, _) => format!("no {noun}s"),
        (1, _) => format!("one {noun}"),
        (_, "person") => format!("{n} people"),
        _ => format!("{n} {noun}s"),
    }
}

fn accounts(list: &[&Conversation]) -> String {
    compose::list(list.iter().map(|c| c.account.as_str()))
}

fn names(people: &[(&Conversation, &str)]) -> String {
    compose::list(people.iter().map(|(_, s)| *s))
}
