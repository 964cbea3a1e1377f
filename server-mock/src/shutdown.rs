//! How the end of the drain reaches the answers still streaming.
//!
//! On SIGTERM the serving loop ([`crate::serve`]) stops accepting and lets
//! open streams go on for the drain deadline. When it passes, the loop calls
//! [`Shutdown::end_streams`]; every stream shares the same [`Shutdown`]
//! through the app's state and, at its next step or in the middle of a
//! pause, saves its partial answer as stopped and ends with
//! [`shutting_down_event`]. A stream that finishes within the deadline never
//! notices.
//!
//! An answer paused with nobody reading ([`crate::chat::live`]) has no
//! connection to keep the serving loop waiting, so it holds a [`Hold`]
//! until it has ended: at the drain's end it is saved as stopped, and the
//! loop waits for those saves ([`Shutdown::settled`]) before it returns.

use crate::protocol::ChatEvent;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The `code` of the `error` event that ends a stream cut short by the
/// server shutting down.
pub const SHUTTING_DOWN: &str = "shutting_down";

/// Shared by the serving loop, which ends the streams, and the streams,
/// which watch for it. Cheap to clone; every clone is the same signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    streams_ended: CancellationToken,
    /// How many [`Hold`]s are out.
    holds: Arc<watch::Sender<usize>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            streams_ended: CancellationToken::new(),
            holds: Arc::new(watch::channel(0).0),
        }
    }
}

/// An answer that has not ended yet; dropped once it has.
#[derive(Debug)]
pub struct Hold {
    holds: Arc<watch::Sender<usize>>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.holds.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Shutdown {
    /// A server that is not shutting down.
    pub fn new() -> Self {
        Self::default()
    }

    /// Held by an answer until it has ended (and so is saved).
    pub fn hold(&self) -> Hold {
        self.holds.send_modify(|n| *n += 1);
        Hold {
            holds: Arc::clone(&self.holds),
        }
    }

    /// Resolves once no [`Hold`] is out: every answer has ended.
    pub async fn settled(&self) {
        let mut holds = self.holds.subscribe();
        // The sender lives in `self`, so this can't fail.
        let _ = holds.wait_for(|n| *n == 0).await;
    }

    /// The drain deadline has passed: every open stream ends now. Idempotent.
    pub fn end_streams(&self) {
        self.streams_ended.cancel();
    }

    /// Whether streams have been told to end.
    pub fn streams_ended(&self) -> bool {
        self.streams_ended.is_cancelled()
    }

    /// Resolves once streams have been told to end (at once if they have).
    pub async fn ended(&self) {
        self.streams_ended.cancelled().await;
    }

    /// Waits for `pause`, or less if streams are told to end meanwhile:
    /// `false` then. A stream's pacing goes through here, so that a pause
    /// never holds a stream past the deadline.
    pub async fn pause(&self, pause: Duration) -> bool {
        tokio::select! {
            biased;
            () = self.streams_ended.cancelled() => false,
            () = tokio::time::sleep(pause) => true,
        }
    }
}

/// The last event of a stream the server ended to shut down. Retryable:
/// the question was fine, and another server (or this one, restarted) can
/// answer it.
pub fn shutting_down_event() -> ChatEvent {
    ChatEvent::Error {
        code: SHUTTING_DOWN,
        message: "The server is shutting down; ask again in a moment".to_owned(),
        retryable: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_cut_short_when_streams_end() {
        let shutdown = Shutdown::new();
        assert!(shutdown.pause(Duration::from_secs(1)).await);
        assert!(!shutdown.streams_ended());
        let clone = shutdown.clone();
        let long = tokio::spawn(async move { clone.pause(Duration::from_secs(3600)).await });
        tokio::task::yield_now().await;
        shutdown.end_streams();
        assert_eq!(long.await.ok(), Some(false));
        assert!(shutdown.streams_ended());
        // Once ended, a pause does not wait at all.
        let start = tokio::time::Instant::now();
        assert!(!shutdown.pause(Duration::from_secs(5)).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn settled_waits_for_every_hold() {
        let shutdown = Shutdown::new();
        shutdown.settled().await;
        let (first, second) = (shutdown.hold(), shutdown.hold());
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.settled().await }
        });
        drop(first);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(second);
        assert!(waiter.await.is_ok());
    }

    #[test]
    fn the_event_is_retryable() {
        assert_eq!(
            shutting_down_event(),
            ChatEvent::Error {
                code: "shutting_down",
                message: "The server is shutting down; ask again in a moment".to_owned(),
                retryable: true,
            }
        );
    }
}
