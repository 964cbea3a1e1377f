//! The grammar of a phrase that points back: read the question's words
//! once, front to back, and recognise the first construct that can only
//! mean an item (or the whole) of an earlier answer.

use super::{Kind, Nth, Reference, ORDINALS};
use crate::model::text;

/// Number words that may follow "number" ("number three").
const CARDINALS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];
/// Nouns an ordinal or a demonstrative can qualify and still mean an item
/// of the previous answer ("the third prospect", "that call"). A content
/// noun that is not here ("the first quarter") makes the phrase not a
/// reference at all.
const CONVERSATION_NOUNS: &[&str] = &[
    "one",
    "prospect",
    "prospects",
    "customer",
    "customers",
    "company",
    "companies",
    "account",
    "accounts",
    "conversation",
    "conversations",
    "call",
    "calls",
    "client",
    "clients",
    "meeting",
    "deal",
    "transcript",
];
/// Nouns that make an ordinal count people rather than conversations.
const PERSON_NOUNS: &[&str] = &["person", "speaker", "people", "speakers"];
/// Pronouns that can only mean one person.
const PERSON_PRONOUNS: &[&str] = &["he", "she", "him", "her", "his", "hers"];
/// Words that can only mean several items of the list.
const PLURAL_WORDS: &[&str] = &["those", "these", "ones"];
/// Plural phrases that mean the list as a whole.
const PLURAL_PHRASES: &[&[&str]] = &[&["which", "of"], &["among"]];
/// Pronouns meaning the subject of the latest answer: one company when it
/// named one, the list otherwise.
const THEY: &[&str] = &["they", "them", "their", "theirs"];
/// Phrases asking to go on about the latest answer's subject.
const MORE_PHRASES: &[&[&str]] = &[
    &["tell", "me", "more"],
    &["more", "about"],
    &["more", "on"],
    &["what", "else"],
    &["anything", "else"],
    &["what", "about"],
    &["how", "about"],
    &["go", "on"],
];

impl Reference {
    /// The phrase of `question` that points back, if any. Positions come
    /// first ("which of them was the second one" is about one item), then
    /// personal pronouns, demonstratives, plural words and "tell me more".
    pub fn parse(question: &str) -> Option<Self> {
        let words = tokens(question);
        let lower: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        let (kind, span) = position(&lower)
            .or_else(|| {
                lower
                    .iter()
                    .position(|w| PERSON_PRONOUNS.contains(w))
                    .map(|i| (Kind::Person, (i, i + 1)))
            })
            .or_else(|| demonstrative(&lower).map(|span| (Kind::That, span)))
            .or_else(|| {
                lower
                    .iter()
                    .position(|w| PLURAL_WORDS.contains(w))
                    .map(|i| (Kind::Those, (i, i + 1)))
                    .or_else(|| phrase(&lower, PLURAL_PHRASES).map(|s| (Kind::Those, s)))
            })
            .or_else(|| {
                lower
                    .iter()
                    .position(|w| THEY.contains(w))
                    .map(|i| (Kind::They, (i, i + 1)))
            })
            .or_else(|| phrase(&lower, MORE_PHRASES).map(|s| (Kind::More, s)))?;
        let (start, end) = (words[span.0].start, words[span.1 - 1].end);
        let mut rest = question[..start].to_owned();
        rest.push(' ');
        rest.push_str(&question[end..]);
        Some(Self {
            kind,
            phrase: lower[span.0..span.1].join(" "),
            rest,
        })
    }

    /// Whether what is left of the question asks about something.
    pub fn has_topic(&self) -> bool {
        !text::terms(&self.rest).is_empty()
    }
}

/// A word of the question, lowercased, with its byte range in the question.
struct Token {
    text: String,
    start: usize,
    end: usize,
}

fn tokens(question: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in question.char_indices().chain([(question.len(), ' ')]) {
        match (start, c.is_alphanumeric()) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                tokens.push(Token {
                    text: question[s..i].to_lowercase(),
                    start: s,
                    end: i,
                });
                start = None;
            }
            _ => {}
        }
    }
    tokens
}

/// "the second one", "the last", "2nd prospect", "number 3", "the third
/// person": the kind and the span of words `[start, end)`.
fn position(words: &[&str]) -> Option<(Kind, (usize, usize))> {
    for (i, word) in words.iter().enumerate() {
        if *word == "number" {
            // "number 3" points back; "their number one concern" does not.
            let free = words.get(i + 2).is_none_or(|w| is_free(w));
            if let Some(n) = words.get(i + 1).and_then(|w| cardinal(w)).filter(|_| free) {
                let start = if i > 0 && words[i - 1] == "the" {
                    i - 1
                } else {
                    i
                };
                let nth = Kind::Position {
                    nth: Nth::At(n),
                    people: false,
                };
                return Some((nth, (start, i + 2)));
            }
            continue;
        }
        let Some(nth) = ordinal(word) else { continue };
        let after = words.get(i + 1).copied();
        let noun = after.filter(|w| CONVERSATION_NOUNS.contains(w) || PERSON_NOUNS.contains(w));
        let the = i > 0 && words[i - 1] == "the";
        // "the first quarter" is about a quarter and "the first to ask" is
        // an idiom; "the first said" and "the first?" point back.
        let free = after.is_none_or(|w| is_free(w) && w != "to");
        if !(noun.is_some() || the && free) {
            continue;
        }
        let start = if the { i - 1 } else { i };
        let end = if noun.is_some() { i + 2 } else { i + 1 };
        let people = noun.is_some_and(|w| PERSON_NOUNS.contains(&w));
        return Some((Kind::Position { nth, people }, (start, end)));
    }
    None
}

/// Whether `word` can follow a position without naming something else:
/// a word with no topic, or a noun for an item of the list.
fn is_free(word: &str) -> bool {
    text::terms(word).is_empty()
        || CONVERSATION_NOUNS.contains(&word)
        || PERSON_NOUNS.contains(&word)
}

fn ordinal(word: &str) -> Option<Nth> {
    if word == "last" {
        return Some(Nth::Last);
    }
    if let Some(i) = ORDINALS.iter().position(|o| *o == word) {
        return Some(Nth::At(i + 1));
    }
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| word.strip_suffix(suffix))?;
    digits.parse().ok().filter(|n| *n > 0).map(Nth::At)
}

fn cardinal(word: &str) -> Option<usize> {
    CARDINALS
        .iter()
        .position(|c| *c == word)
        .map(|i| i + 1)
        .or_else(|| word.parse().ok().filter(|n| *n > 0))
}

/// "that one", "this company": the span of the two words.
fn demonstrative(words: &[&str]) -> Option<(usize, usize)> {
    words
        .windows(2)
        .position(|pair| {
            matches!(pair[0], "that" | "this") && CONVERSATION_NOUNS.contains(&pair[1])
        })
        .map(|i| (i, i + 2))
}

/// The span of the first of `phrases` that occurs in `words`.
fn phrase(words: &[&str], phrases: &[&[&str]]) -> Option<(usize, usize)> {
    (0..words.len()).find_map(|i| {
        phrases
            .iter()
            .find(|p| words[i..].starts_with(p))
            .map(|p| (i, i + p.len()))
    })
}
