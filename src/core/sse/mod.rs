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

mod event;
mod scan;

use std::fmt;

use self::event::EventBuffer;
use self::scan::find_line_end;

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

/// A buffer that grew for one large event gives its memory back, so a
/// long-lived parser does not keep the high-water mark of its stream.
pub(super) fn release_if_large(buffer: &mut Vec<u8>) {
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
    /// The line being read is a comment ("If the line starts with a U+003A
    /// COLON character (:) — Ignore the line"): its bytes are dropped as
    /// they come, never buffered nor counted against the limit, up to its
    /// line ending.
    in_comment: bool,
    /// The event being built, and what outlives it.
    event: EventBuffer,
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
            in_comment: false,
            event: EventBuffer::default(),
            max_event_bytes,
            failed: None,
        }
    }

    /// The last event ID string: the `id` of the last dispatched event, which
    /// carries forward until another `id` field changes it.
    pub fn last_event_id(&self) -> String {
        decode(self.event.last_event_id())
    }

    /// The reconnection time set by the last valid `retry` field, in ms.
    pub fn retry(&self) -> Option<u64> {
        self.event.retry()
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
    pub fn finish(&mut self) -> Result<(), SseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        self.bom_seen = Some(0);
        self.line.clear();
        self.event.discard();
        self.after_cr = false;
        self.in_comment = false;
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
        self.event.release();
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
        self.event.keep_held(&mut held);
        result
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
            if std::mem::take(&mut self.in_comment)
                || (self.line.is_empty() && piece.first() == Some(&b':'))
            {
                // A comment, or the end of one: ignored, whatever its length.
            } else if self.line.is_empty() {
                self.check_line(piece.len())?;
                self.event
                    .line(piece, held, self.max_event_bytes, on_event)?;
            } else {
                // Only the first line of a chunk can finish a pending line,
                // so nothing is held yet; what this line holds (a data
                // value, which ends the line) is kept before the line's
                // buffer is reused.
                self.check_line(self.line.len() + piece.len())?;
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(piece);
                let mut from_line = None;
                let result = self
                    .event
                    .line(&line, &mut from_line, self.max_event_bytes, on_event);
                if let Some(value_len) = from_line.map(<[u8]>::len) {
                    self.event.keep_line_value(&mut line, value_len);
                }
                line.clear();
                release_if_large(&mut line);
                self.line = line;
                result?;
            }
            rest = &rest[next..];
        }
        if self.in_comment || rest.is_empty() {
            return Ok(());
        }
        if self.line.is_empty() && rest[0] == b':' {
            self.in_comment = true;
            return Ok(());
        }
        self.check_line(self.line.len() + rest.len())?;
        self.line.extend_from_slice(rest);
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
}

#[cfg(test)]
mod tests;
