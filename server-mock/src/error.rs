//! The JSON error returned, instead of a stream, for a request that can't be
//! served: `{"error": {"code": "…", "message": "…"}}` (docs/protocol.md, "One request, one streamed response").

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// An HTTP error with a stable machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Stable code clients may branch on, e.g. `missing_question`.
    pub code: &'static str,
    /// Text for a human reading logs.
    pub message: String,
}

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400: the request can't be understood.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 for a path the server has no route for.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }

    /// 404 for a session that does not exist or is another user's: the
    /// two are not told apart, so ids of others' sessions can't be probed.
    pub fn session_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "session_not_found",
            "no such session for this user",
        )
    }

    /// 404 for a message that does not exist, is a question, or is
    /// another user's: the three are not told apart.
    pub fn message_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "message_not_found",
            "no such answer for this user",
        )
    }

    /// 405 for a route that exists under another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this resource does not accept that method",
        )
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme the client should use.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"cite-stream\""),
            );
        }
        response
    }
}

/// Fallback handler: JSON 404 for any unknown path.
pub async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Fallback handler: JSON 405 for a known path with an unsupported method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
