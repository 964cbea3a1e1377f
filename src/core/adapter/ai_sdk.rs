//! The Vercel AI SDK UI message stream (`toUIMessageStreamResponse`,
//! `createUIMessageStreamResponse`; header `x-vercel-ai-ui-message-stream:
//! v1`): data-only events, each a JSON part with a `type`, then
//! `data: [DONE]`. `start` may name the message, `text-delta` carries text
//! in `delta`, `finish` ends the answer, `error` (`errorText`) and `abort`
//! fail it. Tool, reasoning, source, file and `data-*` parts are ignored.

use super::{event_type, string, Emit, Reject};
use crate::core::protocol::Json;

/// One part.
#[inline(never)]
pub(super) fn ui_message<J: Json>(
    json: &J,
    emit: &mut Emit<'_>,
    name: &mut String,
) -> Result<(), Reject> {
    let kind = event_type(json, name).ok_or(Reject::Unknown)?;
    match kind.as_str() {
        "start" => emit.start(string(json, "messageId")),
        "text-delta" => emit.text(string(json, "delta").ok_or(Reject::Shape)?),
        "finish" => emit.done(),
        "error" => {
            let text = string(json, "errorText").ok_or(Reject::Shape)?;
            emit.error(None, Some(text), false);
        }
        "abort" => emit.error(Some("aborted".into()), string(json, "reason"), false),
        "text-start" | "text-end" | "start-step" | "finish-step" | "message-metadata" | "file" => {}
        other
            if ["tool-", "reasoning-", "source-", "data-"]
                .iter()
                .any(|prefix| other.starts_with(prefix)) => {}
        _ => return Err(Reject::Unknown),
    }
    Ok(())
}
