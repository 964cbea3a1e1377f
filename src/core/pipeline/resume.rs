//! Where the answer is in its event sequence, so that a stream cut off by
//! the network can be picked up again (protocol 1.1, "Resume after a
//! dropped connection"). Every event carries `id: <messageId>:<seq>`, `seq`
//! counting from 1; a resumed stream starts again with the `session` event,
//! then sends every event after the `Last-Event-ID` it was asked for.
//!
//! The pipeline keeps the seq of the last event it took. After
//! [`ChatPipeline::reconnect`](super::ChatPipeline::reconnect) the parser
//! starts a new stream (an event the drop cut short is discarded, as at any
//! end of stream) while the citation buffer, the Markdown state and the
//! transcript carry on; an event the new connection repeats (its `session`
//! event, or one at or below the seq taken) is skipped, so nothing is
//! delivered twice and nothing is missing.

/// The seq of the last event taken, and whether a reconnect happened.
#[derive(Debug, Clone, Default)]
pub(super) struct Position {
    last_seq: u64,
    resumed: bool,
}

/// The seq of the event id `<message_id>:<seq>`; `None` for any other id.
pub(super) fn seq_of(id: &[u8], message_id: &str) -> Option<u64> {
    let rest = id.strip_prefix(message_id.as_bytes())?.strip_prefix(b":")?;
    if rest.is_empty() || rest.len() > 19 || !rest.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(rest.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
}

impl Position {
    /// A new connection carries on the same answer.
    pub(super) fn reconnected(&mut self) {
        self.resumed = true;
    }

    /// Whether an event is one a resumed connection repeats: its `seq` is
    /// not past the last one taken, or it is `session` again.
    pub(super) fn repeated(&self, seq: Option<u64>, session_again: bool) -> bool {
        self.resumed && (session_again || seq.is_some_and(|seq| seq <= self.last_seq))
    }

    /// The event with this seq was taken.
    pub(super) fn took(&mut self, seq: Option<u64>) {
        if let Some(seq) = seq {
            self.last_seq = self.last_seq.max(seq);
        }
    }

    /// The seq of the last event taken, 0 before any numbered one.
    pub(super) fn last_seq(&self) -> u64 {
        self.last_seq
    }
}

/// `<message_id>:<seq>`, the `Last-Event-ID` that asks for what follows.
pub(super) fn event_id(message_id: &str, seq: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = seq;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut id = String::with_capacity(message_id.len() + 1 + digits.len() - at);
    id.push_str(message_id);
    id.push(':');
    // Only ASCII digits were written.
    id.extend(digits[at..].iter().map(|&d| d as char));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_is_read_only_from_this_messages_ids() {
        assert_eq!(seq_of(b"m_1:7", "m_1"), Some(7));
        assert_eq!(seq_of(b"m_1:18446744073709551615", "m_1"), None);
        assert_eq!(
            seq_of(b"m_1:1844674407370955161", "m_1"),
            Some(1_844_674_407_370_955_161)
        );
        for id in [
            &b"m_2:7"[..],
            b"m_1:",
            b"m_1:7a",
            b"m_1",
            b"m_17",
            b"",
            b"m_1:-1",
            b"m_1: 7",
        ] {
            assert_eq!(seq_of(id, "m_1"), None, "{:?}", String::from_utf8_lossy(id));
        }
    }

    #[test]
    fn event_ids_round_trip() {
        for seq in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX / 10] {
            let id = event_id("m_x", seq);
            assert_eq!(id, format!("m_x:{seq}"));
            assert_eq!(seq_of(id.as_bytes(), "m_x"), Some(seq));
        }
    }

    #[test]
    fn only_a_resumed_position_skips_repeats() {
        let mut position = Position::default();
        position.took(Some(5));
        assert!(!position.repeated(Some(3), true));
        position.reconnected();
        assert!(position.repeated(Some(5), false));
        assert!(position.repeated(Some(1), false));
        assert!(position.repeated(None, true));
        assert!(!position.repeated(Some(6), false));
        assert!(!position.repeated(None, false));
        position.took(Some(6));
        position.took(Some(2));
        assert_eq!(position.last_seq(), 6);
    }
}
