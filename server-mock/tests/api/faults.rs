//! Fault injection (`--test-mode` only): refused without test mode, and with
//! it each fault does on the wire what client tests rely on.

use crate::support::*;
use cite_stream::core::sse::SseEvent;
use server_mock::corpus::Corpus;
use server_mock::{model, AppState};
use std::time::{Duration, Instant};

fn test_mode_state() -> AppState {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    state
}

fn chat_body(fault: serde_json::Value) -> String {
    serde_json::json!({ "question": BUDGET_QUESTION, "fault": fault }).to_string()
}

fn error_code(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).expect("JSON error body");
    value["error"]["code"].as_str().expect("code").to_owned()
}

#[tokio::test]
async fn fault_without_test_mode_is_400_and_nothing_streams() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let faults = [
        serde_json::json!({ "failAfterTokens": 1 }),
        serde_json::json!({}),
        serde_json::Value::Null,
    ];
    for fault in faults {
        let response = post_chat(&base, &chat_body(fault.clone())).await;
        assert_eq!(response.status(), 400, "{fault}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let body = response.bytes().await.expect("body");
        assert_eq!(error_code(&body), "invalid_request");
        assert!(!body.windows(6).any(|w| w == b"event:"));
    }
}

#[tokio::test]
async fn bad_faults_are_400_in_test_mode() {
    let base = spawn(test_mode_state()).await;
    let faults = [
        serde_json::json!({ "explode": true }),
        serde_json::json!({ "failAfterTokens": 1, "cutAfterTokens": 1 }),
        serde_json::json!({ "silenceMs": 10 }),
        serde_json::json!({ "cutAfterTokens": 100_000 }),
        serde_json::json!({ "splitAt": [3, 2] }),
        serde_json::json!({ "splitAt": [10, 100_000] }),
    ];
    for fault in faults {
        let response = post_chat(&base, &chat_body(fault.clone())).await;
        assert_eq!(response.status(), 400, "{fault}");
        let body = response.bytes().await.expect("body");
        assert_eq!(error_code(&body), "invalid_request", "{fault}");
    }
}

#[tokio::test]
async fn empty_fault_streams_the_ordinary_answer() {
    let base = spawn(test_mode_state()).await;
    let response = post_chat(&base, &chat_body(serde_json::json!({}))).await;
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let faulty = receive(response).await;
    faulty.end.as_ref().expect("clean end");
    let ordinary = ask(&base, BUDGET_QUESTION).await;
    let kinds: Vec<&str> = ordinary.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(faulty.kinds(), kinds);
    assert_eq!(faulty.tokens(), tokens(&ordinary));
}

#[tokio::test]
async fn fail_after_tokens_sends_n_tokens_then_an_error_and_ends() {
    let base = spawn(test_mode_state()).await;
    let response = post_chat(
        &base,
        &chat_body(serde_json::json!({ "failAfterTokens": 5 })),
    )
    .await;
    let received = receive(response).await;
    received.end.as_ref().expect("the body ends cleanly");
    let mut expected = vec!["session", "status", "status"];
    expected.extend(["token"; 5]);
    expected.push("error");
    assert_eq!(received.kinds(), expected);
    let (_, error) = received.events.last().expect("events");
    assert_eq!(
        json(error),
        serde_json::json!({
            "code": "llm_failed", "message": "The model failed (injected)", "retryable": true
        })
    );
    let message_id = json(&received.events[0].1)["messageId"]
        .as_str()
        .expect("messageId")
        .to_owned();
    assert_eq!(error.last_event_id, format!("{message_id}:9"));
}

#[tokio::test]
async fn cut_after_tokens_fails_the_body_read_after_n_tokens() {
    let base = spawn(test_mode_state()).await;
    let response = post_chat(
        &base,
        &chat_body(serde_json::json!({ "cutAfterTokens": 4 })),
    )
    .await;
    let received = receive(response).await;
    // Not a clean end: hyper's chunked decoder hits EOF where the next chunk
    // size line should be, and reqwest reports that as a decode error.
    let err = received.end.as_ref().expect_err("the body read fails");
    assert!(err.is_decode(), "{err:?}");
    let mut source = std::error::Error::source(err);
    let mut eof = false;
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            eof |= io.kind() == std::io::ErrorKind::UnexpectedEof;
        }
        source = cause.source();
    }
    assert!(eof, "{err:?}");
    let mut expected = vec!["session", "status", "status"];
    expected.extend(["token"; 4]);
    assert_eq!(received.kinds(), expected);
    assert!(!received
        .kinds()
        .iter()
        .any(|k| ["done", "error", "citations"].contains(k)));
}

#[tokio::test]
async fn cut_after_tokens_leaves_the_chunked_body_unterminated() {
    let base = spawn(test_mode_state()).await;
    let (head, raw, end) =
        raw_post(&base, chat_body(serde_json::json!({ "cutAfterTokens": 2 }))).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked"));
    // The server closes the connection (a plain EOF: the request was read
    // in full, so no reset) right after the last whole chunk, without the
    // zero-size chunk that ends a chunked body.
    end.expect("EOF, not a reset");
    let (chunks, terminated) = dechunk(&raw);
    assert!(!terminated, "{}", String::from_utf8_lossy(&raw));
    let body = String::from_utf8(chunks.concat()).expect("utf-8");
    assert_eq!(body.matches("event: token\n").count(), 2, "{body}");
    assert!(body.ends_with("\n\n"), "{body}");
    assert!(!body.contains("event: done") && !body.contains("event: error"));
}

/// `body` with its session and message ids and `processingMs` made
/// constant (each request starts a session of its own).
fn normalized(body: &[u8]) -> String {
    let text = String::from_utf8(body.to_vec()).expect("utf-8 body");
    let at = text.find("\"sessionId\":\"").expect("sessionId") + 13;
    let session_id = text[at..at + 18].to_owned();
    let text = text.replace(&session_id, "s_X");
    let at = text.find("\"messageId\":\"").expect("messageId") + 13;
    let message_id = &text[at..at + 18];
    let text = text.replace(message_id, "m_X");
    let at = text.find("\"processingMs\":").expect("processingMs") + 15;
    let digits = text[at..].find(|c: char| !c.is_ascii_digit()).expect("end");
    format!("{}0{}", &text[..at], &text[at + digits..])
}

#[tokio::test]
async fn split_at_ends_chunks_exactly_at_the_offsets() {
    let base = spawn(test_mode_state()).await;
    let ordinary = post_chat(&base, r#"{"question":"budget constraints"}"#);
    let ordinary = receive(ordinary.await).await;
    ordinary.end.as_ref().expect("clean end");
    let whole = ordinary.body();
    // Inside a multi-byte character, between the two LFs ending the first
    // event, inside the second event's `data: `, and between the LFs before
    // `citations` (all before `done`, whose length varies with processingMs).
    let multibyte = whole.iter().position(|b| !b.is_ascii()).expect("non-ASCII") + 1;
    let blank_line = whole
        .windows(2)
        .position(|w| w == b"\n\n")
        .expect("event end")
        + 1;
    let in_prefix = blank_line
        + 1
        + whole[blank_line..]
            .windows(6)
            .position(|w| w == b"data: ")
            .expect("data")
        + 3;
    let near_end = whole
        .windows(15)
        .rposition(|w| w == b"event: citation")
        .expect("citations")
        - 1;
    let mut offsets = vec![multibyte, blank_line, in_prefix, near_end];
    offsets.sort_unstable();
    assert!(std::str::from_utf8(&whole[..multibyte]).is_err());

    let fault = serde_json::json!({ "question": "budget constraints",
        "fault": { "splitAt": offsets } });
    let split = receive(post_chat(&base, &fault.to_string()).await).await;
    split.end.as_ref().expect("clean end");
    let mut boundaries = Vec::new();
    let mut at = 0;
    for (_, chunk) in &split.chunks {
        at += chunk.len();
        boundaries.push(at);
    }
    let mut expected = offsets.clone();
    expected.push(split.body().len());
    // Every slice ends where asked. A long slice may reach the client in
    // more than one read (the exact HTTP chunks are checked on the raw
    // socket below), but no read crosses a slice's end.
    for offset in &expected {
        assert!(boundaries.contains(offset), "{offset} in {boundaries:?}");
    }
    assert_eq!(boundaries.last(), expected.last());
    assert_eq!(normalized(&split.body()), normalized(&whole));
    assert_eq!(split.kinds(), ordinary.kinds());

    // On the wire: one HTTP chunk per slice, properly terminated.
    let (_, raw, _) = raw_post(&base, fault.to_string()).await;
    let (chunks, terminated) = dechunk(&raw);
    assert!(terminated);
    let lengths: Vec<usize> = chunks.iter().map(Vec::len).collect();
    let mut slice_lengths = Vec::new();
    let mut start = 0;
    for end in &expected {
        slice_lengths.push(end - start);
        start = *end;
    }
    assert_eq!(lengths[..4], slice_lengths[..4]);
    assert_eq!(lengths.len(), 5);
}

#[tokio::test]
async fn pause_in_citation_holds_back_the_rest_of_the_citation() {
    let pause = Duration::from_millis(300);
    let base = spawn(test_mode_state()).await;
    let body = chat_body(serde_json::json!({ "pauseInCitationMs": pause.as_millis() as u64 }));
    let received = receive(post_chat(&base, &body).await).await;
    received.end.as_ref().expect("clean end");
    assert_eq!(received.kinds().last(), Some(&"done"));
    let corpus = Corpus::bundled().expect("corpus");
    assert_eq!(
        received.tokens().concat(),
        model::answer(&corpus, BUDGET_QUESTION, None, &[]).text
    );

    let tokens: Vec<&(Instant, SseEvent)> = received
        .events
        .iter()
        .filter(|(_, e)| e.event_type == "token")
        .collect();
    let opening = tokens
        .iter()
        .position(|(_, e)| e.data.contains('['))
        .expect("a citation");
    let (before, first) = tokens[opening];
    let (after, next) = tokens[opening + 1];
    assert!(!first.data.contains(']'), "{:?}", first.data);
    let gap = after.duration_since(*before);
    assert!(
        gap >= pause,
        "{gap:?} between {:?} and {:?}",
        first.data,
        next.data
    );
}

#[tokio::test]
async fn pause_before_first_byte_delays_even_the_status_line() {
    let pause = Duration::from_millis(250);
    let base = spawn(test_mode_state()).await;
    let body = chat_body(serde_json::json!({ "pauseBeforeFirstByteMs": 250 }));
    let sent = Instant::now();
    let response = post_chat(&base, &body).await;
    assert!(sent.elapsed() >= pause, "{:?}", sent.elapsed());
    let received = receive(response).await;
    assert_eq!(received.kinds().last(), Some(&"done"));
}

#[tokio::test]
async fn silence_after_tokens_sends_nothing_for_a_while() {
    let silence = Duration::from_millis(250);
    let base = spawn(test_mode_state()).await;
    let body = chat_body(serde_json::json!({ "silenceAfterTokens": 3, "silenceMs": 250 }));
    let received = receive(post_chat(&base, &body).await).await;
    received.end.as_ref().expect("clean end");
    assert_eq!(received.kinds().last(), Some(&"done"));
    let times: Vec<Instant> = received
        .events
        .iter()
        .filter(|(_, e)| e.event_type == "token")
        .map(|(at, _)| *at)
        .collect();
    assert!(times[3].duration_since(times[2]) >= silence);
    // Nothing at all arrived in between, not even a comment.
    let quiet = received
        .chunks
        .iter()
        .filter(|(at, _)| *at > times[2] && *at < times[3])
        .count();
    assert_eq!(quiet, 0);
}
