//! The example page's `index.html`, served with the demo user's real token
//! in its `<meta name="cite-stream-token" content="…">`, so that the page
//! works against whatever token this server has without editing the file.
//!
//! Only a page of this server's own origin can read it: pages carry no
//! `Access-Control-Allow-Origin`, and a request naming a host this server
//! does not serve (DNS rebinding) is refused before it gets here
//! ([`crate::security`]).

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

/// `GET /chat/` and `GET /chat/index.html`.
pub async fn chat_index(State(state): State<AppState>) -> Result<Response, ApiError> {
    let path = state.examples_dir.join("chat").join("index.html");
    let html = tokio::fs::read_to_string(&path)
        .await
        .map_err(|_| ApiError::not_found())?;
    let html = match &state.demo_token {
        Some(token) => with_token(&html, token),
        None => Cow::Borrowed(html.as_str()),
    };
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // It carries a credential: never from a cache.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        html.into_owned(),
    )
        .into_response())
}

/// `html` with the `content` of its first `cite-stream-token` meta tag set
/// to `token` (HTML-escaped); unchanged if it has no such tag.
pub fn with_token<'a>(html: &'a str, token: &str) -> Cow<'a, str> {
    const NAME: &str = "name=\"cite-stream-token\"";
    const CONTENT: &str = "content=\"";
    let Some(name_at) = html.find(NAME) else {
        return Cow::Borrowed(html);
    };
    // The tag around the name attribute.
    let tag_start = html[..name_at].rfind('<').unwrap_or(0);
    let Some(tag_len) = html[tag_start..].find('>') else {
        return Cow::Borrowed(html);
    };
    let tag = &html[tag_start..tag_start + tag_len];
    let Some(content_at) = tag.find(CONTENT) else {
        return Cow::Borrowed(html);
    };
    let value_start = tag_start + content_at + CONTENT.len();
    let Some(value_len) = html[value_start..].find('"') else {
        return Cow::Borrowed(html);
    };
    let mut out = String::with_capacity(html.len() + token.len());
    out.push_str(&html[..value_start]);
    for c in token.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out.push_str(&html[value_start + value_len..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::with_token;

    #[test]
    fn replaces_only_the_token_meta_content() {
        let html = "<head>\n<meta name=\"viewport\" content=\"width=device-width\">\n  \
                    <meta name=\"cite-stream-token\" content=\"demo-token\">\n</head>";
        assert_eq!(
            with_token(html, "cs_123"),
            html.replace("demo-token", "cs_123")
        );
        assert_eq!(
            with_token(html, "a\"<b"),
            html.replace("demo-token", "a&quot;&lt;b")
        );
        // Attribute order does not matter.
        let swapped = "<meta content=\"\" name=\"cite-stream-token\">";
        assert_eq!(
            with_token(swapped, "t"),
            "<meta content=\"t\" name=\"cite-stream-token\">"
        );
        for untouched in ["<p>no meta</p>", "<meta name=\"cite-stream-token\">"] {
            assert_eq!(with_token(untouched, "t"), untouched);
        }
    }
}
