//! The event-stream parser: bytes in, events out, following WHATWG HTML,
//! "9.2.6 Interpreting an event stream", whatever the chunk boundaries.
//!
//! "Streams must be decoded using the UTF-8 decode algorithm." The parser
//! works on bytes and decodes each field once it is complete, which gives
//! exactly the text that decoding the whole stream first would: the bytes
//! that structure the stream (CR, LF, `:`, space) are ASCII, which never
//! occurs inside a multi-byte sequence, and replacing an ill-formed
//! sequence by U+FFFD (maximal subparts, as `TextDecoder` does) never
//! swallows an ASCII byte. A character split across chunks simply waits in
//! the pending line for its last byte. Only the byte order mark needs care:
//! one at the very start of the stream is removed, wherever the chunks cut
//! it.
//!
//! Memory is bounded: a pending line or a pending event larger than
//! `max_event_bytes` is an error, not an allocation.

use std::fmt;

/// One dispatched event, as a `MessageEvent` would carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The event type: the last `event` field, or `message` when none.
    pub event_type: String,
    /// The data lines joined with LF.
    pub data: String,
    /// The last event ID string at the time of dispatch.
    pub last_event_id: String,
}

/// One dispatched event, borrowed from the parser's buffers, still as
/// UTF-8 bytes that may be ill-formed: what a sink receives, so dispatching
/// allocates nothing and decodes nothing the sink does not need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// The event type: the last `event` field, or `message` when none.
    pub event_type: &'a [u8],
    /// The data lines joined with LF.
    pub data: &'a [u8],
    /// The last event ID string at the time of dispatch.
    pub last_event_id: &'a [u8],
}

impl EventRef<'_> {
    /// The event decoded, ill-formed sequences replaced by U+FFFD exactly as
    /// the WHATWG UTF-8 decoder (`new TextDecoder()`) replaces them.
    pub fn to_owned(&self) -> SseEvent {
        SseEvent {
            event_type: decode(self.event_type),
            data: decode(self.data),
            last_event_id: decode(self.last_event_id),
        }
    }
}

/// UTF-8 decoding of a complete field; `from_utf8_lossy` substitutes
/// maximal subparts, as the WHATWG decoder does. Well-formed input (nearly
/// all of it) takes the faster validation path.
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Where dispatched events go. Any `FnMut(SseEvent)` closure is a sink of
/// owned events; a sink of its own can read the borrowed fields instead.
pub trait EventSink {
    /// Receives one event.
    fn event(&mut self, event: EventRef<'_>);
}

impl<F: FnMut(SseEvent) + ?Sized> EventSink for F {
    fn event(&mut self, event: EventRef<'_>) {
        self(event.to_owned())
    }
}

/// Why the parser refused its input.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseError {
    /// A line grew past the limit before its line ending arrived.
    LineTooLong {
        /// The configured `max_event_bytes`.
        limit: usize,
    },
    /// The data of one event grew past the limit before it was dispatched.
    EventTooLarge {
        /// The configured `max_event_bytes`.
        limit: usize,
    },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong { limit } => {
                write!(f, "an event-stream line is longer than {limit} bytes")
            }
            SseError::EventTooLarge { limit } => {
                write!(f, "an event is larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The default bound on one line and on one event: 1 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

/// The first CR or LF. Event-stream lines are mostly short, where looking
/// at eight bytes at a time in a plain `u64` beats setting up a vector
/// search; a long line goes to memchr.
fn find_line_end(bytes: &[u8], long_line: bool) -> Option<usize> {
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

/// A buffer that grew for one large event gives its memory back, so a
/// long-lived parser does not keep the high-water mark of its stream.
fn release_if_large(buffer: &mut Vec<u8>) {
    const KEEP: usize = 64 << 10;
    if buffer.capacity() > KEEP {
        *buffer = Vec::new();
    }
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A push parser for `text/event-stream`: feed it chunks, it calls back with
/// each event the chunk completes.
#[derive(Debug, Clone)]
pub struct EventStreamParser {
    /// How many bytes of a leading BOM have been seen; `None` once the
    /// start of the stream is behind.
    bom_seen: Option<usize>,
    /// A line whose line ending has not arrived yet.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF that starts this one belongs
    /// to the same CRLF line ending.
    after_cr: bool,
    data: Vec<u8>,
    /// The event type buffer is `event_type` while `event_type_set`, and
    /// the empty string otherwise: clearing it is resetting the flag, so a
    /// stream that names the same type each time copies it only once.
    event_type: Vec<u8>,
    event_type_set: bool,
    /// Written by `id` fields. Its value moves to `last_event_id` at
    /// dispatch (a swap, not a copy), so it only means something while
    /// `id_pending` says an `id` field came since the last dispatch.
    last_event_id_buffer: Vec<u8>,
    id_pending: bool,
    last_event_id: Vec<u8>,
    retry: Option<u64>,
    max_event_bytes: usize,
    failed: Option<SseError>,
}

impl Default for EventStreamParser {
    fn default() -> Self {
        EventStreamParser::new(DEFAULT_MAX_EVENT_BYTES)
    }
}

impl EventStreamParser {
    /// A parser that refuses a line or an event longer than `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        EventStreamParser {
            bom_seen: Some(0),
            line: Vec::new(),
            after_cr: false,
            data: Vec::new(),
            event_type: Vec::new(),
            event_type_set: false,
            last_event_id_buffer: Vec::new(),
            id_pending: false,
            last_event_id: Vec::new(),
            retry: None,
            max_event_bytes,
            failed: None,
        }
    }

    /// The last event ID string: the `id` of the last dispatched event, which
    /// carries forward until another `id` field changes it.
    pub fn last_event_id(&self) -> String {
        decode(&self.last_event_id)
    }

    /// The reconnection time set by the last valid `retry` field, in ms.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The configured bound on a line and on an event.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// Parses one chunk, calling `on_event` for every event it completes, in
    /// order. After an error the parser refuses all input until
    /// [`reset`](Self::reset).
    pub fn feed(&mut self, bytes: &[u8], on_event: &mut dyn EventSink) -> Result<(), SseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let bytes = self.skip_bom(bytes);
        let result = self.parse(bytes, on_event);
        if let Err(error) = result {
            self.fail(error);
        }
        result
    }

    /// Ends the stream. "Once the end of the file is reached, any pending
    /// data must be discarded. (If the file ends in the middle of an event,
    /// before the final empty line, the incomplete event is not
    /// dispatched.)" So this never dispatches; it readies the parser for the
    /// next stream, keeping the last event ID and the retry time, which
    /// belong to the connection rather than to one stream.
    pub fn finish(&mut self, _on_event: &mut dyn EventSink) -> Result<(), SseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        self.bom_seen = Some(0);
        self.line.clear();
        self.data.clear();
        self.event_type_set = false;
        self.after_cr = false;
        Ok(())
    }

    /// Back to a fresh parser with the same limit, also after an error.
    pub fn reset(&mut self) {
        *self = EventStreamParser::new(self.max_event_bytes);
    }

    fn fail(&mut self, error: SseError) {
        self.failed = Some(error);
        // Release what the oversized input had taken.
        self.line = Vec::new();
        self.data = Vec::new();
        self.event_type = Vec::new();
        self.event_type_set = false;
    }

    /// The UTF-8 decode algorithm's first step: "Read three bytes from
    /// stream. If those bytes match the UTF-8 BOM, discard them", even when
    /// chunks cut the BOM. Bytes that turn out not to be a BOM are kept as
    /// the start of the first line.
    fn skip_bom<'a>(&mut self, bytes: &'a [u8]) -> &'a [u8] {
        let Some(seen) = self.bom_seen else {
            return bytes;
        };
        let mut matched = 0;
        while seen + matched < BOM.len() {
            match bytes.get(matched) {
                None => {
                    self.bom_seen = Some(seen + matched);
                    return &[];
                }
                Some(&byte) if byte == BOM[seen + matched] => matched += 1,
                Some(_) => {
                    // Not a BOM: what looked like its start is ordinary
                    // input (it holds no line ending).
                    self.bom_seen = None;
                    self.line.extend_from_slice(&BOM[..seen]);
                    return bytes;
                }
            }
        }
        self.bom_seen = None;
        &bytes[matched..]
    }
    /// "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A
    /// LINE FEED (CRLF) character pair, a single U+000A LINE FEED (LF)
    /// character, or a single U+000D CARRIAGE RETURN (CR) character."
    fn parse(&mut self, bytes: &[u8], on_event: &mut dyn EventSink) -> Result<(), SseError> {
        // The usual event has one `data` line, inside this chunk: its value
        // stays where it is until the event is dispatched, and is copied
        // into the data buffer only if the chunk ends first.
        let mut held = None;
        let result = self.parse_lines(bytes, &mut held, on_event);
        self.keep_held(&mut held);
        result
    }

    /// Copies a held `data` value into the data buffer, as the field would
    /// have been appended: the value, then LF.
    fn keep_held(&mut self, held: &mut Option<&[u8]>) {
        if let Some(value) = held.take() {
            self.data.reserve(value.len() + 1);
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
        }
    }

    fn parse_lines<'a>(
        &mut self,
        bytes: &'a [u8],
        held: &mut Option<&'a [u8]>,
        on_event: &mut dyn EventSink,
    ) -> Result<(), SseError> {
        let mut rest = bytes;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        // A line already pending across chunks is likely a long one.
        let mut long_line = !self.line.is_empty();
        while let Some(end) = find_line_end(rest, long_line) {
            long_line = false;
            let piece = &rest[..end];
            let mut next = end + 1;
            if rest[end] == b'\r' {
                match rest.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.check_line(piece.len())?;
                self.process_line(piece, held, on_event)?;
            } else {
                // Only the first line of a chunk can finish a pending line,
                // so nothing is held yet; what this line holds is copied
                // before the line's buffer is reused.
                self.check_line(self.line.len() + piece.len())?;
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(piece);
                let mut from_line = None;
                let result = self.process_line(&line, &mut from_line, on_event);
                self.keep_held(&mut from_line);
                line.clear();
                release_if_large(&mut line);
                self.line = line;
                result?;
            }
            rest = &rest[next..];
        }
        if !rest.is_empty() {
            self.check_line(self.line.len() + rest.len())?;
            self.line.extend_from_slice(rest);
        }
        Ok(())
    }

    fn check_line(&self, len: usize) -> Result<(), SseError> {
        if len > self.max_event_bytes {
            return Err(SseError::LineTooLong {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    /// "If the line is empty (a blank line): dispatch the event. If the line
    /// starts with a U+003A COLON character (:): ignore the line. If the line
    /// contains a U+003A COLON character (:): collect the characters on the
    /// line before the first U+003A COLON character (:), and let field be
    /// that string. Collect the characters on the line after the first
    /// U+003A COLON character (:), and let value be that string. If value
    /// starts with a U+0020 SPACE character, remove it from value. Otherwise,
    /// the string is not empty but does not contain a U+003A COLON character
    /// (:): use the whole line as the field name, and the empty string as
    /// the field value."
    fn process_line<'a>(
        &mut self,
        line: &'a [u8],
        held: &mut Option<&'a [u8]>,
        on_event: &mut dyn EventSink,
    ) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(held, on_event);
            return Ok(());
        }
        let (field, value) = match crate::core::find_byte(line, b':') {
            Some(0) => return Ok(()),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        self.process_field(field, value, held)
    }

    /// "The steps to process the field given a field name and a field value
    /// depend on the field name", compared literally (case-sensitively).
    fn process_field<'a>(
        &mut self,
        field: &[u8],
        value: &'a [u8],
        held: &mut Option<&'a [u8]>,
    ) -> Result<(), SseError> {
        match field {
            // "Set the event type buffer to the field value."
            b"event" => {
                if self.event_type != value {
                    self.event_type.clear();
                    self.event_type.extend_from_slice(value);
                }
                self.event_type_set = true;
            }
            // "Append the field value to the data buffer, then append a
            // single U+000A LINE FEED (LF) character to the data buffer."
            b"data" => {
                let buffered = self.data.len() + held.map_or(0, |held| held.len() + 1);
                if buffered + value.len() + 1 > self.max_event_bytes {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event_bytes,
                    });
                }
                if buffered == 0 {
                    // The first data line: held, not copied (see `parse`).
                    *held = Some(value);
                } else {
                    self.keep_held(held);
                    self.data.reserve(value.len() + 1);
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
            }
            // "If the field value does not contain U+0000 NULL, then set the
            // last event ID buffer to the field value. Otherwise, ignore the
            // field."
            b"id" if value.iter().all(|&b| b != 0) => {
                self.last_event_id_buffer.clear();
                self.last_event_id_buffer.extend_from_slice(value);
                self.id_pending = true;
            }
            // "If the field value consists of only ASCII digits, then
            // interpret the field value as an integer in base ten, and set
            // the event stream's reconnection time to that integer.
            // Otherwise, ignore the field." A value too large for u64
            // saturates rather than being dropped.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let ms = value.iter().fold(0u64, |ms, digit| {
                    ms.saturating_mul(10)
                        .saturating_add(u64::from(digit - b'0'))
                });
                self.retry = Some(ms);
            }
            // "Otherwise: The field is ignored."
            _ => {}
        }
        Ok(())
    }

    /// "When the user agent is required to dispatch the event, the user
    /// agent must process the data buffer, the event type buffer, and the
    /// last event ID buffer using steps appropriate for the user agent."
    fn dispatch(&mut self, held: &mut Option<&[u8]>, on_event: &mut dyn EventSink) {
        // "Set the last event ID string of the event source to the value of
        // the last event ID buffer. The buffer does not get reset, so the
        // last event ID string of the event source remains set to this value
        // until the next time it is set by the server."
        // Without an `id` field since the last dispatch, the buffer still
        // holds what `last_event_id` already is.
        if self.id_pending {
            std::mem::swap(&mut self.last_event_id, &mut self.last_event_id_buffer);
            self.id_pending = false;
        }
        // "If the data buffer is an empty string, set the data buffer and the
        // event type buffer to the empty string and return."
        // A held value is the whole buffer: the value, then LF.
        let held = held.take();
        if held.is_none() && self.data.is_empty() {
            self.event_type_set = false;
            return;
        }
        // "If the data buffer's last character is a U+000A LINE FEED (LF)
        // character, then remove the last character from the data buffer."
        let data = match held {
            Some(value) => value,
            None => self.data.strip_suffix(b"\n").unwrap_or(&self.data),
        };
        // "Initialize event's type attribute to "message" ... If the event
        // type buffer has a value other than the empty string, change the
        // type of the newly created event to equal the value of the event
        // type buffer."
        let event_type = if self.event_type_set && !self.event_type.is_empty() {
            &self.event_type[..]
        } else {
            &b"message"[..]
        };
        on_event.event(EventRef {
            event_type,
            data,
            last_event_id: &self.last_event_id,
        });
        // "Set the data buffer and the event type buffer to the empty string."
        self.data.clear();
        self.event_type_set = false;
        release_if_large(&mut self.data);
    }
}

#[cfg(test)]
mod tests;
