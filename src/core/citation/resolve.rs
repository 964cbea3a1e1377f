//! Matching the inline citations of an answer against the sources of the
//! `citations` event.

use super::{CitationRef, Segment};
use crate::core::protocol::Citation;

/// Which sources back each inline citation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// For the n-th citation segment, the indices into the sources of every
    /// source one of its entries matches, in entry order.
    pub matches: Vec<Vec<usize>>,
    /// The entries no source backs.
    pub unbacked: Vec<UnbackedCitation>,
}

/// An inline citation entry that matches no source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnbackedCitation {
    /// Its citation segment's index among the citation segments.
    pub segment_index: usize,
    /// The entry as written.
    pub entry: CitationRef,
}

/// Matches every citation segment's entries to the sources: a timestamp
/// entry by `timestamp` and `speaker` (exact), a numeric entry `n` to the
/// n-th source.
pub fn resolve<'a>(
    segments: impl IntoIterator<Item = &'a Segment>,
    sources: &[Citation],
) -> Resolution {
    let mut resolution = Resolution::default();
    let citation_entries = segments.into_iter().filter_map(|segment| match segment {
        Segment::Citation { citations, .. } => Some(citations),
        Segment::Text { .. } => None,
    });
    for (segment_index, entries) in citation_entries.enumerate() {
        let mut matched = Vec::new();
        for entry in entries {
            let found = match entry {
                CitationRef::Timestamp {
                    timestamp, speaker, ..
                } => sources
                    .iter()
                    .position(|s| &s.timestamp == timestamp && &s.speaker == speaker),
                CitationRef::Number { number } => {
                    let index = (*number as usize).wrapping_sub(1);
                    (index < sources.len()).then_some(index)
                }
            };
            match found {
                Some(index) => matched.push(index),
                None => resolution.unbacked.push(UnbackedCitation {
                    segment_index,
                    entry: entry.clone(),
                }),
            }
        }
        resolution.matches.push(matched);
    }
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(timestamp: &str, speaker: &str) -> Citation {
        Citation {
            id: format!("{timestamp}-{speaker}"),
            conversation_id: "c_1".into(),
            conversation_title: "Call".into(),
            timestamp: timestamp.into(),
            seconds: 0,
            speaker: speaker.into(),
            quote: "…".into(),
        }
    }

    fn stamp(timestamp: &str, speaker: &str) -> CitationRef {
        CitationRef::Timestamp {
            timestamp: timestamp.into(),
            seconds: 0,
            speaker: speaker.into(),
        }
    }

    #[test]
    fn matches_by_timestamp_and_speaker_and_lists_the_unbacked() {
        let sources = [
            source("12:45", "Sarah Johnson"),
            source("14:02", "Mark Lee"),
        ];
        let segments = [
            Segment::Text { text: "a ".into() },
            Segment::Citation {
                text: "[14:02, Mark Lee; 12:45, Sarah Johnson]".into(),
                citations: vec![stamp("14:02", "Mark Lee"), stamp("12:45", "Sarah Johnson")],
            },
            Segment::Citation {
                text: "[12:45, Mark Lee]".into(),
                citations: vec![stamp("12:45", "Mark Lee")],
            },
        ];
        let resolution = resolve(&segments, &sources);
        assert_eq!(resolution.matches, vec![vec![1, 0], vec![]]);
        assert_eq!(
            resolution.unbacked,
            vec![UnbackedCitation {
                segment_index: 1,
                entry: stamp("12:45", "Mark Lee"),
            }]
        );
    }

    #[test]
    fn numeric_entries_match_the_nth_source() {
        let sources = [source("0:01", "A"), source("0:02", "B")];
        let segments = [Segment::Citation {
            text: "[2, 3]".into(),
            citations: vec![
                CitationRef::Number { number: 2 },
                CitationRef::Number { number: 3 },
            ],
        }];
        let resolution = resolve(&segments, &sources);
        assert_eq!(resolution.matches, vec![vec![1]]);
        assert_eq!(resolution.unbacked.len(), 1);
        assert_eq!(
            resolution.unbacked[0].entry,
            CitationRef::Number { number: 3 }
        );
    }
}
