//! The value `finished` resolves to: the transcript the pipeline kept,
//! whatever was delivered, and how the stream ended.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use super::{Reason, Shared};
use crate::wasm::convert::{sources_to_js, transcript_segments_to_js};
use crate::wasm::error::StreamError;

impl Shared {
    /// The value `finished` resolves to, for the stream's outcome.
    pub(super) fn result(&self, outcome: Option<Reason>) -> JsValue {
        let transcript = self.pipeline.borrow_mut().take_transcript();
        let (status, error) = match outcome {
            None => ("done", None),
            Some(Reason::Stopped) => ("stopped", None),
            Some(Reason::Aborted(reason)) => ("stopped", Some(StreamError::Aborted { reason })),
            Some(Reason::Failed(error)) => ("error", Some(error)),
        };
        let result = Object::new();
        let set = |key: &str, value: JsValue| {
            let _ = Reflect::set(&result, &JsValue::from_str(key), &value);
        };
        let (session_id, message_id) = match &transcript.session {
            Some(session) => (
                JsValue::from_str(&session.session_id),
                JsValue::from_str(&session.message_id),
            ),
            None => (JsValue::NULL, JsValue::NULL),
        };
        set("sessionId", session_id);
        set("messageId", message_id);
        let text = JsValue::from_str(&transcript.text);
        set("text", text.clone());
        set(
            "segments",
            transcript_segments_to_js(&transcript, &text).into(),
        );
        set("citations", sources_to_js(&transcript.citations).into());
        set("status", JsValue::from_str(status));
        if let Some(error) = error {
            set("error", error.into());
        }
        result.into()
    }
}
