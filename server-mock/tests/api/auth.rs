//! Bearer tokens on every API route, and sessions visible only to their
//! owner.

use crate::support::*;
use reqwest::Method;
use std::time::Duration;

/// Every API route, with a body where it takes one.
fn routes(session_id: &str) -> Vec<(Method, String, Option<&'static str>)> {
    vec![
        (
            Method::POST,
            "/api/chat".to_owned(),
            Some(r#"{"question":"pricing"}"#),
        ),
        (Method::GET, "/api/sessions".to_owned(), None),
        (
            Method::GET,
            format!("/api/sessions/{session_id}/messages"),
            None,
        ),
        (
            Method::GET,
            format!("/api/sessions/{session_id}/export?format=md"),
            None,
        ),
        (Method::DELETE, format!("/api/sessions/{session_id}"), None),
    ]
}

fn send(
    base: &str,
    method: Method,
    path: &str,
    body: Option<&'static str>,
    authorization: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut request = client().request(method, format!("{base}{path}"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    request
}

#[tokio::test]
async fn every_api_route_needs_a_known_bearer_token() {
    let state = bundled_state(Duration::ZERO);
    let base = spawn(state.clone()).await;
    let (session_id, _) = ids(&ask(&base, "pricing").await);
    let before = state.store.counts().expect("counts");
    let basic = format!("Basic {TOKEN}");
    for (method, path, body) in routes(&session_id) {
        let cases = [
            (None, "missing_token"),
            (Some("Bearer nope"), "invalid_token"),
            (Some(basic.as_str()), "invalid_token"),
            (Some("Bearer "), "invalid_token"),
        ];
        for (authorization, code) in cases {
            let response = send(&base, method.clone(), &path, body, authorization)
                .send()
                .await
                .expect("send");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"cite-stream\"",
                "{method} {path}"
            );
            assert_error(response, 401, code).await;
        }
    }
    assert_eq!(state.store.counts().expect("counts"), before);
    // The token itself still works on all of them (DELETE last).
    for (method, path, body) in routes(&session_id) {
        let response = send(
            &base,
            method.clone(),
            &path,
            body,
            Some(&format!("bearer {TOKEN}")),
        )
        .send()
        .await
        .expect("send");
        assert!(
            response.status().is_success(),
            "{method} {path}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn another_users_session_is_not_found() {
    let state = bundled_state(Duration::ZERO);
    state
        .store
        .put_user("mallory", "mallory-token")
        .expect("user");
    let base = spawn(state.clone()).await;
    let (session_id, _) = ids(&ask(&base, "pricing").await);
    let before = state.store.counts().expect("counts");

    let listed = get_json(&base, "/api/sessions", "mallory-token").await;
    assert_eq!(listed["sessions"], serde_json::json!([]));
    let follow_up = serde_json::json!({ "question": "more?", "sessionId": session_id }).to_string();
    let mut probes = routes(&session_id);
    probes.retain(|(_, path, _)| path.contains(&session_id));
    for (method, path, _) in probes {
        let response = send(
            &base,
            method.clone(),
            &path,
            None,
            Some("Bearer mallory-token"),
        )
        .send()
        .await
        .expect("send");
        assert_error(response, 404, "session_not_found").await;
    }
    assert_error(
        post_chat_as(&base, "mallory-token", &follow_up).await,
        404,
        "session_not_found",
    )
    .await;
    assert_eq!(state.store.counts().expect("counts"), before);
    // The owner still has it, untouched.
    let mine = get_json(
        &base,
        &format!("/api/sessions/{session_id}/messages"),
        TOKEN,
    )
    .await;
    assert_eq!(mine["messages"].as_array().map(Vec::len), Some(2));
}
