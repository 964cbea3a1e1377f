//! What the server did for recent answers, for tests to observe from
//! outside the HTTP surface: the history handed to the model, how many
//! fragments the model produced, how often the answer was resumed and how
//! many events were replayed to it, and when the answer was saved; and how
//! many chat requests each recent session received. In test mode,
//! `GET /api/_test/answers/{messageId}` shows it ([`crate::chat::observe`]).
//!
//! Only the last [`KEPT`] answers (and sessions) are remembered, so a
//! long-running server does not grow with it.

use crate::model::Turn;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use tokio::sync::Notify;

/// How many answers are remembered.
pub const KEPT: usize = 1024;

/// What happened to one answer so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// The session messages handed to the model as context, oldest first.
    pub history: Vec<Turn>,
    /// Fragments taken from the model, that is, generated.
    pub fragments: usize,
    /// How the answer was saved, once it is.
    pub saved: Option<Saved>,
    /// `GET /api/chat/{messageId}/stream` requests served for it.
    pub resumes: usize,
    /// Events sent to resumed readers from what was logged before they
    /// attached (their `session` event included).
    pub replayed_events: usize,
}

/// An answer as it went into the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Its text, whole or partial.
    pub text: String,
    /// Whether the client went away first.
    pub stopped: bool,
    /// Whether the store took it (`false`: the save failed).
    pub stored: bool,
}

/// The recent answers' progress, by message id.
#[derive(Debug, Default)]
pub struct Monitor {
    answers: Mutex<Recent<Progress>>,
    /// `POST /api/chat` requests per session id.
    chat_posts: Mutex<Recent<usize>>,
    saved: Notify,
}

/// The last [`KEPT`] entries, by id.
#[derive(Debug)]
struct Recent<T> {
    by_id: HashMap<String, T>,
    order: VecDeque<String>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<T: Default> Recent<T> {
    /// The entry of `id`, made (and the oldest forgotten) if needed.
    fn entry(&mut self, id: &str) -> &mut T {
        if !self.by_id.contains_key(id) {
            if self.order.len() >= KEPT {
                if let Some(oldest) = self.order.pop_front() {
                    self.by_id.remove(&oldest);
                }
            }
            self.order.push_back(id.to_owned());
        }
        self.by_id.entry(id.to_owned()).or_default()
    }
}

impl Monitor {
    /// Nothing observed yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, message_id: &str, f: impl FnOnce(&mut Progress)) {
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        f(answers.entry(message_id));
    }

    /// A `POST /api/chat` for session `session_id` reached the handler.
    pub fn chat_posted(&self, session_id: &str) {
        let mut posts = self
            .chat_posts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *posts.entry(session_id) += 1;
    }

    /// How many `POST /api/chat` requests session `session_id` received.
    pub fn chat_posts(&self, session_id: &str) -> usize {
        let posts = self
            .chat_posts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        posts.by_id.get(session_id).copied().unwrap_or(0)
    }

    /// A reader resumed `message_id`.
    pub fn resumed(&self, message_id: &str) {
        self.update(message_id, |p| p.resumes += 1);
    }

    /// A resumed reader of `message_id` was sent one event from the log.
    pub fn replayed(&self, message_id: &str) {
        self.update(message_id, |p| p.replayed_events += 1);
    }

    /// The model was asked for `message_id` with this history.
    pub fn prompted(&self, message_id: &str, history: &[Turn]) {
        self.update(message_id, |p| p.history = history.to_vec());
    }

    /// The model produced one more fragment of `message_id`.
    pub fn fragment(&self, message_id: &str) {
        self.update(message_id, |p| p.fragments += 1);
    }

    /// `message_id` is in the history now.
    pub fn saved(&self, message_id: &str, saved: Saved) {
        self.update(message_id, |p| p.saved = Some(saved));
        self.saved.notify_waiters();
    }

    /// What is known of `message_id`.
    pub fn progress(&self, message_id: &str) -> Option<Progress> {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers.by_id.get(message_id).cloned()
    }

    /// Waits until `message_id` is saved, and gives its progress then.
    pub async fn wait_saved(&self, message_id: &str) -> Progress {
        loop {
            // Registered before the check, so a save in between still wakes it.
            let notified = self.saved.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(progress) = self.progress(message_id).filter(|p| p.saved.is_some()) {
                return progress;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn wait_saved_wakes_on_the_save() {
        let monitor = Arc::new(Monitor::new());
        monitor.fragment("m_1");
        let waiter = tokio::spawn({
            let monitor = Arc::clone(&monitor);
            async move { monitor.wait_saved("m_1").await }
        });
        tokio::task::yield_now().await;
        monitor.fragment("m_1");
        let saved = Saved {
            text: "ab".into(),
            stopped: true,
            stored: true,
        };
        monitor.saved("m_1", saved.clone());
        let progress = waiter.await.expect("waiter");
        assert_eq!(progress.fragments, 2);
        assert_eq!(progress.saved, Some(saved));
    }

    #[test]
    fn only_the_last_answers_are_kept() {
        let monitor = Monitor::new();
        for n in 0..=KEPT {
            monitor.fragment(&format!("m_{n}"));
        }
        assert_eq!(monitor.progress("m_0"), None);
        assert_eq!(monitor.progress("m_1").map(|p| p.fragments), Some(1));
        for n in 0..=KEPT {
            monitor.chat_posted(&format!("s_{n}"));
        }
        monitor.chat_posted("s_1");
        assert_eq!(
            (monitor.chat_posts("s_0"), monitor.chat_posts("s_1")),
            (0, 2)
        );
    }
}
