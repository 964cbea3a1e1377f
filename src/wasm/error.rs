//! `StreamError`: one error type for everything that can go wrong with a
//! stream, with a stable `code`, turned into an instance of the JS class
//! `StreamError` (`js/stream-error.js`, a subclass of `Error`).

use js_sys::{Error, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsValue;

#[wasm_bindgen(module = "/js/stream-error.js")]
extern "C" {
    /// `new StreamError(code, message)`.
    #[wasm_bindgen(js_name = streamError)]
    fn new_stream_error(code: &str, message: &str) -> JsValue;
    #[wasm_bindgen(js_name = streamErrorClass)]
    fn class() -> JsValue;
}

/// The JS class of every error this package reports, for its entry points
/// to export (and for tests of the shell alone).
#[wasm_bindgen(js_name = streamErrorClass)]
pub fn stream_error_class() -> JsValue {
    class()
}

use crate::core::pipeline::PipelineError;
use crate::core::protocol::{ProtocolError, ServerErrorInfo};
use crate::core::sse::SseError;
use crate::wasm::options::Callback;

/// Why a stream ended without `done`.
#[derive(Debug, Clone)]
pub(crate) enum StreamError {
    /// A non-2xx response; `body` is the server's JSON error body, if any.
    Http {
        status: u16,
        body: Option<JsValue>,
        /// A redirect's `Location`, when it was visible.
        location: Option<JsValue>,
        message: String,
    },
    /// A 2xx response that is not `text/event-stream`.
    ContentType { found: String },
    /// The request or the response body failed.
    Network { cause: JsValue },
    /// The stream broke the event-stream rules or the protocol: `detail`
    /// names the rule, `event` the event type concerned, if one is.
    Protocol {
        detail: &'static str,
        event: Option<&'static str>,
        message: String,
    },
    /// An `error` event from the server.
    Server(ServerErrorInfo),
    /// No byte arrived for this many milliseconds.
    IdleTimeout { ms: f64 },
    /// A callback threw.
    Callback { callback: Callback, cause: JsValue },
    /// The caller's own signal fired.
    Aborted { reason: JsValue },
}

impl StreamError {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            StreamError::Http { .. } => "http",
            StreamError::ContentType { .. } => "content-type",
            StreamError::Network { .. } => "network",
            StreamError::Protocol { .. } => "protocol",
            StreamError::Server(_) => "server",
            StreamError::IdleTimeout { .. } => "idle-timeout",
            StreamError::Callback { .. } => "callback",
            StreamError::Aborted { .. } => "aborted",
        }
    }

    fn message(&self) -> String {
        match self {
            StreamError::Http { message, .. } => message.clone(),
            StreamError::ContentType { found } => format!(
                "expected a text/event-stream response, got {}",
                if found.is_empty() {
                    "no Content-Type"
                } else {
                    found
                }
            ),
            StreamError::Network { cause } => match cause.dyn_ref::<Error>() {
                Some(error) => format!("network error: {}", String::from(error.message())),
                None => "network error".to_owned(),
            },
            StreamError::Protocol { message, .. } => message.clone(),
            StreamError::Server(info) => info.message.clone(),
            StreamError::IdleTimeout { ms } => {
                // Whole milliseconds, without pulling float formatting into
                // the module.
                let whole = ms.max(0.0).min(u32::MAX as f64) as u32;
                [
                    "no data arrived for ",
                    &whole.to_string(),
                    " ms; the request was aborted",
                ]
                .concat()
            }
            StreamError::Callback { callback, .. } => {
                format!("the {} callback threw", callback.name())
            }
            StreamError::Aborted { .. } => "the caller's signal aborted the stream".to_owned(),
        }
    }
}

impl From<SseError> for StreamError {
    fn from(error: SseError) -> Self {
        let detail = match error {
            SseError::LineTooLong { .. } => "line-too-long",
            SseError::EventTooLarge { .. } => "event-too-large",
        };
        StreamError::Protocol {
            detail,
            event: None,
            message: error.to_string(),
        }
    }
}

impl From<PipelineError> for StreamError {
    fn from(error: PipelineError) -> Self {
        match error {
            PipelineError::Sse(error) => error.into(),
            PipelineError::Protocol(ProtocolError::MalformedPayload(kind)) => {
                StreamError::Protocol {
                    detail: "malformed-payload",
                    event: Some(kind.as_str()),
                    message: error.to_string(),
                }
            }
        }
    }
}

use wasm_bindgen::JsCast;

impl From<StreamError> for JsValue {
    fn from(error: StreamError) -> JsValue {
        let js = new_stream_error(error.code(), &error.message());
        let set = |key: &str, value: &JsValue| {
            // Setting a property on a fresh error object cannot fail.
            let _ = Reflect::set(&js, &JsValue::from_str(key), value);
        };
        set("code", &JsValue::from_str(error.code()));
        match error {
            StreamError::Http {
                status,
                body,
                location,
                ..
            } => {
                set("status", &JsValue::from(status));
                if let Some(body) = body {
                    set("body", &body);
                }
                if let Some(location) = location {
                    set("location", &location);
                }
            }
            StreamError::ContentType { found } => set("contentType", &JsValue::from(found)),
            StreamError::Network { cause } => set("cause", &cause),
            StreamError::Server(info) => {
                set("serverCode", &JsValue::from(info.code));
                set("retryable", &JsValue::from(info.retryable));
            }
            StreamError::Callback { callback, cause } => {
                set("callback", &JsValue::from_str(callback.name()));
                set("cause", &cause);
            }
            StreamError::Aborted { reason } => set("reason", &reason),
            StreamError::IdleTimeout { ms } => set("idleTimeoutMs", &JsValue::from(ms)),
            StreamError::Protocol { detail, event, .. } => {
                set("detail", &JsValue::from_str(detail));
                if let Some(event) = event {
                    set("event", &JsValue::from_str(event));
                }
            }
        }
        js
    }
}
