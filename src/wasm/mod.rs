//! The WebAssembly shell: the only code that sees `JsValue`, `fetch`, the
//! stream reader, timers and callbacks. Everything it decides is delegated
//! to [`crate::core`].

mod chat;
mod convert;
mod error;
mod lowlevel;
mod options;

pub use chat::ChatStream;
pub use error::stream_error_class;
pub use lowlevel::{wasm_memory, CitationBuffer, RawEventStreamParser};

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
