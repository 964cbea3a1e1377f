//! A session as a download: Markdown for people, JSON for programs.

use crate::error::ApiError;
use crate::model::Role;
use crate::store::{SessionSummary, StoredMessage};
use std::fmt::Write as _;

/// What `?format=` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `md`.
    Markdown,
    /// `json`.
    Json,
}

impl Format {
    /// The `format` parameter of a query string; 400 `invalid_format` when
    /// it is missing or neither `md` nor `json`.
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        let value = query
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("format="));
        match value {
            Some("md") => Ok(Self::Markdown),
            Some("json") => Ok(Self::Json),
            _ => Err(ApiError::bad_request(
                "invalid_format",
                "`format` must be `md` or `json`",
            )),
        }
    }

    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Json => "json",
        }
    }
}

/// The transcript: a heading per question, the answer as it was streamed
/// (inline citations included), a note if it was stopped or failed, then
/// its sources.
pub fn markdown(session: &SessionSummary, messages: &[StoredMessage]) -> String {
    let mut out = String::new();
    // `write!` into a String cannot fail; its results are ignored for that reason.
    let _ = writeln!(out, "# {}\n", session.title);
    let _ = writeln!(
        out,
        "Session `{}`, started {}, {} messages.\n",
        session.id,
        session.created_at,
        messages.len()
    );
    for message in messages {
        match message.role {
            Role::User => {
                let _ = writeln!(out, "## Question\n\n{}\n", message.text);
            }
            Role::Assistant => {
                let _ = writeln!(out, "### Answer\n\n{}\n", message.text);
                if message.stopped {
                    let _ = writeln!(out, "*Stopped before the answer was complete.*\n");
                }
                if let Some(error) = &message.error {
                    let _ = writeln!(
                        out,
                        "_The answer failed: {} ({})_\n",
                        error.message, error.code
                    );
                }
                if !message.citations.is_empty() {
                    let _ = writeln!(out, "Sources:\n");
                    for c in &message.citations {
                        let _ = writeln!(
                            out,
                            "- [{}, {}] {}: “{}”",
                            c.timestamp, c.speaker, c.conversation_title, c.quote
                        );
                    }
                    out.push('\n');
                }
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Citation;
    use crate::store::{AnswerError, Timestamp};

    #[test]
    fn format_comes_from_the_query() {
        assert_eq!(
            Format::from_query(Some("format=md")).ok(),
            Some(Format::Markdown)
        );
        assert_eq!(
            Format::from_query(Some("x=1&format=json")).ok(),
            Some(Format::Json)
        );
        for bad in [
            None,
            Some(""),
            Some("format=pdf"),
            Some("format=MD"),
            Some("fmt=md"),
        ] {
            assert_eq!(
                Format::from_query(bad).map_err(|e| e.code),
                Err("invalid_format")
            );
        }
    }

    #[test]
    fn markdown_transcript_lists_sources_stops_and_failures() {
        let session = SessionSummary {
            id: "s_1".into(),
            title: "Budget".into(),
            created_at: Timestamp(0),
            updated_at: Timestamp(1),
            message_count: 4,
        };
        let message = |role, text: &str, stopped, citations| StoredMessage {
            id: "m".into(),
            role,
            text: text.into(),
            citations,
            stopped,
            streaming: false,
            error: None,
            created_at: Timestamp(0),
        };
        let citation = Citation {
            id: "c1".into(),
            conversation_id: "c_acme".into(),
            conversation_title: "Acme discovery call".into(),
            timestamp: "12:45".into(),
            seconds: 765,
            speaker: "Sarah Johnson".into(),
            quote: "No budget until Q3.".into(),
        };
        let md = markdown(
            &session,
            &[
                message(Role::User, "Who has budget?", false, vec![]),
                message(
                    Role::Assistant,
                    "Sarah [12:45, Sarah Johnson]",
                    true,
                    vec![citation],
                ),
                message(Role::User, "And churn?", false, vec![]),
                StoredMessage {
                    error: Some(AnswerError {
                        code: "llm_failed".into(),
                        message: "The model failed".into(),
                    }),
                    ..message(Role::Assistant, "Two accounts", false, vec![])
                },
            ],
        );
        assert_eq!(
            md,
            "# Budget\n\nSession `s_1`, started 1970-01-01T00:00:00.000Z, 4 messages.\n\n\
             ## Question\n\nWho has budget?\n\n### Answer\n\nSarah [12:45, Sarah Johnson]\n\n\
             *Stopped before the answer was complete.*\n\nSources:\n\n\
             - [12:45, Sarah Johnson] Acme discovery call: “No budget until Q3.”\n\n\
             ## Question\n\nAnd churn?\n\n### Answer\n\nTwo accounts\n\n\
             _The answer failed: The model failed (llm_failed)_\n"
        );
    }
}
