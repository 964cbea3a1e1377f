//! `streamChat`: one POST, its `text/event-stream` response read chunk by
//! chunk into the core pipeline, and the pipeline's output delivered to the
//! caller's callbacks.
//!
//! There is no future here. Each platform call (the fetch, each read of the
//! body, a timer, the caller's signal) goes through `js/transport.js`,
//! which reports its outcome with one synchronous call on the stream's own
//! JS object, its `port`: one of the `on…` methods below. So every step is a
//! plain function of the lifecycle, and the module carries no executor.
//!
//! Re-entrancy: a callback may call `stop()`. No mutable `RefCell` borrow
//! is held while a callback or any other JS runs, and `stop()` only moves
//! the lifecycle (a borrow that calls no JS) and aborts the fetch, so
//! nothing can panic however callbacks and stop interleave.

mod callbacks;
mod lifecycle;
mod result;
mod resume;
mod timers;
mod transport;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use self::callbacks::Caller;
pub use self::callbacks::{Callback, Callbacks};
use self::lifecycle::{Lifecycle, Reason};
use self::resume::Resume;
use self::timers::Timers;
use self::transport::Transport;
use crate::core::citation::CitationOptions;
use crate::core::pipeline::ChatPipeline;
use crate::core::sse::DEFAULT_MAX_EVENT_BYTES;
use crate::wasm::adapter::{adapter_of, Thrown};
use crate::wasm::error::StreamError;
use crate::wasm::lowlevel::citation_options;
use crate::wasm::unicode::CLASSIFY;

#[wasm_bindgen(module = "/js/objects.js")]
extern "C" {
    /// `[promise, resolve]`: made in JS, so that the module needs no
    /// closure for the promise's executor.
    fn settlement() -> Array;
}

/// Everything one stream is asked to do, checked already (the facade's
/// `streamChat` reads and checks the options).
pub struct ChatConfig {
    /// Where to POST.
    pub url: String,
    /// The request body, serialised already.
    pub body: String,
    /// Anything `new Headers()` takes, or undefined.
    pub headers: JsValue,
    /// The caller's own signal.
    pub signal: Option<AbortSignal>,
    /// How the citation buffer holds candidates.
    pub citations: CitationOptions,
    /// Markdown-aware segments (`markdown: true`) rather than flat ones.
    pub markdown: bool,
    /// `idleTimeoutMs`.
    pub idle_timeout_ms: f64,
    /// `maxEventBytes`.
    pub max_event_bytes: usize,
    /// `followRedirects`: let `fetch` follow a redirect, re-sending the
    /// POST; by default a redirect is an `http` error.
    pub follow_redirects: bool,
    /// `resume.attempts`: how many resume requests a dropped connection
    /// may take (0 turns resume off).
    pub resume_attempts: u32,
    /// `resumeChat`'s `messageId`: the stream attaches to this answer with
    /// its resume request instead of POSTing.
    pub attach: Option<String>,
    /// `adapter`: undefined for this protocol, a preset's name, or the
    /// facade's wrapped `event` function of the caller's own adapter.
    pub adapter: JsValue,
    /// The caller's callbacks.
    pub callbacks: Callbacks,
    /// `this` for the callbacks: the caller's options object.
    pub this: JsValue,
}

impl ChatConfig {
    /// The defaults of every option, for a POST of `body` to `url`.
    pub fn new(url: String, body: String) -> ChatConfig {
        ChatConfig {
            url,
            body,
            headers: JsValue::UNDEFINED,
            signal: None,
            citations: CitationOptions::default(),
            markdown: false,
            idle_timeout_ms: 45_000.0,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            follow_redirects: false,
            resume_attempts: 5,
            attach: None,
            adapter: JsValue::UNDEFINED,
            callbacks: Callbacks::default(),
            this: JsValue::UNDEFINED,
        }
    }
}

/// What every request of a stream is sent with: the POST and any resume
/// request after it.
struct Request {
    url: String,
    body: String,
    headers: JsValue,
    follow_redirects: bool,
}

/// One stream, by responsibility: the request and the body's reader
/// (`transport.rs`), resume after a drop (`resume.rs`), the pipeline and
/// what it makes of the bytes (the result, `result.rs`), the caller's
/// callbacks (`callbacks.rs`), the timers (`timers.rs`), and the lifecycle
/// that orders them all (`lifecycle.rs`).
struct Shared {
    pipeline: RefCell<ChatPipeline>,
    request: Request,
    transport: Transport,
    resume: Resume,
    caller: Caller,
    timers: Timers,
    lifecycle: Lifecycle,
    idle_timeout_ms: f64,
    /// The stream's own JS object, which the transport reports to, until
    /// the stream settles (it refers back to this, so it is let go then).
    port: RefCell<JsValue>,
    /// Resolves `finished`, once.
    resolve: RefCell<Option<Function>>,
    /// What the caller's own adapter threw, if it did.
    adapter_thrown: Thrown,
}

/// A running stream, as the JS facade sees it.
#[wasm_bindgen(js_name = ChatStream)]
pub struct ChatStream {
    shared: Rc<Shared>,
    finished: Promise,
}

/// `startChat(url, body, headers, signal, timeoutMs, maxLength, numeric,
/// markdown, idleTimeoutMs, maxEventBytes, followRedirects, resumeAttempts,
/// attach, adapter, callbacks, this)`, for the facade, which has checked every
/// option (an undefined number is the default): starts the request at
/// once. `attach` is `resumeChat`'s message id. `callbacks` holds a
/// function or `undefined` for each [`Callback`], in order.
#[wasm_bindgen(js_name = startChat)]
#[allow(clippy::too_many_arguments)]
pub fn start_chat(
    url: String,
    body: String,
    headers: JsValue,
    signal: JsValue,
    timeout_ms: Option<f64>,
    max_length: Option<f64>,
    numeric: bool,
    markdown: bool,
    idle_timeout_ms: Option<f64>,
    max_event_bytes: Option<f64>,
    follow_redirects: bool,
    resume_attempts: Option<u32>,
    attach: Option<String>,
    adapter: JsValue,
    callbacks: Array,
    this: JsValue,
) -> ChatStream {
    let defaults = ChatConfig::new(url, body);
    ChatStream::start(ChatConfig {
        headers,
        signal: (!signal.is_undefined()).then(|| signal.unchecked_into()),
        citations: citation_options(timeout_ms, max_length, numeric),
        markdown,
        idle_timeout_ms: idle_timeout_ms.unwrap_or(defaults.idle_timeout_ms),
        max_event_bytes: max_event_bytes.map_or(defaults.max_event_bytes, |n| n as usize),
        follow_redirects,
        resume_attempts: resume_attempts.unwrap_or(defaults.resume_attempts),
        attach,
        adapter,
        callbacks: Callbacks::from_array(&callbacks),
        this,
        ..defaults
    })
}

impl ChatStream {
    /// Starts the request at once.
    pub fn start(config: ChatConfig) -> ChatStream {
        let settlement = settlement();
        let finished: Promise = settlement.get(0).unchecked_into();
        let resolve: Function = settlement.get(1).unchecked_into();
        let mut pipeline = if config.markdown {
            ChatPipeline::markdown(config.max_event_bytes, config.citations, CLASSIFY)
        } else {
            ChatPipeline::with_classify(config.max_event_bytes, config.citations, CLASSIFY)
        };
        let adapter_thrown = Thrown::default();
        if let Some(adapter) = adapter_of(&config.adapter, &adapter_thrown) {
            pipeline = pipeline.with_adapter(adapter);
        }
        let shared = Rc::new(Shared {
            pipeline: RefCell::new(pipeline),
            request: Request {
                url: config.url,
                body: config.body,
                headers: config.headers,
                follow_redirects: config.follow_redirects,
            },
            transport: Transport::default(),
            resume: Resume::new(config.resume_attempts, config.attach),
            caller: Caller::new(config.callbacks, config.this, config.signal),
            timers: Timers::default(),
            lifecycle: Lifecycle::new(),
            idle_timeout_ms: config.idle_timeout_ms,
            port: RefCell::new(JsValue::UNDEFINED),
            resolve: RefCell::new(Some(resolve)),
            adapter_thrown,
        });
        // The port is a second JS object of this same stream, held by the
        // stream itself until it settles, and by the transport's pending
        // promise.
        let port: JsValue = ChatStream {
            shared: Rc::clone(&shared),
            finished: finished.clone(),
        }
        .into();
        *shared.port.borrow_mut() = port;
        shared.begin();
        ChatStream { shared, finished }
    }
}

#[wasm_bindgen(js_class = ChatStream)]
impl ChatStream {
    /// Stops the stream: aborts the fetch, calls no callback after this,
    /// and resolves `finished` with status `"stopped"`. Safe at any time and
    /// any number of times.
    pub fn stop(&self) {
        self.shared.halt_from_outside(Reason::Stopped);
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
        self.shared.wrap_up_if_idle();
    }

    /// Resolves with the result once the stream is over; never rejects.
    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> Promise {
        self.finished.clone()
    }

    /// The transport's report: the response arrived, with its
    /// `content-type` and `cite-stream-message-id` headers.
    #[wasm_bindgen(js_name = onResponse)]
    pub fn on_response(
        &self,
        response: JsValue,
        status: u16,
        content_type: String,
        message_id: Option<String>,
    ) {
        self.shared
            .on_response(response, status, &content_type, message_id);
    }

    /// The answer this stream reads, once known (from its `session` event,
    /// the response's header, or the one attached to).
    #[wasm_bindgen(getter, js_name = answerId)]
    pub fn answer_id(&self) -> Option<String> {
        self.shared.answer_id()
    }

    /// The transport's report: the next chunk of the body.
    #[wasm_bindgen(js_name = onChunk)]
    pub fn on_chunk(&self, bytes: &[u8]) {
        self.shared.on_chunk(bytes);
    }

    /// The transport's report: the body ended.
    #[wasm_bindgen(js_name = onEnd)]
    pub fn on_end(&self) {
        self.shared.on_end();
    }

    /// The transport's report: the request or a read failed with this
    /// `StreamError`, or rejected because the stream aborted it.
    #[wasm_bindgen(js_name = onFailure)]
    pub fn on_failure(&self, error: JsValue, status: Option<u16>) {
        self.shared.on_failure(error, status);
    }

    /// A timer fired (see [`timers`](self::timers)).
    #[wasm_bindgen(js_name = onTimer)]
    pub fn on_timer(&self, which: u32) {
        self.shared.on_timer(which);
    }

    /// The caller's signal fired with `reason`.
    #[wasm_bindgen(js_name = onAbort)]
    pub fn on_abort(&self, reason: JsValue) {
        self.shared.halt_from_outside(Reason::Aborted(reason));
    }
}

impl Shared {
    /// The first step: listen to the caller's signal (halting at once if it
    /// has fired already), arm the idle timer and send the request: the
    /// POST, or the resume request of the answer attached to.
    fn begin(&self) {
        self.listen_to_caller_signal();
        if self.lifecycle.halted() {
            self.wrap_up();
            return;
        }
        self.timers.last_byte_at.set(js_sys::Date::now());
        self.arm_idle_timer(self.idle_timeout_ms);
        match self.resume.attach() {
            Some(answer) => self.send_resume(answer, None),
            None => self.send_post(),
        }
    }

    /// Ends the stream for `reason` (see [`Lifecycle::halt`]) and aborts
    /// the fetch, unless that changed nothing. The pending step of the
    /// transport then fails, and its report wraps the stream up.
    fn halt(&self, reason: Reason) {
        if self.lifecycle.halt(reason) {
            self.transport.abort();
        }
    }

    /// `stop()` or the caller's signal: the stream halts, and is wrapped up
    /// at once if it is waiting for a resume's backoff (no step of the
    /// transport is pending then to report the abort).
    fn halt_from_outside(&self, reason: Reason) {
        self.halt(reason);
        if self.resume.waiting() {
            self.wrap_up();
        }
    }

    /// The stream failed: it halts, and is wrapped up.
    fn fail(&self, error: StreamError) {
        self.halt(Reason::Failed(error));
        self.wrap_up();
    }

    /// After a halt from a callback or a timer, when no step of the
    /// transport is pending to report it: the stream is wrapped up now.
    fn wrap_up_if_idle(&self) {
        if self.lifecycle.halted() && !self.transport.pending() {
            self.wrap_up();
        }
    }

    /// The stream is over, whatever the reason: release what the buffer
    /// still holds (with callbacks when the stream failed on its own,
    /// silently after a stop), report the failure, and resolve `finished`.
    /// Only the first call does anything.
    fn wrap_up(&self) {
        if self.lifecycle.settled() {
            return;
        }
        let mut out = Vec::new();
        self.pipeline.borrow_mut().finish(&mut out);
        let failure = self.lifecycle.failure_to_report();
        // Only segments come out of `finish`, so this cannot fail.
        let _ = self.deliver(out);
        if let Some(error) = failure {
            self.call(Callback::Error, &[error.into()]);
        }
        self.settle();
    }

    /// `finished` has its value: no callback, no timer, no listener, and no
    /// reference to the caller's objects or to the port any more.
    fn settle(&self) {
        let outcome = self.lifecycle.settle();
        self.timers.clear();
        self.caller.give_up();
        self.transport.release();
        let result = self.result(outcome);
        self.port.replace(JsValue::UNDEFINED);
        if let Some(resolve) = self.resolve.borrow_mut().take() {
            let _ = resolve.call1(&JsValue::UNDEFINED, &result);
        }
    }
}
