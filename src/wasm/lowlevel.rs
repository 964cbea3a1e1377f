//! `EventStreamParser` and `CitationBuffer` for JS, usable with any
//! transport.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use super::error::StreamError;
use super::json::to_js;
use super::options::{citation_options, max_event_bytes};
use crate::core::citation::{CitationBuffer as CoreBuffer, Segment};
use crate::core::sse::{EventStreamParser as CoreParser, SseEvent};

/// The WHATWG event-stream parser: bytes in, events out.
#[wasm_bindgen(js_name = EventStreamParser)]
pub struct EventStreamParser {
    core: CoreParser,
}

fn event_to_js(event: SseEvent) -> JsValue {
    let js = Object::new();
    let _ = Reflect::set(&js, &"type".into(), &JsValue::from(event.event_type));
    let _ = Reflect::set(&js, &"data".into(), &JsValue::from(event.data));
    let _ = Reflect::set(
        &js,
        &"lastEventId".into(),
        &JsValue::from(event.last_event_id),
    );
    js.into()
}

#[wasm_bindgen(js_class = EventStreamParser)]
impl EventStreamParser {
    /// `new EventStreamParser({ maxEventBytes })`.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<EventStreamParser, JsValue> {
        Ok(EventStreamParser {
            core: CoreParser::new(max_event_bytes(&options)?),
        })
    }

    /// The events this chunk completes. Throws a `protocol` `StreamError`
    /// when a line or an event exceeds `maxEventBytes`; the events completed
    /// before that point are on the error's `events` property.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Array, JsValue> {
        let events = Array::new();
        let result = self.core.feed(bytes, &mut |e| {
            events.push(&event_to_js(e));
        });
        match result {
            Ok(()) => Ok(events),
            Err(error) => {
                let js: JsValue = StreamError::Protocol {
                    message: error.to_string(),
                }
                .into();
                let _ = Reflect::set(&js, &"events".into(), &events);
                Err(js)
            }
        }
    }

    /// The end of the stream: an unfinished event is discarded, as the
    /// spec says, so this returns no events.
    pub fn finish(&mut self) -> Result<Array, JsValue> {
        let events = Array::new();
        self.core
            .finish(&mut |e| {
                events.push(&event_to_js(e));
            })
            .map_err(|error| {
                JsValue::from(StreamError::Protocol {
                    message: error.to_string(),
                })
            })?;
        Ok(events)
    }

    /// Back to a fresh state, also after an error.
    pub fn reset(&mut self) {
        self.core.reset();
    }

    /// The last event ID string.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.core.last_event_id().to_owned()
    }

    /// The reconnection time of the last valid `retry` field, in ms.
    #[wasm_bindgen(getter)]
    pub fn retry(&self) -> Option<f64> {
        self.core.retry().map(|ms| ms as f64)
    }
}

/// The citation buffer for JS.
#[wasm_bindgen(js_name = CitationBuffer)]
pub struct CitationBuffer {
    core: CoreBuffer,
}

fn segments_to_js(segments: &[Segment]) -> JsValue {
    to_js(segments)
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
