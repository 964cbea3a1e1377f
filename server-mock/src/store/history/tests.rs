use super::*;

fn citation(timestamp: &str, speaker: &str) -> Citation {
    Citation {
        id: "c1".to_owned(),
        conversation_id: "c_x".to_owned(),
        conversation_title: "X call".to_owned(),
        timestamp: timestamp.to_owned(),
        seconds: 1,
        speaker: speaker.to_owned(),
        quote: "“Quoted.”".to_owned(),
    }
}

fn ask(store: &Store, owner: &str, session: SessionTarget, n: usize) -> Exchange {
    store
        .start_exchange(&NewExchange {
            owner: owner.to_owned(),
            session,
            question_id: format!("m_q{n}"),
            question: format!("question {n}"),
            answer_id: format!("m_a{n}"),
        })
        .expect("start")
        .expect("session is the owner's")
}

fn answer(store: &Store, exchange: &Exchange, n: usize, stopped: bool) {
    let saved = store.save_answer(&AnswerRecord {
        session_id: exchange.session_id.clone(),
        message_id: format!("m_a{n}"),
        position: exchange.answer_position,
        text: format!("answer {n} [0:01, José]"),
        citations: vec![citation("0:01", "José")],
        stopped,
        error: None,
    });
    assert_eq!(saved.ok(), Some(true));
}

fn new(id: &str) -> SessionTarget {
    SessionTarget::New {
        id: id.to_owned(),
        title: format!("title of {id}"),
    }
}

fn setup() -> (Store, String, String) {
    let store = Store::in_memory().expect("store");
    let ana = store.put_user("ana", "a").expect("ana").id;
    let bo = store.put_user("bo", "b").expect("bo").id;
    (store, ana, bo)
}

#[test]
fn exchanges_are_stored_in_order_with_citations() {
    let (store, ana, _) = setup();
    let first = ask(&store, &ana, new("s_1"), 1);
    assert_eq!(first.answer_position, 1);
    answer(&store, &first, 1, false);
    let second = ask(&store, &ana, SessionTarget::Existing("s_1".into()), 2);
    answer(&store, &second, 2, true);

    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    let summary: Vec<(&str, Role, bool)> = messages
        .iter()
        .map(|m| (m.id.as_str(), m.role, m.stopped))
        .collect();
    assert_eq!(
        summary,
        [
            ("m_q1", Role::User, false),
            ("m_a1", Role::Assistant, false),
            ("m_q2", Role::User, false),
            ("m_a2", Role::Assistant, true),
        ]
    );
    assert_eq!(messages[1].citations, vec![citation("0:01", "José")]);
    assert!(messages[0].citations.is_empty());
    assert!(messages
        .windows(2)
        .all(|w| w[0].created_at < w[1].created_at));
    let json = serde_json::to_value(&messages[1]).expect("json");
    assert_eq!(json["role"], "assistant");
    assert_eq!(json["citations"][0]["speaker"], "José");
    assert!(json["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')));
}

#[test]
fn a_failed_answer_keeps_its_error_and_the_others_have_none() {
    let (store, ana, _) = setup();
    let first = ask(&store, &ana, new("s_1"), 1);
    let failure = AnswerError {
        code: "llm_failed".to_owned(),
        message: "The model failed “mid-answer”".to_owned(),
    };
    let saved = store.save_answer(&AnswerRecord {
        session_id: first.session_id.clone(),
        message_id: "m_a1".to_owned(),
        position: first.answer_position,
        text: "partial [0:01, José]".to_owned(),
        citations: vec![citation("0:01", "José")],
        stopped: false,
        error: Some(failure.clone()),
    });
    assert_eq!(saved.ok(), Some(true));
    let second = ask(&store, &ana, SessionTarget::Existing("s_1".into()), 2);
    answer(&store, &second, 2, true);

    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    let errors: Vec<Option<&AnswerError>> = messages.iter().map(|m| m.error.as_ref()).collect();
    assert_eq!(errors, [None, Some(&failure), None, None]);
    assert_eq!(messages[1].text, "partial [0:01, José]");
    assert!(!messages[1].stopped);
    let json = serde_json::to_value(&messages).expect("json");
    assert_eq!(
        json[1]["error"],
        serde_json::json!({"code": "llm_failed", "message": "The model failed “mid-answer”"})
    );
    for index in [0, 2, 3] {
        // Present, and null.
        assert_eq!(json[index].get("error"), Some(&serde_json::Value::Null));
    }
}

#[test]
fn two_questions_in_flight_keep_their_answers_apart() {
    let (store, ana, _) = setup();
    let first = ask(&store, &ana, new("s_1"), 1);
    let second = ask(&store, &ana, SessionTarget::Existing("s_1".into()), 2);
    assert_eq!((first.answer_position, second.answer_position), (1, 3));
    answer(&store, &second, 2, false);
    answer(&store, &first, 1, false);
    let ids: Vec<String> = store
        .messages(&ana, "s_1")
        .expect("read")
        .expect("found")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["m_q1", "m_a1", "m_q2", "m_a2"]);
}

#[test]
fn another_users_session_reads_as_missing() {
    let (store, ana, bo) = setup();
    let exchange = ask(&store, &ana, new("s_1"), 1);
    answer(&store, &exchange, 1, false);
    assert_eq!(store.messages(&bo, "s_1").expect("read"), None);
    assert_eq!(store.session(&bo, "s_1").expect("read"), None);
    assert!(store.sessions(&bo).expect("read").is_empty());
    assert_eq!(store.delete_session(&bo, "s_1").ok(), Some(false));
    let taken = store.start_exchange(&NewExchange {
        owner: bo.clone(),
        session: SessionTarget::Existing("s_1".into()),
        question_id: "m_bo".into(),
        question: "mine now?".into(),
        answer_id: "m_bo_a".into(),
    });
    assert_eq!(taken.ok(), Some(None));
    assert_eq!(
        store.counts().ok(),
        Some(Counts {
            sessions: 1,
            messages: 2
        })
    );
}

#[test]
fn sessions_list_newest_first_and_recent_messages_are_the_last_ones() {
    let (store, ana, _) = setup();
    for (n, id) in ["s_a", "s_b"].into_iter().enumerate() {
        let exchange = ask(&store, &ana, new(id), n);
        answer(&store, &exchange, n, false);
    }
    let order = |store: &Store| -> Vec<String> {
        store
            .sessions(&ana)
            .expect("read")
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(order(&store), ["s_b", "s_a"]);
    // A follow-up in the older session moves it to the top.
    for n in 10..16 {
        let exchange = ask(&store, &ana, SessionTarget::Existing("s_a".into()), n);
        answer(&store, &exchange, n, false);
    }
    assert_eq!(order(&store), ["s_a", "s_b"]);
    let listed = store.sessions(&ana).expect("read");
    assert_eq!(listed[0].message_count, 14);
    assert_eq!(listed[0].title, "title of s_a");
    assert!(listed[0].created_at < listed[0].updated_at);

    let recent = store
        .recent_messages(&ana, "s_a", 10)
        .expect("read")
        .expect("found");
    let ids: Vec<&str> = recent.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "m_q11", "m_a11", "m_q12", "m_a12", "m_q13", "m_a13", "m_q14", "m_a14", "m_q15",
            "m_a15"
        ]
    );
}

#[test]
fn deleting_a_session_drops_its_messages_and_a_late_answer() {
    let (store, ana, _) = setup();
    let exchange = ask(&store, &ana, new("s_1"), 1);
    assert_eq!(store.delete_session(&ana, "s_1").ok(), Some(true));
    assert_eq!(
        store.counts().ok(),
        Some(Counts {
            sessions: 0,
            messages: 0
        })
    );
    let late = store.save_answer(&AnswerRecord {
        session_id: exchange.session_id,
        message_id: "m_late".into(),
        position: exchange.answer_position,
        text: "too late".into(),
        citations: Vec::new(),
        stopped: false,
        error: None,
    });
    assert_eq!(late.ok(), Some(false));
    assert_eq!(store.counts().ok().map(|c| c.messages), Some(0));
}

#[test]
fn a_file_database_survives_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let location = super::super::Location::File(dir.path().join("nested/db.sqlite"));
    let id = {
        let store = Store::open(&location).expect("open");
        let demo = store.demo_user(None).expect("demo");
        let exchange = ask(&store, &demo.user.id, new("s_kept"), 1);
        answer(&store, &exchange, 1, false);
        demo.user.id
    };
    let store = Store::open(&location).expect("reopen");
    let demo = store.demo_user(None).expect("demo");
    assert_eq!(demo.user.id, id);
    let messages = store
        .messages(&demo.user.id, "s_kept")
        .expect("read")
        .expect("found");
    assert_eq!(messages.len(), 2);
}

#[cfg(unix)]
#[test]
fn a_new_database_file_and_its_directory_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data/db.sqlite");
    let store = Store::open(&super::super::Location::File(path.clone())).expect("open");
    store.put_user("ana", "a").expect("write");
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().expect("dir")), 0o700);
    // SQLite gives the write-ahead log the database file's permissions.
    let wal = path.with_file_name("db.sqlite-wal");
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn a_question_leaves_a_stopped_placeholder_until_its_answer_is_saved() {
    let (store, ana, _) = setup();
    let exchange = ask(&store, &ana, new("s_1"), 1);
    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    let placeholder = &messages[1];
    assert_eq!(
        (
            placeholder.id.as_str(),
            placeholder.text.as_str(),
            placeholder.stopped,
            placeholder.streaming
        ),
        ("m_a1", "", true, true)
    );
    answer(&store, &exchange, 1, false);
    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    assert_eq!(messages.len(), 2);
    assert_eq!((messages[1].stopped, messages[1].streaming), (false, false));
    assert_eq!(messages[1].text, "answer 1 [0:01, José]");
}

#[test]
fn a_server_that_died_mid_answer_leaves_a_stopped_answer_after_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let location = super::super::Location::File(dir.path().join("db.sqlite"));
    let owner = {
        let store = Store::open(&location).expect("open");
        let ana = store.put_user("ana", "a").expect("ana").id;
        ask(&store, &ana, new("s_1"), 1);
        ana
        // Dropped without saving the answer: as if the process died.
    };
    let store = Store::open(&location).expect("reopen");
    let messages = store.messages(&owner, "s_1").expect("read").expect("found");
    assert_eq!(messages.len(), 2);
    assert_eq!((messages[1].stopped, messages[1].streaming), (true, false));
}

#[test]
fn a_refused_write_is_an_error_and_changes_nothing() {
    let (store, ana, _) = setup();
    let exchange = ask(&store, &ana, new("s_1"), 1);
    let record = AnswerRecord {
        session_id: exchange.session_id.clone(),
        message_id: "m_a1".into(),
        position: exchange.answer_position,
        text: "lost".into(),
        citations: Vec::new(),
        stopped: false,
        error: None,
    };
    assert!(matches!(
        store.save_answer_with_writes_refused(&record),
        Err(StoreError::Sqlite(_))
    ));
    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    assert_eq!(messages[1].text, "");
    // Only that call was refused.
    assert_eq!(store.save_answer(&record).ok(), Some(true));
}

#[test]
fn an_answer_is_found_by_its_id_for_its_owner_only() {
    let (store, ana, bo) = setup();
    let exchange = ask(&store, &ana, new("s_1"), 1);
    let placeholder = store.answer(&ana, "m_a1").expect("read").expect("found");
    assert_eq!(placeholder.0, "s_1");
    assert!(placeholder.1.streaming && placeholder.1.stopped);
    answer(&store, &exchange, 1, false);
    let (session_id, saved) = store.answer(&ana, "m_a1").expect("read").expect("found");
    assert_eq!(session_id, "s_1");
    let messages = store.messages(&ana, "s_1").expect("read").expect("found");
    assert_eq!(saved, messages[1]);
    // Not another user's, not a question, not an unknown id.
    for (owner, id) in [(&bo, "m_a1"), (&ana, "m_q1"), (&ana, "m_nope")] {
        assert_eq!(store.answer(owner, id).expect("read"), None, "{id}");
    }
}
