//! The example page's files (`/chat/…`) and the npm package (`/pkg/…`),
//! served by tower-http's `ServeDir` behind [`guard`], which makes every
//! refusal the protocol's JSON error and keeps ServeDir's directory
//! redirects under the prefix they were asked for.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest request path served, in bytes as sent.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest name of one path segment once decoded (the usual file system
/// limit: longer would make the OS fail the lookup).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Middleware for the static routes: 400 `bad_path` for a path no file
/// can have (NUL or other control characters, a backslash, `..` in any
/// percent-encoding, invalid UTF-8, over-long), then ServeDir, whose
/// empty-bodied errors become JSON and whose redirect from `dir` to `dir/`
/// keeps the route's prefix (ServeDir, nested, only sees the rest).
pub async fn guard(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    if let Err(why) = check_path(&path) {
        return ApiError::bad_request("bad_path", why).into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    if status.is_redirection() && response.headers().contains_key(header::LOCATION) {
        return redirect_to_dir(response, &path, query.as_deref());
    }
    match status {
        s if s.is_success() || s.is_redirection() || s == StatusCode::NOT_MODIFIED => response,
        StatusCode::NOT_FOUND => ApiError::not_found().into_response(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::method_not_allowed().into_response(),
        StatusCode::RANGE_NOT_SATISFIABLE => ApiError::new(
            status,
            "range_not_satisfiable",
            "the requested range is outside the file",
        )
        .into_response(),
        s if s.is_client_error() => ApiError::new(
            s,
            "bad_request",
            "the file can't be served for this request",
        )
        .into_response(),
        // A file that exists but can't be read (permissions): the route is
        // fine, the file is not there for the client.
        _ => {
            eprintln!("server-mock: could not serve {path}: {status}");
            ApiError::not_found().into_response()
        }
    }
}

/// The redirect ServeDir sends for a directory asked for without its
/// trailing slash, pointed at the path that was asked for plus `/`.
fn redirect_to_dir(mut response: Response, path: &str, query: Option<&str>) -> Response {
    let target = match query {
        Some(query) => format!("{path}/?{query}"),
        None => format!("{path}/"),
    };
    match HeaderValue::try_from(target) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => ApiError::not_found().into_response(),
    }
}

/// Why `path` (as sent, percent-encoded) can name no file, if it can't.
fn check_path(path: &str) -> Result<(), &'static str> {
    if path.len() > MAX_PATH_BYTES {
        return Err("the path is too long");
    }
    // Decoded until nothing changes, so `%252e%252e` is caught like `..`:
    // whatever layer decodes it next, it never becomes a parent directory.
    let mut current = path.as_bytes().to_vec();
    for _ in 0..4 {
        let decoded: Vec<u8> = percent_encoding::percent_decode(&current).collect();
        let text = std::str::from_utf8(&decoded).map_err(|_| "the path is not UTF-8")?;
        if text.chars().any(char::is_control) {
            return Err("the path holds a control character");
        }
        if text.contains('\\') {
            return Err("the path holds a backslash");
        }
        if text.split('/').any(|segment| segment == "..") {
            return Err("the path leaves its directory");
        }
        if text
            .split('/')
            .any(|segment| segment.len() > MAX_SEGMENT_BYTES)
        {
            return Err("a name in the path is too long");
        }
        if decoded == current {
            return Ok(());
        }
        current = decoded;
    }
    Err("the path is encoded too many times")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_no_file_can_have_are_refused() {
        for good in [
            "/chat/",
            "/chat/app.js",
            "/pkg/snippets/cite-stream-abc/js/glue.js",
            "/chat/a%20b.js",
            "/chat/%C3%A9t%C3%A9.css",
            "/chat/x..y",
            "/chat/100%",
        ] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
        let long_name = format!("/chat/{}", "a".repeat(MAX_SEGMENT_BYTES + 1));
        let long_path = format!("/chat/{}", "a/".repeat(MAX_PATH_BYTES));
        for bad in [
            "/chat/%00",
            "/chat/a%00.js",
            "/chat/%0a",
            "/chat/../pkg/x.js",
            "/chat/%2e%2e/pkg/x.js",
            "/chat/%2E%2e%2fpkg",
            "/chat/..%2f..%2fpkg/cite_stream.js",
            "/chat/%252e%252e/x",
            "/chat/%25252e%25252e/x",
            "/chat/..%5cx",
            "/chat/a\\b",
            "/chat/%c0%ae%c0%ae/x",
            "/chat/%ff",
            long_name.as_str(),
            long_path.as_str(),
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
