//! `EventStreamParser` and `CitationBuffer` for JS, usable with any
//! transport.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use super::convert::segments_to_js;
use super::error::StreamError;
use super::options::{citation_options, max_event_bytes};
use crate::core::citation::CitationBuffer as CoreBuffer;
use crate::core::sse::{EventRef, EventSink, EventStreamParser as CoreParser};

/// The WHATWG event-stream parser, shaped for speed across the wasm
/// boundary; the facade's `EventStreamParser` wraps it.
///
/// Bytes come in through an input area in wasm memory that JS writes into
/// directly (no allocation per chunk). Events go out packed into one byte
/// run per chunk: type, data and last event ID of each event, each followed
/// by CR, which no field can contain (CR ends a line). JS decodes the run
/// with one `TextDecoder` call (the same U+FFFD replacement as decoding the
/// fields one by one, since CR is ASCII) and splits it once.
#[wasm_bindgen(js_name = RawEventStreamParser)]
pub struct RawEventStreamParser {
    core: CoreParser,
    input: Vec<u8>,
    packed: Vec<u8>,
}

/// Packs events for JS and counts them.
struct Packer<'a> {
    packed: &'a mut Vec<u8>,
}

impl EventSink for Packer<'_> {
    fn event(&mut self, event: EventRef<'_>) {
        let fields = [event.event_type, event.data, event.last_event_id];
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
    /// A parser bounded by `options.maxEventBytes`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<RawEventStreamParser, JsValue> {
        Ok(RawEventStreamParser {
            core: CoreParser::new(max_event_bytes(&options)?),
            input: Vec::new(),
            packed: Vec::new(),
        })
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
        if self.packed.capacity() > 1 << 20 {
            self.packed = Vec::new();
        }
        let Some(bytes) = self.input.get(..len) else {
            return Err(js_sys::RangeError::new("feed() past the input area").into());
        };
        let mut packer = Packer {
            packed: &mut self.packed,
        };
        match self.core.feed(bytes, &mut packer) {
            Ok(()) => Ok(self.packed.len()),
            Err(error) => {
                let js: JsValue = StreamError::from(error).into();
                let _ = Reflect::set(&js, &"packedLength".into(), &self.packed.len().into());
                Err(js)
            }
        }
    }

    /// Where the packed events of the last `feed` start.
    pub fn output(&self) -> *const u8 {
        self.packed.as_ptr()
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

/// The citation buffer for JS.
#[wasm_bindgen(js_name = CitationBuffer)]
pub struct CitationBuffer {
    core: CoreBuffer,
}

#[wasm_bindgen(js_class = CitationBuffer)]
impl CitationBuffer {
    /// `new CitationBuffer({ timeoutMs, maxLength, pattern })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<CitationBuffer, JsValue> {
        Ok(CitationBuffer {
            core: CoreBuffer::new(citation_options(&options)?),
        })
    }

    /// The segments ready to render after this text arrived at `now_ms`.
    pub fn push(&mut self, text: &str, now_ms: f64) -> JsValue {
        let mut out = Vec::new();
        self.core.push(text, now_ms, &mut out);
        segments_to_js(&out)
    }

    /// The segments released by the timeout at `now_ms`.
    pub fn poll(&mut self, now_ms: f64) -> JsValue {
        let mut out = Vec::new();
        self.core.poll(now_ms, &mut out);
        segments_to_js(&out)
    }

    /// Everything still held, as text.
    pub fn finish(&mut self) -> JsValue {
        let mut out = Vec::new();
        self.core.finish(&mut out);
        segments_to_js(&out)
    }

    /// When `poll` would release the held candidate.
    #[wasm_bindgen(getter)]
    pub fn deadline(&self) -> Option<f64> {
        self.core.deadline()
    }
}
