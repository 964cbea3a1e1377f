//! `streamChat`: one POST, its `text/event-stream` response read chunk by
//! chunk into the core pipeline, and the pipeline's output delivered to the
//! caller's callbacks.
//!
//! Re-entrancy: a callback may call `stop()`. No `RefCell` borrow is held
//! while a callback runs, and `stop()` only touches `Cell`s and the abort
//! controller, so nothing can panic however callbacks and stop interleave.

mod delivery;
mod lifecycle;
mod request;
mod timers;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader};

use self::lifecycle::{Lifecycle, Reason};
use self::request::{network, pump, settle_quietly};
use super::convert::{sources_to_js, transcript_segments_to_js, EngineJson};
use super::error::StreamError;
use super::options::{Callback, Callbacks, ChatOptions};
use crate::core::pipeline::ChatPipeline;

/// The caller's own JS objects that the stream holds. It gives them up when
/// it settles: the JS side holds the stream, and a callback that refers to
/// its own stream (or a listener on the caller's signal that does) would
/// otherwise keep the stream, its answer and its result alive for ever,
/// since the garbage collector cannot see the cycle through wasm.
#[derive(Default)]
struct CallerRefs {
    callbacks: Callbacks,
    /// The options object, `this` for callbacks.
    this: JsValue,
    signal: Option<web_sys::AbortSignal>,
}

struct Shared {
    /// With its callbacks, `this` and signal moved to `caller`.
    options: ChatOptions,
    caller: RefCell<CallerRefs>,
    controller: AbortController,
    pipeline: RefCell<ChatPipeline>,
    lifecycle: Lifecycle,
    abort_listener: RefCell<Option<Closure<dyn FnMut()>>>,
    /// The timer that releases a held citation candidate at its deadline,
    /// with the deadline it was armed for.
    citation_timer: RefCell<Option<(f64, Timeout)>>,
    /// When a byte last arrived (or the request started), and the timer
    /// that checks it against `idleTimeoutMs`.
    last_byte_at: Cell<f64>,
    idle_timer: RefCell<Option<Timeout>>,
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
        let caller = CallerRefs {
            callbacks: std::mem::take(&mut options.callbacks),
            this: std::mem::replace(&mut options.this, JsValue::UNDEFINED),
            signal: options.signal.take(),
        };
        let controller = AbortController::new()?;
        let pipeline = ChatPipeline::new(options.max_event_bytes, options.citations);
        let shared = Rc::new(Shared {
            options,
            caller: RefCell::new(caller),
            controller,
            pipeline: RefCell::new(pipeline),
            lifecycle: Lifecycle::new(),
            abort_listener: RefCell::new(None),
            citation_timer: RefCell::new(None),
            last_byte_at: Cell::new(js_sys::Date::now()),
            idle_timer: RefCell::new(None),
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

    fn listen_to_caller_signal(self: &Rc<Self>) {
        let Some(signal) = self.caller.borrow().signal.clone() else {
            return;
        };
        if signal.aborted() {
            self.halt(Reason::Aborted(signal.reason()));
            return;
        }
        let weak = Rc::downgrade(self);
        let fired = signal.clone();
        let listener = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                shared.halt(Reason::Aborted(fired.reason()));
            }
        });
        let _ = signal.add_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        *self.abort_listener.borrow_mut() = Some(listener);
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

    /// Sends the request and reads the response to its end. `Ok` means the
    /// `done` event arrived.
    async fn stream(self: &Rc<Self>) -> Result<(), StreamError> {
        self.arm_idle_timer(self.options.idle_timeout_ms);
        let response = self.send().await?;
        let reader = response
            .body()
            .map(|body| {
                body.get_reader()
                    .unchecked_into::<ReadableStreamDefaultReader>()
            })
            .ok_or_else(|| network("the response has no body"))?;
        self.lifecycle.streaming();
        // A JS loop reads the body and hands each chunk to one Rust
        // closure: no future, no closures and no property reads per chunk.
        let weak = Rc::downgrade(self);
        // The glue copies each chunk into wasm memory on the way in.
        let on_chunk = Closure::<dyn FnMut(Vec<u8>) -> bool>::new(move |bytes: Vec<u8>| {
            weak.upgrade()
                .is_some_and(|shared| shared.take_chunk(&bytes))
        });
        let pumped = JsFuture::from(pump(&reader, &on_chunk)).await;
        drop(on_chunk);
        if self.lifecycle.halted() {
            return Ok(());
        }
        match pumped {
            Err(cause) => Err(StreamError::Network { cause }),
            Ok(_) if self.pipeline.borrow().ended() => {
                settle_quietly(reader.cancel());
                Ok(())
            }
            // A clean end without even a `session`: some other event
            // stream (an OpenAI-format one, say), not a cut connection.
            Ok(_) if self.pipeline.borrow().transcript().session.is_none() => {
                Err(StreamError::Protocol {
                    detail: "no-session",
                    event: None,
                    message:
                        "the event stream is not this protocol: expected a `session` event first"
                            .to_owned(),
                })
            }
            Ok(_) => Err(network("the connection closed before the answer was done")),
        }
    }

    /// One chunk of the body: through the pipeline and out to the
    /// callbacks. `false` tells the reading loop to stop: the stream was
    /// halted, ended, or failed (which halts it).
    fn take_chunk(self: &Rc<Self>, bytes: &[u8]) -> bool {
        if self.lifecycle.halted() {
            return false;
        }
        let now = js_sys::Date::now();
        self.last_byte_at.set(now);
        let mut out = Vec::new();
        let fed = self
            .pipeline
            .borrow_mut()
            .feed::<EngineJson>(bytes, now, &mut out);
        let failure = self.deliver(out).err().or(fed.err().map(StreamError::from));
        if let Some(error) = failure {
            self.halt(Reason::Failed(error));
            return false;
        }
        self.arm_citation_timer();
        !self.pipeline.borrow().ended() && !self.lifecycle.halted()
    }

    /// The value `finished` resolves to, for the stream's outcome.
    fn result(&self, outcome: Option<Reason>) -> JsValue {
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

    /// `finished` has its value: no callback, no listener, and no reference
    /// to the caller's objects any more (see [`CallerRefs`]). Gives back
    /// the stream's outcome.
    fn settle(&self) -> Option<Reason> {
        let outcome = self.lifecycle.settle();
        self.citation_timer.borrow_mut().take();
        self.idle_timer.borrow_mut().take();
        // Nothing else borrows `caller` now: callbacks run only from
        // delivery, which is over once the stream is closed.
        let caller = match self.caller.try_borrow_mut() {
            Ok(mut caller) => std::mem::take(&mut *caller),
            Err(_) => return outcome,
        };
        if let (Some(signal), Some(listener)) =
            (&caller.signal, self.abort_listener.borrow_mut().take())
        {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
        outcome
    }
}
