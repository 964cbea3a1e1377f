//! The WebAssembly shell: the only code that sees `JsValue`, `fetch`, the
//! stream reader, timers and callbacks. Everything it decides is delegated
//! to [`crate::core`]; the JS facade (`js/api.js`) reads and checks the
//! options before they reach it.

mod adapter;
mod chat;
mod convert;
mod error;
mod lowlevel;
mod markdown;
mod unicode;

pub use chat::{start_chat, Callback, Callbacks, ChatConfig, ChatStream};
pub use error::stream_error_class;
pub use lowlevel::{wasm_memory, CitationBuffer, RawEventStreamParser};
pub use markdown::RawMarkdownSegmenter;
pub use unicode::engine_class;

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
