//! Requests refused before any streaming: status plus the JSON error body.

use crate::support::*;
use server_mock::chat::request::{MAX_BODY_BYTES, MAX_QUESTION_CHARS};
use std::time::Duration;

#[tokio::test]
async fn bad_bodies_get_400_with_a_code() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let cases = [
        (r#"{"question": "unterminated"#, "malformed_json"),
        ("", "malformed_json"),
        ("{}", "missing_question"),
        (r#"{"question": ""}"#, "missing_question"),
        (r#"{"question": "   "}"#, "missing_question"),
        (r#"{"question": 42}"#, "invalid_request"),
        (
            r#"{"question": "hi", "sessionId": ["s_1"]}"#,
            "invalid_request",
        ),
        (r#"["question"]"#, "invalid_request"),
    ];
    for (body, code) in cases {
        assert_error(post_chat(&base, body).await, 400, code).await;
    }
}

#[tokio::test]
async fn wrong_or_missing_content_type_gets_415() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let body = r#"{"question":"budget"}"#;
    let url = format!("{base}/api/chat");
    let plain = client()
        .post(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_error(plain, 415, "unsupported_media_type").await;
    let missing = client()
        .post(&url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(body)
        .send()
        .await
        .expect("send");
    assert_error(missing, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn oversized_body_or_question_gets_413() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let big = format!(r#"{{"question":"{}"}}"#, "a".repeat(MAX_BODY_BYTES));
    assert_error(post_chat(&base, &big).await, 413, "body_too_large").await;
    let long = format!(r#"{{"question":"{}"}}"#, "a".repeat(MAX_QUESTION_CHARS + 1));
    assert!(long.len() <= MAX_BODY_BYTES);
    assert_error(post_chat(&base, &long).await, 413, "question_too_long").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let get = client()
        .get(format!("{base}/api/chat"))
        .send()
        .await
        .expect("send");
    let allow = get.headers()["allow"].to_str().expect("ascii").to_owned();
    assert!(allow.contains("POST"), "{allow}");
    assert_error(get, 405, "method_not_allowed").await;
    let missing = client()
        .get(format!("{base}/api/nope"))
        .send()
        .await
        .expect("send");
    assert_error(missing, 404, "not_found").await;
}

/// One bad request of docs/protocol.md and what it must get.
struct Row {
    what: &'static str,
    token: Option<&'static str>,
    content_type: Option<&'static str>,
    body: String,
    status: u16,
    code: &'static str,
}

fn row(what: &'static str, body: impl Into<String>, status: u16, code: &'static str) -> Row {
    Row {
        what,
        token: Some(TOKEN),
        content_type: Some("application/json"),
        body: body.into(),
        status,
        code,
    }
}

/// Every refusal of the protocol, one row each: its status and code, and
/// nothing stored (the session and message counts are unchanged).
#[tokio::test]
async fn every_bad_request_is_refused_and_stores_nothing() {
    let mut state = bundled_state(Duration::from_secs(600));
    state.streams = server_mock::streams::StreamLimiter::new(2);
    state.store.put_user("other", "other-token").expect("user");
    state.store.put_user("busy", "busy-token").expect("user");
    // A session of the test user's and one of another user's, written
    // straight to the store.
    let session = |owner: &str, id: &str| {
        let owner = state
            .store
            .user_by_token(owner)
            .expect("query")
            .expect("user")
            .id;
        state
            .store
            .start_exchange(&server_mock::store::NewExchange {
                owner,
                session: server_mock::store::SessionTarget::New {
                    id: id.to_owned(),
                    title: "t".to_owned(),
                },
                question_id: format!("m_{id}"),
                question: "q".to_owned(),
                answer_id: format!("m_{id}_a"),
            })
            .expect("store")
            .expect("stored");
    };
    session(TOKEN, "s_mine");
    session("other-token", "s_theirs");
    let base = spawn(state.clone()).await;
    // `busy` has as many streams open as allowed (paced 600 s apart, they
    // stay open while the table runs).
    let mut open = Vec::new();
    for _ in 0..2 {
        let response = post_chat_as(&base, "busy-token", r#"{"question":"budget"}"#).await;
        assert_eq!(response.status(), 200);
        open.push(response);
    }

    let conversation = server_mock::corpus::Corpus::bundled()
        .expect("corpus")
        .conversations()[0]
        .id
        .clone();
    let question = |q: &str| serde_json::json!({ "question": q }).to_string();
    let rows = [
        row("malformed JSON", r#"{"question": "unterminated"#, 400, "malformed_json"),
        row("empty body", "", 400, "malformed_json"),
        row("not an object", r#"["question"]"#, 400, "invalid_request"),
        row("missing question", "{}", 400, "missing_question"),
        row("null question", r#"{"question":null}"#, 400, "missing_question"),
        row("empty question", question(""), 400, "missing_question"),
        row("whitespace-only question", question(" \n\t "), 400, "missing_question"),
        row("question of the wrong type", r#"{"question":42}"#, 400, "invalid_request"),
        row("sessionId of the wrong type", r#"{"question":"q","sessionId":7}"#, 400, "invalid_request"),
        row("empty sessionId", r#"{"question":"q","sessionId":""}"#, 400, "invalid_request"),
        row("scope of the wrong type", r#"{"question":"q","scope":"all"}"#, 400, "invalid_request"),
        row(
            "conversationIds of the wrong type",
            r#"{"question":"q","scope":{"conversationIds":"c_1"}}"#,
            400,
            "invalid_request",
        ),
        row(
            "empty conversationIds",
            r#"{"question":"q","scope":{"conversationIds":[]}}"#,
            400,
            "invalid_request",
        ),
        row(
            "unknown conversation",
            serde_json::json!({ "question": "q", "scope": { "conversationIds": [conversation, "c_nope"] } })
                .to_string(),
            400,
            "unknown_conversation",
        ),
        row("fault outside test mode", r#"{"question":"q","fault":{}}"#, 400, "invalid_request"),
        row("unknown session", r#"{"question":"q","sessionId":"s_nope"}"#, 404, "session_not_found"),
        row(
            "another user's session",
            r#"{"question":"q","sessionId":"s_theirs"}"#,
            404,
            "session_not_found",
        ),
        row(
            "body over 16 KiB",
            question(&"a".repeat(MAX_BODY_BYTES)),
            413,
            "body_too_large",
        ),
        row(
            "question over 4,000 characters",
            question(&"é".repeat(MAX_QUESTION_CHARS + 1)),
            413,
            "question_too_long",
        ),
        Row {
            content_type: Some("text/plain"),
            ..row("wrong content type", question("q"), 415, "unsupported_media_type")
        },
        Row {
            content_type: None,
            ..row("no content type", question("q"), 415, "unsupported_media_type")
        },
        Row {
            token: None,
            ..row("no token", question("q"), 401, "missing_token")
        },
        Row {
            token: Some("not-a-user"),
            ..row("unknown token", question("q"), 401, "invalid_token")
        },
        Row {
            token: Some("busy-token"),
            ..row("too many concurrent streams", question("q"), 429, "too_many_streams")
        },
    ];
    for row in rows {
        let before = state.store.counts().expect("counts");
        let mut request = client().post(format!("{base}/api/chat")).body(row.body);
        if let Some(token) = row.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(content_type) = row.content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect(row.what);
        assert_eq!(response.status(), row.status, "{}", row.what);
        assert_error(response, row.status, row.code).await;
        assert_eq!(
            state.store.counts().expect("counts"),
            before,
            "{} stored something",
            row.what
        );
    }

    // The limits are in characters, not bytes: 4,000 two-byte characters
    // are a question (and this one is stored).
    let at_limit = post_chat(&base, &question(&"é".repeat(MAX_QUESTION_CHARS))).await;
    assert_eq!(at_limit.status(), 200);
    drop((at_limit, open));
}
