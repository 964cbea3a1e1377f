//! `EventStreamParser` and `CitationBuffer` for JS, usable with any
//! transport.

use std::ops::Range;

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use super::convert::batch_to_js;
use super::error::StreamError;
use super::unicode::CLASSIFY;
use crate::core::citation::{CitationBuffer as CoreBuffer, CitationOptions, Pattern};
use crate::core::pipeline::SegmentBatch;
use crate::core::sse::{
    EventRef, EventSink, EventStreamParser as CoreParser, DEFAULT_MAX_EVENT_BYTES,
};

/// The WHATWG event-stream parser, shaped for speed across the wasm
/// boundary; the facade's `EventStreamParser` wraps it.
///
/// Bytes come in through an input area in wasm memory that JS writes into
/// directly (no allocation per chunk). Events go out packed into one byte
/// run per chunk: type, data and last event ID of each event, each followed
/// by CR, which no field can contain (CR ends a line). JS decodes the run
/// with one `TextDecoder` call (the same U+FFFD replacement as decoding the
/// fields one by one, since CR is ASCII) and splits it.
///
/// A large data value that still lies in the input area (an event that came
/// whole in one chunk) is not copied into the run: JS decodes it where it
/// is, before it writes the next chunk. Its event is packed with an empty
/// data field and a type that starts with LF, which no type can contain,
/// and [`in_place`](Self::in_place) says where the value is. One value per
/// chunk at most (a chunk seldom completes two large events): the others
/// are copied as usual.
#[wasm_bindgen(js_name = RawEventStreamParser)]
pub struct RawEventStreamParser {
    core: CoreParser,
    input: Vec<u8>,
    packed: Vec<u8>,
    /// Address and length of the data value left in place; length 0 for
    /// none.
    in_place: [u32; 2],
}

/// From this size on, decoding a data value in place saves more (a copy,
/// and JS's search for its end) than the extra `TextDecoder` call costs.
const IN_PLACE_BYTES: usize = 8 << 10;

/// Packs events for JS.
struct Packer<'a> {
    packed: &'a mut Vec<u8>,
    in_place: &'a mut [u32; 2],
    input: Range<*const u8>,
}

impl EventSink for Packer<'_> {
    fn event(&mut self, event: EventRef<'_>) {
        let mut data = event.data;
        if data.len() >= IN_PLACE_BYTES
            && self.in_place[1] == 0
            && self.input.contains(&data.as_ptr())
        {
            // wasm32 addresses are u32 offsets into the module's memory.
            *self.in_place = [data.as_ptr() as u32, data.len() as u32];
            self.packed.push(b'\n');
            data = b"";
        }
        let fields = [event.event_type, data, event.last_event_id];
        self.packed
            .reserve(fields.iter().map(|f| f.len() + 1).sum());
        for field in fields {
            self.packed.extend_from_slice(field);
            self.packed.push(b'\r');
        }
    }
}

#[wasm_bindgen(js_class = RawEventStreamParser)]
impl RawEventStreamParser {
    /// A parser bounded by `maxEventBytes`, which the facade has checked
    /// (`None` for the default).
    #[wasm_bindgen(constructor)]
    pub fn new(max_event_bytes: Option<f64>) -> RawEventStreamParser {
        RawEventStreamParser {
            core: CoreParser::new(max_event_bytes.map_or(DEFAULT_MAX_EVENT_BYTES, |n| n as usize)),
            input: Vec::new(),
            packed: Vec::new(),
            in_place: [0; 2],
        }
    }

    /// The address of an input area of at least `len` bytes, for JS to
    /// write the next chunk into. It stays valid until a call asks for more.
    pub fn input(&mut self, len: usize) -> *mut u8 {
        if self.input.len() < len {
            self.input.resize(len, 0);
        }
        self.input.as_mut_ptr()
    }

    /// Parses the first `len` bytes of the input area; returns the length
    /// of the packed events they completed (0 for none), which start at
    /// [`output`](Self::output). Over the size limit, throws a `protocol`
    /// `StreamError` whose `packedLength` gives the events completed before
    /// that point.
    pub fn feed(&mut self, len: usize) -> Result<usize, JsValue> {
        self.packed.clear();
        self.in_place = [0; 2];
        if self.packed.capacity() > 1 << 20 {
            self.packed = Vec::new();
        }
        let Some(bytes) = self.input.get(..len) else {
            return Err(js_sys::RangeError::new("feed() past the input area").into());
        };
        let mut packer = Packer {
            packed: &mut self.packed,
            in_place: &mut self.in_place,
            input: bytes.as_ptr_range(),
        };
        match self.core.feed(bytes, &mut packer) {
            Ok(()) => Ok(self.packed.len()),
            Err(error) => {
                let js: JsValue = StreamError::from(error).into();
                let _ = Reflect::set(
                    &js,
                    &JsValue::from_str("packedLength"),
                    &JsValue::from(self.packed.len() as f64),
                );
                Err(js)
            }
        }
    }

    /// Where the packed events of the last `feed` start.
    pub fn output(&self) -> *const u8 {
        self.packed.as_ptr()
    }

    /// Where the data value the last `feed` left in place lies: its address
    /// and length, two u32.
    #[wasm_bindgen(js_name = inPlace)]
    pub fn in_place(&self) -> *const u32 {
        self.in_place.as_ptr()
    }

    /// The end of the stream: an unfinished event is discarded, as the
    /// spec says, so no event comes out of it.
    pub fn finish(&mut self) -> Result<(), JsValue> {
        self.core
            .finish()
            .map_err(|error| JsValue::from(StreamError::from(error)))
    }

    /// Back to a fresh state, also after an error.
    pub fn reset(&mut self) {
        self.core.reset();
    }

    /// The last event ID string.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.core.last_event_id()
    }

    /// The reconnection time of the last valid `retry` field, in ms.
    #[wasm_bindgen(getter)]
    pub fn retry(&self) -> Option<f64> {
        self.core.retry().map(|ms| ms as f64)
    }
}

/// The module's linear memory, for the facade to write input into.
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// The citations options the facade has checked: `timeoutMs` and
/// `maxLength` (each `None` for the default), and whether the pattern is
/// `"numeric"`.
pub(crate) fn citation_options(
    timeout_ms: Option<f64>,
    max_length: Option<f64>,
    numeric: bool,
) -> CitationOptions {
    let defaults = CitationOptions::default();
    CitationOptions {
        timeout_ms: timeout_ms.unwrap_or(defaults.timeout_ms),
        max_length: max_length.map_or(defaults.max_length, |n| n as usize),
        pattern: if numeric {
            Pattern::Numeric
        } else {
            Pattern::TimestampSpeaker
        },
    }
}

/// The citation buffer, wrapped by the facade's `CitationBuffer`, which
/// reads its options.
#[wasm_bindgen(js_name = RawCitationBuffer)]
pub struct CitationBuffer {
    core: CoreBuffer,
}

#[wasm_bindgen(js_class = RawCitationBuffer)]
impl CitationBuffer {
    /// A buffer with these options (see [`citation_options`]).
    #[wasm_bindgen(constructor)]
    pub fn new(timeout_ms: Option<f64>, max_length: Option<f64>, numeric: bool) -> CitationBuffer {
        CitationBuffer {
            core: CoreBuffer::with_classify(
                citation_options(timeout_ms, max_length, numeric),
                CLASSIFY,
            ),
        }
    }

    /// The segments ready to render after this text arrived at `now_ms`.
    pub fn push(&mut self, text: &str, now_ms: f64) -> JsValue {
        let mut out = SegmentBatch::default();
        self.core.push(text, now_ms, &mut out);
        batch_to_js(&out)
    }

    /// The segments released by the timeout at `now_ms`.
    pub fn poll(&mut self, now_ms: f64) -> JsValue {
        let mut out = SegmentBatch::default();
        self.core.poll(now_ms, &mut out);
        batch_to_js(&out)
    }

    /// Everything still held, as text.
    pub fn finish(&mut self) -> JsValue {
        let mut out = SegmentBatch::default();
        self.core.finish(&mut out);
        batch_to_js(&out)
    }

    /// When `poll` would release the held candidate.
    #[wasm_bindgen(getter)]
    pub fn deadline(&self) -> Option<f64> {
        self.core.deadline()
    }
}
