//! Honest on failure: `done` only for a saved answer, a placeholder from
//! the first byte, a server that can't write refusing to start, and a
//! history that holds exactly the text streamed.

use crate::support::*;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn test_mode_state() -> server_mock::AppState {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    state
}

fn with_fault(question: &str, fault: serde_json::Value) -> String {
    serde_json::json!({ "question": question, "fault": fault }).to_string()
}

async fn messages(base: &str, session_id: &str) -> Vec<serde_json::Value> {
    let document = get_json(base, &format!("/api/sessions/{session_id}/messages"), TOKEN).await;
    document["messages"].as_array().expect("messages").clone()
}

#[tokio::test]
async fn an_answer_the_history_refuses_ends_with_storage_failed_not_done() {
    let base = spawn(test_mode_state()).await;
    let body = with_fault(BUDGET_QUESTION, serde_json::json!({ "failStorage": true }));
    let events = read_events(post_chat(&base, &body).await).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert!(!kinds.contains(&"done"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"error"));
    let error = json(only(&events, "error"));
    assert_eq!(error["code"], "storage_failed");
    assert_eq!(error["retryable"], false);
    // No SQL, no path: only the protocol's words.
    let message = error["message"].as_str().expect("message");
    assert!(!message.to_ascii_lowercase().contains("sql"), "{message}");

    // What the history has is the placeholder: stopped, empty; the
    // streamed text is not claimed to be kept.
    let (session_id, message_id) = ids(&events);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["id"], message_id.as_str());
    assert_eq!(stored[1]["text"], "");
    assert_eq!(stored[1]["stopped"], true);

    // The refusal was for that answer alone.
    let next = ask(&base, BUDGET_QUESTION).await;
    assert_eq!(next.last().map(|e| e.event_type.as_str()), Some("done"));
}

#[tokio::test]
async fn a_failing_history_gives_clients_no_sql_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("db.sqlite");
    let store = server_mock::store::Store::open(&server_mock::store::Location::File(path.clone()))
        .expect("open");
    store.put_user("test", TOKEN).expect("user");
    let corpus = server_mock::corpus::Corpus::bundled().expect("corpus");
    let base = spawn(server_mock::AppState::new(corpus, store)).await;
    // A real SQLite failure behind a route: another connection drops the
    // table the route reads.
    rusqlite::Connection::open(&path)
        .and_then(|conn| conn.execute_batch("DROP TABLE messages"))
        .expect("drop");
    let response = request_as(&base, reqwest::Method::GET, "/api/sessions", TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 500);
    let text = response.text().await.expect("body");
    let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(body["error"]["code"], "storage_failed");
    for leak in ["sql", "table", "messages", "no such"] {
        assert!(
            !text.to_ascii_lowercase().contains(leak),
            "{leak} in {text}"
        );
    }
}

#[tokio::test]
async fn the_question_and_a_stopped_placeholder_are_stored_before_the_first_token() {
    let base = spawn(test_mode_state()).await;
    // Silent after the first token: the answer is mid-stream while we look.
    let body = with_fault(
        BUDGET_QUESTION,
        serde_json::json!({ "silenceAfterTokens": 1, "silenceMs": 600_000 }),
    );
    let mut response = post_chat(&base, &body).await;
    let mut parser = cite_stream::core::sse::EventStreamParser::new(1 << 20);
    let mut events = Vec::new();
    while !events
        .iter()
        .any(|e: &cite_stream::core::sse::SseEvent| e.event_type == "token")
    {
        let chunk = response.chunk().await.expect("read").expect("more body");
        parser
            .feed(&chunk, &mut |event| events.push(event))
            .expect("valid stream");
    }
    let (session_id, message_id) = ids(&events);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["text"], BUDGET_QUESTION);
    assert_eq!(stored[1]["id"], message_id.as_str());
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["streaming"], true);
    assert_eq!(stored[1]["stopped"], true);
    drop(response);
}

#[tokio::test]
async fn carriage_returns_are_stored_as_they_were_streamed() {
    let base = spawn(test_mode_state()).await;
    let text = "Line one\r\nline two\rline three\r\n\r\n- item [12:45, Sarah Johnson]\r";
    let body = with_fault(BUDGET_QUESTION, serde_json::json!({ "answerText": text }));
    let events = read_events(post_chat(&base, &body).await).await;
    let streamed = tokens(&events).concat();
    assert_eq!(
        streamed,
        "Line one\nline two\nline three\n\n- item [12:45, Sarah Johnson]\n"
    );
    let (session_id, _) = ids(&events);
    let stored = messages(&base, &session_id).await;
    assert_eq!(stored[1]["text"], streamed.as_str());
}

/// The `server-mock` binary with `args`, its stdout and stderr piped.
fn server(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server-mock"));
    command
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Whether this process runs as root (for whom file permissions don't
/// make a file read-only).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

#[test]
fn a_database_the_server_cannot_write_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let db = data.join("cite-stream.db");
    // A real database first, then made read-only with its directory.
    server_mock::store::Store::open(&server_mock::store::Location::File(db.clone()))
        .expect("create");
    let chmod = |mode: &str, path: &std::path::Path| {
        let status = Command::new("chmod")
            .arg(mode)
            .arg(path)
            .status()
            .expect("chmod");
        assert!(status.success());
    };
    chmod("0444", &db);
    chmod("0555", &data);
    chmod("0755", dir.path());
    let db_arg = db.to_str().expect("utf-8 path");
    let mut command = if is_root() {
        // Root writes through any permission: run as nobody, as a
        // deployment would run the server.
        let mut command = Command::new("setpriv");
        command.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_server-mock"),
            "--addr",
            "127.0.0.1:0",
            "--db",
            db_arg,
        ]);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    } else {
        server(&["--db", db_arg])
    };
    let output = command.output().expect("run the server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(output.stdout.is_empty(), "it never listened");
    assert!(stderr.contains("can't be written"), "{stderr}");
    assert!(stderr.contains(db_arg), "{stderr}");
    chmod("0755", &data);
}

#[tokio::test]
async fn a_server_killed_mid_answer_leaves_a_stopped_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("utf-8 path").to_owned();
    let start = || {
        let mut child = server(&[
            "--data-dir",
            &data,
            "--demo-token",
            "tok",
            "--token-delay-ms",
            "60000",
        ])
        .spawn()
        .expect("spawn");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = lines.next().expect("url line").expect("read");
        (child, url)
    };
    let (mut child, url) = start();
    let addr = url.trim_start_matches("http://").to_owned();
    // One token, then a minute's pause: kill the server in it.
    let mut socket = std::net::TcpStream::connect(&addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let body = serde_json::json!({ "question": BUDGET_QUESTION }).to_string();
    std::io::Write::write_all(
        &mut socket,
        format!(
            "POST /api/chat HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer tok\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .expect("write");
    let mut reader = BufReader::new(socket);
    let mut session_line = String::new();
    let mut seen = String::new();
    while !seen.contains("event: token") {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read") > 0,
            "stream ended: {seen}"
        );
        if line.contains("sessionId") {
            session_line = line.clone();
        }
        seen.push_str(&line);
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let session_id = session_line
        .split('"')
        .skip_while(|part| *part != "sessionId")
        .nth(2)
        .expect("session id")
        .to_owned();

    let (mut child, url) = start();
    let document = get_json(&url, &format!("/api/sessions/{session_id}/messages"), "tok").await;
    child.kill().expect("kill");
    child.wait().expect("reap");
    let stored = document["messages"].as_array().expect("messages");
    assert_eq!(stored.len(), 2, "{document}");
    assert_eq!(stored[0]["text"], BUDGET_QUESTION);
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["stopped"], true);
    assert_eq!(stored[1]["streaming"], false);
}
