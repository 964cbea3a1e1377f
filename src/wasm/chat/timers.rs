//! The stream's two timers: the citation timer, which releases a held
//! candidate at its deadline even when no token arrives, and the idle timer.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;

use super::{Reason, Shared};
use crate::wasm::error::StreamError;

/// The longest delay `setTimeout` honours: a longer one (or `Infinity`)
/// overflows to 1 ms in browsers and Node alike.
const MAX_TIMER_DELAY_MS: f64 = i32::MAX as f64;

/// The timers of one stream and what they watch.
pub(super) struct Timers {
    /// The timer that releases a held citation candidate at its deadline,
    /// with the deadline it was armed for.
    citation: RefCell<Option<(f64, Timeout)>>,
    /// When a byte last arrived (or the request started), and the timer
    /// that checks it against `idleTimeoutMs`.
    pub(super) last_byte_at: Cell<f64>,
    idle: RefCell<Option<Timeout>>,
}

impl Timers {
    pub(super) fn new() -> Timers {
        Timers {
            citation: RefCell::new(None),
            last_byte_at: Cell::new(js_sys::Date::now()),
            idle: RefCell::new(None),
        }
    }

    /// Cancels both timers: the stream is over.
    pub(super) fn clear(&self) {
        self.citation.borrow_mut().take();
        self.idle.borrow_mut().take();
    }
}

impl Shared {
    /// Keeps a timer armed for the held citation candidate's deadline, so
    /// the candidate is released even when no further token arrives.
    ///
    /// Deadlines only move later, so a timer already armed for an earlier
    /// time is left to run: when it fires it releases what is due and arms
    /// itself again for the deadline of the moment, if any. A stream whose
    /// citations span chunk boundaries thus sets one timer at a time
    /// instead of setting and clearing one per citation.
    pub(super) fn arm_citation_timer(self: &Rc<Self>) {
        let Some(deadline) = self.pipeline.borrow().deadline() else {
            return;
        };
        // `timeoutMs: Infinity`: the candidate waits for text, never a timer.
        if !deadline.is_finite() {
            return;
        }
        let mut timer = self.timers.citation.borrow_mut();
        if matches!(&*timer, Some((armed, _)) if *armed <= deadline) {
            return;
        }
        let delay = (deadline - js_sys::Date::now()).max(0.0).ceil();
        let weak = Rc::downgrade(self);
        let fire = move || {
            if let Some(shared) = weak.upgrade() {
                shared.release_timed_out();
            }
        };
        *timer = Some((
            deadline,
            // A deadline further off than the limit fires early, finds
            // nothing due and arms again.
            Timeout::new(delay.min(MAX_TIMER_DELAY_MS) as u32, fire),
        ));
    }

    /// One timer for the whole stream: when it fires, it fails the stream if
    /// nothing arrived for `idleTimeoutMs`, or sleeps for the time left.
    pub(super) fn arm_idle_timer(self: &Rc<Self>, delay: f64) {
        let weak = Rc::downgrade(self);
        let check = move || {
            let Some(shared) = weak.upgrade() else { return };
            if shared.lifecycle.settled() {
                return;
            }
            let limit = shared.options.idle_timeout_ms;
            let quiet = js_sys::Date::now() - shared.timers.last_byte_at.get();
            if quiet >= limit {
                shared.halt(Reason::Failed(StreamError::IdleTimeout { ms: limit }));
            } else {
                shared.arm_idle_timer(limit - quiet);
            }
        };
        let delay = delay.max(0.0).ceil().min(MAX_TIMER_DELAY_MS) as u32;
        *self.timers.idle.borrow_mut() = Some(Timeout::new(delay, check));
    }

    /// The citation timer fired: release what is due, then re-arm for the
    /// candidate still held, if any.
    pub(super) fn release_timed_out(self: &Rc<Self>) {
        // This timer has fired: whatever comes next needs a new one.
        self.timers.citation.borrow_mut().take();
        if self.lifecycle.closed() {
            return;
        }
        let mut out = Vec::new();
        self.pipeline
            .borrow_mut()
            .poll(js_sys::Date::now(), &mut out);
        // Only segments come out of a poll, so this cannot fail.
        let _ = self.deliver(out);
        self.arm_citation_timer();
    }
}
