//! Other origins, other host names and hostile paths, route by route, over
//! real sockets: what a page on another site, or an attacker's raw
//! request, gets back.

use crate::support::*;
use std::io::{Read as _, Write as _};
use std::time::Duration;

const OTHER_ORIGIN: &str = "http://app.example";

/// Every route, as (method, path): the pages, the package and the API.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/chat/"),
    ("GET", "/chat/index.html"),
    ("GET", "/chat/app.js"),
    ("GET", "/pkg/index.js"),
    ("POST", "/api/chat"),
    ("GET", "/api/sessions"),
    ("GET", "/api/sessions/s_x/messages"),
    ("GET", "/api/sessions/s_x/export"),
    ("DELETE", "/api/sessions/s_x"),
    ("GET", "/api/nothing-here"),
];

/// A state serving a page with the demo token in it and a package file.
fn state_with_files(root: &std::path::Path) -> server_mock::AppState {
    std::fs::create_dir_all(root.join("examples/chat")).expect("mkdir");
    std::fs::create_dir_all(root.join("pkg/snippets/glue")).expect("mkdir");
    std::fs::write(
        root.join("examples/chat/index.html"),
        "<meta name=\"cite-stream-token\" content=\"demo-token\">",
    )
    .expect("write");
    std::fs::write(root.join("examples/chat/app.js"), "export {};").expect("write");
    std::fs::write(root.join("pkg/index.js"), "export {};").expect("write");
    std::fs::write(root.join("pkg/snippets/glue/a.js"), "export {};").expect("write");
    let mut state = bundled_state(Duration::ZERO);
    state.examples_dir = root.join("examples");
    state.pkg_dir = root.join("pkg");
    state.demo_token = Some(
        state
            .store
            .demo_user(Some("secret-demo-token"))
            .expect("demo")
            .token,
    );
    state
}

fn request(base: &str, method: &str, path: &str) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let builder = client().request(method.clone(), format!("{base}{path}"));
    if method == reqwest::Method::POST {
        builder
            .header("content-type", "application/json")
            .body(r#"{"question":"budget"}"#)
    } else {
        builder
    }
}

#[tokio::test]
async fn by_default_no_route_lets_another_origin_read_it() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = spawn(state_with_files(root.path())).await;
    for &(method, path) in ROUTES {
        let response = request(&base, method, path)
            .header("origin", OTHER_ORIGIN)
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .expect("send");
        let headers = response.headers();
        assert!(
            !headers.contains_key("access-control-allow-origin"),
            "{method} {path}: {headers:?}"
        );
        assert!(!headers.contains_key("access-control-allow-credentials"));
        // Read the body whole so the stream ends.
        let _ = response.bytes().await;
        let preflight = client()
            .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
            .header("origin", OTHER_ORIGIN)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .expect("preflight");
        assert!(
            !preflight
                .headers()
                .contains_key("access-control-allow-origin"),
            "preflight {path}"
        );
    }
}

#[tokio::test]
async fn an_allowed_origin_may_read_the_api_but_never_a_page_nor_with_credentials() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut state = state_with_files(root.path());
    state.allowed_origins = vec![OTHER_ORIGIN.to_owned()];
    let base = spawn(state).await;
    for &(method, path) in ROUTES {
        let response = request(&base, method, path)
            .header("origin", OTHER_ORIGIN)
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .expect("send");
        let allowed = response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().expect("ascii").to_owned());
        let expected = path.starts_with("/api/").then(|| OTHER_ORIGIN.to_owned());
        assert_eq!(allowed, expected, "{method} {path}");
        assert!(!response
            .headers()
            .contains_key("access-control-allow-credentials"));
        let _ = response.bytes().await;
    }
    // The preflight the client's POST needs.
    let preflight = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/api/chat"))
        .header("origin", OTHER_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    let header = |name: &str| {
        preflight.headers()[name]
            .to_str()
            .expect("ascii")
            .to_ascii_lowercase()
    };
    assert_eq!(header("access-control-allow-origin"), OTHER_ORIGIN);
    assert!(header("access-control-allow-methods").contains("post"));
    let allowed_headers = header("access-control-allow-headers");
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    // Any other origin still gets nothing.
    let other = client()
        .get(format!("{base}/api/sessions"))
        .header("origin", "http://evil.example")
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .expect("send");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    // The answer's header is readable there too, for a resume before its
    // `session` event.
    let answer = client()
        .post(format!("{base}/api/chat"))
        .header("origin", OTHER_ORIGIN)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(r#"{"question":"Which customers are at risk of churning?"}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200);
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(exposed.contains("cite-stream-message-id"), "{exposed}");
    assert!(answer.headers().contains_key("cite-stream-message-id"));
    let _ = answer.bytes().await;
}

/// Sends `head` (the request line and headers, without the blank line)
/// over a plain socket and returns the status and the body.
async fn raw(base: &str, head: String) -> (u16, String) {
    let addr = base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut socket = blocking_socket(&addr);
        let head = head.replace("{addr}", &addr);
        socket
            .write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
            .expect("write");
        let mut response = Vec::new();
        let _ = socket.read_to_end(&mut response);
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {response:?}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .expect("socket thread")
}

fn error_code(body: &str) -> String {
    // The body may be chunk-encoded: the JSON is the line that parses.
    body.lines()
        .find_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .and_then(|json| json["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no JSON error in {body:?}"))
}

#[tokio::test]
async fn only_the_hosts_this_server_serves_are_answered() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = spawn(state_with_files(root.path())).await;
    let port = base.rsplit(':').next().expect("port").to_owned();
    // DNS rebinding: evil.example resolved to 127.0.0.1 sends its own name.
    for &(method, path) in ROUTES {
        let head = format!("{method} {path} HTTP/1.1\r\nHost: evil.example:{port}\r\nAuthorization: Bearer {TOKEN}");
        let (status, body) = raw(&base, head).await;
        assert_eq!(status, 421, "{method} {path}");
        assert_eq!(error_code(&body), "unknown_host");
        assert!(!body.contains("secret-demo-token"));
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "[::1]".to_owned(),
    ] {
        let (status, body) = raw(&base, format!("GET /chat/ HTTP/1.1\r\nHost: {host}")).await;
        assert_eq!(status, 200, "{host}");
        assert!(
            body.contains("secret-demo-token"),
            "the page works on {host}"
        );
    }
    let cases = [
        ("GET /chat/ HTTP/1.1".to_owned(), 400, "missing_host"),
        (
            "GET /chat/ HTTP/1.1\r\nHost: {addr}\r\nHost: {addr}".to_owned(),
            400,
            "duplicate_host",
        ),
        (
            "GET /chat/ HTTP/1.1\r\nHost: {addr}\r\nHost: evil.example".to_owned(),
            400,
            "duplicate_host",
        ),
        (
            "GET http://evil.example/chat/ HTTP/1.1\r\nHost: {addr}".to_owned(),
            400,
            "bad_host",
        ),
        (
            "GET /chat/ HTTP/1.1\r\nHost: a b".to_owned(),
            400,
            "bad_request_or_421",
        ),
    ];
    for (head, status, code) in cases {
        let (got, body) = raw(&base, head.clone()).await;
        if code == "bad_request_or_421" {
            // hyper may refuse the malformed header itself; never a page.
            assert!(got == 400 || got == 421, "{head}: {got}");
            assert!(!body.contains("secret-demo-token"));
            continue;
        }
        assert_eq!((got, error_code(&body).as_str()), (status, code), "{head}");
    }
}

#[tokio::test]
async fn pages_files_and_the_api_carry_the_security_headers() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = spawn(state_with_files(root.path())).await;
    for &(method, path) in ROUTES {
        let response = request(&base, method, path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .send()
            .await
            .expect("send");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().expect("ascii").to_owned())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        let _ = response.bytes().await;
    }
}

#[tokio::test]
async fn hostile_static_paths_get_a_json_4xx_never_a_500() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = spawn(state_with_files(root.path())).await;
    let long_name = "a".repeat(300);
    let long_path = "a/".repeat(600);
    let paths = [
        "/chat/%00".to_owned(),
        "/chat/app.js%00.html".to_owned(),
        "/pkg/%00/index.js".to_owned(),
        format!("/chat/{long_name}"),
        format!("/pkg/{long_name}.js"),
        format!("/chat/{long_path}"),
        "/chat/../pkg/index.js".to_owned(),
        "/chat/..%2fpkg/index.js".to_owned(),
        "/chat/%2e%2e/pkg/index.js".to_owned(),
        "/chat/%2E%2E%2Fpkg%2Findex.js".to_owned(),
        "/chat/%252e%252e/pkg/index.js".to_owned(),
        "/chat/..%5cpkg%5cindex.js".to_owned(),
        "/chat/%c0%ae%c0%ae/pkg/index.js".to_owned(),
        "/pkg/..%2f..%2fCargo.toml".to_owned(),
        "/pkg/snippets/..%2F..%2F..%2Fserver-mock%2FCargo.toml".to_owned(),
        "/chat/missing.js".to_owned(),
        "/pkg/missing/".to_owned(),
    ];
    for path in &paths {
        let (status, body) = raw(&base, format!("GET {path} HTTP/1.1\r\nHost: {{addr}}")).await;
        assert!((400..500).contains(&status), "{path}: {status} {body}");
        let code = error_code(&body);
        assert!(
            ["bad_path", "not_found"].contains(&code.as_str()),
            "{path}: {code}"
        );
        assert!(!body.contains("[package]"), "{path} leaked a file");
    }
    // A method the files don't take is a JSON 405 too.
    let post = client()
        .post(format!("{base}/chat/app.js"))
        .send()
        .await
        .expect("send");
    assert_error(post, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn a_directory_redirect_keeps_its_prefix() {
    let root = tempfile::tempdir().expect("temp dir");
    let base = spawn(state_with_files(root.path())).await;
    for (path, location) in [
        ("/pkg/snippets", "/pkg/snippets/"),
        ("/pkg/snippets/glue", "/pkg/snippets/glue/"),
        ("/pkg/snippets/glue?v=1", "/pkg/snippets/glue/?v=1"),
        ("/chat", "/chat/"),
    ] {
        let response = client()
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(response.headers()["location"], location, "{path}");
    }
    let file = client()
        .get(format!("{base}/pkg/snippets/glue/a.js"))
        .send()
        .await
        .expect("send");
    assert_eq!(file.status(), 200);
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data/cite-stream.db");
    let store = server_mock::store::Store::open(&server_mock::store::Location::File(path.clone()))
        .expect("open");
    store.put_user("ana", "tok-ana-plaintext").expect("user");
    let demo = store.demo_user(None).expect("demo");
    drop(store);
    let mut bytes = Vec::new();
    for file in std::fs::read_dir(path.parent().expect("dir")).expect("list") {
        bytes.extend(std::fs::read(file.expect("entry").path()).expect("read"));
    }
    for token in ["tok-ana-plaintext", demo.token.as_str()] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "{token} is in the database files"
        );
    }
    let hash = server_mock::store::token_hash("tok-ana-plaintext");
    assert!(bytes.windows(hash.len()).any(|w| w == hash.as_bytes()));
}
