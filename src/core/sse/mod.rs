//! The event-stream parser: bytes in, events out, following WHATWG HTML,
//! "9.2.6 Interpreting an event stream", whatever the chunk boundaries.
//!
//! The stream is first decoded with the streaming [`Utf8Decoder`] ("Streams
//! must be decoded using the UTF-8 decode algorithm"), then cut into lines.
//! Memory is bounded: a pending line or a pending event larger than
//! `max_event_bytes` is an error, not an allocation.

use std::fmt;

use super::utf8::Utf8Decoder;

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

/// A push parser for `text/event-stream`: feed it chunks, it calls back with
/// each event the chunk completes.
#[derive(Debug, Clone)]
pub struct EventStreamParser {
    decoder: Utf8Decoder,
    /// Decoded text of the current chunk, kept to reuse its allocation.
    scratch: String,
    /// A line whose line ending has not arrived yet.
    line: String,
    /// The previous chunk ended with CR: an LF that starts this one belongs
    /// to the same CRLF line ending.
    after_cr: bool,
    data: String,
    event_type: String,
    last_event_id_buffer: String,
    last_event_id: String,
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
            decoder: Utf8Decoder::new(),
            scratch: String::new(),
            line: String::new(),
            after_cr: false,
            data: String::new(),
            event_type: String::new(),
            last_event_id_buffer: String::new(),
            last_event_id: String::new(),
            retry: None,
            max_event_bytes,
            failed: None,
        }
    }

    /// The last event ID string: the `id` of the last dispatched event, which
    /// carries forward until another `id` field changes it.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
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
    pub fn feed(
        &mut self,
        bytes: &[u8],
        on_event: &mut dyn FnMut(SseEvent),
    ) -> Result<(), SseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        self.decoder.decode(bytes, &mut text);
        let result = self.parse_text(&text, on_event);
        self.scratch = text;
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
    pub fn finish(&mut self, _on_event: &mut dyn FnMut(SseEvent)) -> Result<(), SseError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        let mut flushed = String::new();
        self.decoder.finish(&mut flushed);
        self.line.clear();
        self.data.clear();
        self.event_type.clear();
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
        self.line = String::new();
        self.data = String::new();
        self.event_type = String::new();
        self.scratch = String::new();
    }

    /// "Lines must be separated by either a U+000D CARRIAGE RETURN U+000A
    /// LINE FEED (CRLF) character pair, a single U+000A LINE FEED (LF)
    /// character, or a single U+000D CARRIAGE RETURN (CR) character."
    fn parse_text(
        &mut self,
        text: &str,
        on_event: &mut dyn FnMut(SseEvent),
    ) -> Result<(), SseError> {
        let mut rest = text;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix('\n') {
                rest = tail;
            }
        }
        while let Some(end) = memchr::memchr2(b'\r', b'\n', rest.as_bytes()) {
            let piece = &rest[..end];
            let mut next = end + 1;
            if rest.as_bytes()[end] == b'\r' {
                match rest.as_bytes().get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.check_line(piece.len())?;
                self.process_line(piece, on_event)?;
            } else {
                self.check_line(self.line.len() + piece.len())?;
                let mut line = std::mem::take(&mut self.line);
                line.push_str(piece);
                let result = self.process_line(&line, on_event);
                line.clear();
                self.line = line;
                result?;
            }
            rest = &rest[next..];
        }
        if !rest.is_empty() {
            self.check_line(self.line.len() + rest.len())?;
            self.line.push_str(rest);
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
    fn process_line(
        &mut self,
        line: &str,
        on_event: &mut dyn FnMut(SseEvent),
    ) -> Result<(), SseError> {
        if line.is_empty() {
            self.dispatch(on_event);
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line.as_bytes()) {
            Some(0) => return Ok(()),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        self.process_field(field, value)
    }

    /// "The steps to process the field given a field name and a field value
    /// depend on the field name", compared literally (case-sensitively).
    fn process_field(&mut self, field: &str, value: &str) -> Result<(), SseError> {
        match field {
            // "Set the event type buffer to the field value."
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            // "Append the field value to the data buffer, then append a
            // single U+000A LINE FEED (LF) character to the data buffer."
            "data" => {
                if self.data.len() + value.len() + 1 > self.max_event_bytes {
                    return Err(SseError::EventTooLarge {
                        limit: self.max_event_bytes,
                    });
                }
                self.data.push_str(value);
                self.data.push('\n');
            }
            // "If the field value does not contain U+0000 NULL, then set the
            // last event ID buffer to the field value. Otherwise, ignore the
            // field."
            "id" if !value.contains('\0') => {
                self.last_event_id_buffer.clear();
                self.last_event_id_buffer.push_str(value);
            }
            // "If the field value consists of only ASCII digits, then
            // interpret the field value as an integer in base ten, and set
            // the event stream's reconnection time to that integer.
            // Otherwise, ignore the field." A value too large for u64
            // saturates rather than being dropped.
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                let ms = value.bytes().fold(0u64, |ms, digit| {
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
    fn dispatch(&mut self, on_event: &mut dyn FnMut(SseEvent)) {
        // "Set the last event ID string of the event source to the value of
        // the last event ID buffer. The buffer does not get reset, so the
        // last event ID string of the event source remains set to this value
        // until the next time it is set by the server."
        if self.last_event_id != self.last_event_id_buffer {
            self.last_event_id.clone_from(&self.last_event_id_buffer);
        }
        // "If the data buffer is an empty string, set the data buffer and the
        // event type buffer to the empty string and return."
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        // "If the data buffer's last character is a U+000A LINE FEED (LF)
        // character, then remove the last character from the data buffer."
        self.data.pop();
        // "Initialize event's type attribute to "message" ... If the event
        // type buffer has a value other than the empty string, change the
        // type of the newly created event to equal the value of the event
        // type buffer."
        let event_type = if self.event_type.is_empty() {
            String::from("message")
        } else {
            std::mem::take(&mut self.event_type)
        };
        on_event(SseEvent {
            event_type,
            data: std::mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests;
