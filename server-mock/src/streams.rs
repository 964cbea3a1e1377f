//! How many answers each user may be streaming at once (docs/protocol.md:
//! 429 past the limit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// The default per-user limit (`--max-streams-per-user`).
pub const DEFAULT_MAX_STREAMS_PER_USER: usize = 3;

/// Counts the open streams of each user.
#[derive(Debug)]
pub struct StreamLimiter {
    max_per_user: usize,
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream. Dropping it (when the stream ends or its client goes
/// away) gives the slot back.
#[derive(Debug)]
pub struct StreamSlot {
    limiter: Arc<StreamLimiter>,
    user_id: String,
}

impl StreamLimiter {
    /// A limiter allowing `max_per_user` streams per user at once.
    pub fn new(max_per_user: usize) -> Arc<Self> {
        Arc::new(Self {
            max_per_user,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// The per-user limit.
    pub fn max_per_user(&self) -> usize {
        self.max_per_user
    }

    /// A slot for one more stream of `user_id`, or `None` at the limit.
    pub fn try_acquire(self: &Arc<Self>, user_id: &str) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user_id.to_owned()).or_insert(0);
        if *count >= self.max_per_user {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            limiter: Arc::clone(self),
            user_id: user_id.to_owned(),
        })
    }

    /// How many streams `user_id` has open.
    pub fn open(&self, user_id: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(user_id).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .limiter
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_per_user_and_come_back_on_drop() {
        let limiter = StreamLimiter::new(2);
        let a1 = limiter.try_acquire("a");
        let a2 = limiter.try_acquire("a");
        assert!(a1.is_some() && a2.is_some());
        assert!(limiter.try_acquire("a").is_none());
        let b = limiter.try_acquire("b");
        assert!(b.is_some());
        assert_eq!((limiter.open("a"), limiter.open("b")), (2, 1));
        drop(a1);
        assert_eq!(limiter.open("a"), 1);
        let again = limiter.try_acquire("a");
        assert!(again.is_some());
        drop((a2, again, b));
        assert_eq!((limiter.open("a"), limiter.open("b")), (0, 0));
        assert!(limiter.open.lock().map(|m| m.is_empty()).unwrap_or(false));
    }
}
