//! `server-mock`: parses the command line, opens the history, binds, prints
//! the URL and the demo user's header line, serves until SIGTERM or Ctrl-C
//! ([`server_mock::serve`] drains and ends the streams), exits 0.

use server_mock::app::StartError;
use server_mock::config::{self, Command, USAGE};
use server_mock::serve::serve;
use server_mock::{app, AppState};
use std::io::Write as _;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match config::parse(std::env::args().skip(1)) {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("server-mock: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (state, demo) = match AppState::from_config(&config) {
        Ok(started) => started,
        Err(err @ StartError::Store(_)) => {
            eprintln!("server-mock: {err}");
            return ExitCode::from(3);
        }
        Err(err) => {
            eprintln!("server-mock: {err}");
            return ExitCode::FAILURE;
        }
    };
    for dir in [&state.examples_dir, &state.pkg_dir] {
        if !dir.is_dir() {
            eprintln!("server-mock: warning: {} does not exist yet", dir.display());
        }
    }

    let listener = match server_mock::listen::bind(&config.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("server-mock: cannot listen on {}: {err}", config.addr);
            return ExitCode::FAILURE;
        }
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(err) => {
            eprintln!("server-mock: cannot read the bound address: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The only two lines on stdout: scripts read the URL from the first and
    // the demo user's header from the second.
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{url}\nAuthorization: Bearer {}", demo.token)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("server-mock: could not write the URL to stdout");
    }
    drop(stdout);
    eprintln!(
        "server-mock: serving {} conversations at {url}/api/chat, demo at {url}/chat/",
        state.corpus.conversations().len()
    );
    eprintln!(
        "server-mock: history in {}; at most {} streams per user",
        state.store.location(),
        state.streams.max_per_user()
    );
    if state.test_mode {
        eprintln!(
            "server-mock: TEST MODE: chat requests may inject faults; never run this in production"
        );
    }

    let limits = config.limits.clone();
    let shutdown = state.shutdown.clone();
    let stopped = serve(listener, app(state), limits, shutdown, shutdown_signal()).await;
    if stopped.abandoned > 0 {
        eprintln!(
            "server-mock: {} connections did not close in time and were dropped",
            stopped.abandoned
        );
    }
    eprintln!("server-mock: stopped");
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
