//! What keeps other web sites out (docs/protocol.md, "Reference server
//! security"):
//!
//! - [`check_host`]: a request is answered only if its `Host` is one this
//!   server serves, so a page on `evil.example` whose name an attacker
//!   re-points at 127.0.0.1 (DNS rebinding) gets 421, not the demo page
//!   and its token;
//! - [`cors`]: cross-origin reads of `/api/*` only for the origins given
//!   with `--allow-origin`, never with credentials, and never of a page;
//! - [`page_headers`]: a Content-Security-Policy the example page meets,
//!   no framing, no sniffing, no referrer.

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::Ipv6Addr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The names, besides IP literals and `localhost`, that this server
/// answers to (`--allow-host`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPolicy {
    names: Vec<String>,
}

impl HostPolicy {
    /// IP literals, `localhost`, and `names` (compared without case).
    pub fn new(names: &[String]) -> Self {
        Self {
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`)
    /// names this server. An IP literal can't be re-pointed by DNS, so any
    /// is accepted, whatever the port: a browser only sends one the user
    /// typed, or that a page on that same address linked to.
    pub fn serves(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else {
            return false;
        };
        if name.parse::<std::net::Ipv4Addr>().is_ok() || name.parse::<Ipv6Addr>().is_ok() {
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        name == "localhost" || self.names.contains(&name)
    }
}

/// The name part of a `Host` value, without the port and the brackets of
/// an IPv6 literal; `None` if it is not `host[:port]` at all.
fn host_name(host: &str) -> Option<&str> {
    let (name, port, bracketed) = match host.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            let port = if after.is_empty() {
                ""
            } else {
                after.strip_prefix(':')?
            };
            (v6, port, true)
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, port, false),
            None => (host, "", false),
        },
    };
    let port_ok = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    let name_ok = if bracketed {
        name.parse::<Ipv6Addr>().is_ok()
    } else {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    (port_ok && name_ok).then_some(name)
}

/// Middleware: 400 for no `Host` or two of them (RFC 9112 §3.2), 421
/// (RFC 9110 §15.5.20) for a `Host` this server does not serve; the rest
/// go on.
pub async fn check_host(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    match host_of(request.headers(), request.uri()) {
        Ok(host) if policy.serves(host) => next.run(request).await,
        Ok(_) => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "unknown_host",
            "this server does not serve that host name",
        )
        .into_response(),
        Err(err) => err.into_response(),
    }
}

/// The one `Host` of a request; an absolute-form target's authority must
/// agree with it.
fn host_of<'a>(headers: &'a HeaderMap, uri: &axum::http::Uri) -> Result<&'a str, ApiError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        let code = if headers.contains_key(header::HOST) {
            "duplicate_host"
        } else {
            "missing_host"
        };
        return Err(ApiError::bad_request(
            code,
            "send exactly one `Host` header",
        ));
    };
    let host = host
        .to_str()
        .map_err(|_| ApiError::bad_request("bad_host", "the `Host` header is not ASCII"))?;
    if let Some(authority) = uri.authority() {
        if !authority.as_str().eq_ignore_ascii_case(host) {
            return Err(ApiError::bad_request(
                "bad_host",
                "the request target names another host than `Host`",
            ));
        }
    }
    Ok(host)
}

/// Whether the `Origin` a browser sent is one of `allowed`: each is an
/// exact origin, or `scheme://host:*` for that host on any port (local
/// development servers, and the test harnesses whose ports the OS picks).
pub fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed
        .iter()
        .any(|pattern| match pattern.strip_suffix(":*") {
            Some(prefix) => origin
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix(':'))
                .is_some_and(|port| {
                    !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
                }),
            None => pattern.eq_ignore_ascii_case(origin),
        })
}

/// `/api/*`'s CORS for the `allowed` origins ([`origin_allowed`]), or
/// `None` when there are none: then no response carries
/// `Access-Control-Allow-Origin` and a browser lets no other origin read
/// anything. Credentials are never allowed: the bearer token is sent by
/// the calling script, never by the browser on its own.
pub fn cors(allowed: &[String]) -> Option<CorsLayer> {
    if allowed.is_empty() {
        return None;
    }
    let allowed = allowed.to_vec();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origin
                    .to_str()
                    .is_ok_and(|origin| origin_allowed(&allowed, origin))
            }))
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            // So that a page on an allowed origin can name an export's download
            // and resume an answer cut before its `session` event.
            .expose_headers([header::CONTENT_DISPOSITION, crate::chat::MESSAGE_ID_HEADER])
            .max_age(Duration::from_secs(600)),
    )
}

/// The example page's policy: its own scripts (and the module it
/// compiles: `wasm-unsafe-eval` allows WebAssembly, not `eval`), its own
/// stylesheet, its own API, nothing inline, no plugins, no framing.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Middleware: the security headers on every response (pages, files and
/// API alike: on JSON they cost nothing and forbid the same).
pub async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // No other origin may load these bytes as a script, image or frame.
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether `text` is an origin `--allow-origin` can take: `http` or
/// `https`, a host, an optional port (or `:*` for any), nothing else (what
/// a browser sends in `Origin`).
pub fn is_origin(text: &str) -> bool {
    let text = text.strip_suffix(":*").unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
    else {
        return false;
    };
    !rest.is_empty() && !rest.contains('/') && host_name(rest).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_localhost_and_the_named_hosts_are_served() {
        let policy = HostPolicy::new(&["chat.internal".to_owned()]);
        for served in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "10.1.2.3:80",
            "[::1]:8787",
            "[::1]",
            "localhost:8787",
            "LOCALHOST",
            "localhost.",
            "chat.internal:443",
            "Chat.Internal",
        ] {
            assert!(policy.serves(served), "{served}");
        }
        for refused in [
            "evil.example:8787",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "chat.internal.evil",
            "",
            ":8787",
            "127.0.0.1:port",
            "127.0.0.1:123456",
            "[::1",
            "::1",
            "a b",
            "host/path",
            "user@127.0.0.1",
        ] {
            assert!(!policy.serves(refused), "{refused}");
        }
    }

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        for good in [
            "http://127.0.0.1:5173",
            "https://app.example",
            "http://[::1]:3000",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "127.0.0.1:5173",
            "http://",
            "http://a/",
            "ftp://a",
            "*",
            "null",
            "http://a:b",
            "http://*",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
        assert!(is_origin("http://127.0.0.1:*"));
    }

    #[test]
    fn any_port_patterns_match_only_that_scheme_and_host() {
        let allowed = [
            "http://127.0.0.1:*".to_owned(),
            "https://app.example".to_owned(),
        ];
        for yes in [
            "http://127.0.0.1:5173",
            "http://127.0.0.1:1",
            "https://app.example",
            "HTTPS://APP.EXAMPLE",
        ] {
            assert!(origin_allowed(&allowed, yes), "{yes}");
        }
        for no in [
            "http://127.0.0.1",
            "http://127.0.0.1:",
            "https://127.0.0.1:5173",
            "http://127.0.0.10:5173",
            "http://127.0.0.1:5173.evil.example",
            "http://127.0.0.1:123456",
            "https://app.example:8443",
            "null",
        ] {
            assert!(!origin_allowed(&allowed, no), "{no}");
        }
        assert!(!origin_allowed(&[], "http://127.0.0.1:5173"));
    }
}
