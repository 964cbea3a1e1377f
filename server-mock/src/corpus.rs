//! The call transcripts the server searches and cites.
//!
//! Transcripts are plain text files (see `corpus/acme-discovery.txt` for the
//! format) so that adding a conversation never means touching Rust code. The
//! bundled ones are compiled into the binary; a directory loader can reuse
//! [`Conversation::parse`] as is.

use crate::model::retrieval::Index;
use std::fmt;
use std::sync::OnceLock;

/// The transcripts compiled into the binary, as `(file name, contents)`.
const BUNDLED: &[(&str, &str)] = &[
    (
        "acme-discovery.txt",
        include_str!("../corpus/acme-discovery.txt"),
    ),
    (
        "cyberdyne-qbr.txt",
        include_str!("../corpus/cyberdyne-qbr.txt"),
    ),
    (
        "globex-renewal.txt",
        include_str!("../corpus/globex-renewal.txt"),
    ),
    (
        "hooli-churn-risk.txt",
        include_str!("../corpus/hooli-churn-risk.txt"),
    ),
    (
        "initech-demo.txt",
        include_str!("../corpus/initech-demo.txt"),
    ),
    (
        "massive-dynamic-renewal.txt",
        include_str!("../corpus/massive-dynamic-renewal.txt"),
    ),
    (
        "northwind-discovery.txt",
        include_str!("../corpus/northwind-discovery.txt"),
    ),
    (
        "soylent-support.txt",
        include_str!("../corpus/soylent-support.txt"),
    ),
    (
        "stark-onboarding.txt",
        include_str!("../corpus/stark-onboarding.txt"),
    ),
    ("tyrell-demo.txt", include_str!("../corpus/tyrell-demo.txt")),
    (
        "umbrella-security-review.txt",
        include_str!("../corpus/umbrella-security-review.txt"),
    ),
    (
        "vandelay-discovery.txt",
        include_str!("../corpus/vandelay-discovery.txt"),
    ),
    (
        "wayne-pricing-negotiation.txt",
        include_str!("../corpus/wayne-pricing-negotiation.txt"),
    ),
];

/// Every conversation the server knows, in a stable order.
#[derive(Debug, Clone)]
pub struct Corpus {
    conversations: Vec<Conversation>,
    /// Built on first use; the conversations never change after that.
    index: OnceLock<Index>,
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Stable id used in citations, e.g. `c_acme_discovery`.
    pub id: String,
    /// Human title, e.g. `Acme Corp discovery call`.
    pub title: String,
    /// The customer or prospect the call was with, e.g. `Acme Corp`; the
    /// title when the transcript does not name one.
    pub account: String,
    /// The turns in the order they were spoken.
    pub turns: Vec<Turn>,
}

/// One speaker's turn: the unit that retrieval ranks and answers cite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Offset from the start of the call.
    pub seconds: u32,
    /// Who spoke, as it should appear in a citation.
    pub speaker: String,
    /// What they said.
    pub text: String,
}

/// A transcript that could not be read, with the place it went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusError {
    /// The file being parsed.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What was wrong with that line.
    pub reason: &'static str,
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

impl std::error::Error for CorpusError {}

impl Corpus {
    /// Parses the transcripts compiled into the binary.
    pub fn bundled() -> Result<Self, CorpusError> {
        let conversations = BUNDLED
            .iter()
            .map(|(file, text)| Conversation::parse(file, text))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(conversations))
    }

    /// Builds a corpus from conversations already in memory.
    pub fn new(conversations: Vec<Conversation>) -> Self {
        Self {
            conversations,
            index: OnceLock::new(),
        }
    }

    /// The retrieval index over this corpus's turns, built the first time
    /// it is asked for and shared by every question after.
    pub fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::new(self))
    }

    /// The conversations, in corpus order (the order ties are broken in).
    pub fn conversations(&self) -> &[Conversation] {
        &self.conversations
    }

    /// Every turn of every conversation, paired with its conversation.
    pub fn turns(&self) -> impl Iterator<Item = (&Conversation, &Turn)> {
        self.conversations
            .iter()
            .flat_map(|c| c.turns.iter().map(move |t| (c, t)))
    }
}

impl Conversation {
    /// Parses one transcript: `key: value` header lines (`id`, `title`,
    /// optionally `account`), a blank line, then `MM:SS | Speaker | text`
    /// turns. `#` lines are comments.
    pub fn parse(file: &str, text: &str) -> Result<Self, CorpusError> {
        let error = |line: usize, reason| CorpusError {
            file: file.to_owned(),
            line: line + 1,
            reason,
        };
        let mut id = None;
        let mut title = None;
        let mut account = None;
        let mut turns = Vec::new();
        let mut in_header = true;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if line.is_empty() {
                in_header = false;
                continue;
            }
            if in_header {
                match line.split_once(':') {
                    Some(("id", value)) => id = Some(value.trim().to_owned()),
                    Some(("title", value)) => title = Some(value.trim().to_owned()),
                    Some(("account", value)) => account = Some(value.trim().to_owned()),
                    _ => return Err(error(n, "expected `id: …`, `title: …` or `account: …`")),
                }
                continue;
            }
            let mut fields = line.splitn(3, '|').map(str::trim);
            let (Some(time), Some(speaker), Some(said)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(error(n, "expected `MM:SS | Speaker | text`"));
            };
            let seconds = parse_timestamp(time).ok_or_else(|| error(n, "bad timestamp"))?;
            if said.is_empty() {
                return Err(error(n, "empty text"));
            }
            if !is_citable_speaker(speaker) {
                return Err(error(n, "speaker name cannot be cited inline"));
            }
            turns.push(Turn {
                seconds,
                speaker: speaker.to_owned(),
                text: said.to_owned(),
            });
        }
        match (id, title) {
            (Some(id), Some(title)) if !turns.is_empty() => Ok(Self {
                id,
                account: account.unwrap_or_else(|| title.clone()),
                title,
                turns,
            }),
            _ => Err(error(0, "missing `id`, `title` or turns")),
        }
    }
}

/// Whether `name` can stand in an inline citation: 1 to 60 Unicode letters
/// and marks, spaces, `.`, `'` and `-`, starting with a letter
/// (docs/protocol.md, "Inline citations in the token stream"). A speaker who
/// fails this could never be cited, so transcripts are checked on load.
pub fn is_citable_speaker(name: &str) -> bool {
    // std has no general-category test; Unicode's Alphabetic property is
    // letters plus the marks that spell words (Indic vowel signs and the
    // like), which is what names need. A name with a purely diacritic
    // combining mark is refused: write it precomposed (NFC), as `é`.
    let allowed = |c: char| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-');
    name.chars().next().is_some_and(char::is_alphabetic)
        && name.chars().count() <= 60
        && name.chars().all(allowed)
}

/// Parses `M:SS`, `MM:SS` or `H:MM:SS` into seconds.
pub fn parse_timestamp(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (h, m, s) = match parts.as_slice() {
        [m, s] => (0, number(m)?, number(s)?),
        [h, m, s] if m.len() == 2 => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    (parts.last()?.len() == 2 && s < 60 && (h == 0 || m < 60)).then_some(h * 3600 + m * 60 + s)
}

/// Formats seconds the way citations write them: `MM:SS`, or `H:MM:SS` past
/// the first hour.
pub fn format_timestamp(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_corpus_parses() {
        let corpus = Corpus::bundled().expect("bundled corpus parses");
        assert_eq!(corpus.conversations().len(), BUNDLED.len());
        assert!(corpus.conversations().len() >= 12);
        let ids: std::collections::BTreeSet<&str> = corpus
            .conversations()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids.len(), BUNDLED.len(), "duplicate ids");
    }

    #[test]
    fn bundled_transcripts_look_like_real_calls() {
        let corpus = Corpus::bundled().expect("bundled corpus parses");
        for c in corpus.conversations() {
            assert!(
                (12..=30).contains(&c.turns.len()),
                "{}: {} turns",
                c.id,
                c.turns.len()
            );
            assert!(
                c.turns.windows(2).all(|w| w[0].seconds < w[1].seconds),
                "{}",
                c.id
            );
            assert_ne!(c.account, c.title, "{} names its account", c.id);
            let speakers: std::collections::BTreeSet<&str> =
                c.turns.iter().map(|t| t.speaker.as_str()).collect();
            assert!(speakers.len() >= 2, "{}", c.id);
        }
        let long = corpus
            .conversations()
            .iter()
            .filter(|c| c.turns.iter().any(|t| t.seconds >= 3600))
            .count();
        assert!(long >= 3, "{long} calls run past an hour");
        for script in [
            "Дмитрий",
            "李娜",
            "محمد",
            "Søren",
            "Aoife Ní",
            "O'Connor",
            "Jean-Luc",
        ] {
            assert!(
                corpus.turns().any(|(_, t)| t.speaker.contains(script)),
                "{script}"
            );
        }
    }

    #[test]
    fn citable_speakers_follow_the_citation_grammar() {
        for good in [
            "Sarah Johnson",
            "李娜",
            "Aoife Ní Bhriain",
            "Daniel O'Connor",
            "J. R. Ewing",
            "Jean-Luc",
        ] {
            assert!(is_citable_speaker(good), "{good}");
        }
        let long = "a".repeat(61);
        for bad in [
            "",
            " Sam",
            "-Sam",
            "R2D2",
            "Sam (host)",
            "Sam, Bob",
            long.as_str(),
        ] {
            assert!(!is_citable_speaker(bad), "{bad}");
        }
        assert!(is_citable_speaker(&"a".repeat(60)));
    }

    #[test]
    fn parse_refuses_speakers_that_cannot_be_cited_and_defaults_the_account() {
        let err = Conversation::parse("x.txt", "id: c_x\ntitle: X\n\n1:00 | Agent 7 | hi\n");
        assert_eq!(err.map(|_| ()).map_err(|e| e.line), Err(4));
        let ok = Conversation::parse("x.txt", "id: c_x\ntitle: X call\n\n1:00 | Bo | hi\n");
        assert_eq!(ok.map(|c| c.account), Ok("X call".to_owned()));
    }

    #[test]
    fn timestamps_round_trip() {
        for (text, seconds) in [("12:45", 765), ("00:05", 5), ("1:02:03", 3723)] {
            assert_eq!(parse_timestamp(text), Some(seconds));
            assert_eq!(format_timestamp(seconds), text);
        }
        assert_eq!(parse_timestamp("3:07"), Some(187));
        for bad in [
            "", "12", "1:2", "12:60", "1:60:00", "a:bc", "-1:00", "1:2:3:4",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parse_reports_the_bad_line() {
        let err = Conversation::parse("x.txt", "id: c_x\ntitle: X\n\n1:00 Bob says hi\n");
        assert_eq!(err.map_err(|e| e.line), Err(4));
    }
}
