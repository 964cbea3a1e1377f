//! The connection limits (docs/protocol.md, "Reference server security"):
//! header, body and idle timeouts, the cap on connections, and a
//! `Content-Length` over the body limit refused at once. Short limits are
//! configured so that each test runs in seconds; every wait is on a socket
//! with a generous guard, never a fixed sleep.

use crate::support::*;
use crate::wire::*;
use server_mock::serve::{Limits, TOO_MANY_CONNECTIONS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How late after its deadline the server may close a connection or
/// answer: scheduling on a shared two-core machine, not the limit itself.
const MARGIN: Duration = Duration::from_millis(500);

fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    f(&mut limits);
    limits
}

/// Asserts that `elapsed` is the deadline `limit`, give or take the margin
/// (a little under it too: the server's clock starts a moment before the
/// client's last byte or read).
fn assert_near(what: &str, elapsed: Duration, limit: Duration) {
    assert!(
        elapsed + Duration::from_millis(50) >= limit && elapsed <= limit + MARGIN,
        "{what}: {} ms, limit {} ms",
        ms(elapsed),
        ms(limit)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_sockets_are_closed_in_time_while_others_are_served() {
    const SLOW: usize = 100;
    const BYTE_EVERY: Duration = Duration::from_secs(1);
    let header_timeout = Duration::from_millis(2500);
    // Paced (434 tokens, 1 ms apart: about 1 s here, under half the
    // header timeout) so that the whole stream fits inside the slowloris.
    let base = spawn_limited(
        bundled_state(Duration::from_millis(1)),
        limits(|l| l.header_timeout = header_timeout),
    )
    .await;

    // All connected, each with its first byte sent, before anyone else asks.
    let head = get_request(&base, "/api/sessions", TOKEN).into_bytes();
    let mut slow = JoinSet::new();
    for _ in 0..SLOW {
        let mut stream = connect(&base).await;
        let connected = Instant::now();
        let head = head.clone();
        assert!(send(&mut stream, &head[..1]).await);
        slow.spawn(async move {
            // One more byte each time the socket is still open after a
            // second: the wait is the read that sees the close.
            for byte in &head[1..] {
                if let Some(closed) = closed_within(&mut stream, BYTE_EVERY).await {
                    return Some((connected, closed));
                }
                if !send(&mut stream, std::slice::from_ref(byte)).await {
                    return Some((connected, Instant::now()));
                }
            }
            None
        });
    }

    let slow_done = Arc::new(AtomicBool::new(false));
    let others = {
        let (base, slow_done) = (base.clone(), Arc::clone(&slow_done));
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !slow_done.load(Ordering::SeqCst) {
                let started = Instant::now();
                let response = request_as(&base, reqwest::Method::GET, "/api/sessions", TOKEN)
                    .send()
                    .await
                    .expect("GET /api/sessions during the slowloris");
                assert_eq!(response.status(), 200);
                response.bytes().await.expect("body");
                latencies.push(started.elapsed());
            }
            latencies
        })
    };
    let stream = {
        let base = base.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let events = ask(&base, BUDGET_QUESTION).await;
            (started, Instant::now(), events)
        })
    };

    let mut slow_sockets = Vec::new();
    while let Some(joined) = slow.join_next().await {
        slow_sockets.push(
            joined
                .expect("slow socket task")
                .expect("closed by the server"),
        );
    }
    slow_done.store(true, Ordering::SeqCst);
    let latencies = others.await.expect("ordinary requests");
    let (stream_started, stream_ended, events) = stream.await.expect("chat stream");

    let closed_after: Vec<Duration> = slow_sockets
        .iter()
        .map(|(connected, closed)| *closed - *connected)
        .collect();
    for &after in &closed_after {
        assert_near("slow socket closed", after, header_timeout);
    }
    let last = events.last().expect("events");
    assert_eq!(last.event_type, "done", "the whole answer streamed");
    let first_close = slow_sockets.iter().map(|(_, closed)| *closed).min();
    assert!(
        first_close.is_some_and(|first| stream_ended < first),
        "the stream ran while every slow socket was open"
    );
    let stream_took = stream_ended - stream_started;
    assert!(latencies.len() >= 5, "{} requests", latencies.len());
    let worst = latencies.iter().max().copied().unwrap_or_default();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    assert!(worst < Duration::from_secs(1), "worst {} ms", ms(worst));
    let earliest = closed_after.iter().min().copied().unwrap_or_default();
    let latest = closed_after.iter().max().copied().unwrap_or_default();
    eprintln!(
        "slowloris: {SLOW} sockets, a byte every {} ms, header timeout {} ms: closed after {}..{} ms; \
         meanwhile {} GET /api/sessions, mean {} ms, worst {} ms; a {}-token chat stream in {} ms",
        ms(BYTE_EVERY),
        ms(header_timeout),
        ms(earliest),
        ms(latest),
        latencies.len(),
        mean.as_micros() as f64 / 1000.0,
        ms(worst),
        tokens(&events).len(),
        ms(stream_took),
    );
}

#[tokio::test]
async fn silent_and_idle_kept_alive_connections_close_at_the_header_timeout() {
    let header_timeout = Duration::from_millis(800);
    let base = spawn_limited(
        bundled_state(Duration::ZERO),
        limits(|l| l.header_timeout = header_timeout),
    )
    .await;

    let mut silent = connect(&base).await;
    let connected = Instant::now();
    let closed = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("a connection that sends nothing is closed");
    let silent_after = closed - connected;
    assert_near("silent connection", silent_after, header_timeout);

    // One request answered on a kept-alive connection, then nothing: the
    // wait for the next head is under the same timeout.
    let mut kept = connect(&base).await;
    assert!(
        send(
            &mut kept,
            get_request(&base, "/api/sessions", TOKEN).as_bytes()
        )
        .await
    );
    let response = read_response(&mut kept, Duration::from_secs(5)).await;
    assert_eq!(response.status, 200);
    assert!(
        !response.head.contains("connection: close"),
        "{}",
        response.head
    );
    let answered = Instant::now();
    let closed = closed_within(&mut kept, Duration::from_secs(5))
        .await
        .expect("an idle kept-alive connection is closed");
    let idle_after = closed - answered;
    assert_near("idle kept-alive connection", idle_after, header_timeout);
    eprintln!(
        "header timeout {} ms: silent connection closed after {} ms, idle kept-alive after {} ms",
        ms(header_timeout),
        ms(silent_after),
        ms(idle_after),
    );
}

#[tokio::test]
async fn a_connection_over_the_cap_gets_a_json_503_and_is_closed() {
    let base = spawn_limited(
        bundled_state(Duration::ZERO),
        limits(|l| l.max_connections = 3),
    )
    .await;
    let request = get_request(&base, "/api/sessions", TOKEN);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&base).await);
    }

    // Accepted in order, so this is the fourth.
    let asked = Instant::now();
    let mut over = connect(&base).await;
    assert!(send(&mut over, request.as_bytes()).await);
    let refused = read_response(&mut over, Duration::from_secs(5)).await;
    let took = asked.elapsed();
    refused.assert_error(503, TOO_MANY_CONNECTIONS);
    assert!(
        refused.head.contains("\r\nconnection: close"),
        "{}",
        refused.head
    );
    assert!(
        closed_within(&mut over, Duration::from_secs(5))
            .await
            .is_some(),
        "the refused connection is closed"
    );

    // Those under the cap are served as usual.
    assert!(send(&mut held[0], request.as_bytes()).await);
    assert_eq!(
        read_response(&mut held[0], Duration::from_secs(5))
            .await
            .status,
        200
    );

    // A place that frees up is taken by the next connection. The server
    // sees the close a moment after the client makes it, so the next
    // connection is tried until it is served (each try is answered at once).
    drop(held.remove(1));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut tries = 0;
    let served = loop {
        tries += 1;
        let mut next = connect(&base).await;
        assert!(send(&mut next, request.as_bytes()).await);
        let response = read_response(&mut next, Duration::from_secs(5)).await;
        if response.status == 200 {
            break true;
        }
        response.assert_error(503, TOO_MANY_CONNECTIONS);
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(served, "a freed place is taken again");
    eprintln!(
        "cap 3: the fourth connection got its 503 {} ms after connecting; after one closed, served on try {tries}",
        took.as_micros() as f64 / 1000.0
    );
}

#[tokio::test]
async fn a_content_length_over_the_limit_gets_413_before_the_body() {
    let mut state = bundled_state(Duration::ZERO);
    state.allowed_origins = vec!["http://elsewhere.example".to_owned()];
    let base = spawn(state).await;
    for (token, extra) in [(TOKEN, ""), ("not-a-user", "Expect: 100-continue\r\n")] {
        let mut stream = connect(&base).await;
        let asked = Instant::now();
        // The head only: a megabyte announced, not one byte of it sent.
        assert!(
            send(
                &mut stream,
                chat_head(&base, token, 1_000_000, extra).as_bytes()
            )
            .await
        );
        let response = read_response(&mut stream, Duration::from_secs(5)).await;
        let took = asked.elapsed();
        // Refused before the token is looked at, and no `100 Continue`.
        response.assert_error(413, "body_too_large");
        assert!(
            response.head.contains("\r\nconnection: close"),
            "{}",
            response.head
        );
        assert!(
            closed_within(&mut stream, Duration::from_secs(5))
                .await
                .is_some(),
            "closed after the 413"
        );
        eprintln!(
            "Content-Length 1000000 {extra:?}: 413 in {} ms, body never sent",
            took.as_micros() as f64 / 1000.0
        );
    }

    // Refused inside the CORS layer: a page on another origin reads the 413
    // exactly as it reads any other refusal of the API.
    let origin = "Origin: http://elsewhere.example\r\n";
    let allowed_origin = |head: &str| {
        head.lines()
            .find(|line| line.starts_with("access-control-allow-origin:"))
            .map(str::to_owned)
    };
    let mut stream = connect(&base).await;
    assert!(
        send(
            &mut stream,
            chat_head(&base, TOKEN, 1_000_000, origin).as_bytes()
        )
        .await
    );
    let too_large = read_response(&mut stream, Duration::from_secs(5)).await;
    too_large.assert_error(413, "body_too_large");
    let mut stream = connect(&base).await;
    let unknown = chat_head(&base, "not-a-user", 2, origin) + "{}";
    assert!(send(&mut stream, unknown.as_bytes()).await);
    let unauthorized = read_response(&mut stream, Duration::from_secs(5)).await;
    unauthorized.assert_error(401, "invalid_token");
    assert_eq!(
        allowed_origin(&too_large.head),
        allowed_origin(&unauthorized.head)
    );
    // The origin is one this server was told to allow.
    assert_eq!(
        allowed_origin(&too_large.head).as_deref(),
        Some("access-control-allow-origin: http://elsewhere.example"),
        "{}",
        too_large.head
    );
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_at_the_idle_timeout() {
    let idle = Duration::from_millis(300);
    let base = spawn_limited(
        bundled_state(Duration::ZERO),
        limits(|l| l.body_idle_timeout = idle),
    )
    .await;
    let mut stream = connect(&base).await;
    let head = chat_head(&base, TOKEN, 100, "");
    assert!(send(&mut stream, format!("{head}{{\"question\"").as_bytes()).await);
    let sent = Instant::now();
    let response = read_response(&mut stream, Duration::from_secs(5)).await;
    let took = sent.elapsed();
    response.assert_error(408, "body_timeout");
    assert_near("stalled body", took, idle);
    assert!(
        closed_within(&mut stream, Duration::from_secs(5))
            .await
            .is_some(),
        "closed after the 408"
    );
    eprintln!(
        "body idle timeout {} ms: 408 after {} ms",
        ms(idle),
        ms(took)
    );
}

#[tokio::test]
async fn an_unfinished_body_that_no_handler_reads_does_not_hold_the_connection() {
    // Long body limits, so that only the close after the answer can pass.
    let base = spawn_limited(
        bundled_state(Duration::ZERO),
        limits(|l| {
            l.body_timeout = Duration::from_secs(30);
            l.body_idle_timeout = Duration::from_secs(30);
        }),
    )
    .await;
    let mut stream = connect(&base).await;
    let head = format!(
        "GET /api/sessions HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Length: 100\r\n\r\nabc",
        host(&base)
    );
    assert!(send(&mut stream, head.as_bytes()).await);
    let asked = Instant::now();
    assert_eq!(
        read_response(&mut stream, Duration::from_secs(5))
            .await
            .status,
        200
    );
    let closed = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("closed once answered: the rest of its body will never be read");
    assert!(closed - asked < MARGIN, "{} ms", ms(closed - asked));
}

#[tokio::test]
async fn a_body_that_trickles_gets_408_at_the_body_timeout() {
    let (whole, idle) = (Duration::from_millis(800), Duration::from_millis(400));
    let base = spawn_limited(
        bundled_state(Duration::ZERO),
        limits(|l| {
            l.body_timeout = whole;
            l.body_idle_timeout = idle;
        }),
    )
    .await;
    let mut stream = connect(&base).await;
    assert!(send(&mut stream, chat_head(&base, TOKEN, 100, "").as_bytes()).await);
    let started = Instant::now();
    // A byte every 150 ms, well inside the idle timeout, until the server
    // answers: the wait between bytes is a look for that answer.
    let body = format!("{{\"question\":\"{}\"}}", "a".repeat(85));
    let mut trickled = 0;
    let mut peek = [0_u8; 1];
    for byte in body.as_bytes() {
        let answered = tokio::time::timeout(Duration::from_millis(150), stream.peek(&mut peek));
        if answered.await.is_ok() {
            break;
        }
        assert!(send(&mut stream, std::slice::from_ref(byte)).await);
        trickled += 1;
    }
    let response = read_response(&mut stream, Duration::from_secs(5)).await;
    let took = started.elapsed();
    response.assert_error(408, "body_timeout");
    assert!(trickled >= 4 && trickled < body.len(), "{trickled} bytes");
    assert_near("trickled body", took, whole);
    eprintln!(
        "body timeout {} ms (idle {} ms): 408 after {} ms and {trickled} bytes sent 150 ms apart",
        ms(whole),
        ms(idle),
        ms(took)
    );
}
