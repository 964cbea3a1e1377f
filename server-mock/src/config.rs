//! Command-line configuration. A handful of flags, parsed by hand.

use crate::chat::live::DEFAULT_RESUME_WINDOW;
use crate::security::is_origin;
use crate::serve::Limits;
use crate::store::{is_valid_token, Location};
use crate::streams::DEFAULT_MAX_STREAMS_PER_USER;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database file's name inside `--data-dir`.
pub const DB_FILE: &str = "cite-stream.db";

/// Printed for `--help`.
pub const USAGE: &str = "\
Usage: server-mock [OPTIONS]

Reference server for the cite-stream chat protocol.

Options:
  --addr HOST:PORT       address to listen on (default 127.0.0.1:8787; port 0 = any free port)
  --token-delay-ms N     pause between token events in milliseconds (default 30)
  --examples-dir DIR     directory whose chat/ is served at /chat/ (default <repo>/examples)
  --pkg-dir DIR          directory served at /pkg/ (default <repo>/pkg)
  --test-mode            accept a \"fault\" object in chat requests, to inject pauses,
                         failures and cut connections for client tests (never in production)
  --data-dir DIR         keep the history in DIR/cite-stream.db (default ./data)
  --db PATH              keep the history in the SQLite file PATH instead;
                         :memory: keeps it in memory until the server stops
  --demo-token TOKEN     the demo user's bearer token (default: a new random one at each
                         start; the database keeps only tokens' hashes, and the demo
                         user's history stays whatever its token)
  --user NAME:TOKEN      add a user NAME (or set its token); may be repeated
  --max-streams-per-user N
                         answers one user may stream at once; more get 429 (default 3)
  --max-connections N    connections served at once; one more gets 503 and is closed (default 512)
  --header-timeout-ms N  time for a request's line and headers, from the connect or from the
                         end of the previous response, so also how long an idle kept-alive
                         connection stays open; then it is closed (default 10000)
  --body-timeout-ms N    time for a request's whole body, from the end of its headers;
                         then 408 and the connection is closed (default 10000)
  --body-idle-timeout-ms N
                         longest silence inside a request's body; then 408 (default 5000)
  --resume-window-ms N   how long an answer whose client went away stays paused and
                         resumable (GET /api/chat/ID/stream) before it is saved as stopped,
                         and how long a finished one stays resumable (default 30000)
  --drain-ms N           after SIGTERM or Ctrl-C: how long open answers may go on streaming
                         before each ends with a `shutting_down` error (default 10000)
  --allow-origin ORIGIN  let pages on ORIGIN (http[s]://host[:port], or http[s]://host:* for
                         any port) read /api/* across origins (CORS, never with credentials);
                         may be repeated (default: none, so only this server's own pages can)
  --allow-host NAME      answer requests whose Host is NAME, besides IP addresses and
                         localhost (others get 421); may be repeated
  -h, --help             print this help

Prints two lines on stdout: the bound URL (http://HOST:PORT), then the demo
user's header, `Authorization: Bearer <token>`. Logs go to stderr.
On SIGTERM or Ctrl-C it stops accepting connections, lets answers stream
until the drain ends, saves those still going as stopped, and exits 0.

Exit status: 0 after a shutdown, 2 for a bad command line, 3 when the history
database can't be opened or written, 1 for any other failure to start.";

/// How the server was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `HOST:PORT` to bind; port 0 lets the OS choose.
    pub addr: String,
    /// Pause between two `token` events.
    pub token_delay: Duration,
    /// Directory whose `chat/` is served at `/chat/`.
    pub examples_dir: PathBuf,
    /// Directory served at `/pkg/`.
    pub pkg_dir: PathBuf,
    /// Whether chat requests may carry a `fault` to inject (client tests only).
    pub test_mode: bool,
    /// Where the history lives.
    pub database: Location,
    /// The demo user's token, if given; else the stored or a new one.
    pub demo_token: Option<String>,
    /// `--user NAME:TOKEN`s, in order.
    pub users: Vec<(String, String)>,
    /// Answers one user may stream at once.
    pub max_streams_per_user: usize,
    /// `--allow-origin`s: origins whose pages may read `/api/*`.
    pub allowed_origins: Vec<String>,
    /// `--allow-host`s: names served besides IP literals and `localhost`.
    pub allowed_hosts: Vec<String>,
    /// Connection limits and the shutdown's drain deadline.
    pub limits: Limits,
    /// How long an answer stays resumable after its reader went away or
    /// after it ended.
    pub resume_window: Duration,
}

impl Default for Config {
    /// The demo settings: local port 8787, 30 ms between tokens, the
    /// repository's `examples/` and `pkg/` next to this crate, the history
    /// in `./data/cite-stream.db`, 3 streams per user, the default
    /// [`Limits`], a 30-second resume window.
    fn default() -> Self {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let repo = crate_dir.parent().unwrap_or(crate_dir);
        Self {
            addr: "127.0.0.1:8787".to_owned(),
            token_delay: Duration::from_millis(30),
            examples_dir: repo.join("examples"),
            pkg_dir: repo.join("pkg"),
            test_mode: false,
            database: Location::File(Path::new("data").join(DB_FILE)),
            demo_token: None,
            users: Vec::new(),
            max_streams_per_user: DEFAULT_MAX_STREAMS_PER_USER,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            limits: Limits::default(),
            resume_window: DEFAULT_RESUME_WINDOW,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per process; boxing would only cost clarity"
)]
pub enum Command {
    /// Serve with this configuration.
    Serve(Config),
    /// Print [`USAGE`] and exit.
    Help,
}

/// A command line that can't be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Parses the arguments after the program name. Flags take their value as
/// the next argument or after `=` (`--addr=127.0.0.1:0`); `--test-mode` is
/// a switch and takes none.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, ConfigError> {
    let mut config = Config::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(Command::Help);
        }
        if flag == "--test-mode" {
            if inline.is_some() {
                return Err(ConfigError("--test-mode takes no value".to_owned()));
            }
            config.test_mode = true;
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| ConfigError(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--addr" => config.addr = value()?,
            "--token-delay-ms" => {
                let text = value()?;
                let ms = text
                    .parse()
                    .map_err(|_| ConfigError(format!("--token-delay-ms: not a number: {text}")))?;
                config.token_delay = Duration::from_millis(ms);
            }
            "--examples-dir" => config.examples_dir = value()?.into(),
            "--pkg-dir" => config.pkg_dir = value()?.into(),
            "--data-dir" => {
                config.database = Location::File(PathBuf::from(value()?).join(DB_FILE));
            }
            "--db" => config.database = Location::parse(&value()?),
            "--demo-token" => config.demo_token = Some(token(&flag, value()?)?),
            "--user" => {
                let text = value()?;
                let (name, secret) = text.split_once(':').ok_or_else(|| {
                    ConfigError(format!("--user: expected NAME:TOKEN, got {text}"))
                })?;
                if name.is_empty() || name.chars().any(char::is_control) {
                    return Err(ConfigError(format!("--user: not a name: {name:?}")));
                }
                config
                    .users
                    .push((name.to_owned(), token(&flag, secret.to_owned())?));
            }
            "--max-streams-per-user" => {
                let text = value()?;
                config.max_streams_per_user =
                    text.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        ConfigError(format!(
                            "--max-streams-per-user: not a positive number: {text}"
                        ))
                    })?;
            }
            "--max-connections" => {
                let text = value()?;
                config.limits.max_connections = text
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_CONNECTIONS).contains(n))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "--max-connections: not a number from 1 to {MAX_CONNECTIONS}: {text}"
                        ))
                    })?;
            }
            "--header-timeout-ms" => config.limits.header_timeout = millis(&flag, &value()?, 1)?,
            "--body-timeout-ms" => config.limits.body_timeout = millis(&flag, &value()?, 1)?,
            "--body-idle-timeout-ms" => {
                config.limits.body_idle_timeout = millis(&flag, &value()?, 1)?;
            }
            "--drain-ms" => config.limits.drain = millis(&flag, &value()?, 0)?,
            "--resume-window-ms" => config.resume_window = millis(&flag, &value()?, 0)?,
            "--allow-origin" => {
                let origin = value()?;
                if !is_origin(&origin) {
                    return Err(ConfigError(format!(
                        "--allow-origin: expected http[s]://HOST[:PORT] or http[s]://HOST:*, got {origin}"
                    )));
                }
                config.allowed_origins.push(origin);
            }
            "--allow-host" => {
                let name = value()?;
                if !is_host_name(&name) {
                    return Err(ConfigError(format!(
                        "--allow-host: not a host name: {name}"
                    )));
                }
                config.allowed_hosts.push(name);
            }
            _ => return Err(ConfigError(format!("unknown argument: {flag}"))),
        }
    }
    Ok(Command::Serve(config))
}

/// Longest duration a limit flag takes: a day. Far past any sensible
/// limit, and "now" plus it can't overflow a deadline's clock.
const MAX_LIMIT_MS: u64 = 24 * 60 * 60 * 1000;

/// Most connections `--max-connections` allows: each is a file descriptor.
const MAX_CONNECTIONS: usize = 1 << 20;

/// `text` as a number of milliseconds from `min` to [`MAX_LIMIT_MS`]. A
/// zero timeout would close every connection at once, so timeouts take
/// `min` 1; a zero drain means "end the streams at once" and is allowed.
fn millis(flag: &str, text: &str, min: u64) -> Result<Duration, ConfigError> {
    text.parse::<u64>()
        .ok()
        .filter(|ms| (min..=MAX_LIMIT_MS).contains(ms))
        .map(Duration::from_millis)
        .ok_or_else(|| {
            ConfigError(format!(
                "{flag}: not a number of milliseconds from {min} to {MAX_LIMIT_MS}: {text}"
            ))
        })
}

/// Whether `name` is a DNS name: dot-separated labels of letters, digits
/// and `-`.
fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// `text` if it can be a bearer token.
fn token(flag: &str, text: String) -> Result<String, ConfigError> {
    if is_valid_token(&text) {
        Ok(text)
    } else {
        Err(ConfigError(format!(
            "{flag}: a token is 1 to 200 of A-Z a-z 0-9 - . _ ~ + / (then = padding)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Command, ConfigError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(parse_args(&[]), Ok(Command::Serve(Config::default())));
        assert!(!Config::default().test_mode);
        let Ok(Command::Serve(config)) = parse_args(&[
            "--addr",
            "127.0.0.1:0",
            "--token-delay-ms=5",
            "--examples-dir",
            "/tmp/ex",
            "--pkg-dir=/tmp/pkg",
            "--test-mode",
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(config.addr, "127.0.0.1:0");
        assert_eq!(config.token_delay, Duration::from_millis(5));
        assert_eq!(config.examples_dir, PathBuf::from("/tmp/ex"));
        assert_eq!(config.pkg_dir, PathBuf::from("/tmp/pkg"));
        assert!(config.test_mode);
    }

    #[test]
    fn test_mode_is_a_switch_in_any_position() {
        let Ok(Command::Serve(config)) = parse_args(&["--test-mode", "--addr", "127.0.0.1:0"])
        else {
            panic!("flags should parse");
        };
        assert!(config.test_mode);
        assert_eq!(config.addr, "127.0.0.1:0");
        assert!(parse_args(&["--test-mode=yes"]).is_err());
        assert!(USAGE.contains("--test-mode"));
    }

    #[test]
    fn history_and_user_flags() {
        let Ok(Command::Serve(config)) = parse_args(&[
            "--data-dir",
            "/tmp/d",
            "--demo-token=abc",
            "--user",
            "ana:tok-a",
            "--user=bo:tok-b",
            "--max-streams-per-user",
            "5",
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(
            config.database,
            Location::File(PathBuf::from("/tmp/d/cite-stream.db"))
        );
        assert_eq!(config.demo_token.as_deref(), Some("abc"));
        assert_eq!(
            config.users,
            [
                ("ana".to_owned(), "tok-a".to_owned()),
                ("bo".to_owned(), "tok-b".to_owned())
            ]
        );
        assert_eq!(config.max_streams_per_user, 5);
        let db = |arg: &str| match parse_args(&["--db", arg]) {
            Ok(Command::Serve(config)) => Some(config.database),
            _ => None,
        };
        assert_eq!(db(":memory:"), Some(Location::Memory));
        assert_eq!(db("x.db"), Some(Location::File(PathBuf::from("x.db"))));
        assert_eq!(
            Config::default().database,
            Location::File(PathBuf::from("data/cite-stream.db"))
        );
        for bad in [
            &["--user", "nocolon"][..],
            &["--user", ":tok"],
            &["--user", "ana:"],
            &["--user", "ana:two words"],
            &["--demo-token", "a\"b"],
            &["--max-streams-per-user", "0"],
            &["--max-streams-per-user", "many"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limit_flags() {
        let Ok(Command::Serve(config)) = parse_args(&[
            "--max-connections",
            "7",
            "--header-timeout-ms=250",
            "--body-timeout-ms",
            "900",
            "--body-idle-timeout-ms=300",
            "--drain-ms",
            "0",
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(
            config.limits,
            Limits {
                max_connections: 7,
                header_timeout: Duration::from_millis(250),
                body_timeout: Duration::from_millis(900),
                body_idle_timeout: Duration::from_millis(300),
                drain: Duration::ZERO,
            }
        );
        let defaults = Config::default().limits;
        assert_eq!(defaults, Limits::default());
        assert_eq!(defaults.max_connections, 512);
        assert_eq!(defaults.header_timeout, Duration::from_secs(10));
        assert_eq!(defaults.body_timeout, Duration::from_secs(10));
        assert_eq!(defaults.body_idle_timeout, Duration::from_secs(5));
        assert_eq!(defaults.drain, Duration::from_secs(10));
        for flag in [
            "--max-connections",
            "--header-timeout-ms",
            "--body-timeout-ms",
            "--body-idle-timeout-ms",
            "--drain-ms",
        ] {
            assert!(USAGE.contains(flag), "{flag} in USAGE");
            assert!(parse_args(&[flag]).is_err(), "{flag} without a value");
            assert!(parse_args(&[flag, "soon"]).is_err(), "{flag} soon");
            assert!(parse_args(&[flag, "-1"]).is_err(), "{flag} -1");
        }
        for (flag, over) in [
            ("--max-connections", "1048577"),
            ("--header-timeout-ms", "86400001"),
            ("--body-timeout-ms", "86400001"),
            ("--body-idle-timeout-ms", "86400001"),
            ("--drain-ms", "86400001"),
        ] {
            assert!(parse_args(&[flag, over]).is_err(), "{flag} {over}");
        }
        assert!(parse_args(&["--drain-ms", "86400000", "--max-connections", "1048576"]).is_ok());
        for zero in [
            "--max-connections",
            "--header-timeout-ms",
            "--body-timeout-ms",
            "--body-idle-timeout-ms",
        ] {
            assert!(parse_args(&[zero, "0"]).is_err(), "{zero} 0");
        }
    }

    #[test]
    fn resume_window_flag() {
        assert_eq!(Config::default().resume_window, Duration::from_secs(30));
        assert!(USAGE.contains("--resume-window-ms"));
        for (args, ms) in [
            (&["--resume-window-ms", "250"][..], 250),
            (&["--resume-window-ms=0"], 0),
            (&["--resume-window-ms", "86400000"], 86_400_000),
        ] {
            let Ok(Command::Serve(config)) = parse_args(args) else {
                panic!("{args:?} should parse");
            };
            assert_eq!(config.resume_window, Duration::from_millis(ms));
        }
        for bad in [
            &["--resume-window-ms"][..],
            &["--resume-window-ms", "soon"],
            &["--resume-window-ms", "-1"],
            &["--resume-window-ms", "86400001"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_and_hosts() {
        let Ok(Command::Serve(config)) = parse_args(&[
            "--allow-origin",
            "http://127.0.0.1:5173",
            "--allow-origin=https://app.example",
            "--allow-host",
            "chat.internal",
        ]) else {
            panic!("flags should parse");
        };
        assert_eq!(
            config.allowed_origins,
            ["http://127.0.0.1:5173", "https://app.example"]
        );
        assert_eq!(config.allowed_hosts, ["chat.internal"]);
        assert!(Config::default().allowed_origins.is_empty());
        for bad in [
            &["--allow-origin", "*"][..],
            &["--allow-origin", "app.example"],
            &["--allow-origin", "http://app.example/path"],
            &["--allow-host", "a b"],
            &["--allow-host", "evil.example:80"],
            &["--allow-host", ""],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn help_and_errors() {
        assert_eq!(parse_args(&["--help"]), Ok(Command::Help));
        assert!(parse_args(&["--addr"]).is_err());
        assert!(parse_args(&["--token-delay-ms", "fast"]).is_err());
        assert!(parse_args(&["--nope"]).is_err());
        assert!(parse_args(&["serve"]).is_err());
    }
}
