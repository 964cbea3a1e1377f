//! The call transcripts the server searches and cites.
//!
//! Transcripts are plain text files (see `corpus/acme-discovery.txt` for the
//! format) so that adding a conversation never means touching Rust code. The
//! bundled ones are compiled into the binary; a directory loader can reuse
//! [`Conversation::parse`] as is.

use std::fmt;

/// The transcripts compiled into the binary, as `(file name, contents)`.
const BUNDLED: &[(&str, &str)] = &[
    (
        "acme-discovery.txt",
        include_str!("../corpus/acme-discovery.txt"),
    ),
    (
        "globex-renewal.txt",
        include_str!("../corpus/globex-renewal.txt"),
    ),
    (
        "initech-demo.txt",
        include_str!("../corpus/initech-demo.txt"),
    ),
];

/// Every conversation the server knows, in a stable order.
#[derive(Debug, Clone)]
pub struct Corpus {
    conversations: Vec<Conversation>,
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// Stable id used in citations, e.g. `c_acme_discovery`.
    pub id: String,
    /// Human title, e.g. `Acme Corp discovery call`.
    pub title: String,
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
        Ok(Self { conversations })
    }

    /// Builds a corpus from conversations already in memory.
    pub fn new(conversations: Vec<Conversation>) -> Self {
        Self { conversations }
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
    /// Parses one transcript: `key: value` header lines (`id`, `title`), a
    /// blank line, then `MM:SS | Speaker | text` turns. `#` lines are comments.
    pub fn parse(file: &str, text: &str) -> Result<Self, CorpusError> {
        let error = |line: usize, reason| CorpusError {
            file: file.to_owned(),
            line: line + 1,
            reason,
        };
        let mut id = None;
        let mut title = None;
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
                    _ => return Err(error(n, "expected `id: …` or `title: …`")),
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
            if speaker.is_empty() || said.is_empty() {
                return Err(error(n, "empty speaker or text"));
            }
            turns.push(Turn {
                seconds,
                speaker: speaker.to_owned(),
                text: said.to_owned(),
            });
        }
        match (id, title) {
            (Some(id), Some(title)) if !turns.is_empty() => Ok(Self { id, title, turns }),
            _ => Err(error(0, "missing `id`, `title` or turns")),
        }
    }
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
        assert!(corpus.turns().any(|(_, t)| !t.speaker.is_ascii()));
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
