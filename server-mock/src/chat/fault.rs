//! Fault injection for client tests: pauses, failures, cut connections and
//! chosen chunk boundaries, asked for per request with a `fault` object.
//!
//! Only a server started with `--test-mode` accepts `fault` (see
//! [`super::request`]); otherwise the request is refused, so production never
//! honours one. A request without `fault` takes the ordinary path in
//! [`super::chat`], which nothing here touches.
//!
//! A faulty answer is laid out as a list of `Step`s (events, sleeps, an
//! abort) by [`prepare`], which refuses a fault the answer can't honour
//! before anything is stored, and then played as the response body by
//! [`Prepared::respond`], which stores the answer as it ends (a cut counts
//! as the connection closing: `stopped: true`). Events are encoded by the
//! same code as on the ordinary path ([`ChatEvent::to_sse`] written by axum's
//! `Sse`), and the response carries the same headers.

mod play;

pub(crate) use play::encode;
pub use play::{prepare, Prepared};

use super::KEEP_ALIVE_INTERVAL;
use crate::corpus::parse_timestamp;
use crate::error::ApiError;
use crate::model::{fragments, Answer};
use crate::protocol::ChatEvent;
use axum::body::Bytes;
use serde::Deserialize;
use std::time::{Duration, Instant};
#[cfg(test)]
use {axum::http::StatusCode, play::Writer};

/// Longest pause or silence a fault may ask for: 10 minutes.
pub const MAX_FAULT_MS: u64 = 600_000;

/// Sleep between two writes that must reach the client as separate HTTP
/// chunks: the body is pending for a moment, so hyper flushes what it holds.
/// Also taken before a pause or silence, so that it starts once the bytes
/// before it are on their way, and before an abort, which would otherwise
/// drop whatever hyper still buffers (even the response head).
pub const FLUSH_PAUSE: Duration = Duration::from_millis(2);

/// The request's `fault` object. Every field is optional; unknown fields are
/// refused. "After N tokens" means once N `token` events are out (0: after
/// `session` and `status`, before any token), and N may not exceed the
/// answer's token count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Wait this long before sending any byte, status line and headers included.
    pub pause_before_first_byte_ms: Option<u64>,
    /// Pause this long right after the token event holding the `[` of the
    /// first inline citation (or of the one `pause_in_citation_number`
    /// names); that event never holds its `]` as well.
    pub pause_in_citation_ms: Option<u64>,
    /// Which inline citation `pause_in_citation_ms` pauses in, counting
    /// bracket groups from 1 (the default). Needs `pause_in_citation_ms`.
    pub pause_in_citation_number: Option<usize>,
    /// After this many tokens, send nothing at all (not even keep-alive)
    /// for `silence_ms`, then go on. Needs `silence_ms`.
    pub silence_after_tokens: Option<usize>,
    /// Length of the silence. Needs `silence_after_tokens`.
    pub silence_ms: Option<u64>,
    /// After this many tokens, send an `llm_failed` `error` event and end.
    pub fail_after_tokens: Option<usize>,
    /// After this many tokens, abort the connection: the chunked body ends
    /// without its last chunk, no `done`, no `error`.
    pub cut_after_tokens: Option<usize>,
    /// Byte offsets of the SSE body at which its HTTP chunks end: strictly
    /// increasing, each above 0 and below the body's length. The body is
    /// rendered whole first (no token pacing; `processingMs` measured then)
    /// and written as one HTTP/1.1 chunk per slice, [`FLUSH_PAUSE`] apart.
    /// Excludes pauses inside the stream.
    pub split_at: Option<Vec<usize>>,
    /// Stream this text as the answer instead of the model's, cut into
    /// fragments the model's way. The `citations` event still lists the
    /// model's sources, so an inline citation of this text that none of
    /// them backs reaches the client unbacked. Not empty.
    pub answer_text: Option<String>,
    /// `true`: the history refuses to store the answer (SQLite's own
    /// read-only error, for this answer only), so the stream ends with an
    /// `error` event `storage_failed` instead of `done`. Not with `splitAt`,
    /// whose body is rendered, `done` included, before it is stored.
    pub fail_storage: Option<bool>,
    /// Seqs after whose event the connection is aborted, once each, on
    /// whichever reader is attached (the POST or a resume): strictly
    /// increasing and below the answer's last seq; 0 aborts the POST's
    /// connection right after its response head, before any event. The
    /// answer takes the ordinary, resumable path ([`crate::chat::live`]),
    /// so only `answerText` may come with it.
    pub drop_at_seqs: Option<Vec<usize>>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_request", message)
}

impl Fault {
    /// Reads and checks the `fault` value of a request body.
    pub fn from_json(value: serde_json::Value) -> Result<Self, ApiError> {
        let fault: Self =
            serde_json::from_value(value).map_err(|err| invalid(format!("`fault`: {err}")))?;
        fault.check()?;
        Ok(fault)
    }

    fn check(&self) -> Result<(), ApiError> {
        if let Some(seqs) = &self.drop_at_seqs {
            if let Some(name) = self.connection_shaping() {
                return Err(invalid(format!(
                    "`fault.dropAtSeqs` can't be combined with `{name}`"
                )));
            }
            for pair in seqs.windows(2) {
                if pair[1] <= pair[0] {
                    return Err(invalid(format!(
                        "`fault.dropAtSeqs` must be strictly increasing: {} after {}",
                        pair[1], pair[0]
                    )));
                }
            }
        }
        if self.answer_text.as_deref().is_some_and(str::is_empty) {
            return Err(invalid("`fault.answerText` must not be empty"));
        }
        if self.fail_after_tokens.is_some() && self.cut_after_tokens.is_some() {
            return Err(invalid(
                "`fault`: `failAfterTokens` and `cutAfterTokens` exclude each other",
            ));
        }
        if self.pause_in_citation_number.is_some() && self.pause_in_citation_ms.is_none() {
            return Err(invalid(
                "`fault.pauseInCitationNumber` needs `pauseInCitationMs`",
            ));
        }
        if self.pause_in_citation_number == Some(0) {
            return Err(invalid("`fault.pauseInCitationNumber` counts from 1"));
        }
        if self.silence_after_tokens.is_some() != self.silence_ms.is_some() {
            return Err(invalid(
                "`fault`: `silenceAfterTokens` and `silenceMs` go together",
            ));
        }
        let durations = [
            ("pauseBeforeFirstByteMs", self.pause_before_first_byte_ms),
            ("pauseInCitationMs", self.pause_in_citation_ms),
            ("silenceMs", self.silence_ms),
        ];
        for (name, ms) in durations {
            if ms.is_some_and(|ms| ms > MAX_FAULT_MS) {
                return Err(invalid(format!("`fault.{name}` is over {MAX_FAULT_MS} ms")));
            }
        }
        if let Some(offsets) = &self.split_at {
            if self.fail_storage == Some(true) {
                return Err(invalid(
                    "`fault.splitAt` can't be combined with `failStorage`",
                ));
            }
            if self.pause_in_citation_ms.is_some() || self.silence_ms.is_some() {
                return Err(invalid(
                    "`fault.splitAt` can't be combined with pauses inside the stream",
                ));
            }
            let mut previous = 0;
            for &offset in offsets {
                if offset <= previous {
                    return Err(invalid(format!(
                        "`fault.splitAt` must be strictly increasing and above 0: {offset} after {previous}"
                    )));
                }
                previous = offset;
            }
        }
        Ok(())
    }
}

impl Fault {
    /// The first field set that shapes the connection (pauses, cuts,
    /// failures, chunking), by its JSON name; `None` for a fault of only
    /// `answerText` and `dropAtSeqs`.
    fn connection_shaping(&self) -> Option<&'static str> {
        [
            ("splitAt", self.split_at.is_some()),
            ("cutAfterTokens", self.cut_after_tokens.is_some()),
            ("failAfterTokens", self.fail_after_tokens.is_some()),
            ("silenceAfterTokens", self.silence_after_tokens.is_some()),
            ("silenceMs", self.silence_ms.is_some()),
            ("pauseInCitationMs", self.pause_in_citation_ms.is_some()),
            (
                "pauseInCitationNumber",
                self.pause_in_citation_number.is_some(),
            ),
            (
                "pauseBeforeFirstByteMs",
                self.pause_before_first_byte_ms.is_some(),
            ),
            ("failStorage", self.fail_storage.is_some()),
        ]
        .into_iter()
        .find_map(|(name, set)| set.then_some(name))
    }

    /// Whether the answer takes the ordinary, resumable path: the fault
    /// only replaces the text (`answerText`) or drops connections at
    /// chosen events (`dropAtSeqs`), or is empty.
    pub fn is_resumable(&self) -> bool {
        self.connection_shaping().is_none()
    }

    /// The `dropAtSeqs` of an answer whose last event has seq `last`;
    /// 400 if one of them is not below it.
    pub fn drops_before(&self, last: usize) -> Result<Vec<usize>, ApiError> {
        let seqs = self.drop_at_seqs.clone().unwrap_or_default();
        if let Some(seq) = seqs.iter().find(|&&seq| seq >= last) {
            return Err(invalid(format!(
                "`fault.dropAtSeqs`: {seq} is not below this answer's last seq, {last}"
            )));
        }
        Ok(seqs)
    }

    /// `answer` with its text replaced by `answerText`, if given; the
    /// fragments are cut as the model cuts them for `question`.
    pub fn rewrite(&self, answer: &mut Answer, question: &str) {
        if let Some(text) = &self.answer_text {
            answer.fragments = fragments::split(text, fragments::seed_for(question))
                .into_iter()
                .filter(|fragment| !fragment.is_empty())
                .collect();
            answer.text = text.clone();
        }
    }
}

/// The ordinary answer to one request, before any fault is applied.
#[derive(Debug)]
pub struct Script {
    /// `session` and `status` events.
    pub head: Vec<ChatEvent>,
    /// The answer's fragments, one `token` event each.
    pub fragments: Vec<String>,
    /// The `citations` event, if the answer cites anything.
    pub citations: Option<ChatEvent>,
    /// The message the events are numbered for.
    pub message_id: String,
    /// The start of `processingMs`.
    pub received_at: Instant,
    /// Pause between two `token` events.
    pub token_delay: Duration,
}

/// One thing the faulty body does, in order.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Write the next numbered event.
    Event(ChatEvent),
    /// Write the numbered `done` event, timed when it is reached.
    Done { token_count: usize },
    /// Write a `: keep-alive` comment.
    KeepAlive,
    /// Write these bytes as they are.
    Bytes(Bytes),
    /// Write nothing for this long.
    Sleep(Duration),
    /// Fail the body, which makes hyper drop the connection.
    Abort,
}

/// The ordinary stream's steps with the faults put in.
fn plan(fault: &Fault, script: Script) -> Result<Vec<Step>, ApiError> {
    let (fragments, citation_pause) = match fault.pause_in_citation_ms {
        None => (script.fragments, None),
        Some(ms) => {
            let number = fault.pause_in_citation_number.unwrap_or(1);
            let (fragments, opening) =
                split_citation(script.fragments, number).ok_or_else(|| {
                    invalid(format!(
                        "`fault.pauseInCitationMs`: this answer has no inline citation number {number}"
                    ))
                })?;
            (fragments, Some((opening + 1, Duration::from_millis(ms))))
        }
    };
    let total = fragments.len();
    let counts = [
        ("silenceAfterTokens", fault.silence_after_tokens),
        ("failAfterTokens", fault.fail_after_tokens),
        ("cutAfterTokens", fault.cut_after_tokens),
    ];
    for (name, count) in counts {
        if count.is_some_and(|n| n > total) {
            return Err(invalid(format!(
                "`fault.{name}` is past the end: this answer has {total} token events"
            )));
        }
    }

    let mut steps: Vec<Step> = script.head.into_iter().map(Step::Event).collect();
    let mut fragments = fragments.into_iter();
    let mut sent = 0;
    loop {
        // What happens once `sent` tokens are out.
        if let Some((_, pause)) = citation_pause.filter(|(after, _)| *after == sent) {
            pause_with_keep_alive(pause, &mut steps);
        }
        if let (Some(after), Some(ms)) = (fault.silence_after_tokens, fault.silence_ms) {
            if after == sent {
                steps.extend([
                    Step::Sleep(FLUSH_PAUSE),
                    Step::Sleep(Duration::from_millis(ms)),
                ]);
            }
        }
        if fault.fail_after_tokens == Some(sent) {
            steps.push(Step::Event(ChatEvent::Error {
                code: "llm_failed",
                message: "The model failed (injected)".to_owned(),
                retryable: true,
            }));
            return Ok(steps);
        }
        if fault.cut_after_tokens == Some(sent) {
            // Let hyper write out the tokens before the connection goes.
            steps.extend([Step::Sleep(FLUSH_PAUSE), Step::Abort]);
            return Ok(steps);
        }
        let Some(fragment) = fragments.next() else {
            break;
        };
        if sent > 0 && !script.token_delay.is_zero() {
            steps.push(Step::Sleep(script.token_delay));
        }
        steps.push(Step::Event(ChatEvent::Token(fragment)));
        sent += 1;
    }
    steps.extend(script.citations.map(Step::Event));
    steps.push(Step::Done { token_count: sent });
    Ok(steps)
}

/// A pause like the model's: keep-alive comments at the ordinary interval.
/// It starts after a flush, so that it is whole on the wire.
fn pause_with_keep_alive(pause: Duration, steps: &mut Vec<Step>) {
    steps.push(Step::Sleep(FLUSH_PAUSE));
    let mut left = pause;
    while left > KEEP_ALIVE_INTERVAL {
        steps.extend([Step::Sleep(KEEP_ALIVE_INTERVAL), Step::KeepAlive]);
        left -= KEEP_ALIVE_INTERVAL;
    }
    steps.push(Step::Sleep(left));
}

/// Re-cuts `fragments` so that the one holding the `[` of inline citation
/// number `number` (from 1) does not also hold its `]`, and returns them
/// with that fragment's index. `None` if the text has fewer citations.
fn split_citation(mut fragments: Vec<String>, number: usize) -> Option<(Vec<String>, usize)> {
    let (open, close) = nth_citation(&fragments.concat(), number)?;
    let mut start = 0;
    for index in 0..fragments.len() {
        let end = start + fragments[index].len();
        if open < end {
            if close < end {
                // `[` is one byte, so just after it is a character boundary.
                let rest = fragments[index].split_off(open + 1 - start);
                fragments.insert(index + 1, rest);
            }
            return Some((fragments, index));
        }
        start = end;
    }
    None
}

/// Byte offsets of the `[` and `]` of the `number`th (from 1)
/// `[TS, Speaker; …]` in `text`.
fn nth_citation(text: &str, number: usize) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut seen = 0;
    while let Some(open) = text[from..].find('[').map(|i| from + i) {
        let close = open + text[open..].find(']')?;
        let cites = text[open + 1..close].split("; ").all(|part| {
            part.split_once(", ").is_some_and(|(timestamp, speaker)| {
                parse_timestamp(timestamp).is_some()
                    && speaker.chars().next().is_some_and(char::is_alphabetic)
            })
        });
        if cites {
            seen += 1;
            if seen == number {
                return Some((open, close));
            }
            from = close + 1;
            continue;
        }
        from = open + 1;
    }
    None
}

/// `body` as writes that end at `offsets`, with a flush between them.
fn sliced(body: Bytes, offsets: &[usize], aborted: bool) -> Result<Vec<Step>, ApiError> {
    if let Some(offset) = offsets.iter().find(|&&offset| offset >= body.len()) {
        return Err(invalid(format!(
            "`fault.splitAt`: {offset} is not inside the body, which has {} bytes",
            body.len()
        )));
    }
    let mut steps = Vec::new();
    let mut start = 0;
    for &end in offsets.iter().chain([body.len()].iter()) {
        if start > 0 {
            steps.push(Step::Sleep(FLUSH_PAUSE));
        }
        steps.push(Step::Bytes(body.slice(start..end)));
        start = end;
    }
    if aborted {
        steps.extend([Step::Sleep(FLUSH_PAUSE), Step::Abort]);
    }
    Ok(steps)
}

#[cfg(test)]
mod tests;
