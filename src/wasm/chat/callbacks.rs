//! The caller's callbacks and signal: holding them, listening to the
//! signal, handing the pipeline's output to the callbacks, and giving them
//! all up when the stream settles.

use std::cell::RefCell;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::{Reason, Shared};
use crate::core::pipeline::Output;
use crate::wasm::convert::{
    deliver_segment_batch, done_to_js, resolution_to_js, session_to_js, sources_to_js,
    status_to_js, take_thrown,
};
use crate::wasm::error::StreamError;
use crate::wasm::markdown::deliver_markdown_segments;

#[wasm_bindgen(module = "/js/transport.js")]
extern "C" {
    /// Calls `port.onAbort(reason)` when `signal` fires; gives back the
    /// listener.
    fn listen(port: &JsValue, signal: &AbortSignal) -> JsValue;
    fn unlisten(signal: &AbortSignal, listener: &JsValue);
}

/// One of the callbacks of `streamChat`: the typed name the shell uses, so
/// that a misspelt callback is a compile error rather than a silent no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    /// `onSession`.
    Session,
    /// `onStatus`.
    Status,
    /// `onSegment`.
    Segment,
    /// `onCitations`.
    Citations,
    /// `onDone`.
    Done,
    /// `onError`.
    Error,
    /// `onReconnect`.
    Reconnect,
}

impl Callback {
    /// Every callback, in the order of the [`Callbacks`] slots and of the
    /// JS facade's `CALLBACKS`.
    const ALL: [Callback; 7] = [
        Callback::Session,
        Callback::Status,
        Callback::Segment,
        Callback::Citations,
        Callback::Done,
        Callback::Error,
        Callback::Reconnect,
    ];

    /// The option's name, as the caller spells it.
    pub fn name(self) -> &'static str {
        match self {
            Callback::Session => "onSession",
            Callback::Status => "onStatus",
            Callback::Segment => "onSegment",
            Callback::Citations => "onCitations",
            Callback::Done => "onDone",
            Callback::Error => "onError",
            Callback::Reconnect => "onReconnect",
        }
    }

    /// The callback at this position of [`Callback::ALL`], if any: the JS
    /// facade lists the callbacks in the same order and names one by its
    /// position, so that no name is compared.
    pub(super) fn at(index: u32) -> Option<Callback> {
        Callback::ALL.get(index as usize).copied()
    }
}

/// The callbacks of `streamChat`, each optional, one slot per [`Callback`].
#[derive(Clone, Default)]
pub struct Callbacks([Option<Function>; 7]);

impl Callbacks {
    /// Sets the function for this callback.
    pub fn set(&mut self, callback: Callback, function: Function) {
        self.0[callback as usize] = Some(function);
    }

    /// From an array holding a function (or anything else, for none) at
    /// each callback's position.
    pub(super) fn from_array(array: &Array) -> Callbacks {
        let mut callbacks = Callbacks::default();
        for (slot, i) in callbacks.0.iter_mut().zip(0..) {
            *slot = array.get(i).dyn_into::<Function>().ok();
        }
        callbacks
    }

    fn get(&self, callback: Callback) -> Option<&Function> {
        self.0[callback as usize].as_ref()
    }
}

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
    signal: Option<AbortSignal>,
    /// The listener this stream put on the signal.
    listener: Option<JsValue>,
}

/// The caller's objects.
pub(super) struct Caller {
    refs: RefCell<CallerRefs>,
}

impl Caller {
    pub(super) fn new(callbacks: Callbacks, this: JsValue, signal: Option<AbortSignal>) -> Caller {
        Caller {
            refs: RefCell::new(CallerRefs {
                callbacks,
                this,
                signal,
                listener: None,
            }),
        }
    }

    /// Drops every reference to the caller's objects and takes the
    /// listener off its signal.
    pub(super) fn give_up(&self) {
        // Nothing else borrows `refs` now: callbacks run only from
        // delivery, which is over once the stream is closed.
        let refs = match self.refs.try_borrow_mut() {
            Ok(mut refs) => std::mem::take(&mut *refs),
            Err(_) => return,
        };
        if let (Some(signal), Some(listener)) = (&refs.signal, &refs.listener) {
            unlisten(signal, listener);
        }
    }
}

impl Shared {
    /// Halts the stream when the caller's signal fires (at once, if it
    /// has fired already).
    pub(super) fn listen_to_caller_signal(&self) {
        let Some(signal) = self.caller.refs.borrow().signal.clone() else {
            return;
        };
        if signal.aborted() {
            self.halt(Reason::Aborted(signal.reason()));
            return;
        }
        let listener = listen(&self.port.borrow(), &signal);
        self.caller.refs.borrow_mut().listener = Some(listener);
    }

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
                    self.deliver_segments(|callback, this, state| {
                        deliver_segment_batch(&batch, callback, this, state)
                    });
                    continue;
                }
                Output::Markdown(segments) => {
                    self.deliver_segments(|callback, this, state| {
                        deliver_markdown_segments(&segments, callback, this, state)
                    });
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
                Output::ServerError(info) => return Err(StreamError::server(&info)),
            };
            self.call(which, &args);
        }
        Ok(())
    }

    /// Hands a batch of segments to `onSegment` with `deliver`, which
    /// returns the index of the call that threw, or -1.
    fn deliver_segments(
        &self,
        deliver: impl FnOnce(&js_sys::Function, &JsValue, &js_sys::Object) -> i32,
    ) {
        let threw = {
            let caller = self.caller.refs.borrow();
            match caller.callbacks.get(Callback::Segment) {
                Some(callback) if !self.lifecycle.closed() => {
                    deliver(callback, &caller.this, self.lifecycle.closed_js()) >= 0
                }
                _ => false,
            }
        };
        if threw {
            let cause = take_thrown(self.lifecycle.closed_js());
            self.callback_threw(Callback::Segment, cause);
        }
    }

    /// Calls one callback; `false` when it threw (the stream is then
    /// halted). Once the stream is closed only `onError` is called.
    pub(super) fn call(&self, which: Callback, args: &[JsValue]) -> bool {
        if self.lifecycle.closed() && which != Callback::Error {
            return false;
        }
        // Only shared borrows of `caller` are held while the callback runs;
        // nothing but `settle`, after the last callback, borrows it mutably.
        let caller = self.caller.refs.borrow();
        let Some(callback) = caller.callbacks.get(which) else {
            return true;
        };
        let this = &caller.this;
        let undefined = JsValue::UNDEFINED;
        let result = match args {
            [a] => callback.call1(this, a),
            [a, b] => callback.call2(this, a, b),
            _ => callback.call1(this, &undefined),
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
        let error = StreamError::callback(which.name(), cause);
        self.halt(Reason::Failed(error.clone()));
        self.call(Callback::Error, &[error.into()]);
    }
}
