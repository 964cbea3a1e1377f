//! Starting the server and reading its answers.

use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::corpus::{parse_timestamp, Corpus};
use server_mock::{app, AppState};
use std::ops::Range;
use std::time::Duration;

pub const BUDGET_QUESTION: &str = "Which prospects mentioned budget constraints?";

/// Serves `state` on a fresh port and returns its base URL. The listener is
/// bound before this returns, so requests can be sent at once.
pub async fn spawn(state: AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, app(state)).await.expect("serve");
    });
    format!("http://{addr}")
}

pub fn bundled_state(token_delay: Duration) -> AppState {
    let mut state = AppState::new(Corpus::bundled().expect("bundled corpus"));
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

pub async fn post_chat(base: &str, body: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/api/chat"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("authorization", "Bearer test")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST /api/chat")
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
    parser
        .finish(&mut |event| events.push(event))
        .expect("valid end of stream");
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
