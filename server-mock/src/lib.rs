//! Reference server for the cite-stream chat protocol (`docs/protocol.md`).
//!
//! `POST /api/chat` answers a question from a small bundled corpus of sales
//! call transcripts, streaming the answer as server-sent events with inline
//! `[MM:SS, Speaker]` citations. The "model" is deterministic, so the same
//! question always streams the same fragments: clients can be tested against
//! it byte for byte.
//!
//! Every `/api` route takes `Authorization: Bearer <token>` ([`auth`]); the
//! history of each user's sessions is kept in SQLite ([`store`]); an answer
//! is stored when it ends, `stopped` if it was stopped first
//! ([`chat::recorder`]). An answer whose client went away is paused and
//! can be resumed, or stopped for good, within the resume window
//! ([`chat::live`]).
//!
//! [`app()`] builds the router and [`serve::serve`] serves it under the
//! connection limits and shuts it down on a signal; the `server-mock`
//! binary only parses the command line and binds.

#![deny(missing_docs)]

pub mod app;
pub mod auth;
pub mod chat;
pub mod config;
pub mod corpus;
pub mod error;
pub mod listen;
pub mod model;
pub mod monitor;
pub mod page;
pub mod protocol;
pub mod security;
pub mod serve;
pub mod sessions;
pub mod shutdown;
pub mod static_files;
pub mod store;
pub mod streams;

mod ids;

pub use app::{app, AppState};
