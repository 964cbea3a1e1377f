//! Black-box tests over real sockets: the app is bound to an OS-chosen port
//! on 127.0.0.1, called with a real HTTP client, and its streams are read
//! back with the client library's own SSE parser.

mod auth;
mod bad_requests;
mod chat_stream;
mod faults;
mod history;
mod http_surface;
mod limits;
mod markdown;
mod resume;
mod security;
#[cfg(unix)]
mod shutdown;
mod stop;
mod storage;
mod support;
mod wire;
