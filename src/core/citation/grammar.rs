//! The grammars of inline citations, matched one character at a time so a
//! candidate is given up the moment it cannot become a citation.
//!
//! Timestamp-speaker (the protocol's default): `[` ENTRY (`; ` ENTRY)* `]`
//! where ENTRY is TIMESTAMP `, ` SPEAKER, TIMESTAMP is `M:SS`, `MM:SS` or
//! `H:MM:SS`, and SPEAKER is 1 to 60 Unicode letters, marks, spaces, `.`,
//! `'` and `-`, starting with a letter.
//!
//! Numeric (Perplexity-style): `[` ITEM (`,` ` `? ITEM)* `]` where ITEM is a
//! number or a range `A-B`.

use super::unicode::{CharClass, Classify};
use super::CitationRef;

/// Which inline citations the buffer recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pattern {
    /// `[12:45, Sarah Johnson]`, `[1:02:03, Zoë; 14:02, Mark Lee]`.
    #[default]
    TimestampSpeaker,
    /// `[1]`, `[1, 2]`, `[3-5]`.
    Numeric,
}

/// The longest speaker name the grammar allows, in characters.
pub const MAX_SPEAKER_CHARS: u8 = 60;
/// The most digits a number in a numeric citation may have.
const MAX_NUMBER_DIGITS: u8 = 4;
/// The widest range `[A-B]` that is taken as a citation.
const MAX_RANGE: u32 = 100;

/// Where a candidate stands after the characters seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Expecting the first digit of an entry.
    EntryStart,
    /// Digits of the first group of a timestamp (1 or 2 of them).
    Lead(u8),
    /// After the first colon; `short` when the first group had one digit,
    /// which allows a third group (`H:MM:SS`).
    Colon1 {
        /// The first group had one digit.
        short: bool,
    },
    /// One digit of the second group.
    Second1 {
        /// The first group had one digit.
        short: bool,
    },
    /// The second group is complete.
    Second2 {
        /// The first group had one digit.
        short: bool,
    },
    /// After the second colon of `H:MM:SS`.
    Colon2,
    /// One digit of the third group.
    Third1,
    /// A complete timestamp, expecting `,`.
    Stamped,
    /// After `,`, expecting a space.
    Comma,
    /// After `, `, expecting the speaker's first letter.
    SpeakerStart,
    /// Inside the speaker's name, with its length so far.
    Speaker(u8),
    /// After `;`, expecting a space.
    Semicolon,
    /// Numeric: digits of a number, with its digit count.
    Number(u8),
    /// Numeric: after `-`, expecting the range's end.
    Dash,
    /// Numeric: digits of a range's end.
    RangeEnd(u8),
    /// Numeric: after `,`, expecting an optional space or a digit.
    NumberComma,
    /// Numeric: after `, `, expecting a digit.
    NumberStart,
}

/// What one more character does to a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Still a possible citation.
    Continue(State),
    /// The closing `]`: the candidate is complete.
    Close,
    /// This character proves the candidate is not a citation.
    Reject,
}

impl Pattern {
    /// The state right after the opening `[`.
    pub fn start(self) -> State {
        match self {
            Pattern::TimestampSpeaker => State::EntryStart,
            Pattern::Numeric => State::NumberStart,
        }
    }

    /// Advances a candidate by one character. `classify` tells letters and
    /// marks among the non-ASCII characters of a speaker's name; no other
    /// character is given to it.
    pub fn step(self, state: State, c: char, classify: Classify) -> Step {
        use State::*;
        use Step::{Close, Continue, Reject};
        let digit = c.is_ascii_digit();
        let sexagesimal = matches!(c, '0'..='5');
        match (self, state) {
            (Pattern::TimestampSpeaker, state) => match state {
                EntryStart if digit => Continue(Lead(1)),
                Lead(1) if digit => Continue(Lead(2)),
                Lead(n) if c == ':' => Continue(Colon1 { short: n == 1 }),
                Colon1 { short } if sexagesimal => Continue(Second1 { short }),
                Second1 { short } if digit => Continue(Second2 { short }),
                Second2 { short: true } if c == ':' => Continue(Colon2),
                Second2 { .. } | Stamped if c == ',' => Continue(Comma),
                Colon2 if sexagesimal => Continue(Third1),
                Third1 if digit => Continue(Stamped),
                Comma if c == ' ' => Continue(SpeakerStart),
                SpeakerStart if is_letter(c, classify) => Continue(Speaker(1)),
                Speaker(_) if c == ']' => Close,
                Speaker(_) if c == ';' => Continue(Semicolon),
                Speaker(n) if n < MAX_SPEAKER_CHARS && is_speaker_char(c, classify) => {
                    Continue(Speaker(n + 1))
                }
                Semicolon if c == ' ' => Continue(EntryStart),
                _ => Reject,
            },
            (Pattern::Numeric, state) => match state {
                NumberStart if digit => Continue(Number(1)),
                NumberComma if c == ' ' => Continue(NumberStart),
                NumberComma if digit => Continue(Number(1)),
                Number(n) if digit && n < MAX_NUMBER_DIGITS => Continue(Number(n + 1)),
                Number(_) if c == '-' => Continue(Dash),
                Dash if digit => Continue(RangeEnd(1)),
                RangeEnd(n) if digit && n < MAX_NUMBER_DIGITS => Continue(RangeEnd(n + 1)),
                Number(_) | RangeEnd(_) if c == ',' => Continue(NumberComma),
                Number(_) | RangeEnd(_) if c == ']' => Close,
                _ => Reject,
            },
        }
    }

    /// Reads the entries of a closed candidate (`[` … `]`, already accepted
    /// by [`step`](Self::step)). `None` when a rule that only the whole
    /// entry shows is broken: a range that runs backwards or is too wide.
    pub fn entries(self, bracket: &str) -> Option<Vec<CitationRef>> {
        let inner = bracket.strip_prefix('[')?.strip_suffix(']')?;
        match self {
            // The grammar has matched the bracket, and a speaker holds no
            // `,` or `;`: entries are split at each `;` (then its space),
            // timestamp and speaker at the `,` (then its space). Splitting
            // at single characters keeps a substring search out of the
            // module.
            Pattern::TimestampSpeaker => inner
                .split(';')
                .map(|entry| {
                    let entry = entry.strip_prefix(' ').unwrap_or(entry);
                    let (timestamp, speaker) = entry.split_once(',')?;
                    let speaker = speaker.strip_prefix(' ')?;
                    Some(CitationRef::Timestamp {
                        seconds: seconds_of(timestamp)?,
                        timestamp: timestamp.to_owned(),
                        speaker: speaker.to_owned(),
                    })
                })
                .collect(),
            Pattern::Numeric => {
                let mut refs = Vec::new();
                for item in inner.split(',') {
                    let item = item.trim_start_matches(' ');
                    let (first, last) = match item.split_once('-') {
                        Some((a, b)) => (number_of(a)?, number_of(b)?),
                        None => {
                            let n = number_of(item)?;
                            (n, n)
                        }
                    };
                    if last < first || last - first > MAX_RANGE {
                        return None;
                    }
                    refs.extend((first..=last).map(|number| CitationRef::Number { number }));
                }
                Some(refs)
            }
        }
    }
}

/// The seconds a validated `M:SS`, `MM:SS` or `H:MM:SS` stands for.
fn seconds_of(timestamp: &str) -> Option<u32> {
    timestamp
        .split(':')
        .try_fold(0u32, |total, group| Some(total * 60 + number_of(group)?))
}

/// The value of a number the grammar has accepted: one to four ASCII
/// digits. Simpler than `u32::from_str`, which also reads a sign; `None`
/// for anything else, overflow included.
fn number_of(digits: &str) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.bytes().try_fold(0u32, |value, byte| {
        let digit = char::from(byte).to_digit(10)?;
        value.checked_mul(10)?.checked_add(digit)
    })
}

/// A Unicode letter (general category L).
fn is_letter(c: char, classify: Classify) -> bool {
    c.is_ascii_alphabetic() || (!c.is_ascii() && classify(c) == CharClass::Letter)
}

/// A character allowed after a speaker's first letter: a letter, a mark
/// (general category M), a space, `.`, `'` or `-`.
fn is_speaker_char(c: char, classify: Classify) -> bool {
    matches!(c, ' ' | '.' | '\'' | '-')
        || c.is_ascii_alphabetic()
        || (!c.is_ascii() && classify(c) != CharClass::Other)
}
