//! Handing the pipeline's output to the caller's callbacks.

use js_sys::Array;
use wasm_bindgen::JsValue;

use super::{Reason, Shared};
use crate::core::pipeline::Output;
use crate::wasm::convert::{
    deliver_segment_batch, done_to_js, resolution_to_js, session_to_js, sources_to_js,
    status_to_js, take_thrown,
};
use crate::wasm::error::StreamError;
use crate::wasm::options::Callback;

impl Shared {
    /// Calls the callback for each output, in order, until the stream is
    /// closed. A throwing callback halts it with a `callback` error.
    pub(super) fn deliver(&self, outputs: Vec<Output>) -> Result<(), StreamError> {
        for output in outputs {
            let (which, args): (_, Vec<JsValue>) = match output {
                // The pipeline's transcript has recorded them already: what
                // was received belongs to the result even after a stop or a
                // throw. The result builds its own objects at the end, so
                // these are short-lived.
                Output::Segments(batch) => {
                    let threw = {
                        let caller = self.caller.borrow();
                        match caller.callbacks.get(Callback::Segment) {
                            Some(callback) if !self.lifecycle.closed() => {
                                let closed_js = self.lifecycle.closed_js();
                                deliver_segment_batch(&batch, callback, &caller.this, closed_js)
                                    >= 0
                            }
                            _ => false,
                        }
                    };
                    if threw {
                        let cause = take_thrown(self.lifecycle.closed_js());
                        self.callback_threw(Callback::Segment, cause);
                    }
                    continue;
                }
                _ if self.lifecycle.closed() => continue,
                Output::Session(info) => (Callback::Session, vec![session_to_js(&info)]),
                Output::Status(info) => (Callback::Status, vec![status_to_js(&info)]),
                Output::Citations(citations, resolution) => {
                    let sources = sources_to_js(&citations);
                    let resolution = resolution_to_js(&sources, &resolution);
                    (Callback::Citations, vec![sources.into(), resolution])
                }
                Output::Done(info) => {
                    self.lifecycle.answered();
                    (Callback::Done, vec![done_to_js(&info)])
                }
                Output::ServerError(info) => return Err(StreamError::Server(info)),
            };
            self.call(which, &args);
        }
        Ok(())
    }

    /// Calls one callback; `false` when it threw (the stream is then
    /// halted). Once the stream is closed only `onError` is called.
    pub(super) fn call(&self, which: Callback, args: &[JsValue]) -> bool {
        if self.lifecycle.closed() && which != Callback::Error {
            return false;
        }
        // Only shared borrows of `caller` are held while the callback runs;
        // nothing but `settle`, after the last callback, borrows it mutably.
        let caller = self.caller.borrow();
        let Some(callback) = caller.callbacks.get(which) else {
            return true;
        };
        let this = &caller.this;
        let result = match args {
            [] => callback.call0(this),
            [a] => callback.call1(this, a),
            [a, b] => callback.call2(this, a, b),
            _ => callback.apply(this, &args.iter().collect::<Array>()),
        };
        drop(caller);
        match result {
            Ok(_) => true,
            Err(cause) => {
                if which != Callback::Error {
                    self.callback_threw(which, cause);
                }
                false
            }
        }
    }

    /// A callback threw: the stream stops, and `onError` hears why.
    pub(super) fn callback_threw(&self, which: Callback, cause: JsValue) {
        let error = StreamError::Callback {
            callback: which,
            cause,
        };
        self.halt(Reason::Failed(error.clone()));
        self.call(Callback::Error, &[error.into()]);
    }
}
