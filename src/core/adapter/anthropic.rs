//! The Anthropic Messages stream (`stream: true`): named events whose data
//! repeats the name as `type`. `message_start` names the message,
//! `content_block_delta` with a `text_delta` carries text, `message_stop`
//! ends it, `error` (`{"error": {"type", "message"}}`) fails it, `ping`
//! keeps it alive. Other types (tool input, thinking, new ones) are
//! ignored, as Anthropic's versioning policy asks.

use super::{event_type, string, Emit, Reject};
use crate::core::protocol::Json;

/// One event.
#[inline(never)]
pub(super) fn messages<J: Json>(
    json: &J,
    emit: &mut Emit<'_>,
    name: &mut String,
) -> Result<(), Reject> {
    let kind = event_type(json, name).ok_or(Reject::Unknown)?;
    match kind.as_str() {
        "message_start" => {
            let message = json.member("message").ok_or(Reject::Shape)?;
            emit.start(Some(string(&message, "id").ok_or(Reject::Shape)?));
        }
        "content_block_delta" => {
            let delta = json.member("delta").ok_or(Reject::Shape)?;
            if string(&delta, "type").ok_or(Reject::Shape)? == "text_delta" {
                emit.text(string(&delta, "text").ok_or(Reject::Shape)?);
            }
        }
        "message_stop" => emit.done(),
        "error" => {
            let error = json.member("error").ok_or(Reject::Shape)?;
            let code = string(&error, "type").ok_or(Reject::Shape)?;
            let retry = matches!(code.as_str(), "overloaded_error" | "api_error");
            emit.error(Some(code), string(&error, "message"), retry);
        }
        "ping" | "content_block_start" | "content_block_stop" | "message_delta" => {}
        _ => return Err(Reject::Unknown),
    }
    Ok(())
}
