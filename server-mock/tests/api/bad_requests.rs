//! Requests refused before any streaming: status plus the JSON error body.

use crate::support::*;
use server_mock::chat::request::{MAX_BODY_BYTES, MAX_QUESTION_CHARS};
use std::time::Duration;

async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
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
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_error(plain, 415, "unsupported_media_type").await;
    let missing = client().post(&url).body(body).send().await.expect("send");
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
