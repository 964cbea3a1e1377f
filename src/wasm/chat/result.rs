//! The value `finished` resolves to: the transcript the pipeline kept,
//! whatever was delivered, and how the stream ended.

use wasm_bindgen::JsValue;

use super::{Reason, Shared};
use crate::wasm::convert::result_to_js;
use crate::wasm::error::StreamError;

impl Shared {
    /// The value `finished` resolves to, for the stream's outcome.
    pub(super) fn result(&self, outcome: Option<Reason>) -> JsValue {
        let transcript = self.pipeline.borrow_mut().take_transcript();
        let (status, error) = match outcome {
            None => ("done", None),
            Some(Reason::Stopped) => ("stopped", None),
            Some(Reason::Aborted(reason)) => ("stopped", Some(StreamError::aborted(reason))),
            Some(Reason::Failed(error)) => ("error", Some(error)),
        };
        result_to_js(
            &transcript,
            status,
            error.map_or(JsValue::UNDEFINED, JsValue::from),
        )
    }
}
