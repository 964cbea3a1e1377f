//! Between Rust values and JS values, without a serialisation framework:
//! JSON payloads are parsed by the engine's `JSON.parse` and read member by
//! member; output objects are built by small JS functions, one call per
//! object, so the module carries neither serde nor its error formatting.
//!
//! Segments cross in one form, for a chunk's batch and for a whole
//! answer's alike: one string, the UTF-16 offsets where each segment ends
//! in it, the indexes of the citation segments and their entries
//! (`deliverBatch`, `segmentsOf`).

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::citation::{CitationRef, Resolution};
use crate::core::pipeline::{SegmentBatch, SegmentLog, Transcript};
use crate::core::protocol::{Citation, DoneInfo, Json, SessionInfo, StatusInfo};

#[wasm_bindgen(module = "/js/objects.js")]
extern "C" {
    fn reconnect(attempt: u32, last_event_id: Option<&str>, delay_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = stampEntry)]
    fn stamp_entry(timestamp: &str, seconds: u32, speaker: &str) -> JsValue;
    #[wasm_bindgen(js_name = numberEntry)]
    fn number_entry(number: u32) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    fn source(
        id: &str,
        conversation_id: &str,
        conversation_title: &str,
        timestamp: &str,
        seconds: u32,
        speaker: &str,
        quote: &str,
    ) -> JsValue;
    fn session(session_id: &str, message_id: &str) -> JsValue;
    fn status(message: &str) -> JsValue;
    fn done(message_id: &str, processing_ms: f64, token_count: f64) -> JsValue;
    fn unbacked(segment_index: u32, entry: JsValue) -> JsValue;
    fn resolution(matches: Array, unbacked: Array) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    fn result(
        session_id: JsValue,
        message_id: JsValue,
        text: &JsValue,
        segments: Array,
        citations: Array,
        status: &str,
        error: JsValue,
    ) -> JsValue;
    #[wasm_bindgen(js_name = segmentsOf)]
    fn segments_of(
        text: &JsValue,
        ends: &[u32],
        citation_at: &[u32],
        citation_entries: Option<Array>,
    ) -> Array;
    /// Makes the segments of a batch and calls `callback` with each, in JS
    /// (one boundary crossing per batch), until `state.closed` is set;
    /// returns the index of the call that threw (its exception kept in
    /// `state`), or -1. The segments come as `segmentsOf` takes them.
    #[wasm_bindgen(js_name = deliverBatch)]
    fn deliver_batch(
        text: &str,
        ends: &[u32],
        citation_at: &[u32],
        citation_entries: Option<Array>,
        callback: &js_sys::Function,
        this: &JsValue,
        state: &js_sys::Object,
    ) -> i32;
    /// The exception `deliverBatch` kept.
    #[wasm_bindgen(js_name = takeThrown)]
    pub(crate) fn take_thrown(state: &js_sys::Object) -> JsValue;
}

/// A value parsed by `JSON.parse` (or any JS value read as JSON).
pub(crate) struct EngineJson(JsValue);

impl EngineJson {
    /// A JS value, read member by member.
    pub(crate) fn of(value: JsValue) -> EngineJson {
        EngineJson(value)
    }
}

impl Json for EngineJson {
    fn parse(text: &str) -> Option<Self> {
        js_sys::JSON::parse(text).ok().map(EngineJson)
    }

    fn member(&self, name: &str) -> Option<Self> {
        if !self.0.is_object() || js_sys::Array::is_array(&self.0) {
            return None;
        }
        let value = Reflect::get(&self.0, &JsValue::from_str(name)).ok()?;
        (!value.is_undefined()).then_some(EngineJson(value))
    }

    fn string(&self) -> Option<String> {
        self.0.as_string()
    }

    fn number(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.0.as_bool()
    }

    fn elements(&self) -> Option<Vec<Self>> {
        if !Array::is_array(&self.0) {
            return None;
        }
        Some(Array::from(&self.0).iter().map(EngineJson).collect())
    }
}

fn entry_to_js(entry: &CitationRef) -> JsValue {
    match entry {
        CitationRef::Timestamp {
            timestamp,
            seconds,
            speaker,
        } => stamp_entry(timestamp, *seconds, speaker),
        CitationRef::Number { number } => number_entry(*number),
    }
}

/// One citation segment's entries, as an array.
pub(crate) fn entries_to_js(entries: &[CitationRef]) -> JsValue {
    entries.iter().map(entry_to_js).collect::<Array>().into()
}

/// The citation segments of a batch or a log: their indexes, and for each
/// the array of its entries.
/// Most batches cite nothing: no array is made for them.
fn citations_to_js(citations: &[(usize, Vec<CitationRef>)]) -> (Vec<u32>, Option<Array>) {
    if citations.is_empty() {
        return (Vec::new(), None);
    }
    let at = citations.iter().map(|(at, _)| *at as u32).collect();
    let entries = citations
        .iter()
        .map(|(_, entries)| entries_to_js(entries))
        .collect();
    (at, Some(entries))
}

/// Hands a batch of segments to `callback` in one crossing (see
/// `deliverBatch`): the index of the call that threw, or -1.
pub(crate) fn deliver_segment_batch(
    batch: &SegmentBatch,
    callback: &js_sys::Function,
    this: &JsValue,
    state: &js_sys::Object,
) -> i32 {
    let (citation_at, citation_entries) = citations_to_js(&batch.log.citations);
    deliver_batch(
        &batch.text,
        &utf16_ends(&batch.text, &batch.log),
        &citation_at,
        citation_entries,
        callback,
        this,
        state,
    )
}

/// The segments of a whole answer, cut out of its text (`text_js`, the
/// same text already made a JS string) at the logged ends.
pub(crate) fn transcript_segments_to_js(transcript: &Transcript, text_js: &JsValue) -> Array {
    let log = &transcript.segments;
    let ends = utf16_ends(&transcript.text, log);
    let (citation_at, citation_entries) = citations_to_js(&log.citations);
    segments_of(text_js, &ends, &citation_at, citation_entries)
}

/// Where each logged segment ends in `text`, counted as JS strings count:
/// in UTF-16 code units.
fn utf16_ends(text: &str, log: &SegmentLog) -> Vec<u32> {
    let mut ends = Vec::with_capacity(log.ends.len());
    let (mut start, mut units) = (0, 0u32);
    for &end in &log.ends {
        units += utf16_len(text.get(start..end).unwrap_or_default());
        ends.push(units);
        start = end;
    }
    ends
}

/// The length of `text` in UTF-16 code units: one per character (each byte
/// but a continuation byte starts one), and one more for a character beyond
/// the Basic Multilingual Plane (its four-byte sequence starts at 0xF0 or
/// above). Every batch's text goes through this, and counting bytes takes
/// about half the time of decoding the characters.
pub(crate) fn utf16_len(text: &str) -> u32 {
    text.bytes()
        .map(|b| u32::from(b & 0xC0 != 0x80) + u32::from(b >= 0xF0))
        .sum()
}

/// The segments of a batch, as an array.
pub(crate) fn batch_to_js(batch: &SegmentBatch) -> JsValue {
    let (citation_at, citation_entries) = citations_to_js(&batch.log.citations);
    segments_of(
        &JsValue::from_str(&batch.text),
        &utf16_ends(&batch.text, &batch.log),
        &citation_at,
        citation_entries,
    )
    .into()
}

/// The value `finished` resolves to: the answer so far, its `status`, and
/// the error it ended with, if any.
pub(crate) fn result_to_js(transcript: &Transcript, status: &str, error: JsValue) -> JsValue {
    let (session_id, message_id) = match &transcript.session {
        Some(session) => (
            JsValue::from_str(&session.session_id),
            JsValue::from_str(&session.message_id),
        ),
        None => (JsValue::NULL, JsValue::NULL),
    };
    let text = JsValue::from_str(&transcript.text);
    let segments = if transcript.markdown.is_empty() {
        transcript_segments_to_js(transcript, &text)
    } else {
        super::markdown::markdown_to_js(&transcript.markdown)
    };
    result(
        session_id,
        message_id,
        &text,
        segments,
        sources_to_js(&transcript.citations),
        status,
        error,
    )
}

pub(crate) fn session_to_js(info: &SessionInfo) -> JsValue {
    session(&info.session_id, &info.message_id)
}

pub(crate) fn status_to_js(info: &StatusInfo) -> JsValue {
    status(&info.message)
}

/// What `onReconnect` hears of a resume attempt.
pub(crate) fn reconnect_to_js(attempt: u32, last_event_id: Option<&str>, delay_ms: f64) -> JsValue {
    reconnect(attempt, last_event_id, delay_ms)
}

pub(crate) fn done_to_js(info: &DoneInfo) -> JsValue {
    done(
        &info.message_id,
        info.processing_ms,
        info.token_count as f64,
    )
}

/// The sources of a `citations` event.
pub(crate) fn sources_to_js(citations: &[Citation]) -> Array {
    citations
        .iter()
        .map(|c| {
            source(
                &c.id,
                &c.conversation_id,
                &c.conversation_title,
                &c.timestamp,
                c.seconds,
                &c.speaker,
                &c.quote,
            )
        })
        .collect()
}

/// The `onCitations` resolution: for each citation segment the source
/// objects it matched (the same objects as in `sources`), and the entries
/// that match none.
pub(crate) fn resolution_to_js(sources: &Array, value: &Resolution) -> JsValue {
    let matches: Array = value
        .matches
        .iter()
        .map(|indices| -> JsValue {
            indices
                .iter()
                .map(|&i| sources.get(i as u32))
                .collect::<Array>()
                .into()
        })
        .collect();
    let missing: Array = value
        .unbacked
        .iter()
        .map(|u| unbacked(u.segment_index as u32, entry_to_js(&u.entry)))
        .collect();
    resolution(matches, missing)
}
