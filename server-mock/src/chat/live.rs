//! Answers that outlive their connection: confirmed stop and resume
//! (docs/protocol.md, "Stop" and "Resume").
//!
//! Every answer of the ordinary path is registered here while it is
//! generated and for the resume window after. Its [`LiveAnswer`] keeps a
//! log of every event it generated, numbered as sent, so a resumed reader
//! gets exactly the events after its `Last-Event-ID` with the same ids.
//!
//! Generation stays pulled. A [`Reader`] (the POST's response body, or a
//! resume's) sends what the log holds; once it has sent everything it asks
//! for one more event, and one pull at a time is done by a spawned task
//! that locks the generator, takes its next event, logs it and wakes the
//! readers through a `watch` version counter. A reader never runs the
//! generator itself, so a reader dropped mid-await can't lose or
//! half-produce an event; and with no reader nobody asks, so a paused
//! answer costs nothing but its log.
//!
//! At most one reader is attached: a resume takes over, and the reader it
//! replaces ends with an `error` event `resumed_elsewhere` that has no `id`
//! and is not logged. A keeper task per answer ends its life: when the
//! window passes with no reader attached, the answer is saved as stopped
//! (what a disconnect used to do at once) and forgotten; a finished answer
//! is forgotten once the window after its end has passed; when a
//! shutdown's drain ends, a paused answer is saved as stopped at once.
//! `POST /api/chat/{messageId}/stop` ends an answer at once, even in the
//! middle of a pacing pause ([`LiveAnswer::stop`]).

use super::fault::{encode, FLUSH_PAUSE};
use super::recorder::cited_in;
use super::Answering;
use crate::monitor::Monitor;
use crate::protocol::{ChatEvent, Citation};
use crate::shutdown::{Hold, Shutdown};
use crate::store::StoreError;
use axum::response::sse::Event;
use futures_util::stream::{self, Stream};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long an answer stays resumable after its reader went away or after
/// it ended (`--resume-window-ms`).
pub const DEFAULT_RESUME_WINDOW: Duration = Duration::from_secs(30);

/// The `code` of the `error` event that ends a reader another resume took
/// over from.
pub const RESUMED_ELSEWHERE: &str = "resumed_elsewhere";

/// The answers being generated, paused, or inside the window after their end.
#[derive(Default)]
pub struct Live {
    answers: Mutex<HashMap<String, Arc<LiveAnswer>>>,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("answers", &self.count())
            .finish()
    }
}

/// What an ordinary answer starts with.
pub struct Start {
    /// Its generator.
    pub answering: Answering,
    /// The user asking.
    pub owner: String,
    /// Its `messageId`.
    pub message_id: String,
    /// Every citation of the whole answer.
    pub citations: Vec<Citation>,
    /// The test-mode `dropAtSeqs`, checked already.
    pub drops: Vec<usize>,
    /// `--resume-window-ms`.
    pub window: Duration,
    /// Ends paused answers when the drain ends.
    pub shutdown: Shutdown,
    /// Told of resumes and replays.
    pub monitor: Arc<Monitor>,
}

impl Live {
    /// No answer yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<LiveAnswer>>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers an answer and gives its first reader (the POST's).
    pub fn start(self: &Arc<Self>, start: Start) -> Reader {
        let (version, _) = watch::channel(0);
        let mut drops: VecDeque<usize> = start.drops.into();
        // A drop at 0: right after the response head, before any event.
        let abort_first = drops.front() == Some(&0);
        if abort_first {
            drops.pop_front();
        }
        let answer = Arc::new(LiveAnswer {
            message_id: start.message_id.clone(),
            owner: start.owner,
            citations: start.citations,
            generator: tokio::sync::Mutex::new(start.answering),
            log: Mutex::new(Log {
                events: Vec::new(),
                bytes: 0,
                text: String::new(),
                ended: None,
                pulling: false,
                reader: Some(1),
                readers: 1,
                detached_at: Instant::now(),
                drops,
                cut: None,
                expired: false,
            }),
            version,
            stop: CancellationToken::new(),
            monitor: start.monitor,
        });
        self.map().insert(start.message_id, Arc::clone(&answer));
        let hold = start.shutdown.hold();
        tokio::spawn(Arc::clone(&answer).keep(
            Arc::clone(self),
            start.window,
            start.shutdown,
            hold,
        ));
        Reader {
            version: answer.version.subscribe(),
            answer,
            id: 1,
            next: 1,
            after_session: 1,
            replay_until: 0,
            abort_next: abort_first,
            over: false,
        }
    }

    /// The registered answer `message_id`, whoever's it is.
    pub fn get(&self, message_id: &str) -> Option<Arc<LiveAnswer>> {
        self.map().get(message_id).cloned()
    }

    /// How many answers are registered.
    pub fn count(&self) -> usize {
        self.map().len()
    }

    fn remove(&self, message_id: &str) {
        self.map().remove(message_id);
    }
}

/// One answer: its generator, its log and its readers.
pub struct LiveAnswer {
    message_id: String,
    owner: String,
    citations: Vec<Citation>,
    /// Locked by the one pull at a time, and by a stop.
    generator: tokio::sync::Mutex<Answering>,
    log: Mutex<Log>,
    /// Bumped whenever the log, its end or its reader changes.
    version: watch::Sender<u64>,
    /// Cancelled by a stop: cuts a pacing pause short.
    stop: CancellationToken,
    monitor: Arc<Monitor>,
}

/// What an answer generated and who reads it.
struct Log {
    /// Every event generated; the one of seq `n` at `n - 1`.
    events: Vec<Event>,
    /// The encoded size of `events`.
    bytes: usize,
    /// Its `token` events joined: the text so far.
    text: String,
    /// When the answer ended (`done`, `error`, or stopped).
    ended: Option<Instant>,
    /// A pull task is running.
    pulling: bool,
    /// The reader attached, if any.
    reader: Option<u64>,
    /// Reader ids handed out.
    readers: u64,
    /// When the last reader went away.
    detached_at: Instant,
    /// `dropAtSeqs` not dropped yet.
    drops: VecDeque<usize>,
    /// The reader whose connection [`LiveAnswer::cut`] asked to drop.
    cut: Option<u64>,
    /// Past its window: no resume may attach; being saved or forgotten.
    expired: bool,
}

/// Why a resume can't attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The window has passed.
    Expired,
    /// `Last-Event-ID` names an event not sent yet; this many were.
    NotSent(usize),
}

/// What an answer holds, for the test-mode observation endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Events in the log.
    pub log_events: usize,
    /// Their encoded size in bytes.
    pub log_bytes: usize,
    /// Not ended yet (generated or paused).
    pub streaming: bool,
}

/// What a reader does next.
enum Step {
    Send(Event),
    TakenOver,
    Cut,
    End,
    Wait,
}

/// What the keeper does when its deadline comes.
enum Expiry {
    NotYet,
    Forget,
    SaveStopped,
}

impl LiveAnswer {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        self.version
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// The id of the user who asked.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The log's size and whether the answer is still going.
    pub fn snapshot(&self) -> Snapshot {
        let log = self.lock();
        Snapshot {
            log_events: log.events.len(),
            log_bytes: log.bytes,
            streaming: log.ended.is_none(),
        }
    }

    /// The text so far and the citations its complete inline citations
    /// cite, while the answer has not ended; `None` after.
    pub fn so_far(&self) -> Option<(String, Vec<Citation>)> {
        let log = self.lock();
        if log.ended.is_some() {
            return None;
        }
        let citations = cited_in(&log.text, &self.citations);
        Some((log.text.clone(), citations))
    }

    /// A new reader that sends `session`, then every logged event after
    /// seq `last` (all of them without it), then the rest live. It takes
    /// over from the reader attached, if any.
    pub fn attach(self: &Arc<Self>, last: Option<usize>) -> Result<Reader, Refusal> {
        let mut log = self.lock();
        if log.expired {
            return Err(Refusal::Expired);
        }
        let sent = log.events.len();
        let after_session = match last {
            Some(seq) if seq > sent => return Err(Refusal::NotSent(sent)),
            Some(seq) => seq + 1,
            None => 1,
        };
        log.readers += 1;
        let id = log.readers;
        log.reader = Some(id);
        drop(log);
        let reader = Reader {
            answer: Arc::clone(self),
            id,
            next: 1,
            after_session,
            replay_until: sent,
            version: self.version.subscribe(),
            abort_next: false,
            over: false,
        };
        // The reader taken over from sees it and ends.
        self.wake();
        Ok(reader)
    }

    /// Stops generation now, even in a pacing pause, and saves the answer
    /// as stopped if it had not ended; the attached reader then ends
    /// cleanly. `Err` if the save failed.
    pub async fn stop(&self) -> Result<(), StoreError> {
        self.stop.cancel();
        // Waits for a pull in progress, which the cancel cuts short.
        let mut generator = self.generator.lock().await;
        let saved = generator.stop().await;
        {
            let mut log = self.lock();
            if log.ended.is_none() {
                log.ended = Some(Instant::now());
            }
        }
        drop(generator);
        self.wake();
        saved
    }

    /// Drops the attached reader's connection now, as a network failure
    /// would (the test-mode `POST /api/_test/answers/{messageId}/drop`):
    /// the reader ends its response with an I/O error before its next
    /// event, generation pauses and the answer stays resumable. `false`
    /// if no reader is attached.
    pub fn cut(&self) -> bool {
        let mut log = self.lock();
        let Some(reader) = log.reader else {
            return false;
        };
        log.cut = Some(reader);
        drop(log);
        self.wake();
        true
    }

    /// What `reader` does next, under the log's lock.
    fn step(self: &Arc<Self>, reader: &mut Reader) -> Step {
        let mut log = self.lock();
        if log.reader != Some(reader.id) {
            return Step::TakenOver;
        }
        if log.cut == Some(reader.id) {
            log.cut = None;
            return Step::Cut;
        }
        if reader.next <= log.events.len() {
            let seq = reader.next;
            let event = log.events[seq - 1].clone();
            reader.next = if seq == 1 {
                reader.after_session.max(2)
            } else {
                seq + 1
            };
            while log.drops.front().is_some_and(|&drop| drop < seq) {
                log.drops.pop_front();
            }
            if log.drops.front() == Some(&seq) {
                log.drops.pop_front();
                reader.abort_next = true;
            }
            drop(log);
            if seq <= reader.replay_until {
                self.monitor.replayed(&self.message_id);
            }
            return Step::Send(event);
        }
        if log.ended.is_some() {
            return Step::End;
        }
        if !log.pulling {
            log.pulling = true;
            tokio::spawn(Arc::clone(self).pull());
        }
        Step::Wait
    }

    /// Takes one event from the generator into the log.
    async fn pull(self: Arc<Self>) {
        let mut generator = self.generator.lock().await;
        let ended = self.lock().ended.is_some();
        let event = if ended {
            None
        } else {
            generator.next(&self.stop).await
        };
        if let Some(event) = event {
            // Only the holder of the generator appends: the seq is stable.
            let seq = self.lock().events.len() + 1;
            let sse = event.to_sse(&self.message_id, seq);
            let size = encode(sse.clone()).await.map_or(0, |bytes| bytes.len());
            let mut log = self.lock();
            log.bytes += size;
            match &event {
                ChatEvent::Token(fragment) => log.text.push_str(fragment),
                ChatEvent::Done { .. } | ChatEvent::Error { .. } => {
                    log.ended = Some(Instant::now());
                }
                _ => {}
            }
            log.events.push(sse);
            log.pulling = false;
        } else {
            self.lock().pulling = false;
        }
        drop(generator);
        self.wake();
    }

    /// When the keeper must look again: the end of the window after the
    /// end, or after the reader left (at once during a shutdown's end);
    /// `None` while a reader is attached to an unfinished answer.
    fn deadline(&self, window: Duration, shutting_down: bool) -> Option<Instant> {
        let log = self.lock();
        match (log.ended, log.reader) {
            (Some(at), _) => Some(at + window),
            (None, None) if shutting_down => Some(Instant::now()),
            (None, None) => Some(log.detached_at + window),
            (None, Some(_)) => None,
        }
    }

    fn expire(&self, window: Duration, shutting_down: bool) -> Expiry {
        let mut log = self.lock();
        let now = Instant::now();
        match (log.ended, log.reader) {
            (Some(at), _) if now >= at + window => {
                log.expired = true;
                Expiry::Forget
            }
            (None, None) if shutting_down || now >= log.detached_at + window => {
                log.expired = true;
                Expiry::SaveStopped
            }
            _ => Expiry::NotYet,
        }
    }

    /// The answer's keeper: saves it as stopped when the window passes
    /// with nobody reading (or the drain ends), and forgets it once the
    /// window after its end has passed.
    /// It keeps the shutdown's `hold` until the answer has ended.
    async fn keep(
        self: Arc<Self>,
        live: Arc<Live>,
        window: Duration,
        shutdown: Shutdown,
        hold: Hold,
    ) {
        let mut version = self.version.subscribe();
        let mut shutting_down = false;
        let mut hold = Some(hold);
        loop {
            version.borrow_and_update();
            if self.lock().ended.is_some() {
                hold = None;
            }
            let deadline = self.deadline(window, shutting_down);
            let due = async move {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = version.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = due => match self.expire(window, shutting_down) {
                    Expiry::NotYet => {}
                    Expiry::Forget => {
                        live.remove(&self.message_id);
                        return;
                    }
                    Expiry::SaveStopped => {
                        // A failed save is in the log; the answer goes either way.
                        let _logged = self.stop().await;
                        live.remove(&self.message_id);
                        drop(hold);
                        return;
                    }
                },
                () = shutdown.ended(), if !shutting_down => shutting_down = true,
            }
        }
    }
}

/// One reader of an answer: a POST's response body or a resume's.
pub struct Reader {
    answer: Arc<LiveAnswer>,
    id: u64,
    /// The seq it sends next.
    next: usize,
    /// The seq it sends after `session`.
    after_session: usize,
    /// Seqs up to this one were logged before it attached (0: the POST).
    replay_until: usize,
    version: watch::Receiver<u64>,
    /// The event just sent was a `dropAtSeqs` one: abort next.
    abort_next: bool,
    over: bool,
}

impl Reader {
    /// The response body's events.
    pub fn events(self) -> impl Stream<Item = Result<Event, io::Error>> {
        stream::unfold(self, |mut reader| async move {
            let item = reader.next().await?;
            Some((item, reader))
        })
    }

    async fn next(&mut self) -> Option<Result<Event, io::Error>> {
        if self.over {
            return None;
        }
        if self.abort_next {
            return Some(Err(self.abort().await));
        }
        let answer = Arc::clone(&self.answer);
        loop {
            self.version.borrow_and_update();
            match answer.step(self) {
                Step::Send(event) => return Some(Ok(event)),
                Step::Cut => return Some(Err(self.abort().await)),
                Step::TakenOver => {
                    self.over = true;
                    return Some(Ok(resumed_elsewhere_event()));
                }
                Step::End => {
                    self.over = true;
                    return None;
                }
                Step::Wait => {
                    if self.version.changed().await.is_err() {
                        return None;
                    }
                }
            }
        }
    }

    /// Ends the reader with the error that makes hyper drop the connection.
    async fn abort(&mut self) -> io::Error {
        self.over = true;
        // Let hyper write out the events sent before the connection goes.
        tokio::time::sleep(FLUSH_PAUSE).await;
        io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "connection dropped by an injected fault",
        )
    }
}

impl Drop for Reader {
    /// Detaches it: with nobody reading, generation pauses and the window
    /// starts.
    fn drop(&mut self) {
        let mut log = self.answer.lock();
        if log.reader == Some(self.id) {
            log.reader = None;
            log.detached_at = Instant::now();
            drop(log);
            self.answer.wake();
        }
    }
}

/// The last event of a reader another resume took over from: no `id`
/// line, so that no seq is used twice, and never logged.
fn resumed_elsewhere_event() -> Event {
    let data = serde_json::json!({
        "code": RESUMED_ELSEWHERE,
        "message": "This answer is being read by another connection",
        "retryable": false,
    });
    Event::default().event("error").data(data.to_string())
}
