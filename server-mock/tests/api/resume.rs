//! Confirmed stop and resume: an answer whose connection drops is paused,
//! not saved; `GET /api/chat/{id}/stream` replays what was missed with the
//! original ids and goes on live; `POST /api/chat/{id}/stop` ends it and
//! answers what was saved. Connections are dropped by the test-mode
//! `dropAtSeqs` fault, exactly after a chosen event, or by the test-mode
//! drop endpoint when the test asks. Nothing here sleeps to
//! wait: every wait is on a stream, a response or the monitor.

use crate::support::*;
use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::streams::StreamLimiter;
use server_mock::AppState;
use std::time::{Duration, Instant};

/// Guard on every wait: generous, never reached when it works.
const GUARD: Duration = Duration::from_secs(15);

fn test_state(token_delay: Duration) -> AppState {
    let mut state = bundled_state(token_delay);
    state.test_mode = true;
    state.store.put_user("other", "other").expect("user");
    state
}

fn dropping(question: &str, seqs: &[usize]) -> String {
    serde_json::json!({ "question": question, "fault": { "dropAtSeqs": seqs } }).to_string()
}

/// `GET /api/chat/{id}/stream` as `token`, with `Last-Event-ID: last`.
async fn resume_as(base: &str, token: &str, id: &str, last: Option<&str>) -> reqwest::Response {
    let mut request = request_as(
        base,
        reqwest::Method::GET,
        &format!("/api/chat/{id}/stream"),
        token,
    );
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    request.send().await.expect("GET …/stream")
}

async fn resume(base: &str, id: &str, last: Option<&str>) -> reqwest::Response {
    resume_as(base, TOKEN, id, last).await
}

/// A `POST` of `path`, without a body, as `token`.
async fn post_as(base: &str, token: &str, path: &str) -> reqwest::Response {
    request_as(base, reqwest::Method::POST, path, token)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"))
}

async fn stop_as(base: &str, token: &str, id: &str) -> reqwest::Response {
    post_as(base, token, &format!("/api/chat/{id}/stop")).await
}

/// `POST /api/_test/answers/{id}/drop` as `token`.
async fn drop_reader_as(base: &str, token: &str, id: &str) -> reqwest::Response {
    post_as(base, token, &format!("/api/_test/answers/{id}/drop")).await
}

/// `POST …/stop`, expecting 200: the body's bytes and JSON.
async fn stop(base: &str, id: &str) -> (Vec<u8>, serde_json::Value) {
    let response = stop_as(base, TOKEN, id).await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("body").to_vec();
    let json = serde_json::from_slice(&bytes).expect("JSON");
    (bytes, json)
}

async fn observe(base: &str, id: &str) -> serde_json::Value {
    get_json(base, &format!("/api/_test/answers/{id}"), TOKEN).await
}

async fn messages(base: &str, session_id: &str) -> Vec<serde_json::Value> {
    let document = get_json(base, &format!("/api/sessions/{session_id}/messages"), TOKEN).await;
    document["messages"].as_array().expect("messages").clone()
}

/// The seq of an event's `id: <messageId>:<seq>`.
fn seq(event: &SseEvent) -> usize {
    let (_, seq) = event.last_event_id.rsplit_once(':').expect("an id");
    seq.parse().expect("a seq")
}

fn joined_tokens(events: &[SseEvent]) -> String {
    tokens(events).concat()
}

/// `received`'s events without their arrival times.
fn events_of(received: &Received) -> Vec<SseEvent> {
    received.events.iter().map(|(_, e)| e.clone()).collect()
}

/// Reads a stream until `enough` holds for its events, leaving it open.
async fn read_until(
    response: &mut reqwest::Response,
    events: &mut Vec<SseEvent>,
    parser: &mut EventStreamParser,
    enough: impl Fn(&[SseEvent]) -> bool,
) {
    while !enough(events) {
        let chunk = tokio::time::timeout(GUARD, response.chunk())
            .await
            .expect("the stream goes on")
            .expect("read")
            .expect("more body");
        parser
            .feed(&chunk, &mut |event| events.push(event))
            .expect("valid event stream");
    }
}

/// The number of events (the last seq) of a full answer to `question`,
/// asked in a session of its own, and its events.
async fn full_answer(base: &str, question: &str) -> Vec<SseEvent> {
    let events = ask(base, question).await;
    assert_eq!(events.last().map(|e| e.event_type.as_str()), Some("done"));
    events
}

/// Asserts `received` was cut after exactly the events of seqs `1..=last`.
fn assert_dropped_after(received: &Received, last: usize) {
    assert!(received.end.is_err(), "the connection was aborted");
    let seqs: Vec<usize> = received.events.iter().map(|(_, e)| seq(e)).collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_resume_sends_exactly_the_missing_events_with_their_ids() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let reference = full_answer(&base, BUDGET_QUESTION).await;
    let last = reference.len();
    let cut = 9;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[cut])).await).await;
    assert_dropped_after(&received, cut);
    let first = events_of(&received);
    let (session_id, message_id) = ids(&first);

    // With `Last-Event-ID`: `session` again, then from `cut + 1` on.
    let last_id = format!("{message_id}:{cut}");
    let response = resume(&base, &message_id, Some(&last_id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let rest = read_events(response).await;
    let seqs: Vec<usize> = rest.iter().map(seq).collect();
    assert_eq!(
        seqs,
        std::iter::once(1).chain(cut + 1..=last).collect::<Vec<_>>()
    );
    assert_eq!(rest[0], first[0], "the same `session` event");
    assert_eq!(rest.last().map(|e| e.event_type.as_str()), Some("done"));
    let text = joined_tokens(&first) + &joined_tokens(&rest);
    assert_eq!(text, joined_tokens(&reference));
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], text.as_str());
    assert_eq!(stored[1]["stopped"], false);
    assert_eq!(stored[1]["streaming"], false);

    // Without it, inside the window after the end: everything again, the
    // same events with the same ids.
    let all = read_events(resume(&base, &message_id, None).await).await;
    assert_eq!(all.len(), last);
    assert_eq!(all[..cut], first[..]);
    assert_eq!(all[cut..], rest[1..]);

    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["chatPosts"], 1);
    assert_eq!(observed["resumes"], 2);
    // The first resume replayed `session` and the `cut` events were all
    // logged before it: 1 + (cut - cut); the second, everything.
    assert_eq!(observed["replayedEvents"], 1 + last);
    assert_eq!(observed["logEvents"], last);
    assert_eq!(observed["streaming"], false);
    assert_eq!(observed["saved"]["stopped"], false);
    assert_eq!(observed["saved"]["text"], text.as_str());
}

#[tokio::test]
async fn the_post_names_its_answer_in_a_header_so_a_drop_before_any_event_resumes_whole() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let reference = full_answer(&base, BUDGET_QUESTION).await;

    // An ordinary answer: the header names the `session` event's message.
    let response = post_chat(&base, &dropping(BUDGET_QUESTION, &[])).await;
    let header = response.headers()["cite-stream-message-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let events = read_events(response).await;
    assert_eq!(ids(&events).1, header);

    // Cut right after the head: no event at all, and the header is the
    // only way to the answer. A resume without `Last-Event-ID` gives it all.
    let response = post_chat(&base, &dropping(BUDGET_QUESTION, &[0, 5])).await;
    let message_id = response.headers()["cite-stream-message-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let received = receive(response).await;
    assert!(received.end.is_err(), "the connection was aborted");
    assert!(received.events.is_empty(), "{:?}", received.kinds());
    // The drop at 5 still applies, to the resume.
    let received = receive(resume(&base, &message_id, None).await).await;
    assert_dropped_after(&received, 5);
    let mut got = events_of(&received);
    assert_eq!(ids(&got).1, message_id);
    let last_id = got.last().expect("events").last_event_id.clone();
    got.extend(
        read_events(resume(&base, &message_id, Some(&last_id)).await)
            .await
            .into_iter()
            .skip(1),
    );
    assert_eq!(got.len(), reference.len());
    assert_eq!(joined_tokens(&got), joined_tokens(&reference));
    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["chatPosts"], 1);
    assert_eq!(observed["resumes"], 2);
    assert_eq!(
        observed["saved"]["text"],
        joined_tokens(&reference).as_str()
    );
}

#[tokio::test]
async fn a_drop_at_every_seq_then_a_resume_each_time_gives_the_whole_answer_once() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let reference = full_answer(&base, BUDGET_QUESTION).await;
    let last = reference.len();
    let every: Vec<usize> = (1..last).collect();
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &every)).await).await;
    assert_dropped_after(&received, 1);
    let mut got = events_of(&received);
    let (session_id, message_id) = ids(&got);
    let mut resumes = 0;
    loop {
        let last_id = got.last().expect("events").last_event_id.clone();
        let received = receive(resume(&base, &message_id, Some(&last_id)).await).await;
        resumes += 1;
        let events = events_of(&received);
        assert_eq!(events[0], got[0], "`session` first, as it was");
        got.extend(events.into_iter().skip(1));
        if received.end.is_ok() {
            break;
        }
        assert!(resumes < last, "the answer ends");
    }
    assert_eq!(resumes, last - 1, "one resume per dropped event");
    let seqs: Vec<usize> = got.iter().map(seq).collect();
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>(), "no gap, no repeat");
    assert_eq!(got.last().map(|e| e.event_type.as_str()), Some("done"));
    assert_eq!(joined_tokens(&got), joined_tokens(&reference));
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], joined_tokens(&got).as_str());

    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["chatPosts"], 1, "no second POST");
    assert_eq!(observed["resumes"], resumes);
    // Each resume replayed only `session`: the rest it got live.
    assert_eq!(observed["replayedEvents"], resumes);
}

#[tokio::test]
async fn a_paused_answer_generates_nothing_and_the_history_shows_it_streaming() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[7])).await).await;
    assert_dropped_after(&received, 7);
    let events = events_of(&received);
    let (session_id, message_id) = ids(&events);
    let before = observe(&base, &message_id).await;
    assert_eq!(before["streaming"], true);
    assert_eq!(before["logEvents"], 7);
    assert_eq!(before["saved"], serde_json::Value::Null);
    assert_eq!(before["fragments"], tokens(&events).len());
    // The log holds exactly the bytes that were sent.
    assert_eq!(before["logBytes"], received.body().len());

    // Another whole answer streams meanwhile; this one does not move.
    full_answer(&base, "Who raised security concerns?").await;
    let after = observe(&base, &message_id).await;
    assert_eq!(after, before);

    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["id"], message_id.as_str());
    assert_eq!(stored[1]["streaming"], true);
    assert_eq!(stored[1]["text"], joined_tokens(&events).as_str());
    assert_eq!(stored[0]["streaming"], false);
}

#[tokio::test]
async fn past_the_window_a_paused_answer_is_saved_stopped_and_is_gone() {
    let mut state = test_state(Duration::ZERO);
    state.resume_window = Duration::from_millis(50);
    let base = spawn(state.clone()).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[6])).await).await;
    let events = events_of(&received);
    let (session_id, message_id) = ids(&events);
    let progress = tokio::time::timeout(GUARD, state.monitor.wait_saved(&message_id))
        .await
        .expect("saved once the window has passed");
    let saved = progress.saved.expect("saved");
    assert!(saved.stopped);
    assert_eq!(saved.text, joined_tokens(&events));

    assert_error(
        resume(&base, &message_id, None).await,
        410,
        "resume_expired",
    )
    .await;
    let last_id = format!("{message_id}:6");
    assert_error(
        resume(&base, &message_id, Some(&last_id)).await,
        410,
        "resume_expired",
    )
    .await;
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["stopped"], true);
    assert_eq!(stored[1]["streaming"], false);
    assert_eq!(stored[1]["text"], saved.text.as_str());
    // Stopping it now answers it as saved.
    let (_, stopped) = stop(&base, &message_id).await;
    assert_eq!(stopped["message"], stored[1]);
    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["streaming"], false);
    assert_eq!(observed["logEvents"], 0);
    assert_eq!(observed["logBytes"], 0);
}

#[tokio::test]
async fn stop_saves_a_paused_answer_and_answers_it_as_the_history_has_it() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[8])).await).await;
    let events = events_of(&received);
    let (session_id, message_id) = ids(&events);

    let (bytes, stopped) = stop(&base, &message_id).await;
    let message = &stopped["message"];
    assert_eq!(message["id"], message_id.as_str());
    assert_eq!(message["stopped"], true);
    assert_eq!(message["streaming"], false);
    assert_eq!(message["text"], joined_tokens(&events).as_str());
    assert!(message["citations"].is_array());
    let stored = messages(&base, &session_id).await;
    assert_eq!(*message, stored[1]);
    // Again: the same body, byte for byte.
    let (again, _) = stop(&base, &message_id).await;
    assert_eq!(again, bytes);

    // Resumed inside the window: the log, then the end (no `done`).
    let replay = receive(resume(&base, &message_id, None).await).await;
    assert!(replay.end.is_ok(), "a clean end");
    assert_eq!(events_of(&replay), events);
}

#[tokio::test]
async fn stop_of_a_finished_answer_changes_nothing() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let events = full_answer(&base, BUDGET_QUESTION).await;
    let (session_id, message_id) = ids(&events);
    let before = messages(&base, &session_id).await;
    let (_, stopped) = stop(&base, &message_id).await;
    assert_eq!(stopped["message"]["stopped"], false);
    assert_eq!(stopped["message"], before[1]);
    assert_eq!(messages(&base, &session_id).await, before);
}

#[tokio::test]
async fn stop_cuts_a_long_pacing_pause_short_and_ends_the_attached_stream() {
    // A minute between two tokens: the second is far off.
    let state = test_state(Duration::from_secs(60));
    let base = spawn(state.clone()).await;
    let body = serde_json::json!({ "question": BUDGET_QUESTION }).to_string();
    let mut response = post_chat(&base, &body).await;
    let (mut events, mut parser) = (Vec::new(), EventStreamParser::new(1 << 20));
    read_until(&mut response, &mut events, &mut parser, |events| {
        !tokens(events).is_empty()
    })
    .await;
    let (session_id, message_id) = ids(&events);

    let asked = Instant::now();
    let (_, stopped) = stop(&base, &message_id).await;
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(stopped["message"]["stopped"], true);
    assert_eq!(stopped["message"]["text"], joined_tokens(&events).as_str());
    let stored = messages(&base, &session_id).await;
    assert_eq!(stopped["message"], stored[1]);

    // The reader that was attached ends, cleanly, with nothing more.
    let rest = receive(response).await;
    assert!(rest.end.is_ok());
    assert!(rest.events.is_empty(), "{:?}", rest.kinds());
    let progress = state.monitor.progress(&message_id).expect("observed");
    assert_eq!(progress.fragments, 1);
}

#[tokio::test]
async fn the_drop_endpoint_cuts_the_attached_reader_now_and_the_answer_stays_resumable() {
    // A minute between two tokens: only the endpoint can end the stream soon.
    let base = spawn(test_state(Duration::from_secs(60))).await;
    let body = serde_json::json!({ "question": BUDGET_QUESTION }).to_string();
    let mut response = post_chat(&base, &body).await;
    let (mut events, mut parser) = (Vec::new(), EventStreamParser::new(1 << 20));
    read_until(&mut response, &mut events, &mut parser, |events| {
        !tokens(events).is_empty()
    })
    .await;
    let (session_id, message_id) = ids(&events);

    // Another user's drop is a 404 and cuts nothing.
    assert_error(
        drop_reader_as(&base, "other", &message_id).await,
        404,
        "message_not_found",
    )
    .await;
    let dropped = drop_reader_as(&base, TOKEN, &message_id).await;
    assert_eq!(dropped.status(), 204);
    let rest = tokio::time::timeout(GUARD, receive(response))
        .await
        .expect("the stream ends at once, not after the pacing pause");
    assert!(rest.end.is_err(), "the connection was aborted");
    assert!(rest.events.is_empty(), "{:?}", rest.kinds());

    // Paused: nobody reads it, so there is nothing to drop; it is resumable.
    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["streaming"], true);
    assert_error(
        drop_reader_as(&base, TOKEN, &message_id).await,
        409,
        "no_reader",
    )
    .await;
    let last = events.last().expect("events").last_event_id.clone();
    let mut resumed = resume(&base, &message_id, Some(&last)).await;
    assert_eq!(resumed.status(), 200);
    let (mut again, mut parser) = (Vec::new(), EventStreamParser::new(1 << 20));
    read_until(&mut resumed, &mut again, &mut parser, |events| {
        !events.is_empty()
    })
    .await;
    assert_eq!(again[0].event_type, "session");

    // The resume's reader is cut the same way.
    assert_eq!(
        drop_reader_as(&base, TOKEN, &message_id).await.status(),
        204
    );
    let rest = tokio::time::timeout(GUARD, receive(resumed))
        .await
        .expect("ends at once");
    assert!(rest.end.is_err());
    let (_, stopped) = stop(&base, &message_id).await;
    assert_eq!(stopped["message"]["text"], joined_tokens(&events).as_str());
    assert_eq!(messages(&base, &session_id).await[1]["stopped"], true);
}

#[tokio::test]
async fn unknown_foreign_and_question_ids_are_404_for_stop_and_stream() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[5])).await).await;
    let (session_id, message_id) = ids(&events_of(&received));
    let question_id = messages(&base, &session_id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (token, id) in [
        ("other", message_id.as_str()),
        (TOKEN, "m_0000"),
        (TOKEN, question_id.as_str()),
    ] {
        assert_error(stop_as(&base, token, id).await, 404, "message_not_found").await;
        assert_error(
            resume_as(&base, token, id, None).await,
            404,
            "message_not_found",
        )
        .await;
    }
    // Nothing reached the answer: it is still paused.
    assert_eq!(observe(&base, &message_id).await["streaming"], true);
    assert_error(
        resume_as(&base, "nobody", &message_id, None).await,
        401,
        "invalid_token",
    )
    .await;
    assert_error(
        request_as(
            &base,
            reqwest::Method::GET,
            &format!("/api/chat/{message_id}/stop"),
            TOKEN,
        )
        .send()
        .await
        .expect("send"),
        405,
        "method_not_allowed",
    )
    .await;
    // Another user can't observe it either.
    let foreign = request_as(
        &base,
        reqwest::Method::GET,
        &format!("/api/_test/answers/{message_id}"),
        "other",
    )
    .send()
    .await
    .expect("send");
    assert_error(foreign, 404, "message_not_found").await;
}

#[tokio::test]
async fn a_bad_last_event_id_is_400() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[5])).await).await;
    let (_, message_id) = ids(&events_of(&received));
    for (value, code) in [
        ("5".to_owned(), "invalid_last_event_id"),
        (format!("{message_id}:"), "invalid_last_event_id"),
        (format!("{message_id}:0"), "invalid_last_event_id"),
        (format!("{message_id}:five"), "invalid_last_event_id"),
        ("m_other:3".to_owned(), "last_event_id_mismatch"),
        (format!("{message_id}:6"), "unknown_last_event_id"),
    ] {
        assert_error(resume(&base, &message_id, Some(&value)).await, 400, code).await;
    }
    // None of them attached or moved it.
    let observed = observe(&base, &message_id).await;
    assert_eq!(observed["resumes"], 0);
    assert_eq!(observed["logEvents"], 5);
}

#[tokio::test]
async fn a_second_reader_takes_over_and_the_first_ends_with_resumed_elsewhere() {
    // Paced, so that the first reader is mid-answer when the second comes;
    // a short answer, so that the test is quick.
    let base = spawn(test_state(Duration::from_millis(20))).await;
    let text = "Budget came up in three calls [12:45, Sarah Johnson], and twice more \
                when renewals were discussed; pricing was the other worry.";
    let body = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "answerText": text } })
    .to_string();
    let mut first = post_chat(&base, &body).await;
    let (mut events, mut parser) = (Vec::new(), EventStreamParser::new(1 << 20));
    read_until(&mut first, &mut events, &mut parser, |events| {
        tokens(events).len() >= 3
    })
    .await;
    let (session_id, message_id) = ids(&events);
    let last_id = events.last().expect("events").last_event_id.clone();
    let cut = seq(events.last().expect("events"));

    let second = resume(&base, &message_id, Some(&last_id)).await;
    assert_eq!(second.status(), 200);
    // The first reader: whatever was on its way, then the error, then the end.
    let tail = receive(first).await;
    assert!(tail.end.is_ok(), "it ends cleanly");
    let (_, error) = tail.events.last().expect("an event");
    assert_eq!(error.event_type, "error");
    let data = json(error);
    assert_eq!(data["code"], "resumed_elsewhere");
    assert_eq!(data["retryable"], false);
    let body = String::from_utf8(tail.body()).expect("utf-8");
    let error_block = body.rsplit("event: error").next().expect("block");
    assert!(!error_block.contains("id:"), "no id line: {error_block:?}");
    for (_, event) in &tail.events[..tail.events.len() - 1] {
        assert_ne!(event.event_type, "error");
    }

    let second = read_events(second).await;
    assert_eq!(second[0], events[0]);
    let seqs: Vec<usize> = second.iter().map(seq).collect();
    assert_eq!(seqs[1], cut + 1);
    assert!(
        seqs.windows(2).skip(1).all(|w| w[1] == w[0] + 1),
        "{seqs:?}"
    );
    assert_eq!(second.last().map(|e| e.event_type.as_str()), Some("done"));
    let joined = joined_tokens(&events[..]) + &joined_tokens(&second);
    assert_eq!(joined, text);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], text);
    assert_eq!(stored[1]["stopped"], false);
}

#[tokio::test]
async fn a_drop_just_before_done_loses_nothing() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let last = full_answer(&base, BUDGET_QUESTION).await.len();
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[last - 1])).await).await;
    assert_dropped_after(&received, last - 1);
    let (session_id, message_id) = ids(&events_of(&received));
    let last_id = format!("{message_id}:{}", last - 1);
    let rest = read_events(resume(&base, &message_id, Some(&last_id)).await).await;
    let kinds: Vec<&str> = rest.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(kinds, ["session", "done"]);
    assert_eq!(seq(&rest[1]), last);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["stopped"], false);
    assert_eq!(stored[1]["text"], received.tokens().concat().as_str());
}

#[tokio::test]
async fn a_paused_answer_keeps_its_stream_slot_and_a_resume_takes_no_other() {
    let mut state = test_state(Duration::ZERO);
    state.streams = StreamLimiter::new(1);
    let base = spawn(state).await;
    let received = receive(post_chat(&base, &dropping(BUDGET_QUESTION, &[4])).await).await;
    let (_, message_id) = ids(&events_of(&received));
    let pricing = serde_json::json!({ "question": "pricing" }).to_string();
    assert_error(post_chat(&base, &pricing).await, 429, "too_many_streams").await;
    // The resume is that answer's stream: it is served at the limit.
    let rest =
        read_events(resume(&base, &message_id, Some(&format!("{message_id}:4"))).await).await;
    assert_eq!(rest.last().map(|e| e.event_type.as_str()), Some("done"));
    // Ended, it gave the slot back.
    full_answer(&base, "pricing").await;
}

#[tokio::test]
async fn drop_at_seqs_is_checked_against_the_answer() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let last = full_answer(&base, BUDGET_QUESTION).await.len();
    let before = get_json(&base, "/api/sessions", TOKEN).await;
    for seqs in [vec![last], vec![3, last + 4]] {
        let response = post_chat(&base, &dropping(BUDGET_QUESTION, &seqs)).await;
        assert_error(response, 400, "invalid_request").await;
    }
    assert_eq!(get_json(&base, "/api/sessions", TOKEN).await, before);
}

#[tokio::test]
async fn answers_a_fault_plays_are_not_resumable() {
    let base = spawn(test_state(Duration::ZERO)).await;
    let body = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "silenceAfterTokens": 1, "silenceMs": 600_000 } });
    let mut response = post_chat(&base, &body.to_string()).await;
    let (mut events, mut parser) = (Vec::new(), EventStreamParser::new(1 << 20));
    read_until(&mut response, &mut events, &mut parser, |events| {
        !tokens(events).is_empty()
    })
    .await;
    let (_, message_id) = ids(&events);
    assert_error(resume(&base, &message_id, None).await, 404, "not_resumable").await;
    assert_error(
        stop_as(&base, TOKEN, &message_id).await,
        409,
        "not_stoppable",
    )
    .await;
    drop(response);
}

#[tokio::test]
async fn the_test_endpoints_exist_in_test_mode_only() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let events = full_answer(&base, BUDGET_QUESTION).await;
    let (_, message_id) = ids(&events);
    for token in [TOKEN, "nobody"] {
        for (method, path) in [
            (
                reqwest::Method::GET,
                format!("/api/_test/answers/{message_id}"),
            ),
            (
                reqwest::Method::POST,
                format!("/api/_test/answers/{message_id}/drop"),
            ),
        ] {
            let response = request_as(&base, method, &path, token)
                .send()
                .await
                .expect("send");
            assert_error(response, 404, "not_found").await;
        }
    }
}
