//! `Authorization: Bearer <token>` on every API route: 401 with a JSON
//! error when it is missing or names no user.

use crate::app::AppState;
use crate::error::ApiError;
use crate::store::User;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};

/// The authenticated user making the request. As an extractor it runs
/// before the body is read, so a request without a valid token is refused
/// whatever its body.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts.headers.get(header::AUTHORIZATION))?.to_owned();
        let user = state
            .store
            .blocking(move |store| store.user_by_token(&token))
            .await?;
        user.map(Caller).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the bearer token belongs to no user",
            )
        })
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in
/// any case, RFC 9110 §11.1).
fn bearer_token(value: Option<&HeaderValue>) -> Result<&str, ApiError> {
    let Some(value) = value else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "send `Authorization: Bearer <token>`",
        ));
    };
    value
        .to_str()
        .ok()
        .and_then(|text| text.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the `Authorization` header is not `Bearer <token>`",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: Option<&'static str>) -> Result<String, &'static str> {
        let header = value.map(HeaderValue::from_static);
        bearer_token(header.as_ref())
            .map(str::to_owned)
            .map_err(|e| {
                assert_eq!(e.status, StatusCode::UNAUTHORIZED);
                e.code
            })
    }

    #[test]
    fn headers_map_to_tokens_or_codes() {
        assert_eq!(token(Some("Bearer abc")), Ok("abc".to_owned()));
        assert_eq!(token(Some("bearer  abc ")), Ok("abc".to_owned()));
        assert_eq!(token(None), Err("missing_token"));
        assert_eq!(token(Some("Basic abc")), Err("invalid_token"));
        assert_eq!(token(Some("Bearer")), Err("invalid_token"));
        assert_eq!(token(Some("Bearer   ")), Err("invalid_token"));
    }
}
