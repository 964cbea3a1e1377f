//! The HTTP surface: routes, CORS and static files, built by [`app`] so
//! tests can mount it on any listener.

use crate::chat::{self, request::MAX_BODY_BYTES};
use crate::config::Config;
use crate::corpus::{Corpus, CorpusError};
use crate::error;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;

/// What the handlers share. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The conversations searched and cited.
    pub corpus: Arc<Corpus>,
    /// Pause between two `token` events.
    pub token_delay: Duration,
    /// Served so that `/chat/` is `<examples_dir>/chat/`.
    pub examples_dir: PathBuf,
    /// Served at `/pkg/`: the built npm package.
    pub pkg_dir: PathBuf,
    /// `--test-mode`: chat requests may carry a `fault` to inject
    /// ([`chat::fault`]); without it such a request is refused.
    pub test_mode: bool,
}

impl AppState {
    /// State for `corpus` with no token delay, the default directories and
    /// test mode off.
    pub fn new(corpus: Corpus) -> Self {
        let defaults = Config::default();
        Self {
            corpus: Arc::new(corpus),
            token_delay: Duration::ZERO,
            examples_dir: defaults.examples_dir,
            pkg_dir: defaults.pkg_dir,
            test_mode: false,
        }
    }

    /// State for a parsed command line, with the bundled corpus.
    pub fn from_config(config: &Config) -> Result<Self, CorpusError> {
        Ok(Self {
            corpus: Arc::new(Corpus::bundled()?),
            token_delay: config.token_delay,
            examples_dir: config.examples_dir.clone(),
            pkg_dir: config.pkg_dir.clone(),
            test_mode: config.test_mode,
        })
    }
}

/// The whole application: API, example page, npm package, CORS.
pub fn app(state: AppState) -> Router {
    // `ServeDir` maps the request path onto the directory, so serving the
    // examples root on `/chat…` gives `/chat/` = `<examples>/chat/`, and
    // `/chat` gets ServeDir's redirect to `/chat/` (the page's relative URLs
    // need the slash).
    let examples = ServeDir::new(&state.examples_dir);
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/chat/") }))
        .route_service("/chat", examples.clone())
        .route_service("/chat/", examples.clone())
        .route_service("/chat/{*path}", examples)
        .nest_service("/pkg", ServeDir::new(&state.pkg_dir))
        .route(
            "/api/chat",
            post(chat::chat)
                .fallback(error::method_not_allowed)
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .fallback(error::not_found)
        .with_state(state)
        .layer(cors())
}

/// Any origin may call the API with a bearer token: the token, not a cookie,
/// is the credential, so a wildcard origin gives nothing away.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .max_age(Duration::from_secs(600))
}
