//! Handing the pipeline's output to the caller's callbacks.

use js_sys::{Array, Function};
use wasm_bindgen::JsValue;

use super::{Halt, Shared};
use crate::core::pipeline::Output;
use crate::wasm::convert::{
    deliver_segment_batch, done_to_js, resolution_to_js, session_to_js, sources_to_js,
    status_to_js, take_thrown,
};
use crate::wasm::error::StreamError;

impl Shared {
    /// Calls the callback for each output, in order, until the stream is
    /// halted. A throwing callback halts it with a `callback` error.
    pub(super) fn deliver(&self, outputs: Vec<Output>) -> Result<(), StreamError> {
        let caller = self.caller.borrow();
        let callbacks = &caller.callbacks;
        for output in outputs {
            let (callback, name, args): (_, _, Vec<JsValue>) = match output {
                // The pipeline's transcript has recorded them already: what
                // was received belongs to the result even after a stop or a
                // throw. The result builds its own objects at the end, so
                // these are short-lived.
                Output::Segments(batch) => {
                    if let (Some(callback), false) = (&callbacks.on_segment, self.closed.get()) {
                        let this = &caller.this;
                        if deliver_segment_batch(&batch, callback, this, &self.closed_js) >= 0 {
                            self.callback_threw("onSegment", take_thrown(&self.closed_js));
                        }
                    }
                    continue;
                }
                _ if self.closed.get() => continue,
                Output::Session(info) => (
                    &callbacks.on_session,
                    "onSession",
                    vec![session_to_js(&info)],
                ),
                Output::Status(info) => {
                    (&callbacks.on_status, "onStatus", vec![status_to_js(&info)])
                }
                Output::Citations(citations, resolution) => {
                    let sources = sources_to_js(&citations);
                    let resolution = resolution_to_js(&sources, &resolution);
                    (
                        &callbacks.on_citations,
                        "onCitations",
                        vec![sources.into(), resolution],
                    )
                }
                Output::Done(info) => {
                    self.answered.set(true);
                    (&callbacks.on_done, "onDone", vec![done_to_js(&info)])
                }
                Output::ServerError(info) => return Err(StreamError::Server(info)),
            };
            self.call(callback, name, &args);
        }
        Ok(())
    }

    /// Calls one callback; `false` when it threw (the stream is then halted).
    pub(super) fn call(
        &self,
        callback: &Option<Function>,
        name: &'static str,
        args: &[JsValue],
    ) -> bool {
        let Some(callback) = callback else {
            return true;
        };
        if self.closed.get() && name != "onError" {
            return false;
        }
        let caller = self.caller.borrow();
        let this = &caller.this;
        let result = match args {
            [] => callback.call0(this),
            [a] => callback.call1(this, a),
            [a, b] => callback.call2(this, a, b),
            _ => callback.apply(this, &args.iter().collect::<Array>()),
        };
        match result {
            Ok(_) => true,
            Err(cause) => {
                if name != "onError" {
                    self.callback_threw(name, cause);
                }
                false
            }
        }
    }

    /// A callback threw: the stream stops, and `onError` hears why.
    pub(super) fn callback_threw(&self, name: &'static str, cause: JsValue) {
        let error = StreamError::Callback {
            callback: name,
            cause,
        };
        self.halt(Halt::Failed(error.clone()));
        let on_error = self.caller.borrow().callbacks.on_error.clone();
        self.call(&on_error, "onError", &[error.into()]);
    }
}
