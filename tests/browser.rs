//! The wasm shell in real browsers (headless Chromium and Firefox), against
//! the real reference server, whose URL and demo token `.ci/test` passes in
//! at build time as `CITE_STREAM_SERVER` and `CITE_STREAM_TOKEN`.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use cite_stream::wasm::{Callback, ChatConfig, ChatStream};
use futures::channel::oneshot;
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const QUESTION: &str = "Which prospects mentioned budget constraints?";

fn server() -> &'static str {
    match option_env!("CITE_STREAM_SERVER") {
        Some(url) => url,
        None => panic!("build with CITE_STREAM_SERVER=http://127.0.0.1:PORT (.ci/test does)"),
    }
}

/// `Bearer <the demo user's token>`: every API request needs it.
fn authorization() -> String {
    match option_env!("CITE_STREAM_TOKEN") {
        Some(token) => format!("Bearer {token}"),
        None => panic!("build with CITE_STREAM_TOKEN=<the server's demo token> (.ci/test does)"),
    }
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(key)).expect("readable property")
}

fn string(value: &JsValue, key: &str) -> String {
    get(value, key).as_string().unwrap_or_default()
}

fn options(question: &str) -> ChatConfig {
    options_with_fault(question, None)
}

/// Options whose request asks the test-mode server for a fault, given as
/// JSON (`{"pauseInCitationMs": 1500}`).
fn options_with_fault(question: &str, fault: Option<&str>) -> ChatConfig {
    let body = match fault {
        Some(fault) => format!("{{\"question\":{question:?},\"fault\":{fault}}}"),
        None => format!("{{\"question\":{question:?}}}"),
    };
    let mut config = ChatConfig::new(format!("{}/api/chat", server()), body);
    let headers = Object::new();
    Reflect::set(&headers, &"Authorization".into(), &authorization().into()).unwrap();
    config.headers = headers.into();
    config
}

fn set_callback(config: &mut ChatConfig, which: Callback, f: impl FnMut(JsValue) + 'static) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(f);
    let function: Function = closure.as_ref().clone().unchecked_into();
    config.callbacks.set(which, function);
    closure.forget();
}

/// The answer the server streams for `question`, read with the browser's
/// own fetch and TextDecoder and a deliberately naive parse of the token
/// events: an oracle independent of the crate's parser.
async fn expected_answer(question: &str) -> String {
    let body = format!("{{\"question\":{question:?}}}");
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body.into());
    let headers = web_sys::Headers::new().unwrap();
    headers.set("content-type", "application/json").unwrap();
    headers.set("authorization", &authorization()).unwrap();
    init.set_headers(&headers);
    let window = web_sys::window().unwrap();
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&format!("{}/api/chat", server()), &init))
            .await
            .unwrap()
            .unchecked_into();
    let text = JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap();
    let mut answer = String::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().collect();
        if !lines.contains(&"event: token") {
            continue;
        }
        let data: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
            .collect();
        answer.push_str(&data.join("\n"));
    }
    answer
}

fn segment_texts(segments: &[JsValue]) -> String {
    segments.iter().map(|s| string(s, "text")).collect()
}

#[wasm_bindgen_test]
async fn a_full_answer_streams_with_each_citation_as_one_segment() {
    let expected = expected_answer(QUESTION).await;
    assert!(
        expected.matches('[').count() >= 2,
        "the answer cites: {expected}"
    );

    let mut options = options(QUESTION);
    let segments = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&segments);
    set_callback(&mut options, Callback::Segment, move |s| {
        sink.borrow_mut().push(s)
    });
    let session = Rc::new(RefCell::new(None));
    let sink = Rc::clone(&session);
    set_callback(&mut options, Callback::Session, move |s| {
        *sink.borrow_mut() = Some(s)
    });
    let done = Rc::new(RefCell::new(None));
    let sink = Rc::clone(&done);
    set_callback(&mut options, Callback::Done, move |d| {
        *sink.borrow_mut() = Some(d)
    });
    let citations = Rc::new(RefCell::new(None));
    let sink = Rc::clone(&citations);
    let on_citations = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |c, r| {
        *sink.borrow_mut() = Some((c, r));
    });
    options.callbacks.set(
        Callback::Citations,
        on_citations.as_ref().clone().unchecked_into(),
    );
    on_citations.forget();

    let stream = ChatStream::start(options);
    let result = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");

    assert_eq!(string(&result, "status"), "done");
    let segments = segments.borrow();
    assert_eq!(segment_texts(&segments), expected);
    assert_eq!(string(&result, "text"), expected);
    let result_segments: Vec<JsValue> = Array::from(&get(&result, "segments")).to_vec();
    assert_eq!(segment_texts(&result_segments), expected);

    let cited: Vec<&JsValue> = segments
        .iter()
        .filter(|s| string(s, "kind") == "citation")
        .collect();
    assert_eq!(
        cited.len(),
        expected.matches('[').count(),
        "one segment per citation"
    );
    for citation in &cited {
        let raw = string(citation, "text");
        assert!(raw.starts_with('[') && raw.ends_with(']'), "{raw}");
        let entries = Array::from(&get(citation, "citations"));
        assert!(entries.length() >= 1);
        let first = entries.get(0);
        assert!(raw.contains(&string(&first, "speaker")));
        assert!(get(&first, "seconds").as_f64().is_some());
    }
    for text in segments.iter().filter(|s| string(s, "kind") == "text") {
        assert!(
            !string(text, "text").contains('['),
            "no citation leaks into text"
        );
    }

    let session = session.borrow().clone().expect("onSession called");
    assert!(string(&session, "sessionId").starts_with("s_"));
    assert_eq!(string(&result, "sessionId"), string(&session, "sessionId"));
    let done = done.borrow().clone().expect("onDone called");
    assert!(get(&done, "processingMs").as_f64().is_some());
    let (sources, resolution) = citations.borrow().clone().expect("onCitations called");
    assert!(Array::from(&sources).length() >= 2);
    let matches = Array::from(&get(&resolution, "matches"));
    assert_eq!(matches.length() as usize, cited.len());
    assert_eq!(Array::from(&get(&resolution, "unbacked")).length(), 0);
}

#[wasm_bindgen_test]
async fn stop_mid_answer_keeps_the_partial_text() {
    let expected = expected_answer(QUESTION).await;

    let mut options = options(QUESTION);
    let (first_tx, first_rx) = oneshot::channel::<()>();
    let first_tx = RefCell::new(Some(first_tx));
    let calls = Rc::new(RefCell::new(0usize));
    let counter = Rc::clone(&calls);
    set_callback(&mut options, Callback::Segment, move |_| {
        *counter.borrow_mut() += 1;
        if let Some(tx) = first_tx.borrow_mut().take() {
            let _ = tx.send(());
        }
    });
    let errors = Rc::new(RefCell::new(0usize));
    let sink = Rc::clone(&errors);
    set_callback(&mut options, Callback::Error, move |_| {
        *sink.borrow_mut() += 1
    });

    let stream = ChatStream::start(options);
    first_rx.await.expect("a first segment arrives");
    stream.stop();
    let calls_at_stop = *calls.borrow();
    let result = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");

    assert_eq!(string(&result, "status"), "stopped");
    assert!(
        get(&result, "error").is_undefined(),
        "stop() is not an error"
    );
    assert_eq!(*errors.borrow(), 0, "onError is not called for stop()");
    assert_eq!(*calls.borrow(), calls_at_stop, "no callback after stop()");
    let partial = string(&result, "text");
    assert!(!partial.is_empty());
    assert!(partial.len() < expected.len(), "stopped before the end");
    assert!(
        expected.starts_with(&partial),
        "the partial text is a prefix"
    );
    let segments: Vec<JsValue> = Array::from(&get(&result, "segments")).to_vec();
    assert_eq!(segment_texts(&segments), partial);

    // Stopping again, after the end, is harmless.
    stream.stop();
    let again = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");
    assert_eq!(string(&again, "status"), "stopped");
}

fn citation_options(options: &mut ChatConfig, timeout_ms: f64) {
    options.citations.timeout_ms = timeout_ms;
}

/// Each segment with the time (ms) it was delivered.
fn record_segments(options: &mut ChatConfig) -> Rc<RefCell<Vec<(f64, JsValue)>>> {
    let segments = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&segments);
    set_callback(options, Callback::Segment, move |s| {
        sink.borrow_mut().push((js_sys::Date::now(), s));
    });
    segments
}

#[wasm_bindgen_test]
async fn a_real_timer_releases_a_stalled_citation_before_the_next_token() {
    // The server pauses 1500 ms inside the first citation; the buffer's
    // timeout is 300 ms, so the timer must release the held text as text
    // long before the next token arrives.
    let mut options = options_with_fault(QUESTION, Some(r#"{"pauseInCitationMs":1500}"#));
    citation_options(&mut options, 300.0);
    let segments = record_segments(&mut options);
    let stream = ChatStream::start(options);
    let result = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");
    assert_eq!(string(&result, "status"), "done");

    let segments = segments.borrow();
    let joined: String = segments.iter().map(|(_, s)| string(s, "text")).collect();
    assert_eq!(joined, string(&result, "text"), "nothing lost or added");
    // The first `[` of the answer came out as text, in a segment that ends
    // with the partial citation.
    let released = segments
        .iter()
        .position(|(_, s)| string(s, "kind") == "text" && string(s, "text").contains('['))
        .expect("the stalled candidate was released as text");
    let first_citation = segments
        .iter()
        .position(|(_, s)| string(s, "kind") == "citation");
    assert!(
        first_citation.is_none_or(|c| c > released),
        "the stalled one is not a citation"
    );
    let (released_at, _) = segments[released];
    let (next_at, _) = segments
        .get(released + 1)
        .expect("the answer goes on after the pause");
    assert!(
        next_at - released_at >= 1000.0,
        "released by the timer, {} ms before the next segment",
        next_at - released_at
    );
}

#[wasm_bindgen_test]
async fn a_pause_shorter_than_the_timeout_does_not_break_a_citation() {
    let expected = expected_answer(QUESTION).await;
    let mut options = options_with_fault(QUESTION, Some(r#"{"pauseInCitationMs":300}"#));
    citation_options(&mut options, 2000.0);
    let segments = record_segments(&mut options);
    let stream = ChatStream::start(options);
    let result = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");
    assert_eq!(string(&result, "status"), "done");
    let segments = segments.borrow();
    let cited = segments
        .iter()
        .filter(|(_, s)| string(s, "kind") == "citation")
        .count();
    assert_eq!(cited, expected.matches('[').count(), "every citation whole");
}

/// `instanceof` as the page's own JavaScript evaluates it.
fn instance_of(value: &JsValue, class: &JsValue) -> bool {
    Function::new_with_args("value, Class", "return value instanceof Class")
        .call2(&JsValue::NULL, value, class)
        .expect("instanceof evaluates")
        .is_truthy()
}

#[wasm_bindgen_test]
async fn a_refused_request_reports_an_instance_of_the_stream_error_class() {
    // An empty question: the server answers 400 before streaming.
    let mut options = options("");
    let reported = Rc::new(RefCell::new(JsValue::UNDEFINED));
    let sink = Rc::clone(&reported);
    set_callback(&mut options, Callback::Error, move |error| {
        *sink.borrow_mut() = error
    });
    let stream = ChatStream::start(options);
    let result = JsFuture::from(stream.finished())
        .await
        .expect("never rejects");
    assert_eq!(string(&result, "status"), "error");

    let class = cite_stream::wasm::stream_error_class();
    let error_class: JsValue = js_sys::global()
        .dyn_into::<Object>()
        .map(|global| get(&global, "Error"))
        .expect("the global object");
    let own_has_instance =
        Function::new_with_args("Class", "return Object.hasOwn(Class, Symbol.hasInstance)")
            .call1(&JsValue::NULL, &class)
            .expect("evaluates");
    assert!(
        !own_has_instance.is_truthy(),
        "no Symbol.hasInstance of its own"
    );
    for error in [get(&result, "error"), reported.borrow().clone()] {
        assert!(instance_of(&error, &class), "instanceof StreamError");
        assert!(instance_of(&error, &error_class), "instanceof Error");
        assert_eq!(string(&error, "name"), "StreamError");
        assert_eq!(string(&error, "code"), "http");
        assert_eq!(get(&error, "status").as_f64(), Some(400.0));
        assert!(!string(&error, "stack").is_empty(), "a stack");
    }
    // A look-alike is not one.
    let lookalike: JsValue = js_sys::Error::new("no").into();
    Reflect::set(&lookalike, &"name".into(), &"StreamError".into()).unwrap();
    Reflect::set(&lookalike, &"code".into(), &"http".into()).unwrap();
    assert!(!instance_of(&lookalike, &class));
}

/// The engine's `\p{L}` and `\p{M}`, which the shell's citation grammar
/// asks, agree with the table the native build uses (proved there against
/// unicode-properties), on every third code point of blocks whose letters
/// and marks have not changed for many Unicode versions: an engine with
/// older Unicode data than unicode-properties differs only on characters
/// added since.
#[wasm_bindgen_test]
fn the_engines_letters_and_marks_match_the_generated_table() {
    use cite_stream::core::citation::table_class;
    let blocks = [
        0x0080..=0x052F,   // Latin-1 to Cyrillic Supplement, with the combining marks
        0x05D0..=0x05EA,   // Hebrew letters
        0x0600..=0x06FF,   // Arabic
        0x0900..=0x097F,   // Devanagari
        0x0E00..=0x0E7F,   // Thai
        0x1E00..=0x1FFF,   // Latin Extended Additional, Greek Extended
        0x2000..=0x206F,   // General Punctuation
        0x2200..=0x22FF,   // Mathematical Operators
        0x3041..=0x30FF,   // Hiragana, Katakana
        0x4E00..=0x9FA5,   // CJK Unified Ideographs of Unicode 1.1
        0xAC00..=0xD7A3,   // Hangul syllables
        0xE000..=0xE0FF,   // Private Use
        0xFB00..=0xFB06,   // Latin ligatures
        0x1F600..=0x1F64F, // Emoticons
    ];
    let mut seen = [0; 3];
    for c in blocks
        .into_iter()
        .flat_map(|block| block.step_by(3))
        .filter_map(char::from_u32)
    {
        let class = table_class(c);
        assert_eq!(cite_stream::wasm::engine_class(c), class, "{c:?}");
        seen[class as usize] += 1;
    }
    assert!(
        seen.iter().all(|&n| n > 50),
        "letters, marks and others all tried: {seen:?}"
    );
}
