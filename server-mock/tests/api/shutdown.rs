//! Shutdown (docs/protocol.md, "Reference server security"): on SIGTERM the
//! real binary stops accepting, lets streams go on until the drain
//! deadline, ends them with a retryable `shutting_down` error with their
//! partial answers saved as stopped, and exits 0; a stream that finishes
//! within the deadline ends with `done`. In process, the fault player is
//! cut short the same way.

use crate::support::*;
use crate::wire::{closed_within, host, ms, send};
use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::serve::{serve, Limits, CLOSE_GRACE};
use server_mock::shutdown::Shutdown;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio::sync::Notify;

/// How late after the drain deadline a stream may end.
const MARGIN: Duration = Duration::from_millis(750);
/// Guard on every wait for the server: generous, never reached when it works.
const GUARD: Duration = Duration::from_secs(15);

/// The `server-mock` binary, running.
struct Server {
    child: Child,
    base: String,
    token: String,
    stderr: mpsc::UnboundedReceiver<String>,
}

impl Server {
    /// Starts the binary on a free port with `args`, and reads its URL and
    /// demo token off the two lines it prints.
    async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server-mock"))
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start server-mock");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = next_line(&mut lines).await;
        let token = next_line(&mut lines)
            .await
            .strip_prefix("Authorization: Bearer ")
            .expect("the header line")
            .to_owned();
        let mut err_lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let (tx, stderr) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = err_lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            base,
            token,
            stderr,
        }
    }

    /// Sends SIGTERM, as a service manager would.
    async fn terminate(&self) {
        let pid = self.child.id().expect("running").to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits for a line on stderr that contains `text`.
    async fn logged(&mut self, text: &str) -> String {
        tokio::time::timeout(GUARD, async {
            loop {
                let line = self.stderr.recv().await.expect("stderr open");
                if line.contains(text) {
                    return line;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("server-mock logs {text:?}"))
    }

    /// Waits for the process to exit and says whether it exited 0.
    async fn exited_ok(&mut self) -> bool {
        tokio::time::timeout(GUARD, self.child.wait())
            .await
            .expect("server-mock exits in time")
            .expect("wait")
            .success()
    }

    async fn ask(&self) -> Stream {
        let body = serde_json::json!({ "question": BUDGET_QUESTION }).to_string();
        let response = post_chat_as(&self.base, &self.token, &body).await;
        assert_eq!(response.status(), 200);
        Stream::new(response)
    }
}

/// The next line the server prints on stdout.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(GUARD, lines.next_line())
        .await
        .expect("server-mock prints in time")
        .expect("read stdout")
        .expect("a line")
}

/// A chat stream read as it arrives, each event with its arrival time.
struct Stream {
    response: reqwest::Response,
    parser: EventStreamParser,
    events: Vec<(Instant, SseEvent)>,
}

impl Stream {
    fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            parser: EventStreamParser::new(1 << 20),
            events: Vec::new(),
        }
    }

    /// Reads one chunk; `false` at the end of a well-terminated body.
    async fn read(&mut self) -> bool {
        let chunk = tokio::time::timeout(GUARD, self.response.chunk())
            .await
            .expect("the stream goes on")
            .expect("the body reads without error");
        let Some(chunk) = chunk else {
            return false;
        };
        let at = Instant::now();
        let events = &mut self.events;
        self.parser
            .feed(&chunk, &mut |event| events.push((at, event)))
            .expect("valid event stream");
        true
    }

    async fn until_tokens(&mut self, n: usize) {
        while self.tokens().len() < n {
            assert!(self.read().await, "ended before {n} tokens");
        }
    }

    async fn read_all(&mut self) {
        while self.read().await {}
    }

    fn tokens(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter(|(_, e)| e.event_type == "token")
            .map(|(_, e)| e.data.as_str())
            .collect()
    }

    fn last(&self) -> &(Instant, SseEvent) {
        self.events.last().expect("events")
    }
}

/// Asserts that `event` is the retryable `shutting_down` error.
fn assert_shutting_down(event: &SseEvent) {
    assert_eq!(event.event_type, "error", "{event:?}");
    let data = json(event);
    assert_eq!(data["code"], "shutting_down", "{data}");
    assert_eq!(data["retryable"], true, "{data}");
    assert!(data["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn sigterm_drains_then_ends_a_stream_with_shutting_down_and_saves_it_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let drain = Duration::from_millis(1000);
    let mut server = Server::start(&[
        "--data-dir",
        data_dir,
        "--token-delay-ms",
        "25",
        "--drain-ms",
        "1000",
    ])
    .await;
    let mut stream = server.ask().await;
    stream.until_tokens(1).await;
    let (session_id, message_id) = ids(&[stream.events[0].1.clone()]);

    let signalled = Instant::now();
    server.terminate().await;
    server.logged("no longer accepting connections").await;
    let refused = tokio::net::TcpStream::connect(host(&server.base)).await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::ConnectionRefused),
        "a new connection is refused once the server stops accepting"
    );

    stream.read_all().await;
    let (ended_at, last) = stream.last();
    assert_shutting_down(last);
    let ended_after = *ended_at - signalled;
    assert!(
        ended_after >= drain && ended_after <= drain + MARGIN,
        "ended {} ms after SIGTERM, drain {} ms",
        ms(ended_after),
        ms(drain)
    );
    let after_signal = stream
        .events
        .iter()
        .filter(|(at, e)| *at > signalled && e.event_type == "token")
        .count();
    assert!(after_signal >= 10, "{after_signal} tokens during the drain");
    assert!(stream.events.iter().all(|(_, e)| e.event_type != "done"));
    for (i, (_, event)) in stream.events.iter().enumerate() {
        assert_eq!(event.last_event_id, format!("{message_id}:{}", i + 1));
    }
    let received = stream.tokens().concat();
    assert!(server.exited_ok().await, "exit status 0");
    let exited_after = signalled.elapsed();

    // Restarted on the same directory, the partial answer is in the history.
    // (The demo token is new at each start: the database keeps its hash only.)
    let mut again = Server::start(&["--data-dir", data_dir]).await;
    assert_ne!(again.token, server.token);
    let path = format!("/api/sessions/{session_id}/messages");
    let document = get_json(&again.base, &path, &again.token).await;
    let messages = document["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 2, "{document}");
    assert_eq!(messages[1]["id"], message_id.as_str());
    assert_eq!(messages[1]["stopped"], true);
    assert_eq!(messages[1]["text"], received.as_str());
    again.terminate().await;
    assert!(again.exited_ok().await, "an idle server exits 0 too");
    eprintln!(
        "SIGTERM with drain {} ms: {after_signal} tokens streamed after it, shutting_down {} ms \
         after it, exit 0 after {} ms; {} tokens saved as stopped",
        ms(drain),
        ms(ended_after),
        ms(exited_after),
        stream.tokens().len(),
    );
}

#[tokio::test]
async fn a_stream_that_ends_within_the_drain_ends_with_done() {
    let mut server = Server::start(&[
        "--db",
        ":memory:",
        "--token-delay-ms",
        "2",
        "--drain-ms",
        "10000",
    ])
    .await;
    let mut stream = server.ask().await;
    stream.until_tokens(1).await;
    let signalled = Instant::now();
    server.terminate().await;
    stream.read_all().await;
    let (done_at, last) = stream.last();
    assert_eq!(last.event_type, "done", "{last:?}");
    let done_after = *done_at - signalled;
    assert!(server.exited_ok().await, "exit status 0");
    let exited_after = signalled.elapsed();
    // It exits once its last connection closes, not at the drain deadline.
    assert!(
        exited_after < Duration::from_secs(8),
        "{} ms",
        ms(exited_after)
    );
    eprintln!(
        "SIGTERM with drain 10000 ms: the stream went on to `done` {} ms later ({} tokens); exit 0 after {} ms",
        ms(done_after),
        stream.tokens().len(),
        ms(exited_after),
    );
}

#[tokio::test]
async fn the_drain_end_cuts_injected_pauses_short() {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    let drain = Duration::from_millis(300);
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        drain,
        ..Limits::default()
    };
    let (base, served) = spawn_until(state.clone(), limits, async {
        let _ = signalled.await;
    })
    .await;

    // A minute of silence after two tokens, and a minute before any byte.
    let silent = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "silenceAfterTokens": 2, "silenceMs": 60_000 } });
    let mut silent = Stream::new(post_chat(&base, &silent.to_string()).await);
    silent.until_tokens(2).await;
    let late = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "pauseBeforeFirstByteMs": 60_000 } });
    let late = tokio::spawn({
        let base = base.clone();
        async move { post_chat(&base, &late.to_string()).await }
    });
    // Its question is stored just before the pause: once the history lists
    // its session, it is pausing. Each look is a request, never a sleep.
    tokio::time::timeout(GUARD, async {
        while get_json(&base, "/api/sessions", TOKEN).await["sessions"]
            .as_array()
            .map_or(0, Vec::len)
            < 2
        {}
    })
    .await
    .expect("the paused request is in");

    let started = Instant::now();
    assert!(signal.send(()).is_ok());
    silent.read_all().await;
    let took = started.elapsed();
    assert_shutting_down(&silent.last().1);
    assert_eq!(silent.tokens().len(), 2);
    assert!(took >= drain && took <= drain + MARGIN, "{} ms", ms(took));
    let (_, message_id) = ids(&[silent.events[0].1.clone()]);
    let saved = state.monitor.progress(&message_id).and_then(|p| p.saved);
    assert_eq!(saved.as_ref().map(|s| s.stopped), Some(true));
    assert_eq!(saved.map(|s| s.text), Some(silent.tokens().concat()));

    // The paused one starts at the deadline with `session`, then ends.
    let late = tokio::time::timeout(GUARD, late)
        .await
        .expect("answered at the deadline")
        .expect("request task");
    let mut late = Stream::new(late);
    late.read_all().await;
    let kinds: Vec<&str> = late
        .events
        .iter()
        .map(|(_, e)| e.event_type.as_str())
        .collect();
    assert_eq!(kinds, ["session", "error"]);
    assert_shutting_down(&late.last().1);

    let stopped = tokio::time::timeout(GUARD, served)
        .await
        .expect("serve returns")
        .expect("serve task");
    assert_eq!(stopped.abandoned, 0);
    eprintln!(
        "injected 60 s pauses, drain {} ms: both streams ended with shutting_down {} ms after the signal",
        ms(drain),
        ms(took)
    );
}

#[tokio::test]
async fn a_shutdown_saves_a_paused_answer_as_stopped_before_serve_returns() {
    let mut state = bundled_state(Duration::ZERO);
    state.test_mode = true;
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        drain: Duration::from_secs(10),
        ..Limits::default()
    };
    let (base, served) = spawn_until(state.clone(), limits, async {
        let _ = signalled.await;
    })
    .await;
    // Dropped after its fifth event: paused, with nobody reading and no
    // connection of its own left to hold the drain.
    let body = serde_json::json!({ "question": BUDGET_QUESTION,
        "fault": { "dropAtSeqs": [5] } });
    let received = receive(post_chat(&base, &body.to_string()).await).await;
    assert!(received.end.is_err());
    let session = json(&received.events[0].1);
    let message_id = session["messageId"].as_str().expect("id").to_owned();
    assert_eq!(
        state.monitor.progress(&message_id).and_then(|p| p.saved),
        None
    );

    let started = Instant::now();
    assert!(signal.send(()).is_ok());
    let stopped = tokio::time::timeout(GUARD, served)
        .await
        .expect("serve returns")
        .expect("serve task");
    assert_eq!(stopped.abandoned, 0);
    // Saved by then, and well before the drain deadline: no connection was open.
    let saved = state.monitor.progress(&message_id).and_then(|p| p.saved);
    assert_eq!(saved.as_ref().map(|s| s.stopped), Some(true));
    assert_eq!(saved.map(|s| s.text), Some(received.tokens().concat()));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_never_finishes_is_abandoned_after_the_grace() {
    // A handler that never answers and never looks at the shutdown: only
    // the hard cap can end its connection. Paused time: the drain and the
    // grace pass at once, the socket is real.
    let entered = Arc::new(Notify::new());
    let router = axum::Router::new().route(
        "/hang",
        axum::routing::get({
            let entered = Arc::clone(&entered);
            move || async move {
                entered.notify_one();
                std::future::pending::<()>().await
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (signal, signalled) = tokio::sync::oneshot::channel::<()>();
    let limits = Limits {
        drain: Duration::from_secs(2),
        ..Limits::default()
    };
    let served = tokio::spawn(serve(listener, router, limits, Shutdown::new(), async {
        let _ = signalled.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let request = format!("GET /hang HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    assert!(send(&mut stream, request.as_bytes()).await);
    entered.notified().await;

    let started = tokio::time::Instant::now();
    assert!(signal.send(()).is_ok());
    let stopped = served.await.expect("serve task");
    assert_eq!(stopped.abandoned, 1);
    assert_eq!(started.elapsed(), Duration::from_secs(2) + CLOSE_GRACE);
    assert!(
        closed_within(&mut stream, Duration::from_secs(1))
            .await
            .is_some(),
        "the abandoned connection is closed"
    );
}
