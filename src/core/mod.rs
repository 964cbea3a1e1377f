//! The pure core: no I/O, no clock, no JavaScript. Each part is a state
//! machine that is fed input and hands back output.

pub mod adapter;
pub mod citation;
pub mod markdown;
pub mod pipeline;
pub mod protocol;
pub mod sse;

/// The first `byte` in `bytes`. What the parser and the citation buffer look
/// for (a field's colon, a `[`) is usually within the first few bytes,
/// where a plain loop beats setting up a vector search; the rest goes to
/// memchr. Inlined into each caller: out of line, the call alone cost the
/// token path 4–6% in wasm (`bench/pipeline.mjs`).
#[inline(always)]
pub(crate) fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    const SHORT: usize = 16;
    let head = &bytes[..bytes.len().min(SHORT)];
    let found = head.iter().position(|&b| b == byte);
    if found.is_some() || head.len() == bytes.len() {
        // Short input (a token, mostly without a `[`) never calls memchr.
        return found;
    }
    memchr::memchr(byte, &bytes[SHORT..]).map(|at| at + SHORT)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::find_byte;
    use proptest::prelude::*;

    proptest! {
        /// The short-head-then-memchr search against a byte-by-byte scan:
        /// lengths 0..=300 (inside and past the 16-byte head), any start
        /// offset into the buffer (the byte sought just before and after
        /// the slice, where it must not be seen), the byte at any position
        /// or nowhere.
        #[test]
        fn find_byte_agrees_with_a_byte_by_byte_scan(
            offset in 0usize..16,
            byte in prop_oneof![Just(b':'), Just(b'['), any::<u8>()],
            filler in proptest::collection::vec(any::<u8>(), 0..=300),
            at in proptest::option::of(any::<proptest::sample::Index>()),
        ) {
            let mut bytes: Vec<u8> = filler
                .into_iter()
                .map(|b| if b == byte { b ^ 0x01 } else { b })
                .collect();
            if let (Some(at), false) = (at, bytes.is_empty()) {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            let len = bytes.len();
            let mut buffer = vec![byte; offset];
            buffer.extend_from_slice(&bytes);
            buffer.push(byte);
            let slice = &buffer[offset..offset + len];
            let plain = slice.iter().position(|&b| b == byte);
            prop_assert_eq!(find_byte(slice, byte), plain);
        }
    }
}
