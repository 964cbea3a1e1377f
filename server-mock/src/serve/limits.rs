//! What one client may hold of the server: how long it may take to send a
//! request's head and body, how large a body it may announce, and how many
//! connections may be open at once.
//!
//! The head's deadline is hyper's own `header_read_timeout`. It runs from
//! the moment hyper starts waiting for a head, which is when the connection
//! is accepted and again when a response on a kept-alive connection has
//! been written, and it is not reset by each byte: a client that trickles
//! a head (slowloris) or sits on an idle connection is closed when it runs
//! out. The body's two deadlines are tower-http's body wrappers, whose
//! error the chat extractor answers with 408 (`super::super::chat::request`).

use crate::chat::request::MAX_BODY_BYTES;
use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tower_http::timeout::{RequestBodyDeadlineLayer, RequestBodyTimeoutLayer};

/// Default `--max-connections`. Each connection costs a task and a few
/// kilobytes of buffers; a demo server has no need for more, and the
/// process stays well inside the usual 1024 open-files limit.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default `--header-timeout-ms`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `--body-timeout-ms`: a 16 KiB body needs far less on any link.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `--body-idle-timeout-ms`.
pub const DEFAULT_BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `--drain-ms`.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(10);

/// The `code` of the 503 a connection over `--max-connections` gets.
pub const TOO_MANY_CONNECTIONS: &str = "too_many_connections";

/// The limits every connection is served under, and the drain deadline of
/// a shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Time allowed for a request's head (request line and headers), from
    /// the accept or from the end of the previous response. So it is also
    /// how long an idle kept-alive connection stays open.
    pub header_timeout: Duration,
    /// Time allowed for a request's whole body, from the end of its head.
    pub body_timeout: Duration,
    /// Longest silence allowed inside a request's body.
    pub body_idle_timeout: Duration,
    /// After SIGTERM, how long open streams may go on before they are ended
    /// with a `shutting_down` error.
    pub drain: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            drain: DEFAULT_DRAIN,
        }
    }
}

/// `app` with the body deadlines around every route: a body is cut off
/// when it stalls or takes too long in all, and the handler reading it
/// answers 408.
pub(super) fn guarded(app: Router, limits: &Limits) -> Router {
    app.layer(RequestBodyTimeoutLayer::new(limits.body_idle_timeout))
        .layer(RequestBodyDeadlineLayer::new(limits.body_timeout))
}

/// Middleware: 413 `body_too_large` for a request that announces a body
/// over [`MAX_BODY_BYTES`], at once: no route takes more, so there is no
/// point in authenticating it, routing it or reading any of its body. The
/// body limit on the chat route still catches a chunked body that grows
/// past it. It belongs inside the CORS layer, so that a page on another
/// origin can read the refusal.
pub async fn refuse_announced_oversize(request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if announced.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        let mut response = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body is over {MAX_BODY_BYTES} bytes"),
        )
        .into_response();
        // The body is never read, so the connection can't carry another
        // request: say so rather than let the client find out.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

/// The whole response a connection over the cap gets, status line to body.
fn too_many_connections_response() -> Vec<u8> {
    let body = serde_json::json!({
        "error": {
            "code": TOO_MANY_CONNECTIONS,
            "message": "the server has as many connections as it serves; try again shortly",
        }
    })
    .to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Most of what an over-cap client sent that is read (and dropped) before
/// its connection is closed.
const REFUSAL_READ_LIMIT: usize = 64 * 1024;

/// Answers a connection over the cap with a complete 503 and closes it,
/// all within `within`. Its request is not parsed, only read until the
/// client closes: closing a socket with unread bytes makes the OS send a
/// reset, which can destroy the response before the client reads it.
pub(super) async fn refuse(mut stream: TcpStream, within: Duration) {
    let refused = async {
        stream.write_all(&too_many_connections_response()).await?;
        stream.shutdown().await?;
        let mut sink = [0_u8; 4096];
        let mut read = 0;
        while read < REFUSAL_READ_LIMIT {
            match stream.read(&mut sink).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<(), io::Error>(())
    };
    // Whatever goes wrong, the socket is dropped, which closes it.
    let _ = tokio::time::timeout(within, refused).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_one_complete_json_response() {
        let raw = String::from_utf8(too_many_connections_response()).unwrap_or_default();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains("\r\nconnection: close"), "{head}");
        assert!(
            head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(json["error"]["code"], TOO_MANY_CONNECTIONS);
        assert!(json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    #[test]
    fn defaults_are_sane() {
        let limits = Limits::default();
        assert!(limits.max_connections >= 64);
        assert!(limits.body_idle_timeout <= limits.body_timeout);
        assert_eq!(limits.drain, Duration::from_secs(10));
    }
}
