//! Other servers' streams: an [`Adapter`] turns each SSE event of a
//! foreign stream (OpenAI, Anthropic, the Vercel AI SDK) into the six
//! protocol events, so that the pipeline treats it exactly as a stream of
//! this protocol. A preset is a small state machine over the host's
//! [`Json`]; a host may bring its own adapter (the JS `Adapter` object).
//!
//! Until an event has been recognised as the format's, an event that is
//! not (not JSON, a type the format does not have) means the stream is of
//! another format. After that, unknown event types are ignored, as the
//! providers ask, and a known one of the wrong shape is an error.

mod ai_sdk;
mod anthropic;
mod openai;
#[cfg(test)]
mod tests;

use std::fmt;
use std::marker::PhantomData;

use super::protocol::{ChatEvent, DoneInfo, Json, ServerErrorInfo, SessionInfo};

/// The stream formats an adapter reads.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenAI Chat Completions with `stream: true`.
    OpenAiChat,
    /// The OpenAI Responses API's stream.
    OpenAiResponses,
    /// The Anthropic Messages API's stream.
    Anthropic,
    /// The Vercel AI SDK UI message stream.
    AiSdk,
    /// An adapter the host brought.
    Custom,
}

impl Format {
    /// The preset's name, as `streamChat({ adapter })` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::OpenAiChat => "openai-chat",
            Format::OpenAiResponses => "openai-responses",
            Format::Anthropic => "anthropic",
            Format::AiSdk => "ai-sdk",
            Format::Custom => "custom",
        }
    }

    /// The preset a name names (not `custom`).
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "openai-chat" => Format::OpenAiChat,
            "openai-responses" => Format::OpenAiResponses,
            "anthropic" => Format::Anthropic,
            "ai-sdk" => Format::AiSdk,
            _ => return None,
        })
    }
}

/// What was wrong with the foreign stream.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The stream is not of the format at all (its first event is another
    /// format's, or not JSON).
    Foreign,
    /// An event's data is not JSON.
    NotJson,
    /// An event of a type the format has, without the format's shape.
    Shape,
    /// The stream ended before the format's end event.
    NoEnd,
    /// The host's own adapter failed (threw, or returned no events).
    Refused,
}

/// Why an adapter could not read the stream: the format, the problem, and
/// the offending event (its number in the stream from 1, and its type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterError {
    /// The format expected.
    pub format: Format,
    /// What was wrong.
    pub problem: Problem,
    /// The offending event's number, counting every event from 1 (for
    /// [`Problem::NoEnd`], the number of events seen).
    pub index: u32,
    /// The offending event's type: the `type` of its JSON when it has one,
    /// else the SSE event type (empty for [`Problem::NoEnd`]).
    pub event: String,
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = self.format.name();
        let (index, event) = (self.index, &self.event);
        match self.problem {
            Problem::Foreign => write!(
                f,
                "expected a {format} stream: event {index} (`{event}`) is not one"
            ),
            Problem::NotJson => write!(f, "{format}: event {index} (`{event}`) is not JSON"),
            Problem::Shape => write!(
                f,
                "{format}: event {index} (`{event}`) does not have the format's shape"
            ),
            Problem::NoEnd => write!(f, "{format}: the stream ended without its end event"),
            Problem::Refused => write!(f, "{format}: the adapter failed on event {index}"),
        }
    }
}

impl std::error::Error for AdapterError {}

/// One SSE event of a foreign stream, decoded.
#[derive(Debug, Clone, Copy)]
pub struct ForeignEvent<'a> {
    /// The SSE event type (`message` when the stream named none).
    pub event_type: &'a str,
    /// The data lines joined with LF.
    pub data: &'a str,
    /// The last event ID.
    pub id: &'a str,
}

/// Turns the SSE events of a foreign stream into protocol events.
pub trait Adapter {
    /// The format read, for errors.
    fn format(&self) -> Format;
    /// Appends the protocol events this SSE event makes (often none).
    fn event(
        &mut self,
        event: ForeignEvent<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), AdapterError>;
}

/// The longest event type an error carries.
const NAME_BYTES: usize = 64;

fn short(name: &str) -> String {
    let mut end = name.len().min(NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// What a preset has seen so far: what the synthesized events need.
#[derive(Debug, Default)]
struct State {
    /// Events seen, for naming the offending one.
    events: u32,
    /// An event of the format has been seen.
    recognised: bool,
    /// The `session` event was made.
    session: bool,
    message_id: String,
    tokens: u64,
}

/// What one event of a format makes, written by the format's reader.
struct Emit<'a> {
    state: &'a mut State,
    out: &'a mut Vec<ChatEvent>,
}

impl Emit<'_> {
    /// The answer's message, with the provider's id when it has one.
    #[inline(never)]
    fn start(&mut self, message_id: Option<String>) {
        if self.state.session {
            return;
        }
        self.state.session = true;
        if let Some(id) = message_id {
            self.state.message_id = id;
        }
        self.out.push(ChatEvent::Session(SessionInfo {
            session_id: String::new(),
            message_id: self.state.message_id.clone(),
        }));
    }

    #[inline(never)]
    fn text(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        self.start(None);
        self.state.tokens += 1;
        self.out.push(ChatEvent::Token(text));
    }

    #[inline(never)]
    fn done(&mut self) {
        self.start(None);
        self.out.push(ChatEvent::Done(DoneInfo {
            message_id: self.state.message_id.clone(),
            processing_ms: 0.0,
            token_count: self.state.tokens,
        }));
    }

    #[inline(never)]
    fn error(&mut self, code: Option<String>, message: Option<String>, retryable: bool) {
        self.start(None);
        self.out.push(ChatEvent::Error(ServerErrorInfo {
            code: code.unwrap_or_else(|| "error".into()),
            message: message.unwrap_or_default(),
            retryable,
        }));
    }
}

/// How a format's reader judged an event it could not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reject {
    /// Not an event of this format: another format's, before the stream
    /// was recognised; ignored after.
    Unknown,
    /// A type this format has, of the wrong shape.
    Shape,
}

/// A format's reader: one parsed event in, its protocol events out;
/// `name` is set to the event's `type` when it has one.
type Read<J> = fn(&J, &mut Emit<'_>, &mut String) -> Result<(), Reject>;

/// One of the built-in formats, over the host's JSON.
pub struct Preset<J> {
    format: Format,
    state: State,
    read: Read<J>,
    /// The format's end sentinel (`data: [DONE]`) is not JSON.
    done_sentinel: bool,
    json: PhantomData<fn() -> J>,
}

impl<J> fmt::Debug for Preset<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Preset")
            .field("format", &self.format)
            .finish()
    }
}

impl<J: Json> Preset<J> {
    /// The preset for `format`; `None` for [`Format::Custom`].
    pub fn new(format: Format) -> Option<Preset<J>> {
        let (read, done_sentinel): (Read<J>, bool) = match format {
            Format::OpenAiChat => (openai::chat::<J>, true),
            Format::OpenAiResponses => (openai::responses::<J>, false),
            Format::Anthropic => (anthropic::messages::<J>, false),
            Format::AiSdk => (ai_sdk::ui_message::<J>, true),
            Format::Custom => return None,
        };
        Some(Preset {
            format,
            state: State::default(),
            read,
            done_sentinel,
            json: PhantomData,
        })
    }

    fn fail(&self, problem: Problem, event: &str) -> AdapterError {
        AdapterError {
            format: self.format,
            problem,
            index: self.state.events,
            event: short(event),
        }
    }
}

impl<J: Json> Adapter for Preset<J> {
    fn format(&self) -> Format {
        self.format
    }

    fn event(
        &mut self,
        event: ForeignEvent<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), AdapterError> {
        self.state.events = self.state.events.saturating_add(1);
        let recognised = self.state.recognised;
        if self.done_sentinel && event.data == "[DONE]" {
            if !recognised {
                return Err(self.fail(Problem::Foreign, event.event_type));
            }
            Emit {
                state: &mut self.state,
                out,
            }
            .done();
            return Ok(());
        }
        let Some(json) = J::parse(event.data) else {
            let problem = if recognised {
                Problem::NotJson
            } else {
                Problem::Foreign
            };
            return Err(self.fail(problem, event.event_type));
        };
        let mut name = String::new();
        let read = self.read;
        let result = read(
            &json,
            &mut Emit {
                state: &mut self.state,
                out,
            },
            &mut name,
        );
        let name = if name.is_empty() {
            event.event_type
        } else {
            &name
        };
        match result {
            Ok(()) => {
                self.state.recognised = true;
                Ok(())
            }
            Err(Reject::Unknown) if recognised => Ok(()),
            Err(Reject::Unknown) => Err(self.fail(Problem::Foreign, name)),
            Err(Reject::Shape) if recognised => Err(self.fail(Problem::Shape, name)),
            Err(Reject::Shape) => Err(self.fail(Problem::Foreign, name)),
        }
    }
}

/// The member `name` as a string. Out of line, as are the readers' other
/// helpers: inlined into every reader they cost the wasm module kilobytes.
#[inline(never)]
fn string<J: Json>(json: &J, name: &str) -> Option<String> {
    json.member(name)?.string()
}

/// The event's `type`, recorded in `name` for errors.
#[inline(never)]
fn event_type<J: Json>(json: &J, name: &mut String) -> Option<String> {
    let found = string(json, "type")?;
    *name = found.clone();
    Some(found)
}
