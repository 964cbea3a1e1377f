//! The transport: the POST through the global `fetch`, the checks of the
//! response, and the loop that reads its body chunk by chunk into the
//! pipeline.

use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit, Response};

use super::{Reason, Shared};
use crate::wasm::convert::EngineJson;
use crate::wasm::error::StreamError;
use crate::wasm::options::get;

#[wasm_bindgen(module = "/js/read-body.js")]
extern "C" {
    /// Reads `reader` to its end, calling `on_chunk` with each chunk until
    /// it returns false; resolves to whether the body ended, rejects with
    /// the read error.
    fn pump(
        reader: &ReadableStreamDefaultReader,
        on_chunk: &Closure<dyn FnMut(Vec<u8>) -> bool>,
    ) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, so one build runs in windows, workers and Node.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

impl Shared {
    /// Sends the request and reads the response to its end. `Ok` means the
    /// `done` event arrived.
    pub(super) async fn stream(self: &Rc<Self>) -> Result<(), StreamError> {
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
        self.timers.last_byte_at.set(now);
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

    /// POSTs the body and checks the response's status and content type.
    pub(super) async fn send(&self) -> Result<Response, StreamError> {
        let options = &self.options;
        let headers = if options.headers.is_undefined() || options.headers.is_null() {
            Headers::new()
        } else {
            Headers::new_with_str_sequence_sequence(&options.headers)
        }
        .map_err(|cause| StreamError::Network { cause })?;
        for (name, value) in [
            ("content-type", "application/json"),
            ("accept", "text/event-stream"),
        ] {
            if !headers.has(name).unwrap_or(true) {
                let _ = headers.set(name, value);
            }
        }
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&options.body));
        init.set_signal(Some(&self.controller.signal()));
        // Following a 307 or 308 would send the POST again, to wherever the
        // server said: only when the caller asks. "manual" rather than
        // "error" so that the redirect itself is reported, as an `http`
        // error (a browser shows it as an opaque response of status 0).
        if !options.follow_redirects {
            let _ = js_sys::Reflect::set(&init, &"redirect".into(), &"manual".into());
        }
        let promise =
            global_fetch(&options.url, &init).map_err(|cause| StreamError::Network { cause })?;
        let response: Response = JsFuture::from(promise)
            .await
            .map_err(|cause| StreamError::Network { cause })?
            .unchecked_into();
        if !response.ok() {
            return Err(http_error(&response).await);
        }
        let content_type = response
            .headers()
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("text/event-stream") {
            if let Some(body) = response.body() {
                settle_quietly(body.cancel());
            }
            return Err(StreamError::ContentType {
                found: content_type,
            });
        }
        Ok(response)
    }
}

/// Lets a promise settle with its rejection handled: cancelling the body of
/// an aborted fetch rejects, and an unhandled rejection ends a Node process.
fn settle_quietly(promise: Promise) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
}

fn network(message: &str) -> StreamError {
    StreamError::Network {
        cause: js_sys::Error::new(message).into(),
    }
}

/// An `http` error with the server's JSON error body, when it sent one.
async fn http_error(response: &Response) -> StreamError {
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string()),
        Err(_) => None,
    };
    let body = text
        .as_deref()
        .and_then(|text| js_sys::JSON::parse(text).ok());
    let detail = body
        .as_ref()
        .and_then(|body| get(body, "error").ok())
        .and_then(|error| get(&error, "message").ok())
        .and_then(|message| message.as_string());
    let location = response.headers().get("location").ok().flatten();
    let message = match (detail, &location) {
        (Some(detail), _) => format!("HTTP {status}: {detail}"),
        (None, Some(location)) => format!("HTTP {status}: a redirect to {location}, not followed"),
        (None, None) => format!("HTTP {status} {}", response.status_text()),
    };
    StreamError::Http {
        status,
        body,
        location: location.map(JsValue::from),
        message,
    }
}
