//! The HTTP surface: routes, CORS and static files, built by [`app`] so
//! tests can mount it on any listener, and the state its handlers share.

use crate::chat::{self, request::MAX_BODY_BYTES};
use crate::config::Config;
use crate::corpus::{Corpus, CorpusError};
use crate::monitor::Monitor;
use crate::shutdown::Shutdown;
use crate::store::{Store, StoreError, User};
use crate::streams::{StreamLimiter, DEFAULT_MAX_STREAMS_PER_USER};
use crate::{error, page, serve, sessions};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, Method};
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{delete, get, post};
use axum::Router;
use std::fmt;
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
    /// Users, sessions and messages.
    pub store: Store,
    /// Open streams per user, against `--max-streams-per-user`.
    pub streams: Arc<StreamLimiter>,
    /// What recent answers did, for tests to observe.
    pub monitor: Arc<Monitor>,
    /// Tells open streams when a shutdown's drain is over.
    pub shutdown: Shutdown,
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// A bundled transcript does not parse.
    Corpus(CorpusError),
    /// The database could not be opened, migrated or given its users.
    Store(StoreError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Corpus(err) => write!(f, "bundled corpus is broken: {err}"),
            Self::Store(err) => write!(f, "history database: {err}"),
        }
    }
}

impl std::error::Error for StartError {}

impl AppState {
    /// State for `corpus` and `store` with no token delay, the default
    /// directories and stream limit, and test mode off. It adds no user.
    pub fn new(corpus: Corpus, store: Store) -> Self {
        let defaults = Config::default();
        Self {
            corpus: Arc::new(corpus),
            token_delay: Duration::ZERO,
            examples_dir: defaults.examples_dir,
            pkg_dir: defaults.pkg_dir,
            test_mode: false,
            store,
            streams: StreamLimiter::new(DEFAULT_MAX_STREAMS_PER_USER),
            monitor: Arc::new(Monitor::new()),
            shutdown: Shutdown::new(),
        }
    }

    /// State for a parsed command line, with the bundled corpus and the
    /// database it names, and the demo user (returned too, for its token)
    /// and the `--user`s in it.
    pub fn from_config(config: &Config) -> Result<(Self, User), StartError> {
        let corpus = Corpus::bundled().map_err(StartError::Corpus)?;
        let store = Store::open(&config.database).map_err(StartError::Store)?;
        let demo = store
            .demo_user(config.demo_token.as_deref())
            .map_err(StartError::Store)?;
        for (name, token) in &config.users {
            store.put_user(name, token).map_err(StartError::Store)?;
        }
        let state = Self {
            corpus: Arc::new(corpus),
            token_delay: config.token_delay,
            examples_dir: config.examples_dir.clone(),
            pkg_dir: config.pkg_dir.clone(),
            test_mode: config.test_mode,
            store,
            streams: StreamLimiter::new(config.max_streams_per_user),
            monitor: Arc::new(Monitor::new()),
            shutdown: Shutdown::new(),
        };
        Ok((state, demo))
    }
}

/// The whole application: API, example page, npm package, CORS.
pub fn app(state: AppState) -> Router {
    // `ServeDir` maps the request path onto the directory, so serving the
    // examples root on `/chat…` gives `/chat/` = `<examples>/chat/`, and
    // `/chat` gets ServeDir's redirect to `/chat/` (the page's relative URLs
    // need the slash). The page itself is served with the demo token in it.
    let examples = ServeDir::new(&state.examples_dir);
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/chat/") }))
        .route_service("/chat", examples.clone())
        .route("/chat/", get(page::chat_index))
        .route("/chat/index.html", get(page::chat_index))
        .route_service("/chat/{*path}", examples)
        .nest_service("/pkg", ServeDir::new(&state.pkg_dir))
        .route(
            "/api/chat",
            post(chat::chat)
                .fallback(error::method_not_allowed)
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route(
            "/api/sessions",
            get(sessions::list).fallback(error::method_not_allowed),
        )
        .route(
            "/api/sessions/{id}",
            delete(sessions::delete).fallback(error::method_not_allowed),
        )
        .route(
            "/api/sessions/{id}/messages",
            get(sessions::messages).fallback(error::method_not_allowed),
        )
        .route(
            "/api/sessions/{id}/export",
            get(sessions::export).fallback(error::method_not_allowed),
        )
        .fallback(error::not_found)
        .with_state(state)
        .layer(middleware::from_fn(serve::refuse_announced_oversize))
        .layer(cors())
}

/// Any origin may call the API with a bearer token: the token, not a cookie,
/// is the credential, so a wildcard origin gives nothing away.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        // So that a page on another origin can name an export's download.
        .expose_headers([header::CONTENT_DISPOSITION])
        .max_age(Duration::from_secs(600))
}
