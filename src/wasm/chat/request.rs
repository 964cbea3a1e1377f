//! The request: the POST through the global `fetch`, the checks of the
//! response, and the loop that reads its body.

use js_sys::Promise;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, RequestInit, Response};

use super::Shared;
use crate::wasm::error::StreamError;
use crate::wasm::options::get;

#[wasm_bindgen(module = "/js/read-body.js")]
extern "C" {
    /// Reads `reader` to its end, calling `on_chunk` with each chunk until
    /// it returns false; resolves to whether the body ended, rejects with
    /// the read error.
    pub(super) fn pump(
        reader: &ReadableStreamDefaultReader,
        on_chunk: &Closure<dyn FnMut(Vec<u8>) -> bool>,
    ) -> Promise;
}

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, so one build runs in windows, workers and Node.
    #[wasm_bindgen(catch, js_name = fetch)]
    pub(super) fn global_fetch(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
}

impl Shared {
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
pub(super) fn settle_quietly(promise: Promise) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
}

pub(super) fn network(message: &str) -> StreamError {
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
