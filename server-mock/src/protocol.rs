//! The chat stream's events (docs/protocol.md, "The event stream") and how each one is
//! written as a server-sent event.

use axum::response::sse::Event;
use cite_stream::core::citation::{CitationBuffer, CitationOptions, CitationRef, Segment};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One source passage backing an inline `[MM:SS, Speaker]` citation.
/// `Deserialize` reads it back from the history store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// `c1`, `c2`, … in the order the answer first cites them.
    pub id: String,
    /// The cited conversation's id.
    pub conversation_id: String,
    /// The cited conversation's title.
    pub conversation_title: String,
    /// Exactly as written inline: `MM:SS` or `H:MM:SS`.
    pub timestamp: String,
    /// The same instant in seconds, for seeking a player.
    pub seconds: u32,
    /// Exactly as written inline.
    pub speaker: String,
    /// The words the citation stands for.
    pub quote: String,
}

/// One event of a chat stream, before it is numbered.
///
/// `Serialize` yields the JSON `data` of every variant but `Token`, whose data
/// is its text verbatim (see [`ChatEvent::to_sse`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum ChatEvent {
    /// First, always: which session and message this stream belongs to.
    Session {
        /// Existing or newly created session.
        session_id: String,
        /// The assistant message being streamed.
        message_id: String,
    },
    /// Progress shown before the first token.
    Status {
        /// Human text, e.g. `Searching across 3 conversations...`.
        message: String,
    },
    /// A fragment of the answer text, sent verbatim (not JSON). Never empty:
    /// an event without data is not dispatched by SSE parsers.
    Token(String),
    /// The sources of the inline citations, once, after the last token.
    Citations {
        /// In the order the answer first cites them.
        citations: Vec<Citation>,
    },
    /// Last, on success.
    Done {
        /// Same as in `Session`.
        message_id: String,
        /// Measured time from receiving the request to this event.
        processing_ms: u64,
        /// Number of `Token` events sent.
        token_count: usize,
    },
    /// Last, on failure after streaming began.
    Error {
        /// Machine-readable code, e.g. `llm_failed`.
        code: &'static str,
        /// Human text.
        message: String,
        /// Whether asking again may succeed.
        retryable: bool,
    },
}

/// Sent, as an `error` event, instead of an event whose JSON could not be
/// written. serde_json only fails on maps with non-string keys or failing
/// `Serialize` impls, neither of which these events have, but the stream
/// still ends well-formed if it ever does.
const ENCODE_FAILED: &str =
    r#"{"code":"internal","message":"could not encode event","retryable":false}"#;

impl ChatEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Session { .. } => "session",
            Self::Status { .. } => "status",
            Self::Token(_) => "token",
            Self::Citations { .. } => "citations",
            Self::Done { .. } => "done",
            Self::Error { .. } => "error",
        }
    }

    /// Writes this event as the `seq`-th event of message `message_id`:
    /// `event:`, `id: <messageId>:<seq>` and its `data:` lines.
    pub fn to_sse(&self, message_id: &str, seq: usize) -> Event {
        let (name, data) = match self {
            Self::Token(text) => (self.name(), token_data(text)),
            json_event => match serde_json::to_string(json_event) {
                Ok(json) => (self.name(), Cow::Owned(json)),
                Err(_) => ("error", Cow::Borrowed(ENCODE_FAILED)),
            },
        };
        // `Event::data` writes `data: ` (with the space) before every line, so a
        // fragment's own leading space survives the client's one-space strip,
        // and it starts a new `data: ` line after each `\n`.
        Event::default()
            .event(name)
            .id(format!("{message_id}:{seq}"))
            .data(data)
    }
}

/// A fragment as it goes on the wire: `\r\n` and lone `\r` become `\n`, so
/// the client's parser can only ever see the line breaks the text had.
fn token_data(fragment: &str) -> Cow<'_, str> {
    if fragment.contains('\r') {
        Cow::Owned(fragment.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(fragment)
    }
}

/// The `(seconds, speaker)` of every complete inline citation in `text`, in
/// order, read with the client's own grammar and buffer (the core's
/// [`CitationBuffer`]), so that what the server counts as a citation is
/// what a reader sees as one. An unfinished bracket at the end (a stopped
/// answer's `[1:08:45, Nadia`) is held, not released, so it cites nothing;
/// a bracket the client shows as text backs nothing either.
pub fn inline_citations(text: &str) -> Vec<(u32, String)> {
    // No timeout (time never passes) and room for any bracket the model
    // writes: the whole text is here, nothing is waited for.
    let mut buffer = CitationBuffer::new(CitationOptions {
        max_length: usize::MAX,
        ..CitationOptions::default()
    });
    let mut segments: Vec<Segment> = Vec::new();
    buffer.push(text, 0.0, &mut segments);
    segments
        .into_iter()
        .filter_map(|segment| match segment {
            Segment::Citation { citations, .. } => Some(citations),
            Segment::Text { .. } => None,
        })
        .flatten()
        .filter_map(|entry| match entry {
            CitationRef::Timestamp {
                seconds, speaker, ..
            } => Some((seconds, speaker)),
            CitationRef::Number { .. } => None,
        })
        .collect()
}

/// `fragments` with every line break as `\n` (`\r\n` and a lone `\r`,
/// also a `\r\n` split across two fragments), dropping any fragment left
/// empty. Applied to an answer before it is streamed and recorded, so that
/// the history holds exactly the text the client received.
pub fn normalise_line_breaks(fragments: Vec<String>) -> Vec<String> {
    let mut after_cr = false;
    fragments
        .into_iter()
        .filter_map(|fragment| {
            let touched = fragment.contains('\r') || (after_cr && fragment.starts_with('\n'));
            if !touched {
                after_cr = false;
                return Some(fragment);
            }
            let mut text = String::with_capacity(fragment.len());
            for c in fragment.chars() {
                match c {
                    '\r' => {
                        text.push('\n');
                        after_cr = true;
                    }
                    // The `\n` of a `\r\n`, already written.
                    '\n' if after_cr => after_cr = false,
                    c => {
                        text.push(c);
                        after_cr = false;
                    }
                }
            }
            (!text.is_empty()).then_some(text)
        })
        .collect()
}

impl ChatEvent {
    /// The `error` event of an answer the history could not store: the
    /// client must not believe it was kept.
    pub fn storage_failed() -> Self {
        Self::Error {
            code: "storage_failed",
            message: "the answer could not be saved to the history".to_owned(),
            retryable: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::{sse::Sse, IntoResponse};

    #[test]
    fn line_breaks_become_newlines_across_fragments() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["a\r\nb"], &["a\nb"]),
            (&["a\r", "\nb"], &["a\n", "b"]),
            (&["a\r", "\n"], &["a\n"]),
            (&["a\r", "\r", "\n", "\n"], &["a\n", "\n", "\n"]),
            (&["\r\r\n\n"], &["\n\n\n"]),
            (&["plain", "\nnext"], &["plain", "\nnext"]),
        ];
        for (input, expected) in cases {
            let input: Vec<String> = input.iter().map(|s| s.to_string()).collect();
            let joined = input.concat().replace("\r\n", "\n").replace('\r', "\n");
            let output = normalise_line_breaks(input);
            assert_eq!(output, *expected);
            assert_eq!(output.concat(), joined);
        }
    }

    /// The exact bytes axum writes for one event.
    async fn wire(event: ChatEvent) -> String {
        let events =
            futures_util::stream::iter([Ok::<_, std::convert::Infallible>(event.to_sse("m_1", 7))]);
        let body = Sse::new(events).into_response().into_body();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("in-memory body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn token_with_leading_space_keeps_it_after_the_prefix() {
        assert_eq!(
            wire(ChatEvent::Token(" Johnson".into())).await,
            "event: token\nid: m_1:7\ndata:  Johnson\n\n"
        );
    }

    #[tokio::test]
    async fn token_with_newlines_becomes_several_data_lines() {
        assert_eq!(
            wire(ChatEvent::Token("Q3.\n\n- José".into())).await,
            "event: token\nid: m_1:7\ndata: Q3.\ndata: \ndata: - José\n\n"
        );
        assert_eq!(
            wire(ChatEvent::Token("a\r\nb\rc\n".into())).await,
            "event: token\nid: m_1:7\ndata: a\ndata: b\ndata: c\ndata: \n\n"
        );
    }

    #[tokio::test]
    async fn json_events_are_one_compact_data_line() {
        let done = ChatEvent::Done {
            message_id: "m_1".into(),
            processing_ms: 12,
            token_count: 3,
        };
        assert_eq!(
            wire(done).await,
            "event: done\nid: m_1:7\ndata: {\"messageId\":\"m_1\",\"processingMs\":12,\"tokenCount\":3}\n\n"
        );
    }
}
