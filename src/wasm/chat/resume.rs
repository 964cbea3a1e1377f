//! Resume after a dropped connection (protocol 1.1): once the `session`
//! event (or, before it is read, the POST response's
//! `cite-stream-message-id` header) has named the answer, a connection
//! that fails or ends before `done` is picked up again with
//! `GET {url}/{messageId}/stream` and `Last-Event-ID` (none before the
//! `session` event: the answer is replayed whole), after a backoff of 250 ms doubling at each attempt. The
//! POST is never sent again. The pipeline carries on across the gap (see
//! `core::pipeline::resume`), so the segments continue as if nothing
//! happened.
//!
//! A resumed connection that delivers an event past the drop has
//! succeeded: the count of attempts starts again for a later drop. A
//! failure that no retry can mend (a refused resume request, `404` or
//! `410 resume_expired`, a response of another type) or the last attempt
//! failing ends the stream with a `network` error carrying the attempts
//! and the last failure.

use std::cell::{Cell, RefCell};

use super::Shared;
use crate::wasm::convert::reconnect_to_js;
use crate::wasm::error::StreamError;

/// The longest answer id taken from a response header.
const MAX_ANNOUNCED_BYTES: usize = 256;

/// The first backoff; each further attempt waits twice as long.
const FIRST_BACKOFF_MS: f64 = 250.0;

/// How a stream picks its answer up again.
pub(super) struct Resume {
    /// How many attempts a drop may take (0: resume is off).
    attempts: u32,
    /// The attempts since the last drop that made no progress yet.
    tried: Cell<u32>,
    /// The seq of the last event taken when the connection dropped: an
    /// event past it is progress.
    seq_at_drop: Cell<u64>,
    /// The answer to attach to (`resumeChat`): its first request is the
    /// resume request, before any `session` event has named the answer.
    attach: Option<String>,
    /// The answer the POST's response named in its header, for a drop
    /// before the `session` event was read.
    announced: RefCell<Option<String>>,
    /// A resume request waits for its backoff timer.
    waiting: Cell<bool>,
    /// The resume request's `Last-Event-ID`, while one is on its way.
    last_event_id: RefCell<Option<String>>,
}

impl Resume {
    pub(super) fn new(attempts: u32, attach: Option<String>) -> Resume {
        Resume {
            attempts,
            tried: Cell::new(0),
            seq_at_drop: Cell::new(0),
            attach,
            announced: RefCell::new(None),
            waiting: Cell::new(false),
            last_event_id: RefCell::new(None),
        }
    }

    /// The answer attached to, if this stream attaches rather than POSTs.
    pub(super) fn attach(&self) -> Option<&str> {
        self.attach.as_deref()
    }

    /// Whether the stream waits for a backoff timer, with no step of the
    /// transport pending.
    pub(super) fn waiting(&self) -> bool {
        self.waiting.get()
    }
}

impl Shared {
    /// The answer this stream reads, once known: named by the `session`
    /// event, or the one attached to, or the one the POST's response
    /// header named.
    pub(super) fn answer_id(&self) -> Option<String> {
        let pipeline = self.pipeline.borrow();
        match &pipeline.transcript().session {
            Some(info) => Some(info.message_id.clone()),
            None => self
                .resume
                .attach
                .clone()
                .or_else(|| self.resume.announced.borrow().clone()),
        }
    }

    /// The POST's response named its answer `id`
    /// (`cite-stream-message-id`): a drop before the `session` event is
    /// read resumes it from the start. An empty or oversized id is none.
    pub(super) fn announce(&self, id: String) {
        if self.resume.attach.is_none() && !id.is_empty() && id.len() <= MAX_ANNOUNCED_BYTES {
            self.resume.announced.replace(Some(id));
        }
    }

    /// The request or its body failed with `error`; `retryable` when a new
    /// try may mend it (a network failure, a 5xx). A connection of a known
    /// answer is resumed while attempts are left; a failure of a resume
    /// request ends the stream as the resume's failure; anything else is
    /// the stream's own failure.
    pub(super) fn fail_or_resume(&self, error: StreamError, retryable: bool) {
        let tried = self.resume.tried.get();
        let known = self.resume.attempts > 0 && self.answer_id().is_some();
        if !known || (!retryable && tried == 0) {
            self.fail(error);
        } else if !retryable || tried >= self.resume.attempts {
            self.fail(StreamError::resume_failed(error, tried));
        } else {
            self.schedule_resume(tried + 1);
        }
    }

    /// Lets the dead connection go and arms the backoff for attempt
    /// `attempt`, reporting it to `onReconnect`.
    fn schedule_resume(&self, attempt: u32) {
        if attempt == 1 {
            self.resume
                .seq_at_drop
                .set(self.pipeline.borrow().last_seq());
        }
        self.resume.tried.set(attempt);
        self.transport.release();
        self.pipeline.borrow_mut().reconnect();
        let last_event_id = self.pipeline.borrow().resume_id();
        let delay = FIRST_BACKOFF_MS * f64::from(1u32 << (attempt - 1).min(16));
        let info = reconnect_to_js(attempt, last_event_id.as_deref(), delay);
        self.resume.last_event_id.replace(last_event_id);
        self.resume.waiting.set(true);
        self.arm_resume_timer(delay);
        self.call(super::Callback::Reconnect, &[info]);
        self.wrap_up_if_idle();
    }

    /// The backoff is over: the resume request goes out.
    pub(super) fn resume_timer_fired(&self) {
        self.resume.waiting.set(false);
        if self.lifecycle.halted() {
            return;
        }
        let Some(answer) = self.answer_id() else {
            return;
        };
        let last_event_id = self.resume.last_event_id.take();
        // The idle timeout counts from the new request.
        self.timers.last_byte_at.set(js_sys::Date::now());
        self.send_resume(&answer, last_event_id.as_deref());
    }

    /// After a chunk: an event past the drop means the resume worked.
    pub(super) fn note_progress(&self) {
        if self.resume.tried.get() > 0
            && self.pipeline.borrow().last_seq() > self.resume.seq_at_drop.get()
        {
            self.resume.tried.set(0);
        }
    }
}
