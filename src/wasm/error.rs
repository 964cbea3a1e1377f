//! `StreamError`: one error type for everything that can go wrong with a
//! stream, with a stable `code`. Each is made once, where it happens, as an
//! instance of the JS class `StreamError` (`js/stream-error.js`, a subclass
//! of `Error`, which also writes its message from its details), so the
//! shell converts nothing afterwards and formats no text.

use wasm_bindgen::prelude::*;

use crate::core::adapter::{AdapterError, Problem};
use crate::core::pipeline::PipelineError;
use crate::core::protocol::{ProtocolError, ServerErrorInfo};
use crate::core::sse::SseError;

#[wasm_bindgen(module = "/js/stream-error.js")]
extern "C" {
    /// `streamError(code, a, b, c, d)`: a StreamError of `code` from that
    /// code's details, in the order `js/stream-error.js` lists them.
    #[wasm_bindgen(js_name = streamError)]
    fn make(code: &str, a: JsValue, b: JsValue, c: JsValue, d: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = streamErrorClass)]
    fn class() -> JsValue;
}

/// The JS class of every error this package reports, for its entry points
/// to export (and for tests of the shell alone).
#[wasm_bindgen(js_name = streamErrorClass)]
pub fn stream_error_class() -> JsValue {
    class()
}

/// Why a stream ended without `done`: the JS error, and whether a callback
/// threw it (which silences the other callbacks at once).
#[derive(Clone)]
pub(crate) struct StreamError {
    value: JsValue,
    from_callback: bool,
}

fn string(value: &str) -> JsValue {
    JsValue::from_str(value)
}

impl StreamError {
    fn new(code: &str, a: JsValue, b: JsValue, c: JsValue) -> StreamError {
        StreamError {
            value: make(code, a, b, c, JsValue::UNDEFINED),
            from_callback: false,
        }
    }

    /// An error the JS side made already (`network` and `http` errors of
    /// the transport).
    pub(crate) fn made(value: JsValue) -> StreamError {
        StreamError {
            value,
            from_callback: false,
        }
    }

    /// The request or the response body failed; `why` says how.
    pub(crate) fn network(why: &str) -> StreamError {
        Self::new(
            "network",
            string(why),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        )
    }

    /// The connection dropped and could not be resumed: `attempts` resume
    /// requests were made, the last one failing with `cause`.
    pub(crate) fn resume_failed(cause: StreamError, attempts: u32) -> StreamError {
        Self::new(
            "network",
            cause.value,
            JsValue::from(attempts),
            JsValue::UNDEFINED,
        )
    }

    /// A 2xx response that is not `text/event-stream`.
    pub(crate) fn content_type(found: &str) -> StreamError {
        Self::new(
            "content-type",
            string(found),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        )
    }

    /// The stream broke the event-stream rules or the protocol: `detail`
    /// names the rule (`js/stream-error.js` has each one's message),
    /// `event` the event type concerned, `limit` the size limit broken.
    pub(crate) fn protocol(detail: &str, event: Option<&str>, limit: Option<usize>) -> StreamError {
        Self::new(
            "protocol",
            string(detail),
            event.map_or(JsValue::UNDEFINED, string),
            limit.map_or(JsValue::UNDEFINED, |n| JsValue::from(n as f64)),
        )
    }

    /// Another server's stream could not be read by its adapter: the
    /// format expected, the problem, and the offending event's type and
    /// number.
    pub(crate) fn adapter(error: &AdapterError) -> StreamError {
        let detail = match error.problem {
            Problem::Foreign => "adapter-foreign",
            Problem::NotJson => "adapter-not-json",
            Problem::Shape => "adapter-shape",
            Problem::NoEnd => "adapter-no-end",
            _ => "adapter-refused",
        };
        StreamError {
            value: make(
                "protocol",
                string(detail),
                string(&error.event),
                string(error.format.name()),
                JsValue::from(error.index),
            ),
            from_callback: false,
        }
    }

    /// An `error` event from the server.
    pub(crate) fn server(info: &ServerErrorInfo) -> StreamError {
        Self::new(
            "server",
            string(&info.code),
            string(&info.message),
            JsValue::from_bool(info.retryable),
        )
    }

    /// No byte arrived for `ms` milliseconds.
    pub(crate) fn idle_timeout(ms: f64) -> StreamError {
        Self::new(
            "idle-timeout",
            JsValue::from(ms),
            JsValue::UNDEFINED,
            JsValue::UNDEFINED,
        )
    }

    /// The callback named `name` threw `cause`.
    pub(crate) fn callback(name: &str, cause: JsValue) -> StreamError {
        StreamError {
            from_callback: true,
            ..Self::new("callback", string(name), cause, JsValue::UNDEFINED)
        }
    }

    /// The caller's own signal fired with `reason`.
    pub(crate) fn aborted(reason: JsValue) -> StreamError {
        Self::new("aborted", reason, JsValue::UNDEFINED, JsValue::UNDEFINED)
    }

    pub(crate) fn thrown_by_callback(&self) -> bool {
        self.from_callback
    }
}

impl From<StreamError> for JsValue {
    fn from(error: StreamError) -> JsValue {
        error.value
    }
}

impl From<SseError> for StreamError {
    fn from(error: SseError) -> Self {
        let (detail, limit) = match error {
            SseError::LineTooLong { limit } => ("line-too-long", limit),
            SseError::EventTooLarge { limit } => ("event-too-large", limit),
        };
        StreamError::protocol(detail, None, Some(limit))
    }
}

impl From<PipelineError> for StreamError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Sse(error) => error.into(),
            PipelineError::Protocol(ProtocolError::MalformedPayload(kind)) => {
                StreamError::protocol("malformed-payload", Some(kind.as_str()), None)
            }
            PipelineError::Adapter(error) => StreamError::adapter(&error),
        }
    }
}
