//! The protocol's JSON payloads parsed by the JS engine's own `JSON.parse`,
//! then read into Rust types by serde-wasm-bindgen: no JSON parser in the
//! wasm module.

use serde::de::DeserializeOwned;

use crate::core::protocol::JsonDecoder;

/// [`JsonDecoder`] over `JSON.parse`.
pub(crate) struct EngineJson;

impl JsonDecoder for EngineJson {
    fn decode<T: DeserializeOwned>(&mut self, text: &str) -> Option<T> {
        let value = js_sys::JSON::parse(text).ok()?;
        serde_wasm_bindgen::from_value(value).ok()
    }
}

/// Converts a Rust value to a plain JS value (objects, not `Map`s).
pub(crate) fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> wasm_bindgen::JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
}
