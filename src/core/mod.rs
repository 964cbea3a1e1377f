//! The pure core: no I/O, no clock, no JavaScript. Each part is a state
//! machine that is fed input and hands back output.

pub mod citation;
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
