//! Matching the inline citations of an answer against the sources of the
//! `citations` event.

use serde::Serialize;

use super::{CitationRef, Segment};
use crate::core::protocol::Citation;

/// Which sources back each inline citation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// For the n-th citation segment, the indices into the sources of every
    /// source one of its entries matches, in entry order.
    pub matches: Vec<Vec<usize>>,
    /// The entries no source backs.
    pub unbacked: Vec<UnbackedCitation>,
}

/// An inline citation entry that matches no source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnbackedCitation {
    /// Its citation segment's index among the citation segments.
    pub segment_index: usize,
    /// The entry as written.
    #[serde(flatten)]
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
