//! Field interpretation and the event being built: what each complete line
//! does to the data, event type and last event ID buffers, and dispatch.

use super::{release_if_large, EventRef, EventSink, SseError};

/// The buffers of "Interpreting an event stream" and the stream's
/// reconnection time: everything a line can change.
#[derive(Debug, Clone, Default)]
pub(super) struct EventBuffer {
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
}

impl EventBuffer {
    /// The last event ID string, undecoded.
    pub(super) fn last_event_id(&self) -> &[u8] {
        &self.last_event_id
    }

    /// The reconnection time set by the last valid `retry` field, in ms.
    pub(super) fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Drops the event being built, keeping the last event ID and the
    /// retry time, which belong to the connection.
    pub(super) fn discard(&mut self) {
        self.data.clear();
        self.event_type_set = false;
    }

    /// Drops the event being built and the memory it took.
    pub(super) fn release(&mut self) {
        self.data = Vec::new();
        self.event_type = Vec::new();
        self.event_type_set = false;
    }

    /// Copies a held `data` value into the data buffer, as the field would
    /// have been appended: the value, then LF.
    pub(super) fn keep_held(&mut self, held: &mut Option<&[u8]>) {
        if let Some(value) = held.take() {
            self.data.reserve(value.len() + 1);
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
        }
    }

    /// Keeps the `data` value of length `value_len` that ends `line` (a
    /// line completed across chunks), as `keep_held` would. When the data
    /// buffer is empty, the line's buffer becomes the data buffer, the
    /// value moved to its front, instead of a new buffer being filled with
    /// a copy: an event too large for one chunk then takes no second
    /// allocation of its size. `line` gets the old data buffer, empty, for
    /// the next line.
    pub(super) fn keep_line_value(&mut self, line: &mut Vec<u8>, value_len: usize) {
        if self.data.is_empty() {
            std::mem::swap(&mut self.data, line);
            let start = self.data.len() - value_len;
            self.data.copy_within(start.., 0);
            self.data.truncate(value_len);
            self.data.push(b'\n');
        } else {
            self.keep_held(&mut Some(&line[line.len() - value_len..]));
        }
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
    ///
    /// `held` is the first `data` value of the event while it still lies in
    /// the caller's input (see `EventStreamParser::parse`); `max_event_bytes`
    /// bounds the data buffer.
    pub(super) fn line<'a>(
        &mut self,
        line: &'a [u8],
        held: &mut Option<&'a [u8]>,
        max_event_bytes: usize,
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
        self.field(field, value, held, max_event_bytes)
    }

    /// "The steps to process the field given a field name and a field value
    /// depend on the field name", compared literally (case-sensitively).
    fn field<'a>(
        &mut self,
        field: &[u8],
        value: &'a [u8],
        held: &mut Option<&'a [u8]>,
        max_event_bytes: usize,
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
                if buffered + value.len() + 1 > max_event_bytes {
                    return Err(SseError::EventTooLarge {
                        limit: max_event_bytes,
                    });
                }
                if buffered == 0 {
                    // The first data line: held, not copied (see
                    // `EventStreamParser::parse`).
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
