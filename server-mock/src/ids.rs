//! Ids for sessions and messages.

/// A fresh id: `prefix` followed by 16 hex digits of randomness, e.g.
/// `m_3f9a0c2e7b1d4a65`. Unique enough for a single server's history, and
/// made only of characters that are safe in an SSE `id:` field and a URL.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{:016x}", fastrand::u64(..))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_prefix_and_differ() {
        let (a, b) = (super::new_id("m_"), super::new_id("m_"));
        assert!(a.starts_with("m_") && a.len() == 18);
        assert_ne!(a, b);
    }
}
