//! The HTTP surface: routes, the security layers ([`crate::security`]) and
//! static files, built by [`app`] so tests can mount it on any listener,
//! and the state its handlers share.

use crate::chat::live::{Live, DEFAULT_RESUME_WINDOW};
use crate::chat::{self, request::MAX_BODY_BYTES};
use crate::config::Config;
use crate::corpus::{Corpus, CorpusError};
use crate::monitor::Monitor;
use crate::security::{self, HostPolicy};
use crate::shutdown::Shutdown;
use crate::store::{DemoUser, Store, StoreError};
use crate::streams::{StreamLimiter, DEFAULT_MAX_STREAMS_PER_USER};
use crate::{error, page, serve, sessions, static_files};
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{delete, get, post};
use axum::Router;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
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
    /// The demo user's token, put on the example page; `None` serves the
    /// page as it is on disk. Held in memory only: the store has its hash.
    pub demo_token: Option<String>,
    /// Origins whose pages may read `/api/*` (`--allow-origin`, see
    /// [`security::origin_allowed`]); none by default.
    pub allowed_origins: Vec<String>,
    /// The host names answered besides IP literals and `localhost`
    /// (`--allow-host`).
    pub hosts: Arc<HostPolicy>,
    /// Tells open streams when a shutdown's drain is over.
    pub shutdown: Shutdown,
    /// The answers being generated, paused, or just ended: what
    /// `…/stop` and `…/stream` act on.
    pub live: Arc<Live>,
    /// How long an answer stays resumable after its reader went away or
    /// after it ended (`--resume-window-ms`).
    pub resume_window: Duration,
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
    /// directories, stream limit and resume window, and test mode off. It
    /// adds no user.
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
            demo_token: None,
            allowed_origins: Vec::new(),
            hosts: Arc::new(HostPolicy::default()),
            shutdown: Shutdown::new(),
            live: Live::new(),
            resume_window: DEFAULT_RESUME_WINDOW,
        }
    }

    /// State for a parsed command line, with the bundled corpus and the
    /// database it names, and the demo user (returned too, with the token
    /// it has from this start) and the `--user`s in it.
    pub fn from_config(config: &Config) -> Result<(Self, DemoUser), StartError> {
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
            demo_token: Some(demo.token.clone()),
            allowed_origins: config.allowed_origins.clone(),
            hosts: Arc::new(HostPolicy::new(&config.allowed_hosts)),
            shutdown: Shutdown::new(),
            live: Live::new(),
            resume_window: config.resume_window,
        };
        Ok((state, demo))
    }
}

/// The whole application: the API (with CORS for the allowed origins
/// only), the example page and the npm package (never readable by another
/// origin), all behind the `Host` check and with the security headers.
pub fn app(state: AppState) -> Router {
    // `ServeDir` maps the request path onto the directory, so serving the
    // examples root on `/chat…` gives `/chat/` = `<examples>/chat/`, and
    // `/chat` gets ServeDir's redirect to `/chat/` (the page's relative URLs
    // need the slash). The page itself is served with the demo token in it.
    let examples = ServeDir::new(&state.examples_dir);
    let files = Router::new()
        .route_service("/chat", examples.clone())
        .route("/chat/", get(page::chat_index))
        .route("/chat/index.html", get(page::chat_index))
        .route_service("/chat/{*path}", examples)
        .nest_service("/pkg", ServeDir::new(&state.pkg_dir))
        .layer(middleware::from_fn(static_files::guard));
    let api = Router::new()
        .route(
            "/api/chat",
            post(chat::chat)
                .fallback(error::method_not_allowed)
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
        .route(
            "/api/chat/{id}/stop",
            post(chat::answers::stop).fallback(error::method_not_allowed),
        )
        .route(
            "/api/chat/{id}/stream",
            get(chat::answers::stream).fallback(error::method_not_allowed),
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
        .route("/api/{*rest}", axum::routing::any(error::not_found));
    // Only in test mode; otherwise the path is as unknown as any other.
    let api = if state.test_mode {
        api.route(
            "/api/_test/answers/{id}",
            get(chat::observe::answer).fallback(error::method_not_allowed),
        )
        .route(
            "/api/_test/answers/{id}/drop",
            post(chat::observe::drop_reader).fallback(error::method_not_allowed),
        )
    } else {
        api
    };
    let api = api
        // Before the token is read: a body announced too big is refused
        // unread. Inside CORS, so an allowed page can read the 413.
        .layer(middleware::from_fn(serve::refuse_announced_oversize));
    let api = match security::cors(&state.allowed_origins) {
        Some(cors) => api.layer(cors),
        None => api,
    };
    let hosts = Arc::clone(&state.hosts);
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/chat/") }))
        .merge(files)
        .merge(api)
        .fallback(error::not_found)
        .with_state(state)
        .layer(middleware::from_fn(security::page_headers))
        .layer(middleware::from_fn_with_state(hosts, security::check_host))
}
