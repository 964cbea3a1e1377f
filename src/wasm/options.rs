//! Reading the options objects that JS passes in. A wrong option is a
//! programming error, reported at once as a `TypeError` naming it.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortSignal;

use crate::core::citation::{CitationOptions, Pattern};
use crate::core::sse::DEFAULT_MAX_EVENT_BYTES;

/// The default `idleTimeoutMs`: 45 s.
pub(crate) const DEFAULT_IDLE_TIMEOUT_MS: f64 = 45_000.0;

/// One of the callbacks of `streamChat`: the typed name the shell uses, so
/// that a misspelt callback is a compile error rather than a silent no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callback {
    Session,
    Status,
    Segment,
    Citations,
    Done,
    Error,
}

impl Callback {
    /// Every callback, in the order of the [`Callbacks`] slots and of the
    /// JS facade's `CALLBACKS`.
    const ALL: [Callback; 6] = [
        Callback::Session,
        Callback::Status,
        Callback::Segment,
        Callback::Citations,
        Callback::Done,
        Callback::Error,
    ];

    /// The option's name, as the caller spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Callback::Session => "onSession",
            Callback::Status => "onStatus",
            Callback::Segment => "onSegment",
            Callback::Citations => "onCitations",
            Callback::Done => "onDone",
            Callback::Error => "onError",
        }
    }

    /// The callback at this position of [`Callback::ALL`], if any: the JS
    /// facade lists the callbacks in the same order and names the one whose
    /// promise rejected by its position, so that no name is compared.
    pub(crate) fn at(index: u32) -> Option<Callback> {
        Callback::ALL.get(index as usize).copied()
    }
}

/// The callbacks of `streamChat`, each optional, one slot per [`Callback`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Callbacks([Option<Function>; 6]);

impl Callbacks {
    /// The caller's function for this callback, if it gave one.
    pub(crate) fn get(&self, callback: Callback) -> Option<&Function> {
        self.0[callback as usize].as_ref()
    }
}

/// Everything `streamChat` was asked to do.
#[derive(Debug, Clone)]
pub(crate) struct ChatOptions {
    pub url: String,
    /// Already serialised with `JSON.stringify`.
    pub body: String,
    pub headers: JsValue,
    pub signal: Option<AbortSignal>,
    pub citations: CitationOptions,
    pub idle_timeout_ms: f64,
    pub max_event_bytes: usize,
    /// `followRedirects`: let `fetch` follow a redirect, re-sending the
    /// POST; by default a redirect is an `http` error.
    pub follow_redirects: bool,
    pub callbacks: Callbacks,
    /// The options object, used as `this` for callbacks.
    pub this: JsValue,
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

pub(crate) fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    if object.is_undefined() || object.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    Reflect::get(object, &JsValue::from_str(key))
}

fn present(value: &JsValue) -> bool {
    !value.is_undefined() && !value.is_null()
}

fn callback(object: &JsValue, key: &'static str) -> Result<Option<Function>, JsValue> {
    let value = get(object, key)?;
    if !present(&value) {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| type_error(&format!("streamChat: `{key}` must be a function")))
}

fn number(object: &JsValue, key: &str, default: f64) -> Result<f64, JsValue> {
    let value = get(object, key)?;
    if !present(&value) {
        return Ok(default);
    }
    match value.as_f64() {
        Some(n) if n >= 0.0 && !n.is_nan() => Ok(n),
        _ => Err(type_error(&format!(
            "`{key}` must be a non-negative number"
        ))),
    }
}

/// Reads `followRedirects`.
fn follow_redirects(object: &JsValue) -> Result<bool, JsValue> {
    let value = get(object, "followRedirects")?;
    if !present(&value) {
        return Ok(false);
    }
    value
        .as_bool()
        .ok_or_else(|| type_error("streamChat: `followRedirects` must be a boolean"))
}

/// Reads `{ timeoutMs, maxLength, pattern }`.
pub(crate) fn citation_options(object: &JsValue) -> Result<CitationOptions, JsValue> {
    let defaults = CitationOptions::default();
    let max_length = number(object, "maxLength", defaults.max_length as f64)?;
    if max_length < 1.0 || max_length.fract() != 0.0 {
        return Err(type_error("`maxLength` must be a positive integer"));
    }
    let pattern = match get(object, "pattern")?.as_string().as_deref() {
        None => defaults.pattern,
        Some("timestamp-speaker") => Pattern::TimestampSpeaker,
        Some("numeric") => Pattern::Numeric,
        Some(other) => {
            return Err(type_error(&format!(
                "`pattern` must be \"timestamp-speaker\" or \"numeric\", not \"{other}\""
            )))
        }
    };
    Ok(CitationOptions {
        timeout_ms: number(object, "timeoutMs", defaults.timeout_ms)?,
        max_length: max_length as usize,
        pattern,
    })
}

/// Reads `maxEventBytes`.
pub(crate) fn max_event_bytes(object: &JsValue) -> Result<usize, JsValue> {
    let n = number(object, "maxEventBytes", DEFAULT_MAX_EVENT_BYTES as f64)?;
    if n < 1.0 || n.fract() != 0.0 {
        return Err(type_error("`maxEventBytes` must be a positive integer"));
    }
    Ok(n as usize)
}

impl ChatOptions {
    pub(crate) fn read(options: JsValue) -> Result<ChatOptions, JsValue> {
        if !options.is_object() {
            return Err(type_error("streamChat: options must be an object"));
        }
        let url = get(&options, "url")?;
        let url = if let Some(url) = url.as_string() {
            url
        } else if url.is_object() {
            // A URL object.
            String::from(js_sys::JsString::from(url))
        } else {
            return Err(type_error("streamChat: `url` is required"));
        };
        let body = get(&options, "body")?;
        let body = js_sys::JSON::stringify(&body)
            .map_err(|_| type_error("streamChat: `body` cannot be serialised as JSON"))?;
        let body = body
            .as_string()
            .ok_or_else(|| type_error("streamChat: `body` cannot be serialised as JSON"))?;
        let signal = get(&options, "signal")?;
        let signal = if present(&signal) {
            Some(
                signal
                    .dyn_into::<AbortSignal>()
                    .map_err(|_| type_error("streamChat: `signal` must be an AbortSignal"))?,
            )
        } else {
            None
        };
        let mut callbacks = Callbacks::default();
        for (slot, which) in callbacks.0.iter_mut().zip(Callback::ALL) {
            *slot = callback(&options, which.name())?;
        }
        Ok(ChatOptions {
            url,
            body,
            headers: get(&options, "headers")?,
            signal,
            citations: citation_options(&get(&options, "citations")?)?,
            idle_timeout_ms: number(&options, "idleTimeoutMs", DEFAULT_IDLE_TIMEOUT_MS)?,
            max_event_bytes: max_event_bytes(&options)?,
            follow_redirects: follow_redirects(&options)?,
            callbacks,
            this: options,
        })
    }
}
