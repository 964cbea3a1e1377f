//! Reference server for the cite-stream chat protocol (`docs/protocol.md`).
//!
//! `POST /api/chat` answers a question from a small bundled corpus of sales
//! call transcripts, streaming the answer as server-sent events with inline
//! `[MM:SS, Speaker]` citations. The "model" is deterministic, so the same
//! question always streams the same fragments: clients can be tested against
//! it byte for byte.
//!
//! [`app`] builds the router; the `server-mock` binary only parses the
//! command line and binds.

#![deny(missing_docs)]

pub mod app;
pub mod chat;
pub mod config;
pub mod corpus;
pub mod error;
pub mod model;
pub mod protocol;

mod ids;

pub use app::{app, AppState};
