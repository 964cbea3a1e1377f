//! Stop: a client that hangs up mid-answer pauses the model at once, and
//! once the resume window has passed unresumed the partial answer is saved
//! with `stopped: true`. The per-user stream limit (429) and its slots
//! coming back when a stream ends or its client leaves.

use crate::support::*;
use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::corpus::Corpus;
use server_mock::monitor::Progress;
use server_mock::streams::StreamLimiter;
use server_mock::{model, AppState};
use std::time::Duration;

/// Reads `response` until `tokens` token events have arrived, and returns
/// the events so far with the response still open.
async fn read_until_tokens(response: &mut reqwest::Response, tokens: usize) -> Vec<SseEvent> {
    let mut parser = EventStreamParser::new(1 << 20);
    let mut events = Vec::new();
    while events
        .iter()
        .filter(|e: &&SseEvent| e.event_type == "token")
        .count()
        < tokens
    {
        let chunk = response
            .chunk()
            .await
            .expect("read chunk")
            .expect("the stream goes on");
        parser
            .feed(&chunk, &mut |event| events.push(event))
            .expect("valid event stream");
    }
    events
}

/// Waits (with a generous guard, never a fixed sleep) for the answer to be saved.
async fn saved(state: &AppState, message_id: &str) -> Progress {
    tokio::time::timeout(
        Duration::from_secs(10),
        state.monitor.wait_saved(message_id),
    )
    .await
    .expect("the answer is saved once the client has gone")
}

#[tokio::test]
async fn disconnect_stops_generation_and_saves_a_stopped_prefix_after_the_window() {
    // Paced, so that the answer is far from over when the client leaves;
    // a short resume window, so that the save comes soon after.
    let mut state = bundled_state(Duration::from_millis(100));
    state.resume_window = Duration::from_millis(20);
    let base = spawn(state.clone()).await;
    let corpus = Corpus::bundled().expect("corpus");
    let full = model::answer(&corpus, BUDGET_QUESTION, None, &[]);
    assert!(full.fragments.len() > 8, "{}", full.fragments.len());

    let body = serde_json::json!({ "question": BUDGET_QUESTION }).to_string();
    let mut response = post_chat(&base, &body).await;
    assert_eq!(response.status(), 200);
    let events = read_until_tokens(&mut response, 3).await;
    let received = tokens(&events);
    let (session_id, message_id) = ids(&events);
    drop(response);

    let progress = saved(&state, &message_id).await;
    // At most the fragment being paced when the client left was generated
    // after it (the pull in progress completes, into the log); the model
    // did not run on to the end.
    assert!(
        progress.fragments <= received.len() + 1,
        "{} fragments generated, {} received",
        progress.fragments,
        received.len()
    );
    assert!(progress.fragments < full.fragments.len());
    let saved = progress.saved.expect("saved");
    assert!(saved.stopped);
    assert!(full.text.starts_with(&saved.text), "{:?}", saved.text);
    assert!(saved.text.starts_with(&received.concat()));
    assert_eq!(saved.text, full.fragments[..progress.fragments].concat());

    // The history shows it the same way, and the slot is free again.
    let document = get_json(
        &base,
        &format!("/api/sessions/{session_id}/messages"),
        TOKEN,
    )
    .await;
    let messages = document["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["text"], BUDGET_QUESTION);
    let answer = &messages[1];
    assert_eq!(answer["id"], message_id.as_str());
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["stopped"], true);
    assert_eq!(answer["text"], saved.text.as_str());
    let user = state
        .store
        .user_by_token(TOKEN)
        .expect("query")
        .expect("user");
    assert_eq!(state.streams.open(&user.id), 0);
}

/// A request whose stream stays open (test mode: a long silence after the
/// first token) until the response is dropped.
async fn held_stream(base: &str, token: &str) -> (reqwest::Response, String) {
    let body = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "silenceAfterTokens": 1, "silenceMs": 600_000 } });
    let mut response = post_chat_as(base, token, &body.to_string()).await;
    assert_eq!(response.status(), 200);
    let events = read_until_tokens(&mut response, 1).await;
    let (_, message_id) = ids(&events);
    (response, message_id)
}

async fn refused_with_429(base: &str, token: &str) {
    let body = serde_json::json!({ "question": "pricing" }).to_string();
    assert_error(
        post_chat_as(base, token, &body).await,
        429,
        "too_many_streams",
    )
    .await;
}

#[tokio::test]
async fn too_many_streams_get_429_and_slots_come_back() {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    state.streams = StreamLimiter::new(2);
    state.store.put_user("other", "other").expect("user");
    let base = spawn(state.clone()).await;
    let counts = || state.store.counts().expect("counts");

    let (first, _) = held_stream(&base, TOKEN).await;
    let (second, second_id) = held_stream(&base, TOKEN).await;
    let before = counts();
    refused_with_429(&base, TOKEN).await;
    assert_eq!(counts(), before, "a refused request stores nothing");
    // The limit is per user.
    let (other, _) = held_stream(&base, "other").await;

    // A client that leaves gives its slot back.
    drop(second);
    saved(&state, &second_id).await;
    let finished = ask(&base, "pricing").await;
    assert_eq!(finished.last().map(|e| e.event_type.as_str()), Some("done"));

    // So does a stream that ended: with that one over, a second stream fits
    // again next to the first, and a third does not.
    let (again, again_id) = held_stream(&base, TOKEN).await;
    refused_with_429(&base, TOKEN).await;

    // An `error` ending gives it back too.
    drop(again);
    saved(&state, &again_id).await;
    let failing =
        serde_json::json!({ "question": BUDGET_QUESTION, "fault": { "failAfterTokens": 2 } });
    let failed = read_events(post_chat(&base, &failing.to_string()).await).await;
    assert_eq!(failed.last().map(|e| e.event_type.as_str()), Some("error"));
    let (third, _) = held_stream(&base, TOKEN).await;
    refused_with_429(&base, TOKEN).await;
    drop((first, other, third));
}
