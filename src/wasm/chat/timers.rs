//! The stream's timers: the citation timer, which releases a held
//! candidate at its deadline even when no token arrives, the idle timer,
//! and the backoff before a resume request (`resume.rs`).
//! `js/transport.js` sets them and reports each firing to `on_timer`.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

use super::{Reason, Shared};
use crate::wasm::error::StreamError;

#[wasm_bindgen(module = "/js/transport.js")]
extern "C" {
    /// `setTimeout(() => port.onTimer(which), delay)`; gives back its handle.
    #[wasm_bindgen(js_name = startTimer)]
    fn start_timer(port: &JsValue, which: u32, delay: f64) -> JsValue;
    #[wasm_bindgen(js_name = stopTimer)]
    fn stop_timer(handle: &JsValue);
}

/// The longest delay `setTimeout` honours: a longer one (or `Infinity`)
/// overflows to 1 ms in browsers and Node alike.
const MAX_TIMER_DELAY_MS: f64 = i32::MAX as f64;

/// Which timer fired, as `on_timer` hears it.
const IDLE: u32 = 0;
const CITATION: u32 = 1;
const RESUME: u32 = 2;

/// A timer that is set: its handle, and for the citation timer the
/// deadline it was armed for.
struct Armed {
    handle: JsValue,
    deadline: f64,
}

/// The timers of one stream and what they watch.
#[derive(Default)]
pub(super) struct Timers {
    citation: RefCell<Option<Armed>>,
    /// When a byte last arrived (or the request started), and the timer
    /// that checks it against `idleTimeoutMs`.
    pub(super) last_byte_at: Cell<f64>,
    idle: RefCell<Option<Armed>>,
    resume: RefCell<Option<Armed>>,
}

/// Puts `armed` in `slot`, clearing the timer it replaces, if any.
fn replace(slot: &RefCell<Option<Armed>>, armed: Option<Armed>) {
    if let Some(old) = slot.replace(armed) {
        stop_timer(&old.handle);
    }
}

impl Timers {
    /// Cancels every timer: the stream is over.
    pub(super) fn clear(&self) {
        replace(&self.citation, None);
        replace(&self.idle, None);
        replace(&self.resume, None);
    }
}

/// A delay `setTimeout` honours, in whole milliseconds.
fn clamp(delay: f64) -> f64 {
    delay.max(0.0).ceil().min(MAX_TIMER_DELAY_MS)
}

impl Shared {
    fn start_timer(&self, which: u32, delay: f64, deadline: f64) -> Armed {
        Armed {
            handle: start_timer(&self.port.borrow(), which, clamp(delay)),
            deadline,
        }
    }

    /// Keeps a timer armed for the held citation candidate's deadline, so
    /// the candidate is released even when no further token arrives.
    ///
    /// Deadlines only move later, so a timer already armed for an earlier
    /// time is left to run: when it fires it releases what is due and arms
    /// itself again for the deadline of the moment, if any. A stream whose
    /// citations span chunk boundaries thus sets one timer at a time
    /// instead of setting and clearing one per citation.
    pub(super) fn arm_citation_timer(&self) {
        let Some(deadline) = self.pipeline.borrow().deadline() else {
            return;
        };
        // `timeoutMs: Infinity`: the candidate waits for text, never a timer.
        if !deadline.is_finite() {
            return;
        }
        if matches!(&*self.timers.citation.borrow(), Some(armed) if armed.deadline <= deadline) {
            return;
        }
        // A deadline further off than the limit fires early, finds nothing
        // due and arms again.
        let armed = self.start_timer(CITATION, deadline - js_sys::Date::now(), deadline);
        replace(&self.timers.citation, Some(armed));
    }

    /// One timer for the whole stream: when it fires, it fails the stream if
    /// nothing arrived for `idleTimeoutMs`, or sleeps for the time left.
    pub(super) fn arm_idle_timer(&self, delay: f64) {
        let armed = self.start_timer(IDLE, delay, f64::INFINITY);
        replace(&self.timers.idle, Some(armed));
    }

    /// Waits `delay` ms before the next resume request.
    pub(super) fn arm_resume_timer(&self, delay: f64) {
        let armed = self.start_timer(RESUME, delay, f64::INFINITY);
        replace(&self.timers.resume, Some(armed));
    }

    /// A timer fired.
    pub(super) fn on_timer(&self, which: u32) {
        // This timer has fired: whatever comes next needs a new one.
        match which {
            IDLE => self.timers.idle.take(),
            RESUME => self.timers.resume.take(),
            _ => self.timers.citation.take(),
        };
        if self.lifecycle.settled() {
            return;
        }
        match which {
            IDLE => self.idle_timer_fired(),
            RESUME => self.resume_timer_fired(),
            _ => self.citation_timer_fired(),
        }
        self.wrap_up_if_idle();
    }

    fn idle_timer_fired(&self) {
        let limit = self.idle_timeout_ms;
        let quiet = js_sys::Date::now() - self.timers.last_byte_at.get();
        if quiet >= limit {
            self.halt(Reason::Failed(StreamError::idle_timeout(limit)));
        } else {
            self.arm_idle_timer(limit - quiet);
        }
    }

    /// Releases what is due, then re-arms for the candidate still held,
    /// if any.
    fn citation_timer_fired(&self) {
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
