//! The six typed events of the chat stream protocol, decoded from SSE
//! events. JSON payloads are parsed by a [`JsonDecoder`] the caller supplies:
//! in the browser that is the engine's own `JSON.parse`, so the wasm module
//! carries no second JSON parser.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::sse::SseEvent;

/// `session`: always first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The session the answer belongs to.
    pub session_id: String,
    /// The assistant message being streamed.
    pub message_id: String,
}

/// `status`: progress before the first token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// Human-readable progress, such as "Searching across 12 conversations...".
    pub message: String,
}

/// One source passage an answer cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Citation {
    /// The source's id within this answer.
    pub id: String,
    /// The conversation the passage comes from.
    pub conversation_id: String,
    /// That conversation's title.
    pub conversation_title: String,
    /// `M:SS`, `MM:SS` or `H:MM:SS`, as written inline.
    pub timestamp: String,
    /// The timestamp in seconds.
    pub seconds: u32,
    /// Who spoke.
    pub speaker: String,
    /// What was said.
    pub quote: String,
}

/// The payload of `citations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitationsPayload {
    /// Every source the answer cited.
    pub citations: Vec<Citation>,
}

/// `done`: the answer is complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoneInfo {
    /// The assistant message.
    pub message_id: String,
    /// Server-side processing time.
    pub processing_ms: f64,
    /// How many `token` events were sent.
    pub token_count: u64,
}

/// `error`: the server failed after streaming began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerErrorInfo {
    /// A machine-readable code such as `llm_failed`.
    pub code: String,
    /// Human-readable text.
    pub message: String,
    /// Whether asking again may succeed.
    #[serde(default)]
    pub retryable: bool,
}

/// One protocol event.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// `session`.
    Session(SessionInfo),
    /// `status`.
    Status(StatusInfo),
    /// `token`: a fragment of answer text, verbatim.
    Token(String),
    /// `citations`.
    Citations(Vec<Citation>),
    /// `done`.
    Done(DoneInfo),
    /// `error`.
    Error(ServerErrorInfo),
}

/// The event types the protocol defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `session`.
    Session,
    /// `status`.
    Status,
    /// `token`.
    Token,
    /// `citations`.
    Citations,
    /// `done`.
    Done,
    /// `error`.
    Error,
}

impl EventKind {
    /// The kind an SSE event type names; `None` for types this version of
    /// the protocol does not know, which clients ignore.
    pub fn from_type(event_type: &str) -> Option<EventKind> {
        Some(match event_type {
            "session" => EventKind::Session,
            "status" => EventKind::Status,
            "token" => EventKind::Token,
            "citations" => EventKind::Citations,
            "done" => EventKind::Done,
            "error" => EventKind::Error,
            _ => return None,
        })
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Session => "session",
            EventKind::Status => "status",
            EventKind::Token => "token",
            EventKind::Citations => "citations",
            EventKind::Done => "done",
            EventKind::Error => "error",
        }
    }
}

/// A known event whose payload does not have the protocol's shape.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// The `data` of this event is not the JSON the protocol defines for it.
    MalformedPayload(EventKind),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::MalformedPayload(kind) => {
                write!(
                    f,
                    "the data of a `{}` event is not valid JSON of the protocol's shape",
                    kind.as_str()
                )
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Parses JSON text into a typed value. Implemented with `JSON.parse` in the
/// browser and with serde_json natively.
pub trait JsonDecoder {
    /// Parses `text`, or `None` when it is not JSON of `T`'s shape.
    fn decode<T: DeserializeOwned>(&mut self, text: &str) -> Option<T>;
}

/// Decodes one SSE event: `Ok(None)` for an event type the protocol does
/// not define.
pub fn decode_event(
    event: SseEvent,
    json: &mut impl JsonDecoder,
) -> Result<Option<ChatEvent>, ProtocolError> {
    let Some(kind) = EventKind::from_type(&event.event_type) else {
        return Ok(None);
    };
    let malformed = ProtocolError::MalformedPayload(kind);
    let data = event.data.as_str();
    let decoded = match kind {
        EventKind::Token => ChatEvent::Token(event.data),
        EventKind::Session => ChatEvent::Session(json.decode(data).ok_or(malformed)?),
        EventKind::Status => ChatEvent::Status(json.decode(data).ok_or(malformed)?),
        EventKind::Citations => {
            let payload: CitationsPayload = json.decode(data).ok_or(malformed)?;
            ChatEvent::Citations(payload.citations)
        }
        EventKind::Done => ChatEvent::Done(json.decode(data).ok_or(malformed)?),
        EventKind::Error => ChatEvent::Error(json.decode(data).ok_or(malformed)?),
    };
    Ok(Some(decoded))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// serde_json as the decoder, for native tests.
    pub(crate) struct SerdeJson;

    impl JsonDecoder for SerdeJson {
        fn decode<T: DeserializeOwned>(&mut self, text: &str) -> Option<T> {
            serde_json::from_str(text).ok()
        }
    }

    fn sse(event_type: &str, data: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: String::new(),
        }
    }

    #[test]
    fn decodes_each_event_type() {
        let decode = |t: &str, d: &str| decode_event(sse(t, d), &mut SerdeJson);
        assert_eq!(
            decode("session", r#"{"sessionId":"s_1","messageId":"m_1"}"#),
            Ok(Some(ChatEvent::Session(SessionInfo {
                session_id: "s_1".into(),
                message_id: "m_1".into()
            })))
        );
        assert_eq!(
            decode("status", r#"{"message":"Searching..."}"#),
            Ok(Some(ChatEvent::Status(StatusInfo {
                message: "Searching...".into()
            })))
        );
        assert_eq!(
            decode("token", " {not json"),
            Ok(Some(ChatEvent::Token(" {not json".into())))
        );
        let citations = r#"{"citations":[{"id":"c1","conversationId":"c_a","conversationTitle":"A","timestamp":"12:45","seconds":765,"speaker":"Sarah Johnson","quote":"q"}]}"#;
        match decode("citations", citations) {
            Ok(Some(ChatEvent::Citations(list))) => {
                assert_eq!(list.len(), 1);
                assert_eq!(list[0].seconds, 765);
                assert_eq!(list[0].speaker, "Sarah Johnson");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            decode(
                "done",
                r#"{"messageId":"m_1","processingMs":1834,"tokenCount":57}"#
            ),
            Ok(Some(ChatEvent::Done(DoneInfo {
                message_id: "m_1".into(),
                processing_ms: 1834.0,
                token_count: 57
            })))
        );
        assert_eq!(
            decode("error", r#"{"code":"llm_failed","message":"boom"}"#),
            Ok(Some(ChatEvent::Error(ServerErrorInfo {
                code: "llm_failed".into(),
                message: "boom".into(),
                retryable: false
            })))
        );
    }

    #[test]
    fn unknown_types_are_ignored_and_bad_json_is_an_error() {
        assert_eq!(decode_event(sse("message", "x"), &mut SerdeJson), Ok(None));
        assert_eq!(decode_event(sse("Token", "x"), &mut SerdeJson), Ok(None));
        assert_eq!(
            decode_event(sse("done", "{oops"), &mut SerdeJson),
            Err(ProtocolError::MalformedPayload(EventKind::Done))
        );
        assert_eq!(
            decode_event(sse("session", r#"{"sessionId":1}"#), &mut SerdeJson),
            Err(ProtocolError::MalformedPayload(EventKind::Session))
        );
    }
}
