//! `streamChat`: one POST, its `text/event-stream` response read chunk by
//! chunk into the core pipeline, and the pipeline's output delivered to the
//! caller's callbacks.
//!
//! Re-entrancy: a callback may call `stop()`. No mutable `RefCell` borrow
//! is held while a callback runs, and `stop()` only moves the lifecycle
//! (a borrow that calls no JS) and aborts the controller, so nothing can
//! panic however callbacks and stop interleave.

mod callbacks;
mod lifecycle;
mod request;
mod result;
mod timers;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

use self::callbacks::Caller;
use self::lifecycle::{Lifecycle, Reason};
use self::timers::Timers;
use super::options::{Callback, ChatOptions};
use crate::core::pipeline::ChatPipeline;

/// One stream, by responsibility: the request (`options`, `controller`,
/// sent by `request.rs`), the pipeline and what it makes of the bytes (the
/// result, built by `result.rs`), the caller's callbacks (`callbacks.rs`),
/// the timers (`timers.rs`), and the lifecycle that orders them all
/// (`lifecycle.rs`).
struct Shared {
    /// With its callbacks, `this` and signal moved to `caller`.
    options: ChatOptions,
    controller: AbortController,
    pipeline: RefCell<ChatPipeline>,
    caller: Caller,
    timers: Timers,
    lifecycle: Lifecycle,
}

/// A running stream, as the JS facade sees it.
#[wasm_bindgen(js_name = ChatStream)]
pub struct ChatStream {
    shared: Rc<Shared>,
    finished: Promise,
}

#[wasm_bindgen(js_class = ChatStream)]
impl ChatStream {
    /// Starts the request at once. Throws a `TypeError` for a wrong option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<ChatStream, JsValue> {
        let mut options = ChatOptions::read(options)?;
        let caller = Caller::take_from(&mut options);
        let controller = AbortController::new()?;
        let pipeline = ChatPipeline::new(options.max_event_bytes, options.citations);
        let shared = Rc::new(Shared {
            options,
            controller,
            pipeline: RefCell::new(pipeline),
            caller,
            timers: Timers::new(),
            lifecycle: Lifecycle::new(),
        });
        shared.listen_to_caller_signal();
        let task = Rc::clone(&shared);
        let finished = wasm_bindgen_futures::future_to_promise(async move {
            task.run().await;
            let outcome = task.settle();
            Ok(task.result(outcome))
        });
        Ok(ChatStream { shared, finished })
    }

    /// Stops the stream: aborts the fetch, calls no callback after this,
    /// and resolves `finished` with status `"stopped"`. Safe at any time and
    /// any number of times.
    pub fn stop(&self) {
        self.shared.halt(Reason::Stopped);
    }

    /// The promise a callback returned rejected: the stream fails as if
    /// the callback had thrown, unless it is over already or failing for
    /// another reason. A rejection of `onError`'s promise is ignored, as
    /// its throw is.
    #[wasm_bindgen(js_name = callbackRejected)]
    pub fn callback_rejected(&self, callback: u32, cause: JsValue) {
        let which = match Callback::at(callback) {
            Some(Callback::Error) | None => return,
            Some(which) => which,
        };
        if self.shared.lifecycle.halted() {
            return;
        }
        self.shared.callback_threw(which, cause);
    }

    /// Resolves with the result once the stream is over; never rejects.
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> Promise {
        self.finished.clone()
    }
}

impl Shared {
    /// Ends the stream for `reason` (see [`Lifecycle::halt`]) and aborts
    /// the fetch, unless that changed nothing.
    fn halt(&self, reason: Reason) {
        if self.lifecycle.halt(reason) {
            self.controller.abort();
        }
    }

    async fn run(self: &Rc<Self>) {
        if self.lifecycle.halted() {
            return;
        }
        if let Err(error) = self.stream().await {
            self.halt(Reason::Failed(error));
        }
        // Release what the buffer still holds: with callbacks when the
        // stream failed on its own, silently (into the result) after a stop.
        let mut out = Vec::new();
        self.pipeline.borrow_mut().finish(&mut out);
        let failure = self.lifecycle.failure_to_report();
        // Only segments come out of `finish`, so this cannot fail.
        let _ = self.deliver(out);
        if let Some(error) = failure {
            self.call(Callback::Error, &[error.into()]);
        }
    }

    /// `finished` has its value: no callback, no listener, and no reference
    /// to the caller's objects any more (see [`Caller`]). Gives back the
    /// stream's outcome.
    fn settle(&self) -> Option<Reason> {
        let outcome = self.lifecycle.settle();
        self.timers.clear();
        self.caller.give_up();
        outcome
    }
}
