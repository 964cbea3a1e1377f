//! The caller's callbacks and signal: holding them, listening to the
//! signal, handing the pipeline's output to the callbacks, and giving them
//! all up when the stream settles.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::{Reason, Shared};
use crate::core::pipeline::Output;
use crate::wasm::convert::{
    deliver_segment_batch, done_to_js, resolution_to_js, session_to_js, sources_to_js,
    status_to_js, take_thrown,
};
use crate::wasm::error::StreamError;
use crate::wasm::options::{Callback, Callbacks, ChatOptions};

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

/// The caller's objects, and the listener this stream put on its signal.
pub(super) struct Caller {
    refs: RefCell<CallerRefs>,
    abort_listener: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Caller {
    /// Moves the callbacks, `this` and the signal out of the options.
    pub(super) fn take_from(options: &mut ChatOptions) -> Caller {
        let refs = CallerRefs {
            callbacks: std::mem::take(&mut options.callbacks),
            this: std::mem::replace(&mut options.this, JsValue::UNDEFINED),
            signal: options.signal.take(),
        };
        Caller {
            refs: RefCell::new(refs),
            abort_listener: RefCell::new(None),
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
        if let (Some(signal), Some(listener)) =
            (&refs.signal, self.abort_listener.borrow_mut().take())
        {
            let _ = signal
                .remove_event_listener_with_callback("abort", listener.as_ref().unchecked_ref());
        }
    }
}

impl Shared {
    /// Halts the stream when the caller's signal fires (at once, if it
    /// has fired already).
    pub(super) fn listen_to_caller_signal(self: &Rc<Self>) {
        let Some(signal) = self.caller.refs.borrow().signal.clone() else {
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
        *self.caller.abort_listener.borrow_mut() = Some(listener);
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
                    let threw = {
                        let caller = self.caller.refs.borrow();
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
        let caller = self.caller.refs.borrow();
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
