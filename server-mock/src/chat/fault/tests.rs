use super::*;
use serde_json::json;

fn fault(value: serde_json::Value) -> Result<Fault, &'static str> {
    Fault::from_json(value).map_err(|err| {
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        err.code
    })
}

fn fragments(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| (*p).to_owned()).collect()
}

fn script(parts: &[&str]) -> Script {
    Script {
        head: vec![ChatEvent::Status {
            message: "s".to_owned(),
        }],
        fragments: fragments(parts),
        citations: Some(ChatEvent::Citations {
            citations: Vec::new(),
        }),
        message_id: "m_1".to_owned(),
        received_at: Instant::now(),
        token_delay: Duration::ZERO,
    }
}

fn token(text: &str) -> Step {
    Step::Event(ChatEvent::Token(text.to_owned()))
}

#[test]
fn fault_shape_is_checked() {
    assert_eq!(fault(json!({})), Ok(Fault::default()));
    let all = json!({"pauseBeforeFirstByteMs": 5, "pauseInCitationMs": 6,
        "silenceAfterTokens": 1, "silenceMs": 7, "cutAfterTokens": 3});
    assert_eq!(fault(all).map(|f| f.cut_after_tokens), Ok(Some(3)));
    let second = json!({"pauseInCitationMs": 6, "pauseInCitationNumber": 2});
    assert_eq!(
        fault(second).map(|f| f.pause_in_citation_number),
        Ok(Some(2))
    );
    let refused = [
        json!(null),
        json!([1]),
        json!({"explode": true}),
        json!({"failAfterTokens": -1}),
        json!({"failAfterTokens": 1, "cutAfterTokens": 2}),
        json!({"silenceAfterTokens": 1}),
        json!({"silenceMs": 1}),
        json!({"pauseInCitationMs": MAX_FAULT_MS + 1}),
        json!({"pauseInCitationNumber": 2}),
        json!({"pauseInCitationMs": 1, "pauseInCitationNumber": 0}),
        json!({"splitAt": [0, 4]}),
        json!({"splitAt": [4, 4]}),
        json!({"splitAt": [5, 4]}),
        json!({"splitAt": [4], "pauseInCitationMs": 1}),
        json!({"answerText": ""}),
        json!({"answerText": 5}),
    ];
    for value in refused {
        assert_eq!(fault(value.clone()), Err("invalid_request"), "{value}");
    }
}

#[test]
fn citations_are_counted_skipping_other_brackets() {
    let text = "a[0] [1] [docs](x) [12:45, Sarah Johnson; 1:02:03, Zoë Müller] [x] [3:00, B]";
    let (open, close) = nth_citation(text, 1).expect("a citation");
    assert_eq!(
        &text[open..=close],
        "[12:45, Sarah Johnson; 1:02:03, Zoë Müller]"
    );
    let (open, close) = nth_citation(text, 2).expect("a second citation");
    assert_eq!(&text[open..=close], "[3:00, B]");
    assert_eq!(nth_citation(text, 3), None);
    assert_eq!(nth_citation("[12:45, 7up] [x", 1), None);
}

#[test]
fn citation_opening_fragment_never_holds_the_closing_bracket() {
    // Already split: left alone.
    let split = fragments(&["Hi [", "12:4", "5, Sarah", " Johnson]", "."]);
    assert_eq!(split_citation(split.clone(), 1), Some((split, 0)));
    // One fragment holds the whole citation: cut just after `[`.
    let whole = fragments(&["Hi ", "é [1:00, Ann] [2:00, Bo]", "!"]);
    assert_eq!(
        split_citation(whole.clone(), 1),
        Some((fragments(&["Hi ", "é [", "1:00, Ann] [2:00, Bo]", "!"]), 1))
    );
    // The second citation of the same fragment: cut just after its `[`.
    assert_eq!(
        split_citation(whole.clone(), 2),
        Some((fragments(&["Hi ", "é [1:00, Ann] [", "2:00, Bo]", "!"]), 1))
    );
    assert_eq!(split_citation(whole, 3), None);
    assert_eq!(split_citation(fragments(&["no [1] cite"]), 1), None);
}

#[test]
fn faults_land_after_the_right_token() {
    let parts = ["a ", "[1:00", ", Ann]", "."];
    let ms = Duration::from_millis;
    let f = Fault {
        pause_in_citation_ms: Some(40),
        silence_after_tokens: Some(2),
        silence_ms: Some(9),
        fail_after_tokens: Some(3),
        ..Fault::default()
    };
    let steps = plan(&f, script(&parts)).expect("plan");
    let head = Step::Event(ChatEvent::Status {
        message: "s".to_owned(),
    });
    let error = Step::Event(ChatEvent::Error {
        code: "llm_failed",
        message: "The model failed (injected)".to_owned(),
        retryable: true,
    });
    assert_eq!(
        steps,
        [
            head.clone(),
            token("a "),
            token("[1:00"),
            Step::Sleep(FLUSH_PAUSE),
            Step::Sleep(ms(40)),
            Step::Sleep(FLUSH_PAUSE),
            Step::Sleep(ms(9)),
            token(", Ann]"),
            error,
        ]
    );

    let cut = Fault {
        cut_after_tokens: Some(0),
        ..Fault::default()
    };
    let steps = plan(&cut, script(&parts)).expect("plan");
    assert_eq!(steps, [head, Step::Sleep(FLUSH_PAUSE), Step::Abort]);

    let none = plan(&Fault::default(), script(&parts)).expect("plan");
    assert_eq!(none.last(), Some(&Step::Done { token_count: 4 }));

    let past = Fault {
        fail_after_tokens: Some(5),
        ..Fault::default()
    };
    assert!(plan(&past, script(&parts)).is_err());
    let no_citation = Fault {
        pause_in_citation_ms: Some(1),
        ..Fault::default()
    };
    assert!(plan(&no_citation, script(&["plain"])).is_err());
}

#[test]
fn the_pause_can_land_inside_a_later_citation() {
    let parts = ["a [1:00, Ann] b ", "[2:0", "0, Bo] [3:00, Cy]", "."];
    let ms = Duration::from_millis;
    let pause = |number| Fault {
        pause_in_citation_ms: Some(40),
        pause_in_citation_number: Some(number),
        ..Fault::default()
    };
    let tokens = |steps: &[Step]| -> Vec<String> {
        steps
            .iter()
            .filter_map(|step| match step {
                Step::Event(ChatEvent::Token(text)) => Some(text.clone()),
                Step::Sleep(d) if *d == ms(40) => Some("<pause>".to_owned()),
                _ => None,
            })
            .collect()
    };
    let second = plan(&pause(2), script(&parts)).expect("plan");
    assert_eq!(
        tokens(&second),
        [
            "a [1:00, Ann] b ",
            "[2:0",
            "<pause>",
            "0, Bo] [3:00, Cy]",
            "."
        ]
    );
    // The third shares a fragment with the end of the second: cut after its `[`.
    let third = plan(&pause(3), script(&parts)).expect("plan");
    assert_eq!(
        tokens(&third),
        [
            "a [1:00, Ann] b ",
            "[2:0",
            "0, Bo] [",
            "<pause>",
            "3:00, Cy]",
            "."
        ]
    );
    assert!(plan(&pause(4), script(&parts)).is_err());
}

#[test]
fn long_pauses_keep_the_connection_alive() {
    let mut steps = Vec::new();
    pause_with_keep_alive(KEEP_ALIVE_INTERVAL * 2 + Duration::from_secs(1), &mut steps);
    let keep = Step::Sleep(KEEP_ALIVE_INTERVAL);
    assert_eq!(
        steps,
        [
            Step::Sleep(FLUSH_PAUSE),
            keep.clone(),
            Step::KeepAlive,
            keep,
            Step::KeepAlive,
            Step::Sleep(Duration::from_secs(1))
        ]
    );
}

#[test]
fn slices_end_at_the_offsets() {
    let body = Bytes::from_static("ab\u{e9}\n\n".as_bytes());
    let steps = sliced(body.clone(), &[1, 3], true).expect("inside");
    let pause = Step::Sleep(FLUSH_PAUSE);
    assert_eq!(
        steps,
        [
            Step::Bytes(body.slice(0..1)),
            pause.clone(),
            Step::Bytes(body.slice(1..3)),
            pause.clone(),
            Step::Bytes(body.slice(3..)),
            pause,
            Step::Abort,
        ]
    );
    assert!(sliced(body.clone(), &[5], false).is_ok());
    assert!(sliced(body.clone(), &[6], false).is_err());
    assert_eq!(
        sliced(body.clone(), &[], false).ok(),
        Some(vec![Step::Bytes(body)])
    );
}

#[tokio::test]
async fn flattened_events_are_numbered_and_encoded_like_sse() {
    let mut writer = Writer {
        message_id: "m_1".to_owned(),
        received_at: Instant::now(),
        seq: 0,
        recorder: None,
        shutdown: crate::shutdown::Shutdown::new(),
    };
    let steps = vec![
        token(" a"),
        Step::Sleep(Duration::from_secs(60)),
        token("b\r\nc"),
        Step::Abort,
    ];
    let (body, aborted) = writer.flatten(steps).await.expect("encodes");
    assert!(aborted);
    assert_eq!(
        body,
        "event: token\nid: m_1:1\ndata:  a\n\nevent: token\nid: m_1:2\ndata: b\ndata: c\n\n"
    );
}

#[test]
fn answer_text_replaces_the_models_text_and_keeps_its_sources() {
    let corpus = crate::corpus::Corpus::bundled().expect("corpus");
    let question = "Which prospects mentioned budget constraints?";
    let mut answer = crate::model::answer(&corpus, question, None, &[]);
    let sources = answer.citations.clone();
    let text = "Renewal came up [01:02, Nobody Real] with <b>markup</b> and “quotes”.";
    let fault = fault(json!({ "answerText": text })).expect("valid");
    fault.rewrite(&mut answer, question);
    assert_eq!(answer.text, text);
    assert_eq!(answer.fragments.concat(), text);
    assert!(answer.fragments.len() > 1);
    assert!(answer.fragments.iter().all(|f| !f.is_empty()));
    assert_eq!(answer.citations, sources);
    let mut untouched = crate::model::answer(&corpus, question, None, &[]);
    let before = untouched.clone();
    Fault::default().rewrite(&mut untouched, question);
    assert_eq!(untouched, before);
}

#[test]
fn drop_at_seqs_is_checked_and_keeps_the_ordinary_path() {
    let drops = fault(json!({"dropAtSeqs": [0, 1, 4, 9], "answerText": "Hi there."}));
    assert_eq!(
        drops.as_ref().map(|f| f.drop_at_seqs.clone()),
        Ok(Some(vec![0, 1, 4, 9]))
    );
    assert!(drops.as_ref().is_ok_and(Fault::is_resumable));
    assert!(Fault::default().is_resumable());
    assert_eq!(drops.as_ref().map(|f| f.drops_before(10).is_ok()), Ok(true));
    assert_eq!(
        drops.map(|f| f.drops_before(9).map_err(|e| e.code)),
        Ok(Err("invalid_request"))
    );
    for bad in [
        json!({"dropAtSeqs": [0, 0]}),
        json!({"dropAtSeqs": [3, 3]}),
        json!({"dropAtSeqs": [4, 2]}),
        json!({"dropAtSeqs": [-1]}),
        json!({"dropAtSeqs": [2], "splitAt": [5]}),
        json!({"dropAtSeqs": [2], "cutAfterTokens": 1}),
        json!({"dropAtSeqs": [2], "failAfterTokens": 1}),
        json!({"dropAtSeqs": [2], "silenceAfterTokens": 1, "silenceMs": 5}),
        json!({"dropAtSeqs": [2], "pauseInCitationMs": 5}),
        json!({"dropAtSeqs": [2], "pauseBeforeFirstByteMs": 5}),
        json!({"dropAtSeqs": [2], "failStorage": true}),
    ] {
        assert_eq!(
            fault(bad.clone()).map(|_| ()),
            Err("invalid_request"),
            "{bad}"
        );
    }
    assert!(fault(json!({"cutAfterTokens": 1})).is_ok_and(|f| !f.is_resumable()));
}
