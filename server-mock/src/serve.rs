//! The serving loop: accepts connections under [`Limits`] and shuts down
//! in order.
//!
//! It replaces `axum::serve`, which has no connection cap and no way to set
//! hyper's header timeout. Each accepted connection takes a permit of a
//! semaphore of `max_connections`; one that finds none left gets a complete
//! JSON 503 written straight to its socket and is closed within a second,
//! so a client over the cap gets an answer instead of a hang (in a flood,
//! past [`REFUSALS_AT_ONCE`] refusals in progress, a plain close). The rest
//! are served by
//! hyper's HTTP/1 server with the header timeout ([`Limits`] says what each
//! limit covers), the app wrapped in the body deadlines. (The check of an
//! announced body's length is a layer of the app itself, inside its CORS.)
//!
//! Shutdown, when `signal` resolves:
//!
//! 1. the listener is dropped, so new connections are refused by the OS;
//! 2. every connection is told to finish gracefully: an idle one closes at
//!    once, one with a response in progress closes when it is written, one
//!    in the middle of sending a head closes when it completes (its
//!    response then says `connection: close`) or at the header timeout;
//! 3. streams go on until [`Limits::drain`] (or until every connection has
//!    closed); then [`Shutdown::end_streams`] makes each save its partial
//!    answer as stopped and end with a `shutting_down` error event, and
//!    each answer paused with nobody reading is saved as stopped;
//! 4. [`serve`] returns once every connection is closed, or after
//!    [`CLOSE_GRACE`] more at most, dropping those still open, so that a
//!    client that stopped reading can't keep the process alive, and once
//!    the paused answers are saved ([`Shutdown::settled`], [`CLOSE_GRACE`]
//!    at most).

mod limits;

pub use limits::{
    refuse_announced_oversize, Limits, DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_BODY_TIMEOUT,
    DEFAULT_DRAIN, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_CONNECTIONS, TOO_MANY_CONNECTIONS,
};

use crate::shutdown::Shutdown;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// After the streams are ended, how long connections get to write their
/// last event and close before the server stops without them.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Pause after an `accept` error that is not one connection's (running out
/// of file descriptors, say): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Connections over the cap answered 503 at once; more are closed unanswered.
pub const REFUSALS_AT_ONCE: usize = 64;

/// Most time one 503 may take, written and closed.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still open when [`CLOSE_GRACE`] ran out, dropped
    /// unfinished. Zero after a clean shutdown.
    pub abandoned: usize,
}

/// Serves `app` on `listener` under `limits` until `signal` resolves, then
/// shuts down as the module documentation says, ending streams through
/// `shutdown` (the same one the app's state holds).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: Shutdown,
    signal: impl Future<Output = ()>,
) -> Stopped {
    let app = limits::guarded(app, &limits);
    // The semaphore can't count past its own maximum.
    let cap = limits.max_connections.min(Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(cap));
    let refusals = Arc::new(Semaphore::new(REFUSALS_AT_ONCE));
    let graceful = GracefulShutdown::new();
    // Owned here, so that a connection still open at the hard cap is
    // dropped (its stream too, and with it the recorder, which saves the
    // answer as stopped) when `serve` returns, not when the runtime ends.
    let mut connections = JoinSet::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(signal);

    loop {
        let stream = tokio::select! {
            // The signal first, so a flood of connections can't delay it.
            biased;
            () = &mut signal => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) if is_one_connections(&err) => continue,
                Err(err) => {
                    eprintln!("server-mock: accept failed: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        // Events are small and must go out as they are made, not wait for
        // the client's ACK of the previous one (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            // Refusals are capped too, or a flood over the cap would hold
            // sockets without limit; past that one is closed unanswered.
            if let Ok(refusal) = Arc::clone(&refusals).try_acquire_owned() {
                let within = REFUSAL_TIME.min(limits.header_timeout);
                tokio::spawn(async move {
                    limits::refuse(stream, within).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // A client's timeout or reset ends its connection and nothing
            // else; it is not worth a log line per slow client.
            let _ = connection.await;
            drop(permit);
        });
    }

    drop(listener);
    // Scripts and tests wait for this line: from now on connecting fails.
    eprintln!(
        "server-mock: shutting down: no longer accepting connections; open answers may stream for {} ms",
        limits.drain.as_millis()
    );
    let open = || cap - permits.available_permits();
    let all_closed = graceful.shutdown();
    tokio::pin!(all_closed);
    let closed_early = tokio::select! {
        () = &mut all_closed => true,
        () = tokio::time::sleep(limits.drain) => false,
    };
    // Answers paused with no connection can't be resumed any more: they
    // are saved as stopped now, whether or not the drain ran out.
    shutdown.end_streams();
    let abandoned = if closed_early {
        0
    } else {
        match tokio::time::timeout(CLOSE_GRACE, all_closed).await {
            Ok(()) => 0,
            Err(_) => open(),
        }
    };
    connections.shutdown().await;
    if tokio::time::timeout(CLOSE_GRACE, shutdown.settled())
        .await
        .is_err()
    {
        eprintln!("server-mock: some paused answers could not be saved in time");
    }
    Stopped { abandoned }
}

/// An `accept` error that concerns only the connection being accepted
/// (it was reset before it could be taken), not the listener.
fn is_one_connections(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}
