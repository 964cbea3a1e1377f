//! The static files next to the API.

use crate::support::*;
use std::time::Duration;

#[tokio::test]
async fn serves_the_example_page_and_the_package() {
    let root = tempfile::tempdir().expect("temp dir");
    let (examples, pkg) = (root.path().join("examples"), root.path().join("pkg"));
    std::fs::create_dir_all(examples.join("chat")).expect("mkdir");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(
        examples.join("chat/index.html"),
        "<!doctype html><title>chat</title>",
    )
    .expect("write");
    std::fs::write(pkg.join("cite_stream.js"), "export {};").expect("write");
    std::fs::write(pkg.join("cite_stream_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");

    let mut state = bundled_state(Duration::ZERO);
    state.examples_dir = examples;
    state.pkg_dir = pkg;
    let base = spawn(state).await;
    let get = |path: &str| client().get(format!("{base}{path}")).send();

    for path in ["/", "/chat"] {
        let response = get(path).await.expect("send");
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(response.headers()["location"], "/chat/", "{path}");
    }
    let page = get("/chat/").await.expect("send");
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    assert!(page
        .text()
        .await
        .expect("text")
        .contains("<title>chat</title>"));

    let js = get("/pkg/cite_stream.js").await.expect("send");
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript");
    let wasm = get("/pkg/cite_stream_bg.wasm").await.expect("send");
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(&wasm.bytes().await.expect("bytes")[..], b"\0asm\x01\0\0\0");

    assert_eq!(get("/pkg/missing.js").await.expect("send").status(), 404);
    // `..%2f` reaches the server undecoded; the file exists at `<root>/pkg`.
    let escape = get("/chat/..%2f..%2fpkg/cite_stream.js")
        .await
        .expect("send");
    assert_error(escape, 400, "bad_path").await;
}

#[tokio::test]
async fn the_example_page_carries_the_demo_users_token() {
    let root = tempfile::tempdir().expect("temp dir");
    let chat = root.path().join("chat");
    std::fs::create_dir_all(&chat).expect("mkdir");
    let page = "<!doctype html>\n<head>\n  <meta charset=\"utf-8\">\n  \
                <meta name=\"cite-stream-token\" content=\"demo-token\">\n</head>\n";
    std::fs::write(chat.join("index.html"), page).expect("write");
    std::fs::write(chat.join("app.js"), "// demo-token stays as written\n").expect("write");

    let mut state = bundled_state(Duration::ZERO);
    state.examples_dir = root.path().to_owned();
    let demo = state.store.demo_user(None).expect("demo user");
    state.demo_token = Some(demo.token.clone());
    let base = spawn(state).await;
    for path in ["/chat/", "/chat/index.html"] {
        let response = client()
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.expect("text");
        assert_eq!(html, page.replace("demo-token", &demo.token), "{path}");
    }
    // The token on the page is one the API accepts.
    let listed = get_json(&base, "/api/sessions", &demo.token).await;
    assert_eq!(listed["sessions"], serde_json::json!([]));
    // Other files are served as they are.
    let script = client()
        .get(format!("{base}/chat/app.js"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        script.text().await.expect("text"),
        "// demo-token stays as written\n"
    );
}
