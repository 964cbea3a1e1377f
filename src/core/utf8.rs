//! Streaming UTF-8 decoding, as the WHATWG Encoding Standard's UTF-8 decoder
//! does it (the decoder behind a non-fatal `new TextDecoder()` used with
//! `{ stream: true }`).
//!
//! - A character split across chunks is decoded once its last byte arrives.
//! - Each maximal subpart of an ill-formed sequence becomes one U+FFFD,
//!   exactly as `TextDecoder` replaces it; Rust's `Utf8Chunks` uses the same
//!   "substitution of maximal subparts" practice, so the bulk of the work is
//!   done by the standard library.
//! - A sequence still incomplete at the end of the stream becomes one U+FFFD.
//! - One byte order mark at the very start of the stream is removed; a later
//!   U+FEFF is an ordinary character.

const REPLACEMENT: char = '\u{FFFD}';
const BOM: char = '\u{FEFF}';

/// A streaming UTF-8 decoder that never loses or invents a character,
/// whatever the chunk boundaries.
#[derive(Debug, Clone, Default)]
pub struct Utf8Decoder {
    /// The bytes of a character that has started but not finished (0 to 3).
    pending: [u8; 4],
    pending_len: u8,
    /// How many bytes the pending character needs in all.
    pending_need: u8,
    /// Whether the first character of the stream is still to be seen, for the
    /// BOM rule.
    at_start: bool,
}

impl Utf8Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Utf8Decoder {
            at_start: true,
            ..Default::default()
        }
    }

    /// Decodes one chunk, appending the text it completes to `out`.
    pub fn decode(&mut self, mut bytes: &[u8], out: &mut String) {
        let start = out.len();
        if self.pending_len > 0 {
            bytes = self.complete_pending(bytes, out);
        }
        let mut chunks = bytes.utf8_chunks().peekable();
        while let Some(chunk) = chunks.next() {
            out.push_str(chunk.valid());
            let invalid = chunk.invalid();
            if invalid.is_empty() {
                continue;
            }
            if chunks.peek().is_none() && is_incomplete_prefix(invalid) {
                self.pending[..invalid.len()].copy_from_slice(invalid);
                self.pending_len = invalid.len() as u8;
                self.pending_need = sequence_length(invalid[0]);
            } else {
                out.push(REPLACEMENT);
            }
        }
        self.strip_bom(out, start);
    }

    /// Ends the stream: a character left unfinished becomes U+FFFD. The
    /// decoder is then ready for a new stream.
    pub fn finish(&mut self, out: &mut String) {
        let start = out.len();
        if self.pending_len > 0 {
            out.push(REPLACEMENT);
        }
        self.strip_bom(out, start);
        *self = Utf8Decoder::new();
    }

    /// Whether a character is waiting for more bytes.
    pub fn has_pending(&self) -> bool {
        self.pending_len > 0
    }

    /// Feeds bytes to the unfinished character until it completes or proves
    /// ill-formed, and returns the bytes not consumed. A byte that cannot
    /// continue the character is not consumed: it starts the next one, as the
    /// WHATWG decoder's "prepend byte to stream" step says.
    fn complete_pending<'a>(&mut self, bytes: &'a [u8], out: &mut String) -> &'a [u8] {
        let mut used = 0;
        while (self.pending_len as usize) < (self.pending_need as usize) {
            let Some(&byte) = bytes.get(used) else {
                return &bytes[used..];
            };
            let (low, high) = continuation_range(&self.pending[..self.pending_len as usize]);
            if byte < low || byte > high {
                out.push(REPLACEMENT);
                self.pending_len = 0;
                return &bytes[used..];
            }
            self.pending[self.pending_len as usize] = byte;
            self.pending_len += 1;
            used += 1;
        }
        let len = self.pending_len as usize;
        match std::str::from_utf8(&self.pending[..len]) {
            Ok(text) => out.push_str(text),
            // Unreachable by construction (every byte was range-checked), but
            // a replacement is the safe answer rather than a panic.
            Err(_) => out.push(REPLACEMENT),
        }
        self.pending_len = 0;
        &bytes[used..]
    }

    fn strip_bom(&mut self, out: &mut String, start: usize) {
        if self.at_start && out.len() > start {
            self.at_start = false;
            if out[start..].starts_with(BOM) {
                out.replace_range(start..start + BOM.len_utf8(), "");
            }
        }
    }
}

/// Decodes a whole byte string at once, as `new TextDecoder().decode(bytes)`.
pub fn decode_all(bytes: &[u8]) -> String {
    let mut decoder = Utf8Decoder::new();
    let mut out = String::with_capacity(bytes.len());
    decoder.decode(bytes, &mut out);
    decoder.finish(&mut out);
    out
}

/// Whether `bytes` (1 to 3 of them) is the start of a well-formed sequence
/// that is only missing its tail.
fn is_incomplete_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Err(error) => error.valid_up_to() == 0 && error.error_len().is_none(),
        Ok(_) => false,
    }
}

/// The length of the sequence a lead byte starts (only called on lead bytes
/// of incomplete prefixes, so 2, 3 or 4).
fn sequence_length(lead: u8) -> u8 {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// The range the next byte of a started sequence must fall in: the WHATWG
/// decoder's "UTF-8 lower boundary" and "upper boundary", which are narrower
/// than 0x80..=0xBF only right after the lead bytes E0, ED, F0 and F4.
fn continuation_range(started: &[u8]) -> (u8, u8) {
    if started.len() == 1 {
        match started[0] {
            0xE0 => return (0xA0, 0xBF),
            0xED => return (0x80, 0x9F),
            0xF0 => return (0x90, 0xBF),
            0xF4 => return (0x80, 0x8F),
            _ => {}
        }
    }
    (0x80, 0xBF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(bytes: &[u8], cuts: &[usize]) -> String {
        let mut decoder = Utf8Decoder::new();
        let mut out = String::new();
        let mut start = 0;
        for &cut in cuts {
            decoder.decode(&bytes[start..cut], &mut out);
            start = cut;
        }
        decoder.decode(&bytes[start..], &mut out);
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn replaces_like_text_decoder() {
        // (input, what `new TextDecoder().decode(input)` gives)
        let table: &[(&[u8], &str)] = &[
            (b"plain", "plain"),
            ("é€😀".as_bytes(), "é€😀"),
            (b"\xFF", "\u{FFFD}"),
            (b"\xC0\xAF", "\u{FFFD}\u{FFFD}"),
            (b"\xE0\x80\x80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\xED\xA0\x80", "\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\xF0\x9F\x98", "\u{FFFD}"),
            (b"\xF0\x9F\x98A", "\u{FFFD}A"),
            (b"\xE2\x82", "\u{FFFD}"),
            (b"\xE2\x82\xE2\x82\xAC", "\u{FFFD}€"),
            (b"\xF4\x90\x80\x80", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            (b"\xEF\xBB\xBFx", "x"),
            (b"\xEF\xBB\xBF\xEF\xBB\xBFx", "\u{FEFF}x"),
            (b"x\xEF\xBB\xBF", "x\u{FEFF}"),
            (b"\xEF\xBB", "\u{FFFD}"),
            (b"\x80abc", "\u{FFFD}abc"),
        ];
        for (input, expected) in table {
            assert_eq!(&decode_all(input), expected, "input {input:02X?}");
        }
    }

    #[test]
    fn every_two_way_split_gives_the_same_text() {
        let inputs: &[&[u8]] = &[
            "Zoë Müller — 東京 😀 done".as_bytes(),
            b"\xEF\xBB\xBFbom then \xF0\x9F\x98\x80",
            b"bad \xF0\x9F\x98 tail \xE0\x80 \xED\xA0\x80 \xC3",
            b"\xE2\x82\xE2\x82\xAC\xFF\xF4\x8F\xBF\xBF",
        ];
        for input in inputs {
            let whole = decode_all(input);
            for cut in 0..=input.len() {
                assert_eq!(decode_in_pieces(input, &[cut]), whole, "cut at {cut}");
            }
            let every_byte: Vec<usize> = (1..input.len()).collect();
            assert_eq!(decode_in_pieces(input, &every_byte), whole);
        }
    }

    #[test]
    fn a_split_character_waits_for_its_last_byte() {
        let mut decoder = Utf8Decoder::new();
        let mut out = String::new();
        decoder.decode(&[0xF0, 0x9F], &mut out);
        assert_eq!(out, "");
        assert!(decoder.has_pending());
        decoder.decode(&[0x98], &mut out);
        assert_eq!(out, "");
        decoder.decode(&[0x80, b'!'], &mut out);
        assert_eq!(out, "😀!");
        assert!(!decoder.has_pending());
    }

    #[test]
    fn bom_split_across_chunks_is_still_removed_once() {
        assert_eq!(
            decode_in_pieces(b"\xEF\xBB\xBF\xEF\xBB\xBF", &[1, 2, 4]),
            "\u{FEFF}"
        );
    }
}
