//! The stream's lifecycle as one state machine: which phase it is in and,
//! once it is ending, why. Each phase carries only what it needs, so that
//! no combination of flags can claim, say, a stream both answered and
//! stopped, or settled yet still calling back.
//!
//! ```text
//! Starting ──body──▶ Streaming ──done──▶ Answered
//!     │                  │                  │ (a failure only)
//!     └────── halt ──────┴──────────────────┴──▶ Stopping ──▶ Settled
//! ```
//! Every phase but `Settled` may also settle directly, when the stream ran
//! to its end.

use std::cell::RefCell;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

use crate::wasm::error::StreamError;

/// Why a stream is ending without its answer.
#[derive(Clone)]
pub(super) enum Reason {
    /// `stop()` was called.
    Stopped,
    /// The caller's signal fired with this reason.
    Aborted(JsValue),
    /// A callback threw, or the stream failed.
    Failed(StreamError),
}

impl Reason {
    /// Whether this reason silences the callbacks at once. A stop, the
    /// caller's signal and a throwing callback do; a failure of the stream
    /// itself is still reported through `onError`.
    fn quiet(&self) -> bool {
        !matches!(self, Reason::Failed(e) if !e.thrown_by_callback())
    }
}

/// Where the stream is in its life.
#[derive(Clone)]
pub(super) enum State {
    /// The request is on its way; no byte of the body has been read.
    Starting,
    /// The body is being read and delivered.
    Streaming,
    /// `done` was delivered: a stop or the caller's signal changes nothing
    /// any more (a failing `onDone` still does).
    Answered,
    /// The stream is ending for `reason`: the fetch is aborted and the
    /// reading winds down. `quiet` once no callback may be called but
    /// `onError` for a throwing callback.
    Stopping { reason: Reason, quiet: bool },
    /// `finished` has its value: nothing more happens.
    Settled,
}

/// The state, with its one fact that JS code must see mirrored: the loop
/// that delivers a batch of segments reads `{ closed }` before each call.
///
/// The state is only ever looked at through [`Lifecycle::with`].
pub(super) struct Lifecycle {
    state: RefCell<State>,
    /// `{ closed: true }` once no callback may be called.
    closed_js: Object,
}

impl Lifecycle {
    pub(super) fn new() -> Lifecycle {
        Lifecycle {
            state: RefCell::new(State::Starting),
            closed_js: Object::new(),
        }
    }

    /// Runs `f` on the state. `f` is plain Rust that calls no JS, so no
    /// borrow of the state is ever held while a callback runs.
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.borrow_mut())
    }

    /// The object JS loops read `closed` from (and leave a throw in).
    pub(super) fn closed_js(&self) -> &Object {
        &self.closed_js
    }

    /// No callback may be called any more (but `onError` for a throw).
    pub(super) fn closed(&self) -> bool {
        self.with(|state| matches!(state, State::Stopping { quiet: true, .. } | State::Settled))
    }

    /// The stream is ending or over for a reason of its own, or over.
    pub(super) fn halted(&self) -> bool {
        self.with(|state| matches!(state, State::Stopping { .. } | State::Settled))
    }

    pub(super) fn settled(&self) -> bool {
        self.with(|state| matches!(state, State::Settled))
    }

    /// The failure to report through `onError` as the stream ends: one of
    /// the stream itself, while callbacks are still allowed.
    pub(super) fn failure_to_report(&self) -> Option<StreamError> {
        self.with(|state| match state {
            State::Stopping {
                reason: Reason::Failed(error),
                quiet: false,
            } => Some(error.clone()),
            _ => None,
        })
    }

    /// The body is being read.
    pub(super) fn streaming(&self) {
        self.with(|state| {
            if matches!(state, State::Starting) {
                *state = State::Streaming;
            }
        })
    }

    /// `done` is being delivered.
    pub(super) fn answered(&self) {
        self.with(|state| {
            if matches!(state, State::Starting | State::Streaming) {
                *state = State::Answered;
            }
        })
    }

    /// Records why the stream ends (the first reason wins; a later quiet
    /// one still silences the callbacks). `false` when this changed
    /// nothing: the stream is settled, or answered and this is no failure.
    pub(super) fn halt(&self, reason: Reason) -> bool {
        let changed = self.with(|state| match state {
            State::Settled => None,
            State::Answered if !matches!(reason, Reason::Failed(_)) => None,
            State::Stopping { quiet, .. } => {
                *quiet |= reason.quiet();
                Some(*quiet)
            }
            State::Starting | State::Streaming | State::Answered => {
                let quiet = reason.quiet();
                *state = State::Stopping { reason, quiet };
                Some(quiet)
            }
        });
        if changed == Some(true) {
            self.mirror_closed();
        }
        changed.is_some()
    }

    /// `finished` has its value: the state becomes `Settled` and the
    /// stream's outcome is given back, `None` for its answer.
    pub(super) fn settle(&self) -> Option<Reason> {
        let ended = self.with(|state| std::mem::replace(state, State::Settled));
        self.mirror_closed();
        match ended {
            State::Stopping { reason, .. } => Some(reason),
            _ => None,
        }
    }

    fn mirror_closed(&self) {
        let _ = Reflect::set(
            &self.closed_js,
            &JsValue::from_str("closed"),
            &JsValue::TRUE,
        );
    }
}
