//! Starting the server and reading its answers.

use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::corpus::{parse_timestamp, Corpus};
use server_mock::serve::{serve, Limits};
use server_mock::store::Store;
use server_mock::{app, AppState};
use std::io::{Read as _, Write as _};
use std::ops::Range;
use std::time::{Duration, Instant};

pub const BUDGET_QUESTION: &str = "Which prospects mentioned budget constraints?";

/// The token of the user every state made here has (`test`), which
/// [`post_chat`] sends.
pub const TOKEN: &str = "test";

/// Serves `state` on a fresh port, as the binary does with its default
/// limits, and returns its base URL. The listener is bound before this
/// returns, so requests can be sent at once.
pub async fn spawn(state: AppState) -> String {
    spawn_limited(state, Limits::default()).await
}

/// [`spawn`] under `limits`, never shut down.
pub async fn spawn_limited(state: AppState, limits: Limits) -> String {
    let (base, _) = spawn_until(state, limits, std::future::pending()).await;
    base
}

/// [`spawn`] under `limits` until `signal` resolves; the handle gives how
/// the shutdown went.
pub async fn spawn_until(
    state: AppState,
    limits: Limits,
    signal: impl std::future::Future<Output = ()> + Send + 'static,
) -> (String, tokio::task::JoinHandle<server_mock::serve::Stopped>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let shutdown = state.shutdown.clone();
    let served = tokio::spawn(serve(listener, app(state), limits, shutdown, signal));
    (format!("http://{addr}"), served)
}

/// The bundled corpus, an in-memory history with the user `test` (token
/// [`TOKEN`]), and `token_delay` between tokens.
pub fn bundled_state(token_delay: Duration) -> AppState {
    let store = Store::in_memory().expect("in-memory store");
    store.put_user("test", TOKEN).expect("test user");
    let mut state = AppState::new(Corpus::bundled().expect("bundled corpus"), store);
    state.token_delay = token_delay;
    state
}

/// A client that talks straight to the test server and shows redirects as they are.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// `POST /api/chat` with `body`, as the user `test`.
pub async fn post_chat(base: &str, body: &str) -> reqwest::Response {
    post_chat_as(base, TOKEN, body).await
}

/// `POST /api/chat` with `body`, as the user whose token is `token`.
pub async fn post_chat_as(base: &str, token: &str, body: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/api/chat"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /api/chat")
}

/// A request to `path` with the bearer `token`.
pub fn request_as(
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    client()
        .request(method, format!("{base}{path}"))
        .header("authorization", format!("Bearer {token}"))
}

/// `GET path` as `token`, expecting 200 and JSON.
pub async fn get_json(base: &str, path: &str, token: &str) -> serde_json::Value {
    let response = request_as(base, reqwest::Method::GET, path, token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200, "GET {path}");
    serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON")
}

/// Asserts a JSON error response: its status and `error.code`.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status(), status, "expected {code}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(content_type, "application/json");
    let body: serde_json::Value =
        serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON body");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

/// The `sessionId` and `messageId` of a stream's `session` event.
pub fn ids(events: &[SseEvent]) -> (String, String) {
    let session = json(only(events, "session"));
    let field = |name: &str| session[name].as_str().expect(name).to_owned();
    (field("sessionId"), field("messageId"))
}

/// Reads the whole response body through the project's SSE parser, chunk by
/// chunk as it arrives.
pub async fn read_events(mut response: reqwest::Response) -> Vec<SseEvent> {
    let mut parser = EventStreamParser::new(1 << 20);
    let mut events = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("read chunk") {
        parser
            .feed(&chunk, &mut |event| events.push(event))
            .expect("valid event stream");
    }
    parser.finish().expect("valid end of stream");
    events
}

/// Asks `question` and returns the parsed events.
pub async fn ask(base: &str, question: &str) -> Vec<SseEvent> {
    let body = serde_json::json!({ "question": question }).to_string();
    let response = post_chat(base, &body).await;
    assert_eq!(response.status(), 200);
    read_events(response).await
}

pub fn json(event: &SseEvent) -> serde_json::Value {
    serde_json::from_str(&event.data).expect("JSON event data")
}

pub fn tokens(events: &[SseEvent]) -> Vec<&str> {
    events
        .iter()
        .filter(|e| e.event_type == "token")
        .map(|e| e.data.as_str())
        .collect()
}

pub fn only<'a>(events: &'a [SseEvent], event_type: &str) -> &'a SseEvent {
    let mut matching = events.iter().filter(|e| e.event_type == event_type);
    let first = matching.next().expect("event present");
    assert!(
        matching.next().is_none(),
        "more than one {event_type} event"
    );
    first
}

/// One inline `[TS, Speaker; TS, Speaker]` group: its byte range in the
/// answer and the (timestamp, speaker) pairs it cites.
pub type InlineCitation = (Range<usize>, Vec<(String, String)>);

/// The inline citations of `text`: bracketed groups whose every part is
/// `TIMESTAMP, SPEAKER`. Other bracketed text is skipped.
pub fn inline_citations(text: &str) -> Vec<InlineCitation> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('[').map(|i| i + from) {
        let Some(close) = text[open..].find(']').map(|i| i + open) else {
            break;
        };
        let refs: Option<Vec<(String, String)>> = text[open + 1..close]
            .split("; ")
            .map(|part| {
                let (ts, speaker) = part.split_once(", ")?;
                parse_timestamp(ts)?;
                Some((ts.to_owned(), speaker.to_owned()))
            })
            .collect();
        if let Some(refs) = refs {
            found.push((open..close + 1, refs));
        }
        from = open + 1;
    }
    found
}

/// What a client read: each chunk and event with the time it arrived, and
/// how the body ended (`Err` if reading it failed).
pub struct Received {
    pub chunks: Vec<(Instant, Vec<u8>)>,
    pub events: Vec<(Instant, SseEvent)>,
    pub end: Result<(), reqwest::Error>,
}

impl Received {
    pub fn kinds(&self) -> Vec<&str> {
        self.events
            .iter()
            .map(|(_, e)| e.event_type.as_str())
            .collect()
    }

    pub fn tokens(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter(|(_, e)| e.event_type == "token")
            .map(|(_, e)| e.data.as_str())
            .collect()
    }

    pub fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.clone()).collect()
    }
}

/// Reads the body with `chunk()` until it ends or fails.
pub async fn receive(mut response: reqwest::Response) -> Received {
    assert_eq!(response.status(), 200);
    let mut parser = EventStreamParser::new(1 << 20);
    let mut received = Received {
        chunks: Vec::new(),
        events: Vec::new(),
        end: Ok(()),
    };
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let at = Instant::now();
                let mut events = Vec::new();
                parser
                    .feed(&chunk, &mut |event| events.push(event))
                    .expect("valid event stream");
                received.events.extend(events.into_iter().map(|e| (at, e)));
                received.chunks.push((at, chunk.to_vec()));
            }
            Ok(None) => break,
            Err(err) => {
                received.end = Err(err);
                return received;
            }
        }
    }
    // The end of the stream dispatches nothing: an unfinished event is
    // discarded.
    parser.finish().expect("valid end of stream");
    received
}

/// Sends `body` over a plain socket with `Connection: close` and returns the
/// response head, the raw (still chunk-encoded) body, and how reading ended.
pub async fn raw_post(base: &str, body: String) -> (String, Vec<u8>, std::io::Result<()>) {
    let addr = base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut socket = blocking_socket(&addr);
        let request = format!(
            "POST /api/chat HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(request.as_bytes()).expect("write request");
        let mut raw = Vec::new();
        let end = socket.read_to_end(&mut raw).map(|_| ());
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response head");
        let head = String::from_utf8(raw[..split].to_vec()).expect("ascii head");
        (head, raw[split + 4..].to_vec(), end)
    })
    .await
    .expect("socket thread")
}

/// A plain socket to `addr` whose reads give up after 10 s, for the
/// raw-request helpers (run on the blocking pool).
pub fn blocking_socket(addr: &str) -> std::net::TcpStream {
    let socket = std::net::TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    socket
}

/// The chunks of a `Transfer-Encoding: chunked` body, and whether it was
/// properly terminated by the zero-size last chunk.
pub fn dechunk(mut raw: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut chunks = Vec::new();
    while let Some(line) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..line]).expect("ascii size");
        let size = usize::from_str_radix(size, 16).expect("hex size");
        raw = &raw[line + 2..];
        if size == 0 {
            return (chunks, raw == b"\r\n");
        }
        if raw.len() < size + 2 {
            break;
        }
        chunks.push(raw[..size].to_vec());
        assert_eq!(&raw[size..size + 2], b"\r\n", "chunk data ends with CRLF");
        raw = &raw[size + 2..];
    }
    assert!(raw.is_empty(), "unparsed tail: {raw:?}");
    (chunks, false)
}
