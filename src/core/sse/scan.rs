//! The line scanner: where the next line ending is.
//!
//! CR and LF each end a line (the spec's rule is quoted on
//! `EventStreamParser::parse`), so the scan looks for either; whether an
//! LF follows a CR is the parser's business.

/// The first CR or LF. Event-stream lines are mostly short, where looking
/// at eight bytes at a time in a plain `u64` beats setting up a vector
/// search; a long line goes to memchr.
pub(super) fn find_line_end(bytes: &[u8], long_line: bool) -> Option<usize> {
    const SHORT: usize = 64;
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const CRS: u64 = u64::from_ne_bytes([b'\r'; 8]);
    // The high bit of each byte of `x` that is zero, and maybe of bytes
    // after the first zero one (the borrow runs on), never before it.
    let zeros = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let head = &bytes[..bytes.len().min(if long_line { 0 } else { SHORT })];
    let mut words = head.chunks_exact(8);
    for (i, word) in words.by_ref().enumerate() {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let x = u64::from_le_bytes(eight);
        let found = zeros(x ^ LFS) | zeros(x ^ CRS);
        if found != 0 {
            return Some(i * 8 + found.trailing_zeros() as usize / 8);
        }
    }
    let tail = words.remainder();
    let done = head.len() - tail.len();
    if let Some(end) = tail.iter().position(|&b| b == b'\n' || b == b'\r') {
        return Some(done + end);
    }
    memchr::memchr2(b'\r', b'\n', &bytes[head.len()..]).map(|end| end + head.len())
}
