//! The OpenAI streams.
//!
//! Chat Completions (`stream: true`): data-only events, each a
//! `chat.completion.chunk` whose `choices[].delta.content` carries text,
//! then `data: [DONE]`. A failure mid-stream is an event whose data is
//! `{"error": {"message", "type", "param", "code"}}`.
//!
//! Responses (`stream: true`): typed events (`type` in the data, echoed in
//! the SSE `event` field): `response.created` names the response,
//! `response.output_text.delta` carries text in `delta`,
//! `response.completed` (or `response.incomplete`) ends it,
//! `response.failed` ends it with `response.error`, and `error` is a
//! failure of the stream itself. Other `response.*` types are ignored.

use super::{event_type, string, Emit, Reject};
use crate::core::protocol::Json;

/// Whether asking again may help, by OpenAI's error type or code.
fn retryable(code: Option<&str>) -> bool {
    matches!(code, Some("server_error" | "rate_limit_exceeded"))
}

/// `{message, type, code}`: the code, else the type.
fn error<J: Json>(object: &J, emit: &mut Emit<'_>) {
    let code = string(object, "code").or_else(|| string(object, "type"));
    let retry = retryable(code.as_deref());
    emit.error(code, string(object, "message"), retry);
}

/// One Chat Completions chunk.
#[inline(never)]
pub(super) fn chat<J: Json>(json: &J, emit: &mut Emit<'_>, _: &mut String) -> Result<(), Reject> {
    if let Some(object) = json.member("error") {
        if object.member("message").is_none() {
            return Err(Reject::Shape);
        }
        error(&object, emit);
        return Ok(());
    }
    let Some(choices) = json.member("choices") else {
        // Every chunk has `choices`; the stream has no typed events.
        return Err(if emit.state.recognised {
            Reject::Shape
        } else {
            Reject::Unknown
        });
    };
    let choices = choices.elements().ok_or(Reject::Shape)?;
    emit.start(string(json, "id"));
    for choice in &choices {
        // `n` > 1 interleaves several answers: the first one is this one.
        let index = choice.member("index").and_then(|i| i.number());
        if index.is_some_and(|i| i != 0.0) {
            continue;
        }
        let Some(delta) = choice.member("delta") else {
            return Err(Reject::Shape);
        };
        // `content` is null on a chunk of tool calls or a refusal.
        if let Some(text) = delta.member("content").and_then(|c| c.string()) {
            emit.text(text);
        }
    }
    Ok(())
}

/// One Responses event.
#[inline(never)]
pub(super) fn responses<J: Json>(
    json: &J,
    emit: &mut Emit<'_>,
    name: &mut String,
) -> Result<(), Reject> {
    let kind = event_type(json, name).ok_or(Reject::Unknown)?;
    let response = || json.member("response").ok_or(Reject::Shape);
    match kind.as_str() {
        "response.created" | "response.in_progress" => {
            emit.start(string(&response()?, "id"));
        }
        "response.output_text.delta" => {
            let delta = string(json, "delta").ok_or(Reject::Shape)?;
            emit.text(delta);
        }
        "response.completed" | "response.incomplete" => {
            let response = response()?;
            emit.start(string(&response, "id"));
            emit.done();
        }
        "response.failed" => {
            let failure = response()?.member("error").ok_or(Reject::Shape)?;
            error(&failure, emit);
        }
        "error" => {
            if json.member("message").is_none() {
                return Err(Reject::Shape);
            }
            error(json, emit);
        }
        other if other.starts_with("response.") => {}
        _ => return Err(Reject::Unknown),
    }
    Ok(())
}
