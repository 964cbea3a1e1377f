//! The six typed events of the chat stream protocol, decoded from SSE
//! events. JSON payloads are parsed by the host through the [`Json`] trait:
//! in the browser that is the engine's own `JSON.parse`, so the wasm module
//! carries no JSON parser (nor a deserialisation framework) of its own.

use std::fmt;

use super::sse::SseEvent;

/// `session`: always first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session the answer belongs to.
    pub session_id: String,
    /// The assistant message being streamed.
    pub message_id: String,
}

/// `status`: progress before the first token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusInfo {
    /// Human-readable progress, such as "Searching across 12 conversations...".
    pub message: String,
}

/// One source passage an answer cites.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// `done`: the answer is complete.
#[derive(Debug, Clone, PartialEq)]
pub struct DoneInfo {
    /// The assistant message.
    pub message_id: String,
    /// Server-side processing time.
    pub processing_ms: f64,
    /// How many `token` events were sent.
    pub token_count: u64,
}

/// `error`: the server failed after streaming began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerErrorInfo {
    /// A machine-readable code such as `llm_failed`.
    pub code: String,
    /// Human-readable text.
    pub message: String,
    /// Whether asking again may succeed (false when the server omits it).
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
        Self::from_type_bytes(event_type.as_bytes())
    }

    /// [`from_type`](Self::from_type) on the type's bytes, undecoded: the
    /// six names are ASCII, so no decoding is needed to recognise them.
    pub fn from_type_bytes(event_type: &[u8]) -> Option<EventKind> {
        Some(match event_type {
            b"session" => EventKind::Session,
            b"status" => EventKind::Status,
            b"token" => EventKind::Token,
            b"citations" => EventKind::Citations,
            b"done" => EventKind::Done,
            b"error" => EventKind::Error,
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

/// A JSON document parsed by the host, read member by member. The browser
/// implements it over `JSON.parse`; native code over any JSON library.
pub trait Json: Sized {
    /// Parses `text`; `None` when it is not JSON.
    fn parse(text: &str) -> Option<Self>;
    /// The member `name` of an object; `None` for a missing member or a
    /// value that is not an object.
    fn member(&self, name: &str) -> Option<Self>;
    /// The value as a string, if it is one.
    fn string(&self) -> Option<String>;
    /// The value as a number, if it is one.
    fn number(&self) -> Option<f64>;
    /// The value as a boolean, if it is one.
    fn boolean(&self) -> Option<bool>;
    /// The elements of an array, if it is one.
    fn elements(&self) -> Option<Vec<Self>>;
}

fn string<J: Json>(object: &J, name: &str) -> Option<String> {
    object.member(name)?.string()
}

/// A whole number in `0..=max`, as JSON numbers carry them.
fn whole<J: Json>(object: &J, name: &str, max: f64) -> Option<f64> {
    let n = object.member(name)?.number()?;
    (n >= 0.0 && n <= max && n.fract() == 0.0).then_some(n)
}

impl SessionInfo {
    fn read<J: Json>(json: &J) -> Option<Self> {
        Some(SessionInfo {
            session_id: string(json, "sessionId")?,
            message_id: string(json, "messageId")?,
        })
    }
}

impl StatusInfo {
    fn read<J: Json>(json: &J) -> Option<Self> {
        Some(StatusInfo {
            message: string(json, "message")?,
        })
    }
}

impl Citation {
    fn read<J: Json>(json: &J) -> Option<Self> {
        Some(Citation {
            id: string(json, "id")?,
            conversation_id: string(json, "conversationId")?,
            conversation_title: string(json, "conversationTitle")?,
            timestamp: string(json, "timestamp")?,
            seconds: whole(json, "seconds", f64::from(u32::MAX))? as u32,
            speaker: string(json, "speaker")?,
            quote: string(json, "quote")?,
        })
    }
}

impl DoneInfo {
    fn read<J: Json>(json: &J) -> Option<Self> {
        let processing_ms = json.member("processingMs")?.number()?;
        Some(DoneInfo {
            message_id: string(json, "messageId")?,
            processing_ms,
            // 2^53: the largest whole number a JSON number holds exactly.
            token_count: whole(json, "tokenCount", 9_007_199_254_740_992.0)? as u64,
        })
    }
}

impl ServerErrorInfo {
    fn read<J: Json>(json: &J) -> Option<Self> {
        let retryable = match json.member("retryable") {
            None => false,
            Some(value) => value.boolean()?,
        };
        Some(ServerErrorInfo {
            code: string(json, "code")?,
            message: string(json, "message")?,
            retryable,
        })
    }
}

fn citations<J: Json>(json: &J) -> Option<Vec<Citation>> {
    json.member("citations")?
        .elements()?
        .iter()
        .map(Citation::read)
        .collect()
}

/// Decodes one SSE event: `Ok(None)` for an event type the protocol does
/// not define. Members the protocol does not define are ignored.
pub fn decode_event<J: Json>(event: SseEvent) -> Result<Option<ChatEvent>, ProtocolError> {
    match EventKind::from_type(&event.event_type) {
        Some(kind) => decode_payload::<J>(kind, event.data).map(Some),
        None => Ok(None),
    }
}

/// Decodes the data of an event of a known kind.
pub fn decode_payload<J: Json>(kind: EventKind, data: String) -> Result<ChatEvent, ProtocolError> {
    // A token's data is its text, verbatim; every other kind is JSON.
    if kind == EventKind::Token {
        return Ok(ChatEvent::Token(data));
    }
    J::parse(&data)
        .as_ref()
        .and_then(|json| read_payload(kind, json))
        .ok_or(ProtocolError::MalformedPayload(kind))
}

/// The event of a known kind whose payload is `json`, already parsed (a
/// token's is the JSON string of its text); `None` when the payload does
/// not have the protocol's shape.
pub fn read_payload<J: Json>(kind: EventKind, json: &J) -> Option<ChatEvent> {
    let read: fn(&J) -> Option<ChatEvent> = match kind {
        EventKind::Token => |json| json.string().map(ChatEvent::Token),
        EventKind::Session => |json| SessionInfo::read(json).map(ChatEvent::Session),
        EventKind::Status => |json| StatusInfo::read(json).map(ChatEvent::Status),
        EventKind::Citations => |json| citations(json).map(ChatEvent::Citations),
        EventKind::Done => |json| DoneInfo::read(json).map(ChatEvent::Done),
        EventKind::Error => |json| ServerErrorInfo::read(json).map(ChatEvent::Error),
    };
    read(json)
}

/// serde_json as the host's JSON, for native users of the pipeline (and
/// this crate's tests and benchmarks).
#[cfg(any(test, feature = "serde_json"))]
impl Json for serde_json::Value {
    fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
    fn member(&self, name: &str) -> Option<Self> {
        self.get(name).cloned()
    }
    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }
    fn elements(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) type SerdeJson = serde_json::Value;

    fn sse(event_type: &str, data: &str) -> SseEvent {
        SseEvent {
            event_type: event_type.into(),
            data: data.into(),
            last_event_id: String::new(),
        }
    }

    #[test]
    fn decodes_each_event_type() {
        let decode = |t: &str, d: &str| decode_event::<SerdeJson>(sse(t, d));
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
        assert_eq!(decode_event::<SerdeJson>(sse("message", "x")), Ok(None));
        assert_eq!(decode_event::<SerdeJson>(sse("Token", "x")), Ok(None));
        assert_eq!(
            decode_event::<SerdeJson>(sse("done", "{oops")),
            Err(ProtocolError::MalformedPayload(EventKind::Done))
        );
        assert_eq!(
            decode_event::<SerdeJson>(sse("session", r#"{"sessionId":1}"#)),
            Err(ProtocolError::MalformedPayload(EventKind::Session))
        );
    }
}
