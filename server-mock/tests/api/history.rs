//! The history routes, and what the chat stream stores in them: sessions,
//! messages, delete, export; full, failed and cut answers; the prompt
//! history handed to the model.

use crate::support::*;
use server_mock::model::Role;
use std::time::Duration;

/// Asks `question` in `session` (a new one if `None`) and returns the
/// events and the session id.
async fn ask_in(
    base: &str,
    session: Option<&str>,
    question: &str,
) -> (Vec<cite_stream::core::sse::SseEvent>, String) {
    let mut body = serde_json::json!({ "question": question });
    if let Some(id) = session {
        body["sessionId"] = id.into();
    }
    let response = post_chat(base, &body.to_string()).await;
    assert_eq!(response.status(), 200);
    let events = read_events(response).await;
    let (session_id, _) = ids(&events);
    (events, session_id)
}

async fn messages(base: &str, session_id: &str) -> Vec<serde_json::Value> {
    let document = get_json(base, &format!("/api/sessions/{session_id}/messages"), TOKEN).await;
    document["messages"].as_array().expect("messages").clone()
}

#[tokio::test]
async fn a_finished_answer_is_in_the_history_when_done_arrives() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let (events, session_id) = ask_in(&base, None, BUDGET_QUESTION).await;
    let (_, message_id) = ids(&events);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored.len(), 2);
    let (question, answer) = (&stored[0], &stored[1]);
    assert_eq!(question["role"], "user");
    assert_eq!(question["text"], BUDGET_QUESTION);
    assert_eq!(question["citations"], serde_json::json!([]));
    assert_eq!(question["stopped"], false);
    assert!(question["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("m_")));
    assert_eq!(answer["id"], message_id.as_str());
    assert_eq!(answer["role"], "assistant");
    assert_eq!(answer["text"], tokens(&events).concat().as_str());
    assert_eq!(
        answer["citations"],
        json(only(&events, "citations"))["citations"]
    );
    assert_eq!(answer["stopped"], false);
    for message in &stored {
        // Always present; null for a question and a complete answer.
        assert_eq!(message.get("error"), Some(&serde_json::Value::Null));
        let created = message["createdAt"].as_str().expect("createdAt");
        assert!(created.len() == 24 && created.ends_with('Z'), "{created}");
    }
}

#[tokio::test]
async fn sessions_are_listed_newest_first_with_titles_and_counts() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let long = "Which of the prospects we spoke with last quarter mentioned budget constraints, and when exactly?";
    let (_, older) = ask_in(&base, None, long).await;
    let (_, newer) = ask_in(&base, None, "pricing").await;
    let listed = get_json(&base, "/api/sessions", TOKEN).await;
    let sessions = listed["sessions"].as_array().expect("sessions");
    let order: Vec<&str> = sessions
        .iter()
        .map(|s| s["id"].as_str().expect("id"))
        .collect();
    assert_eq!(order, [newer.as_str(), older.as_str()]);
    assert_eq!(sessions[0]["title"], "pricing");
    let title = sessions[1]["title"].as_str().expect("title");
    assert!(
        title.ends_with('…') && long.starts_with(title.trim_end_matches('…')),
        "{title}"
    );
    assert_eq!(sessions[1]["messageCount"], 2);
    for field in ["createdAt", "updatedAt"] {
        assert!(sessions[0][field]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
    }

    // A follow-up moves the older session to the top.
    ask_in(&base, Some(&older), "And which of them sounded urgent?").await;
    let listed = get_json(&base, "/api/sessions", TOKEN).await;
    assert_eq!(listed["sessions"][0]["id"], older.as_str());
    assert_eq!(listed["sessions"][0]["messageCount"], 4);
}

#[tokio::test]
async fn delete_removes_a_session_and_its_messages() {
    let state = bundled_state(Duration::ZERO);
    let base = spawn(state.clone()).await;
    let (_, session_id) = ask_in(&base, None, "pricing").await;
    let path = format!("/api/sessions/{session_id}");
    let deleted = request_as(&base, reqwest::Method::DELETE, &path, TOKEN)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 204);
    assert!(deleted.bytes().await.expect("body").is_empty());
    assert_eq!(state.store.counts().expect("counts").messages, 0);
    let listed = get_json(&base, "/api/sessions", TOKEN).await;
    assert_eq!(listed["sessions"], serde_json::json!([]));
    for (method, path) in [
        (reqwest::Method::DELETE, path.clone()),
        (reqwest::Method::GET, format!("{path}/messages")),
    ] {
        let again = request_as(&base, method, &path, TOKEN)
            .send()
            .await
            .expect("send");
        assert_error(again, 404, "session_not_found").await;
    }
}

/// `GET /api/sessions/{session_id}/export?format={format}` as the user `test`.
async fn export(base: &str, session_id: &str, format: &str) -> reqwest::Result<reqwest::Response> {
    request_as(
        base,
        reqwest::Method::GET,
        &format!("/api/sessions/{session_id}/export?format={format}"),
        TOKEN,
    )
    .send()
    .await
}

#[tokio::test]
async fn export_as_markdown_or_json_is_a_download() {
    let base = spawn(bundled_state(Duration::ZERO)).await;
    let (events, session_id) = ask_in(&base, None, BUDGET_QUESTION).await;
    let export = |format| export(&base, &session_id, format);

    let md = export("md").await.expect("export");
    assert_eq!(md.status(), 200);
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    assert_eq!(
        md.headers()["content-disposition"],
        format!("attachment; filename=\"{session_id}.md\"").as_str()
    );
    let text = md.text().await.expect("markdown");
    assert!(
        text.starts_with(&format!("# {BUDGET_QUESTION}\n")),
        "{text}"
    );
    assert!(text.contains(&tokens(&events).concat()), "{text}");
    let citations = json(only(&events, "citations"));
    let first = &citations["citations"][0];
    let source = format!(
        "- [{}, {}] {}",
        first["timestamp"].as_str().expect("timestamp"),
        first["speaker"].as_str().expect("speaker"),
        first["conversationTitle"].as_str().expect("title")
    );
    assert!(text.contains(&source), "{text}");

    let document = export("json").await.expect("export");
    assert_eq!(document.headers()["content-type"], "application/json");
    assert_eq!(
        document.headers()["content-disposition"],
        format!("attachment; filename=\"{session_id}.json\"").as_str()
    );
    let exported: serde_json::Value =
        serde_json::from_slice(&document.bytes().await.expect("body")).expect("JSON");
    let listed = get_json(
        &base,
        &format!("/api/sessions/{session_id}/messages"),
        TOKEN,
    )
    .await;
    assert_eq!(exported, listed);

    for bad in ["pdf", ""] {
        assert_error(export(bad).await.expect("export"), 400, "invalid_format").await;
    }
}

#[tokio::test]
async fn failed_and_cut_answers_store_what_was_generated() {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    let base = spawn(state.clone()).await;

    let failing =
        serde_json::json!({ "question": BUDGET_QUESTION, "fault": { "failAfterTokens": 5 } });
    let events = read_events(post_chat(&base, &failing.to_string()).await).await;
    let (session_id, _) = ids(&events);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], tokens(&events).concat().as_str());
    assert_eq!(stored[1]["stopped"], false);
    // The failure is stored with the code and message its `error` event sent.
    let error = json(only(&events, "error"));
    assert_eq!(error["code"], "llm_failed");
    assert_eq!(
        stored[1]["error"],
        serde_json::json!({ "code": error["code"], "message": error["message"] })
    );
    assert_eq!(stored[0]["error"], serde_json::Value::Null);
    // The exports carry it too: a note in Markdown, the field in JSON.
    let export = |format| export(&base, &session_id, format);
    let md = export("md")
        .await
        .expect("export")
        .text()
        .await
        .expect("md");
    let note = format!(
        "_The answer failed: {} ({})_",
        error["message"].as_str().expect("message"),
        error["code"].as_str().expect("code")
    );
    assert!(md.contains(&note), "{md}");
    let exported: serde_json::Value = serde_json::from_slice(
        &export("json")
            .await
            .expect("export")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("JSON");
    assert_eq!(exported["messages"][1]["error"], stored[1]["error"]);

    let cut = serde_json::json!({ "question": BUDGET_QUESTION, "fault": { "cutAfterTokens": 3 } });
    let received = receive(post_chat(&base, &cut.to_string()).await).await;
    assert!(received.end.is_err());
    let session = json(&received.events[0].1);
    let (session_id, message_id) = (
        session["sessionId"].as_str().expect("sessionId").to_owned(),
        session["messageId"].as_str().expect("messageId").to_owned(),
    );
    // The cut is the server's own doing, but the body may still be in
    // flight: wait for the save rather than assume it happened.
    tokio::time::timeout(
        Duration::from_secs(10),
        state.monitor.wait_saved(&message_id),
    )
    .await
    .expect("saved");
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], received.tokens().concat().as_str());
    assert_eq!(stored[1]["stopped"], true);
    // A cut is a stop, not a failure.
    assert_eq!(stored[1].get("error"), Some(&serde_json::Value::Null));
}

#[tokio::test]
async fn a_follow_up_hands_the_model_exactly_the_last_ten_messages() {
    let state = bundled_state(Duration::ZERO);
    let base = spawn(state.clone()).await;
    let questions = [
        "Which prospects mentioned budget constraints?",
        "Who raised security concerns?",
        "What did Zoë say about data residency?",
        "Which calls talked about pricing?",
        "Who asked for a discount?",
        "Which customers sounded urgent?",
    ];
    let (first, session_id) = ask_in(&base, None, questions[0]).await;
    let prompt = |events: &[cite_stream::core::sse::SseEvent]| {
        state
            .monitor
            .progress(&ids(events).1)
            .expect("observed")
            .history
    };
    assert!(prompt(&first).is_empty());
    let mut seen = 2;
    for question in &questions[1..] {
        let (events, _) = ask_in(&base, Some(&session_id), question).await;
        // Everything stored before this question, up to the last ten.
        assert_eq!(prompt(&events).len(), seen.min(10), "{question}");
        seen += 2;
    }
    // Twelve messages are stored now; the next question gets the last ten.
    let before = messages(&base, &session_id).await;
    assert_eq!(before.len(), 12);
    let (events, _) = ask_in(
        &base,
        Some(&session_id),
        "Of those, which ones also expressed urgency?",
    )
    .await;
    let history = prompt(&events);
    assert_eq!(history.len(), 10);
    for (turn, stored) in history.iter().zip(&before[2..]) {
        let role = match turn.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        assert_eq!(stored["role"], role);
        assert_eq!(stored["text"], turn.text.as_str());
    }
    assert_eq!(history[0].text, questions[1]);
}

#[tokio::test]
async fn history_survives_a_restart_and_the_demo_token_is_new_each_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "--data-dir",
        dir.path().to_str().expect("utf-8 path"),
        "--token-delay-ms",
        "0",
    ];
    let config = match server_mock::config::parse(args.iter().map(|a| a.to_string())) {
        Ok(server_mock::config::Command::Serve(config)) => config,
        _ => panic!("flags parse"),
    };
    let (first, demo) = server_mock::AppState::from_config(&config).expect("start");
    let base = spawn(first).await;
    let body = serde_json::json!({ "question": "pricing" }).to_string();
    let events = read_events(post_chat_as(&base, &demo.token, &body).await).await;
    let (session_id, _) = ids(&events);

    // A second start on the same directory: the same user and history,
    // under a new token (the database only has the old one's hash).
    let (second, again) = server_mock::AppState::from_config(&config).expect("restart");
    assert_eq!(again.user, demo.user);
    assert_ne!(again.token, demo.token);
    let base = spawn(second).await;
    let stale = request_as(&base, reqwest::Method::GET, "/api/sessions", &demo.token)
        .send()
        .await
        .expect("send");
    assert_error(stale, 401, "invalid_token").await;
    let document = get_json(
        &base,
        &format!("/api/sessions/{session_id}/messages"),
        &again.token,
    )
    .await;
    let stored = document["messages"].as_array().expect("messages");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["text"], tokens(&events).concat().as_str());
}
