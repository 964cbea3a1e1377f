//! Markdown segments across the boundary, in one form for a chunk's batch,
//! a whole answer and the low-level segmenter alike: one string holding
//! every segment's texts in order, and a list of numbers saying how to cut
//! it (`markdownOf` in `js/objects.js` reads it back).
//!
//! Per segment: a head `kind | tag << 2 | flags`, then lengths in UTF-16
//! code units. Open (kind 0): the raw's length, then the href's and the
//! lang's when bits 7 and 8 say they are there, then `start` when bit 9
//! does; bits 10-11 are the alignment. Close (1): the raw's length. Text
//! (2): the text's length, and the raw's when bit 7 says it differs.
//! Citation (3): the text's length (its raw is its text); its entries come
//! in a separate array, one per citation segment.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::convert::{entries_to_js, utf16_len};
use crate::core::markdown::{Align, MarkdownOptions, MarkdownSegment, MarkdownSegmenter, Tag};
use crate::wasm::lowlevel::citation_options;
use crate::wasm::unicode::CLASSIFY;

#[wasm_bindgen(module = "/js/objects.js")]
extern "C" {
    #[wasm_bindgen(js_name = markdownOf)]
    fn markdown_of(text: &str, codes: &[u32], entries: JsValue) -> Array;
    #[wasm_bindgen(js_name = deliverMarkdown)]
    fn deliver_markdown(
        text: &str,
        codes: &[u32],
        entries: JsValue,
        callback: &js_sys::Function,
        this: &JsValue,
        state: &js_sys::Object,
    ) -> i32;
}

/// The tag's number, its index in `objects.js`'s `TAGS`.
fn tag_code(tag: Tag) -> u32 {
    match tag {
        Tag::P => 0,
        Tag::H(level) => u32::from(level.clamp(1, 6)),
        Tag::Ul => 7,
        Tag::Ol => 8,
        Tag::Li => 9,
        Tag::Blockquote => 10,
        Tag::Pre => 11,
        Tag::Code => 12,
        Tag::Hr => 13,
        Tag::Br => 14,
        Tag::Strong => 15,
        Tag::Em => 16,
        Tag::Del => 17,
        Tag::A => 18,
        Tag::Table => 19,
        Tag::Thead => 20,
        Tag::Tbody => 21,
        Tag::Tr => 22,
        Tag::Th => 23,
        Tag::Td => 24,
    }
}

/// Segments packed as the module comment says.
struct Packed {
    text: String,
    codes: Vec<u32>,
    entries: Option<Array>,
}

#[cfg_attr(cite_stream_size, optimize(size))]
fn pack(segments: &[MarkdownSegment]) -> Packed {
    let mut packed = Packed {
        text: String::new(),
        codes: Vec::with_capacity(segments.len() * 3),
        entries: None,
    };
    let add = |packed: &mut Packed, s: &str| {
        packed.text.push_str(s);
        packed.codes.push(utf16_len(s));
    };
    for segment in segments {
        match segment {
            MarkdownSegment::Open { tag, attrs, raw } => {
                let align = match attrs.align {
                    None => 0,
                    Some(Align::Left) => 1,
                    Some(Align::Center) => 2,
                    Some(Align::Right) => 3,
                };
                let head = tag_code(*tag) << 2
                    | u32::from(attrs.href.is_some()) << 7
                    | u32::from(attrs.lang.is_some()) << 8
                    | u32::from(attrs.start.is_some()) << 9
                    | align << 10;
                packed.codes.push(head);
                add(&mut packed, raw);
                for value in [&attrs.href, &attrs.lang].into_iter().flatten() {
                    add(&mut packed, value);
                }
                if let Some(start) = attrs.start {
                    packed.codes.push(start);
                }
            }
            MarkdownSegment::Close { tag, raw } => {
                packed.codes.push(1 | tag_code(*tag) << 2);
                add(&mut packed, raw);
            }
            MarkdownSegment::Text { text, raw } => {
                let differs = text != raw;
                packed.codes.push(2 | u32::from(differs) << 7);
                add(&mut packed, text);
                if differs {
                    add(&mut packed, raw);
                }
            }
            MarkdownSegment::Citation {
                text, citations, ..
            } => {
                packed.codes.push(3);
                add(&mut packed, text);
                packed
                    .entries
                    .get_or_insert_with(Array::new)
                    .push(&entries_to_js(citations));
            }
        }
    }
    packed
}

/// The segments as an array of JS objects.
pub(crate) fn markdown_to_js(segments: &[MarkdownSegment]) -> Array {
    let packed = pack(segments);
    markdown_of(
        &packed.text,
        &packed.codes,
        packed.entries.map_or(JsValue::UNDEFINED, Into::into),
    )
}

/// Hands segments to `callback` in one crossing (see `deliverMarkdown`):
/// the index of the call that threw, or -1.
pub(crate) fn deliver_markdown_segments(
    segments: &[MarkdownSegment],
    callback: &js_sys::Function,
    this: &JsValue,
    state: &js_sys::Object,
) -> i32 {
    let packed = pack(segments);
    let entries = packed.entries.map_or(JsValue::UNDEFINED, Into::into);
    deliver_markdown(&packed.text, &packed.codes, entries, callback, this, state)
}

/// The Markdown segmenter, wrapped by the facade's `CitationBuffer` when
/// it is made with `markdown: true`.
#[wasm_bindgen(js_name = RawMarkdownSegmenter)]
pub struct RawMarkdownSegmenter {
    core: MarkdownSegmenter,
}

#[wasm_bindgen(js_class = RawMarkdownSegmenter)]
impl RawMarkdownSegmenter {
    /// A segmenter with these citation options (see `citation_options`).
    #[wasm_bindgen(constructor)]
    pub fn new(timeout_ms: Option<f64>, max_length: Option<f64>, numeric: bool) -> Self {
        let options: MarkdownOptions = citation_options(timeout_ms, max_length, numeric);
        RawMarkdownSegmenter {
            core: MarkdownSegmenter::with_classify(options, CLASSIFY),
        }
    }

    /// The segments ready to render after this text arrived at `now_ms`.
    pub fn push(&mut self, text: &str, now_ms: f64) -> Array {
        let mut out = Vec::new();
        self.core.push(text, now_ms, &mut out);
        markdown_to_js(&out)
    }

    /// The segments released by the timeout at `now_ms`.
    pub fn poll(&mut self, now_ms: f64) -> Array {
        let mut out = Vec::new();
        self.core.poll(now_ms, &mut out);
        markdown_to_js(&out)
    }

    /// Everything still held, and the closes of every open element.
    pub fn finish(&mut self) -> Array {
        let mut out = Vec::new();
        self.core.finish(&mut out);
        markdown_to_js(&out)
    }

    /// When `poll` would release a held `[`.
    #[wasm_bindgen(getter)]
    pub fn deadline(&self) -> Option<f64> {
        self.core.deadline()
    }
}
