//! The pure core: no I/O, no clock, no JavaScript. Each part is a state
//! machine that is fed input and hands back output.

pub mod citation;
pub mod pipeline;
pub mod protocol;
pub mod sse;

/// The first `byte` in `bytes`. What the parser and the citation buffer look
/// for (a field's colon, a `[`) is usually within the first few bytes,
/// where a plain loop beats setting up a vector search; the rest goes to
/// memchr.
pub(crate) fn find_byte(bytes: &[u8], byte: u8) -> Option<usize> {
    const SHORT: usize = 16;
    let head = &bytes[..bytes.len().min(SHORT)];
    if let Some(at) = head.iter().position(|&b| b == byte) {
        return Some(at);
    }
    memchr::memchr(byte, &bytes[head.len()..]).map(|at| at + head.len())
}
