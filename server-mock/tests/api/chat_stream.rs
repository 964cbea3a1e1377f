//! The success path of `POST /api/chat`, checked against docs/protocol.md.

use crate::support::*;
use server_mock::corpus::{parse_timestamp, Corpus};
use server_mock::model;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn stream_follows_protocol_order_with_numbered_ids() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let response = post_chat(&base, &format!(r#"{{"question":"{BUDGET_QUESTION}"}}"#)).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii");
    assert_eq!(content_type, "text/event-stream");
    let events = read_events(response).await;

    let mut kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    kinds.dedup();
    assert_eq!(kinds, ["session", "status", "token", "citations", "done"]);

    let session = json(&events[0]);
    let message_id = session["messageId"].as_str().expect("messageId");
    assert!(message_id.starts_with("m_"), "{message_id}");
    assert!(session["sessionId"]
        .as_str()
        .expect("sessionId")
        .starts_with("s_"));
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.last_event_id, format!("{message_id}:{}", i + 1));
    }

    let statuses: Vec<String> = events
        .iter()
        .filter(|e| e.event_type == "status")
        .map(|e| json(e)["message"].as_str().expect("message").to_owned())
        .collect();
    // The model's own messages, with the real counts.
    let corpus = Corpus::bundled().expect("corpus");
    let conversations = corpus.conversations().len();
    let expected = model::answer(&corpus, BUDGET_QUESTION, None, &[]).status_messages();
    assert_eq!(statuses, expected);
    assert_eq!(
        statuses[0],
        format!("Searching across {conversations} conversations...")
    );
}

#[tokio::test]
async fn tokens_rejoin_to_the_model_answer_and_split_citations() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let events = ask(&base, BUDGET_QUESTION).await;
    let tokens = tokens(&events);
    let text = tokens.concat();
    let corpus = Corpus::bundled().expect("corpus");
    assert_eq!(
        text,
        model::answer(&corpus, BUDGET_QUESTION, None, &[]).text
    );
    assert!(
        !text.is_ascii(),
        "answer should exercise multi-byte characters"
    );

    // The wire paths that are easy to get wrong were all taken end to end.
    assert!(tokens.iter().all(|t| !t.is_empty()));
    assert!(tokens.iter().any(|t| t.starts_with(' ')), "{tokens:?}");
    assert!(tokens.iter().any(|t| t.contains('\n')), "{tokens:?}");

    let citations = inline_citations(&text);
    let cited: usize = citations.iter().map(|(_, refs)| refs.len()).sum();
    assert!(cited >= 2, "{text}");
    let mut boundaries = Vec::new();
    let mut offset = 0;
    for token in &tokens {
        offset += token.len();
        boundaries.push(offset);
    }
    let split = citations
        .iter()
        .filter(|(range, _)| {
            boundaries
                .iter()
                .any(|b| range.start < *b && *b < range.end)
        })
        .count();
    assert!(split >= 1, "no citation split across tokens: {tokens:?}");
}

#[tokio::test]
async fn citations_event_matches_inline_citations() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let events = ask(&base, BUDGET_QUESTION).await;
    let text = tokens(&events).concat();
    let inline: BTreeSet<(String, String)> = inline_citations(&text)
        .into_iter()
        .flat_map(|(_, refs)| refs)
        .collect();

    let data = json(only(&events, "citations"));
    let entries = data["citations"].as_array().expect("citations array");
    let mut listed = BTreeSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = |name: &str| entry[name].as_str().expect(name).to_owned();
        assert_eq!(field("id"), format!("c{}", i + 1));
        assert!(field("conversationId").starts_with("c_"));
        assert!(!field("conversationTitle").is_empty());
        assert!(!field("quote").is_empty());
        let seconds = entry["seconds"].as_u64().expect("seconds");
        assert_eq!(
            parse_timestamp(&field("timestamp")).map(u64::from),
            Some(seconds)
        );
        listed.insert((field("timestamp"), field("speaker")));
    }
    assert_eq!(listed.len(), entries.len(), "duplicate citation entries");
    assert_eq!(inline, listed);
    assert!(listed.iter().any(|(_, speaker)| speaker == "José Álvarez"));
}

#[tokio::test]
async fn done_reports_measured_time_and_token_count() {
    let delay = Duration::from_millis(1);
    let base = spawn(bundled_state(delay)).await;
    let events = ask(&base, BUDGET_QUESTION).await;
    let token_count = tokens(&events).len();

    let done = events.last().expect("events");
    assert_eq!(done.event_type, "done");
    let data = json(done);
    assert_eq!(data["messageId"], json(&events[0])["messageId"]);
    assert_eq!(data["tokenCount"].as_u64(), Some(token_count as u64));
    // Each gap between tokens sleeps at least `delay`, and the time is measured.
    let processing_ms = data["processingMs"]
        .as_u64()
        .expect("processingMs is a number");
    let paced_ms = (token_count as u64 - 1) * delay.as_millis() as u64;
    assert!(processing_ms >= paced_ms, "{processing_ms} < {paced_ms}");
}

#[tokio::test]
async fn same_question_streams_the_same_fragments() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let first = ask(&base, BUDGET_QUESTION).await;
    let second = ask(&base, BUDGET_QUESTION).await;
    assert_eq!(tokens(&first), tokens(&second));
    assert_eq!(
        only(&first, "citations").data,
        only(&second, "citations").data
    );
    assert_ne!(json(&first[0])["messageId"], json(&second[0])["messageId"]);
    assert_ne!(json(&first[0])["sessionId"], json(&second[0])["sessionId"]);

    let other = ask(&base, "What did Zoë say about data residency?").await;
    assert_ne!(tokens(&first), tokens(&other));
}

#[tokio::test]
async fn given_session_id_is_reused() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let (session_id, _) = ids(&ask(&base, "pricing").await);
    let body = serde_json::json!({ "question": "And discounts?", "sessionId": session_id });
    let events = read_events(post_chat(&base, &body.to_string()).await).await;
    assert_eq!(ids(&events).0, session_id);
}

/// While the model is slow, the stream still carries a `: keep-alive`
/// comment every 15 seconds. Run in paused time: the 31-second gaps
/// between tokens pass at once, and the comments are counted in the bytes.
#[tokio::test(start_paused = true)]
async fn a_slow_answer_carries_keep_alive_comments_every_15_seconds() {
    use tower::ServiceExt as _;
    let app = server_mock::app(bundled_state(Duration::from_secs(31)));
    let request = axum::http::Request::post("/api/chat")
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(axum::body::Body::from(
            r#"{"question":"Who mentioned Salesforce?"}"#,
        ))
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = std::str::from_utf8(&body).expect("UTF-8");
    let tokens = body.matches("event: token\n").count();
    assert!(tokens > 2, "{body}");
    // Each 31 s gap between two tokens holds comments at 15 s and 30 s (an
    // interval of 16 s would leave one).
    let gaps: Vec<usize> = body
        .split("event: token\n")
        .skip(1)
        .take(tokens - 1)
        .map(|between| between.matches(": keep-alive\n").count())
        .collect();
    assert!(gaps.iter().all(|&n| n == 2), "comments per gap: {gaps:?}");
}
