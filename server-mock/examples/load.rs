//! Load: many concurrent chat streams against one reference server.
//!
//! Starts the server in this process on 127.0.0.1 (an OS-chosen port, an
//! in-memory history), opens every stream at once, reads each with the
//! client library's own event-stream parser, and checks that each answer
//! arrived complete and exact: its `token` data joined is the model's text
//! for that question, its `citations` the model's, and it ends with `done`
//! counting every token. Prints the figures and exits by itself (non-zero if
//! any stream failed or the run overran its time limit).
//!
//!     cargo run --release -p server-mock --example load
//!     cargo run --release -p server-mock --example load -- --streams 200 --token-delay-ms 30
//!
//! Streams are spread over enough users to stay within the per-user limit.

use cite_stream::core::sse::{EventStreamParser, SseEvent};
use server_mock::corpus::Corpus;
use server_mock::store::Store;
use server_mock::streams::{StreamLimiter, DEFAULT_MAX_STREAMS_PER_USER};
use server_mock::{app, model, AppState};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUESTIONS: &[&str] = &[
    "Which prospects mentioned budget constraints?",
    "Who raised security or compliance concerns?",
    "What did Zoë say about data residency?",
    "Which calls talked about pricing and discounts?",
    "Who is the decision maker at each account?",
    "Which customers mentioned a competitor?",
    "What integration requirements came up?",
    "Which accounts are at risk of churning?",
    "When do the customers want to go live?",
    "What did people say about onboarding and training?",
];

/// The whole run may take this long; past it, it stops and fails.
const TIME_LIMIT: Duration = Duration::from_secs(300);

struct Options {
    streams: usize,
    token_delay: Duration,
    per_user: usize,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        streams: 500,
        token_delay: Duration::from_millis(5),
        per_user: DEFAULT_MAX_STREAMS_PER_USER,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: not a number: {value}"))?;
        match flag.as_str() {
            "--streams" => options.streams = number as usize,
            "--token-delay-ms" => options.token_delay = Duration::from_millis(number),
            "--per-user" => options.per_user = (number as usize).max(1),
            _ => return Err(format!("unknown argument: {flag}")),
        }
    }
    Ok(options)
}

/// What the model says to a question, as the stream must carry it.
struct Expected {
    text: String,
    citations: serde_json::Value,
    tokens: usize,
}

/// One stream's times: to the first `token` event and to the end.
struct Timing {
    first_token: Duration,
    total: Duration,
    tokens: usize,
}

async fn one_stream(
    client: reqwest::Client,
    url: String,
    token: String,
    question: &'static str,
    expected: Arc<Expected>,
) -> Result<Timing, String> {
    let started = Instant::now();
    let mut response = client
        .post(url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .body(serde_json::json!({ "question": question }).to_string())
        .send()
        .await
        .map_err(|err| format!("request: {err}"))?;
    if response.status() != 200 {
        return Err(format!("status {}", response.status()));
    }
    let mut parser = EventStreamParser::new(1 << 20);
    let mut events: Vec<SseEvent> = Vec::new();
    let mut first_token = None;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| format!("body: {err}"))?
    {
        parser
            .feed(&chunk, &mut |event| events.push(event))
            .map_err(|err| format!("parse: {err:?}"))?;
        if first_token.is_none() && events.iter().any(|e| e.event_type == "token") {
            first_token = Some(started.elapsed());
        }
    }
    parser.finish().map_err(|err| format!("parse: {err:?}"))?;
    let total = started.elapsed();

    let text: String = events
        .iter()
        .filter(|e| e.event_type == "token")
        .map(|e| e.data.as_str())
        .collect();
    let tokens = events.iter().filter(|e| e.event_type == "token").count();
    if text != expected.text {
        return Err(format!("answer differs for {question:?}"));
    }
    let data = |kind: &str| -> Result<serde_json::Value, String> {
        let event = events
            .iter()
            .find(|e| e.event_type == kind)
            .ok_or(format!("no {kind} event"))?;
        serde_json::from_str(&event.data).map_err(|err| format!("{kind}: {err}"))
    };
    if data("citations")?["citations"] != expected.citations {
        return Err(format!("citations differ for {question:?}"));
    }
    if events.last().map(|e| e.event_type.as_str()) != Some("done") {
        return Err("the stream does not end with done".to_owned());
    }
    if data("done")?["tokenCount"] != tokens || tokens != expected.tokens {
        return Err(format!(
            "token count: {tokens}, expected {}",
            expected.tokens
        ));
    }
    Ok(Timing {
        first_token: first_token.unwrap_or(total),
        total,
        tokens,
    })
}

/// The `p`-th percentile (nearest rank) of sorted `values`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("load: {err}");
            return ExitCode::from(2);
        }
    };
    match tokio::time::timeout(TIME_LIMIT, run(options)).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(err)) => {
            eprintln!("load: {err}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("load: did not finish within {TIME_LIMIT:?}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<bool, String> {
    let corpus = Corpus::bundled().map_err(|err| err.to_string())?;
    let expected: Vec<Arc<Expected>> = QUESTIONS
        .iter()
        .map(|question| {
            let answer = model::answer(&corpus, question, None, &[]);
            Arc::new(Expected {
                tokens: answer.fragments.len(),
                citations: serde_json::to_value(&answer.citations).unwrap_or_default(),
                text: answer.text,
            })
        })
        .collect();

    let store = Store::in_memory().map_err(|err| err.to_string())?;
    let users = options.streams.div_ceil(options.per_user).max(1);
    let tokens: Vec<String> = (0..users).map(|i| format!("load-{i}")).collect();
    for (i, token) in tokens.iter().enumerate() {
        store
            .put_user(&format!("load-user-{i}"), token)
            .map_err(|err| err.to_string())?;
    }
    let mut state = AppState::new(corpus, store.clone());
    state.token_delay = options.token_delay;
    state.streams = StreamLimiter::new(options.per_user);

    let listener = server_mock::listen::bind("127.0.0.1:0")
        .await
        .map_err(|err| format!("bind: {err}"))?;
    let url = format!(
        "http://{}/api/chat",
        listener.local_addr().map_err(|err| err.to_string())?
    );
    tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|err| err.to_string())?;
    println!(
        "load: {} streams over {users} users ({} per user at most), {} between tokens, server at {url}",
        options.streams,
        options.per_user,
        ms(options.token_delay)
    );
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..options.streams {
        let q = i % QUESTIONS.len();
        tasks.spawn(one_stream(
            client.clone(),
            url.clone(),
            tokens[i % users].clone(),
            QUESTIONS[q],
            Arc::clone(&expected[q]),
        ));
    }
    let mut timings = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(timing)) => timings.push(timing),
            Ok(Err(err)) => errors.push(err),
            Err(err) => errors.push(format!("task: {err}")),
        }
    }
    let wall = started.elapsed();

    let mut first: Vec<Duration> = timings.iter().map(|t| t.first_token).collect();
    let mut total: Vec<Duration> = timings.iter().map(|t| t.total).collect();
    first.sort_unstable();
    total.sort_unstable();
    let token_events: usize = timings.iter().map(|t| t.tokens).sum();
    let stored = store.counts().map_err(|err| err.to_string())?;
    println!("streams:            {}", options.streams);
    println!("complete and exact: {}", timings.len());
    println!("errors:             {}", errors.len());
    println!(
        "time to first token: p50 {}, p99 {}, max {}",
        ms(percentile(&first, 50.0)),
        ms(percentile(&first, 99.0)),
        ms(percentile(&first, 100.0))
    );
    println!(
        "stream duration:     p50 {}, p99 {}, max {}",
        ms(percentile(&total, 50.0)),
        ms(percentile(&total, 99.0)),
        ms(percentile(&total, 100.0))
    );
    println!(
        "total: {} for all streams, {token_events} token events ({:.0} per second)",
        ms(wall),
        token_events as f64 / wall.as_secs_f64()
    );
    println!(
        "stored: {} sessions, {} messages",
        stored.sessions, stored.messages
    );
    for err in errors.iter().take(10) {
        eprintln!("load: error: {err}");
    }
    let all_stored = stored.messages == 2 * options.streams as i64;
    if !all_stored {
        eprintln!("load: expected {} messages stored", 2 * options.streams);
    }
    Ok(errors.is_empty() && timings.len() == options.streams && all_stored)
}
