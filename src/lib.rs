//! cite-stream: streams AI chat answers over Server-Sent Events and turns
//! them into render-ready segments, holding back inline citations such as
//! `[12:45, Sarah Johnson]` until they are complete.
//!
//! [`core`] is pure Rust (UTF-8, SSE, the chat protocol, the citation
//! buffer) and builds and tests natively; `wasm` is the thin WebAssembly
//! shell (fetch, stream reader, timers, callbacks), compiled only for
//! `wasm32`.

#![deny(missing_docs)]
// The pinned nightly that builds the release module (.ci/build) sets
// `cite_stream_size`: the Markdown segmenter, which is not on the flat
// path, is then optimised for size function by function.
#![cfg_attr(cite_stream_size, feature(optimize_attribute))]

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod wasm;
