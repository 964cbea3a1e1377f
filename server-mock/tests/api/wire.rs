//! HTTP/1.1 by hand over tokio sockets, for the tests that must control
//! every byte and every pause: slow or stalled clients, announced bodies
//! that are never sent, connections over the cap.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// `HOST:PORT` of a base URL.
pub fn host(base: &str) -> String {
    base.trim_start_matches("http://").to_owned()
}

/// A connection to the server at `base`.
pub async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(host(base)).await.expect("connect")
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Status line and headers, lower-cased.
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// Asserts the protocol's JSON error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.head);
        assert!(
            self.head.contains("\r\ncontent-type: application/json"),
            "{}",
            self.head
        );
        let json = self.json();
        assert_eq!(json["error"]["code"], code, "{json}");
        assert!(json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}

/// Reads one response with a `Content-Length` body, failing the test if it
/// has not arrived `within`.
pub async fn read_response(stream: &mut TcpStream, within: Duration) -> RawResponse {
    tokio::time::timeout(within, async {
        let mut raw = Vec::new();
        let mut buf = [0_u8; 4096];
        let head_end = loop {
            if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let n = stream.read(&mut buf).await.expect("read response head");
            assert!(n > 0, "closed before a whole response head: {raw:?}");
            raw.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8(raw[..head_end].to_vec())
            .expect("ascii head")
            .to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status code");
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("content-length");
        let mut body = raw[head_end + 4..].to_vec();
        while body.len() < length {
            let n = stream.read(&mut buf).await.expect("read response body");
            assert!(n > 0, "closed inside the body");
            body.extend_from_slice(&buf[..n]);
        }
        RawResponse { status, head, body }
    })
    .await
    .expect("a response in time")
}

/// Waits until the server closes `stream` (end of file or reset), reading
/// and dropping whatever it sends first. `None` if it is still open after
/// `within`.
pub async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Instant> {
    let mut buf = [0_u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

/// Writes `bytes`; `false` if the connection is gone.
pub async fn send(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok()
}

/// `GET path` with the bearer `token`, kept alive.
pub fn get_request(base: &str, path: &str, token: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
        host(base)
    )
}

/// The head of `POST /api/chat` announcing a body of `length` bytes.
pub fn chat_head(base: &str, token: &str, length: usize, extra: &str) -> String {
    format!(
        "POST /api/chat HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n",
        host(base)
    )
}

/// Milliseconds, for the figures the tests print.
pub fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}
