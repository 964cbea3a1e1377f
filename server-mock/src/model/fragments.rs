//! Cuts an answer into token-sized fragments the way an LLM's tokenizer
//! would, so clients see citations arrive in pieces: `[`, `12`, `:45`, …
//!
//! The cuts are pseudo-random but seeded by the question, so the same
//! question always streams the same fragments (tests and demos can rely on
//! it). The generator and hash are written out here rather than taken from a
//! crate, whose output may change between versions.

/// Longest fragment, in characters.
pub const MAX_FRAGMENT_CHARS: u64 = 6;

/// Splits `text` into fragments of 1 to [`MAX_FRAGMENT_CHARS`] characters,
/// never inside a character. Joined, they give back `text`; none is empty.
pub fn split(text: &str, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64(seed);
    let mut fragments = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let take = 1 + rng.next() % MAX_FRAGMENT_CHARS;
        let end = usize::try_from(take)
            .ok()
            .and_then(|take| rest.char_indices().nth(take))
            .map_or(rest.len(), |(i, _)| i);
        let (fragment, tail) = rest.split_at(end);
        fragments.push(fragment.to_owned());
        rest = tail;
    }
    fragments
}

/// A stable 64-bit FNV-1a hash, used to seed [`split`] from the question.
pub fn seed_for(question: &str) -> u64 {
    question.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, and good enough to vary
/// fragment lengths.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_rejoin_and_respect_char_bounds() {
        let text = "José said “budget” [02:15, José Álvarez].\n- Zoë";
        for seed in 0..200 {
            let fragments = split(text, seed);
            assert_eq!(fragments.concat(), text);
            for f in &fragments {
                let n = f.chars().count() as u64;
                assert!((1..=MAX_FRAGMENT_CHARS).contains(&n), "{f:?}");
            }
        }
    }

    #[test]
    fn same_seed_same_fragments_and_lengths_vary() {
        let text = "Sarah Johnson said budget is frozen until Q3 [12:45, Sarah Johnson].";
        let seed = seed_for("Which prospects mentioned budget constraints?");
        assert_eq!(split(text, seed), split(text, seed));
        assert_ne!(split(text, seed), split(text, seed_for("another question")));
        let lengths: std::collections::BTreeSet<usize> = split(text, seed)
            .iter()
            .map(|f| f.chars().count())
            .collect();
        assert!(lengths.len() >= 3, "{lengths:?}");
    }

    #[test]
    fn fnv1a_matches_reference_values() {
        assert_eq!(seed_for(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(seed_for("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn empty_text_has_no_fragments() {
        assert!(split("", 1).is_empty());
    }
}
