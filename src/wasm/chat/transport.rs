//! The transport: the POST, the checks of the response, and the loop that
//! reads its body chunk by chunk into the pipeline. `js/transport.js`
//! makes each platform call and reports back to one of the `on_…` steps
//! here; the loop is this file's: each chunk handled asks for the next.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

use super::{Callback, Reason, Shared};
use crate::wasm::convert::EngineJson;
use crate::wasm::error::StreamError;

/// A chunk larger than this is parsed and delivered in slices of this
/// size, so that the first segments of a big chunk (a proxy that buffers,
/// a fast server) reach the page before the whole chunk is parsed. The
/// core's output does not depend on where its input is cut.
const SLICE_BYTES: usize = 16 * 1024;

// None of these reports back before it returns (every report comes from a
// promise's continuation or a timer), so the borrow of `port` held while
// one is called is over before any report arrives.
#[wasm_bindgen(module = "/js/transport.js")]
extern "C" {
    /// POSTs (or, given a message id, GETs its resume route) and reports
    /// `onResponse` or `onFailure`; gives back the fetch's AbortController.
    fn send(
        port: &JsValue,
        url: &str,
        body: &str,
        headers: &JsValue,
        follow_redirects: bool,
        message_id: Option<&str>,
        last_event_id: Option<&str>,
    ) -> JsValue;
    fn abort(controller: &JsValue);
    /// Reads a refused response's body, then reports its `http` error.
    fn refuse(port: &JsValue, response: &JsValue);
    /// The body's reader; undefined when there is no body.
    #[wasm_bindgen(js_name = bodyReader)]
    fn body_reader(response: &JsValue) -> JsValue;
    /// Reads one chunk and reports `onChunk`, `onEnd` or `onFailure`.
    fn read(port: &JsValue, reader: &JsValue);
    /// Cancels a body or a reader, its rejection handled.
    fn discard(body: &JsValue);
    /// Cancels the rest of the body, then reports `onEnd`.
    fn close(port: &JsValue, reader: &JsValue);
}

/// The request's handles: the fetch's controller and the body's reader,
/// and whether a step is on its way (its report still to come).
#[derive(Default)]
pub(super) struct Transport {
    controller: RefCell<JsValue>,
    reader: RefCell<JsValue>,
    pending: Cell<bool>,
}

impl Transport {
    /// Aborts the fetch: the pending step, if any, then fails.
    pub(super) fn abort(&self) {
        let controller = self.controller.borrow().clone();
        if !controller.is_undefined() {
            abort(&controller);
        }
    }

    /// Whether a step's report is still to come.
    pub(super) fn pending(&self) -> bool {
        self.pending.get()
    }

    /// The stream is over: the body is cancelled, if it is still open, and
    /// the handles are let go.
    pub(super) fn release(&self) {
        let reader = self.reader.replace(JsValue::UNDEFINED);
        if !reader.is_undefined() {
            discard(&reader);
        }
        self.controller.replace(JsValue::UNDEFINED);
    }

    /// A report came: no step is pending any more.
    fn reported(&self) {
        self.pending.set(false);
    }
}

impl Shared {
    /// Sends the POST.
    pub(super) fn send_post(&self) {
        self.send_request(None, None);
    }

    /// Sends the resume request of `message_id`, for the events after
    /// `last_event_id` (all of them when `None`).
    pub(super) fn send_resume(&self, message_id: &str, last_event_id: Option<&str>) {
        self.send_request(Some(message_id), last_event_id);
    }

    fn send_request(&self, message_id: Option<&str>, last_event_id: Option<&str>) {
        self.transport.pending.set(true);
        let request = &self.request;
        let controller = send(
            &self.port.borrow(),
            &request.url,
            &request.body,
            &request.headers,
            request.follow_redirects,
            message_id,
            last_event_id,
        );
        self.transport.controller.replace(controller);
    }

    /// Reads the next chunk.
    fn read_next(&self) {
        self.transport.pending.set(true);
        read(&self.port.borrow(), &self.transport.reader.borrow());
    }

    /// The response arrived: a refused request is an `http` error (once its
    /// body is read), a response of another type a `content-type` error;
    /// otherwise its body is read, and the answer it names in its
    /// `cite-stream-message-id` header is noted for a resume.
    pub(super) fn on_response(
        &self,
        response: JsValue,
        status: u16,
        content_type: &str,
        message_id: Option<String>,
    ) {
        self.transport.reported();
        if self.lifecycle.halted() {
            discard(&body_reader(&response));
            self.wrap_up();
            return;
        }
        if !(200..300).contains(&status) {
            self.transport.pending.set(true);
            refuse(&self.port.borrow(), &response);
            return;
        }
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("text/event-stream") {
            discard(&body_reader(&response));
            self.fail_or_resume(StreamError::content_type(content_type), false);
            return;
        }
        let reader = body_reader(&response);
        if reader.is_undefined() {
            self.fail_or_resume(StreamError::network("the response has no body"), false);
            return;
        }
        self.transport.reader.replace(reader);
        if let Some(id) = message_id {
            self.announce(id);
        }
        self.lifecycle.streaming();
        self.read_next();
    }

    /// One chunk of the body: through the pipeline and out to the
    /// callbacks, slice by slice, then the next read, unless the stream
    /// ended, failed or was halted.
    pub(super) fn on_chunk(&self, bytes: &[u8]) {
        self.transport.reported();
        if self.lifecycle.halted() {
            self.wrap_up();
            return;
        }
        let now = js_sys::Date::now();
        self.timers.last_byte_at.set(now);
        for slice in bytes.chunks(SLICE_BYTES) {
            if let Some(error) = self.feed(slice, now) {
                match self.adapter_thrown.take() {
                    // The caller's adapter threw: as a callback that threw.
                    Some(cause) => {
                        let error = StreamError::callback("adapter.event", cause);
                        self.halt(Reason::Failed(error.clone()));
                        self.call(Callback::Error, &[error.into()]);
                        self.wrap_up();
                    }
                    None => self.fail(error),
                }
                return;
            }
            if self.lifecycle.halted() || self.pipeline.borrow().ended() {
                break;
            }
        }
        self.note_progress();
        if self.lifecycle.halted() {
            self.wrap_up();
            return;
        }
        if self.pipeline.borrow().ended() {
            // The rest of the body is not read; the stream settles once it
            // is cancelled (see `close`).
            self.transport.pending.set(true);
            let reader = self.transport.reader.replace(JsValue::UNDEFINED);
            close(&self.port.borrow(), &reader);
            return;
        }
        self.arm_citation_timer();
        self.read_next();
    }

    /// Feeds one slice of a chunk and delivers what it released: the
    /// error it ended with, if any.
    fn feed(&self, slice: &[u8], now: f64) -> Option<StreamError> {
        let mut out = Vec::new();
        let fed = self
            .pipeline
            .borrow_mut()
            .feed::<EngineJson>(slice, now, &mut out);
        self.deliver(out).err().or(fed.err().map(StreamError::from))
    }

    /// The body ended, or was closed after the end of the answer.
    pub(super) fn on_end(&self) {
        self.transport.reported();
        if self.lifecycle.halted() || self.pipeline.borrow().ended() {
            self.wrap_up();
            return;
        }
        if self.pipeline.borrow().adapted() {
            // Another server's stream ended: complete only at its format's
            // end event.
            let ended = self.pipeline.borrow().end_of_body();
            match ended {
                Ok(()) => self.wrap_up(),
                Err(error) => self.fail(error.into()),
            }
            return;
        }
        // A clean end without even a `session`, of an answer no header
        // named: some other event stream (an OpenAI-format one, say), not
        // a cut connection.
        if self.answer_id().is_none() {
            self.fail(StreamError::protocol("no-session", None, None));
            return;
        }
        let error = StreamError::network("the connection closed before the answer was done");
        self.fail_or_resume(error, true);
    }

    /// The request or a read failed: a network failure, or the `http`
    /// error of a refused response (`status`). After a halt that is the
    /// abort itself, and the halt's reason stands.
    pub(super) fn on_failure(&self, error: JsValue, status: Option<u16>) {
        self.transport.reported();
        if self.lifecycle.halted() {
            self.wrap_up();
            return;
        }
        // A 5xx is likely a proxy's while the server restarts: worth a retry.
        let retryable = status.is_none_or(|status| status >= 500);
        self.fail_or_resume(StreamError::made(error), retryable);
    }
}
