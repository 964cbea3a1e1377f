//! Why the pipeline could not go on.

use std::fmt;

use crate::core::adapter::AdapterError;
use crate::core::protocol::ProtocolError;
use crate::core::sse::SseError;

/// Why the pipeline could not go on.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineError {
    /// The byte stream broke the event-stream rules or its size limit.
    Sse(SseError),
    /// A known event carried a payload of the wrong shape.
    Protocol(ProtocolError),
    /// Another server's stream could not be read by its adapter.
    Adapter(AdapterError),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::Sse(error) => error.fmt(f),
            PipelineError::Protocol(error) => error.fmt(f),
            PipelineError::Adapter(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for PipelineError {}

impl From<SseError> for PipelineError {
    fn from(error: SseError) -> Self {
        PipelineError::Sse(error)
    }
}

impl From<ProtocolError> for PipelineError {
    fn from(error: ProtocolError) -> Self {
        PipelineError::Protocol(error)
    }
}

impl From<AdapterError> for PipelineError {
    fn from(error: AdapterError) -> Self {
        PipelineError::Adapter(error)
    }
}
