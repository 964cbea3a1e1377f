//! Keeps what an answer's stream has generated and stores it as the
//! assistant message when the stream ends, however it ends:
//!
//! - `done`: the whole text and every citation, saved before `done` is
//!   sent, so a client that has `done` finds the answer in the history;
//! - `error`: the partial text with the error's code and message, saved
//!   before `error` is sent;
//! - stopped: the partial text with `stopped: true`. An ordinary answer
//!   ([`super::live`]) is stopped by `POST …/stop`, by its resume window
//!   passing with nobody reading, or by a shutdown. A faulty answer's
//!   client going away (or its injected cut) drops the stream, and with it
//!   the [`Recorder`], whose `Drop` saves it so; the same `Drop` is the
//!   ordinary answer's safety net.
//!
//! The recorder also holds the user's stream slot and gives it back first.
//!
//! Its question left a placeholder row (stopped, empty) when it was
//! stored, which the save fills in; a server that dies before leaves that.

use crate::monitor::{Monitor, Saved};
use crate::protocol::{inline_citations, Citation};
use crate::store::{AnswerError, AnswerRecord, Exchange, Store, StoreError};
use crate::streams::StreamSlot;
use std::sync::Arc;

/// How an answer's stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Complete: `done` follows.
    Done,
    /// The model failed: `error` follows, with this code and message.
    Failed(AnswerError),
    /// The connection closed before the end.
    Stopped,
}

impl Ending {
    /// The ending of a stream whose `error` event has `code` and `message`.
    pub fn failed(code: &str, message: &str) -> Self {
        Self::Failed(AnswerError {
            code: code.to_owned(),
            message: message.to_owned(),
        })
    }
}

/// The answer being streamed, saved when its stream ends.
#[derive(Debug)]
pub struct Recorder {
    store: Store,
    monitor: Arc<Monitor>,
    record: AnswerRecord,
    /// Every citation of the whole answer; a partial one keeps those its
    /// text reaches.
    citations: Vec<Citation>,
    slot: Option<StreamSlot>,
    finished: bool,
    /// The test-mode `failStorage` fault: SQLite refuses the save.
    refuse_writes: bool,
}

impl Recorder {
    /// Records the answer `message_id` to the question stored as `exchange`.
    pub fn new(
        store: Store,
        monitor: Arc<Monitor>,
        exchange: &Exchange,
        message_id: String,
        citations: Vec<Citation>,
        slot: StreamSlot,
    ) -> Self {
        Self {
            store,
            monitor,
            record: AnswerRecord {
                session_id: exchange.session_id.clone(),
                message_id,
                position: exchange.answer_position,
                text: String::new(),
                citations: Vec::new(),
                stopped: false,
                error: None,
            },
            citations,
            slot: Some(slot),
            finished: false,
            refuse_writes: false,
        }
    }

    /// Makes the save fail as a full disk would (test mode's `failStorage`).
    pub fn refuse_writes(&mut self) {
        self.refuse_writes = true;
    }

    /// The model produced `fragment`, which is about to be sent.
    pub fn generated(&mut self, fragment: &str) {
        self.record.text.push_str(fragment);
        self.monitor.fragment(&self.record.message_id);
    }

    /// Ends the answer and waits until it is stored. Only the first call
    /// (or the drop) counts; later ones are `Ok`. An `Err` means the
    /// answer is not in the history: the stream must not say `done`.
    pub async fn finish(&mut self, ending: Ending) -> Result<(), StoreError> {
        match self.take(ending) {
            Some(record) => {
                save(
                    self.store.clone(),
                    Arc::clone(&self.monitor),
                    record,
                    self.refuse_writes,
                )
                .await
            }
            None => Ok(()),
        }
    }

    /// The record to store for `ending`, once; gives the slot back.
    fn take(&mut self, ending: Ending) -> Option<AnswerRecord> {
        if self.finished {
            return None;
        }
        self.finished = true;
        self.slot = None;
        let mut record = self.record.clone();
        record.stopped = ending == Ending::Stopped;
        record.citations = if ending == Ending::Done {
            self.citations.clone()
        } else {
            cited_in(&record.text, &self.citations)
        };
        record.error = match ending {
            Ending::Failed(error) => Some(error),
            Ending::Done | Ending::Stopped => None,
        };
        Some(record)
    }
}

impl Drop for Recorder {
    /// The stream was dropped before it ended: the client went away. The
    /// save can't be awaited here, so it runs as its own task.
    fn drop(&mut self) {
        let Some(record) = self.take(Ending::Stopped) else {
            return;
        };
        let (store, monitor) = (self.store.clone(), Arc::clone(&self.monitor));
        let refuse = self.refuse_writes;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(save(store, monitor, record, refuse));
            }
            // Outside a runtime (a test dropping a stream by hand): save now.
            Err(_) => {
                let written = write(&store, &record, refuse);
                report(&record, &written);
                monitor.saved(&record.message_id, saved_of(&record, written.is_ok()));
            }
        }
    }
}

async fn save(
    store: Store,
    monitor: Arc<Monitor>,
    record: AnswerRecord,
    refuse_writes: bool,
) -> Result<(), StoreError> {
    let written = {
        let record = record.clone();
        store
            .blocking(move |store| write(store, &record, refuse_writes))
            .await
    };
    report(&record, &written);
    monitor.saved(&record.message_id, saved_of(&record, written.is_ok()));
    written
}

/// Stores `record`. A session deleted while it streamed is not a failure:
/// the user asked for the answer to go.
fn write(store: &Store, record: &AnswerRecord, refuse_writes: bool) -> Result<(), StoreError> {
    let written = if refuse_writes {
        store.save_answer_with_writes_refused(record)
    } else {
        store.save_answer(record)
    };
    written.map(|_| ())
}

fn report(record: &AnswerRecord, written: &Result<(), StoreError>) {
    if let Err(err) = written {
        eprintln!(
            "server-mock: could not save answer {}: {err}",
            record.message_id
        );
    }
}

fn saved_of(record: &AnswerRecord, stored: bool) -> Saved {
    Saved {
        text: record.text.clone(),
        stopped: record.stopped,
        stored,
    }
}

/// The citations `text` got as far as citing: those of its complete
/// inline citations ([`inline_citations`]), so an unfinished
/// `[1:08:45, Nadia` at the end of a stopped answer cites nothing.
pub(crate) fn cited_in(text: &str, citations: &[Citation]) -> Vec<Citation> {
    let cited = inline_citations(text);
    citations
        .iter()
        .filter(|c| {
            cited
                .iter()
                .any(|(seconds, speaker)| *seconds == c.seconds && *speaker == c.speaker)
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewExchange, SessionTarget};
    use crate::streams::StreamLimiter;

    fn citation(timestamp: &str, speaker: &str) -> Citation {
        Citation {
            id: "c1".into(),
            conversation_id: "c_x".into(),
            conversation_title: "X".into(),
            timestamp: timestamp.into(),
            // As the model writes them: the same instant as the timestamp.
            seconds: crate::corpus::parse_timestamp(timestamp).unwrap_or(0),
            speaker: speaker.into(),
            quote: "q".into(),
        }
    }

    fn setup() -> (Store, String, Exchange) {
        let store = Store::in_memory().expect("store");
        let owner = store.put_user("ana", "t").expect("user").id;
        let exchange = store
            .start_exchange(&NewExchange {
                owner: owner.clone(),
                session: SessionTarget::New {
                    id: "s_1".into(),
                    title: "t".into(),
                },
                question_id: "m_q".into(),
                question: "q".into(),
                answer_id: "m_a".into(),
            })
            .expect("start")
            .expect("stored");
        (store, owner, exchange)
    }

    #[test]
    fn a_dropped_recorder_saves_a_stopped_partial_answer_and_frees_its_slot() {
        let (store, owner, exchange) = setup();
        let limiter = StreamLimiter::new(1);
        let slot = limiter.try_acquire(&owner).expect("slot");
        let monitor = Arc::new(Monitor::new());
        let citations = vec![citation("0:01", "Ana"), citation("0:02", "Bo")];
        let mut recorder = Recorder::new(
            store.clone(),
            Arc::clone(&monitor),
            &exchange,
            "m_a".into(),
            citations.clone(),
            slot,
        );
        recorder.generated("Yes [0:01, ");
        recorder.generated("Ana] and [0:02, Bo");
        assert_eq!(limiter.open(&owner), 1);
        drop(recorder);
        assert_eq!(limiter.open(&owner), 0);
        let messages = store.messages(&owner, "s_1").expect("read").expect("found");
        let answer = &messages[1];
        assert_eq!(answer.text, "Yes [0:01, Ana] and [0:02, Bo");
        assert!(answer.stopped);
        assert_eq!(answer.citations, citations[..1]);
        let progress = monitor.progress("m_a").expect("observed");
        assert_eq!(progress.fragments, 2);
        assert_eq!(progress.saved.map(|s| s.stopped), Some(true));
    }

    #[test]
    fn a_stopped_answer_keeps_the_citations_its_complete_brackets_cite() {
        let all = vec![
            citation("0:01", "Ana"),
            citation("0:02", "Bo"),
            citation("1:08:45", "Nadia Petrova"),
            citation("0:03", "Cy"),
        ];
        let cited = |text: &str| -> Vec<String> {
            cited_in(text, &all)
                .into_iter()
                .map(|c| c.speaker)
                .collect()
        };
        assert_eq!(cited("[0:01, Ana] then [1:08:45, Nadia"), ["Ana"]);
        assert_eq!(
            cited("[0:02, Bo; 1:08:45, Nadia Petrova]"),
            ["Bo", "Nadia Petrova"]
        );
        // Not a citation to the client, so not to the history either.
        assert_eq!(cited("0:03, Cy said so, [0:03, Cy!]"), Vec::<String>::new());
        assert_eq!(cited("[0:02, Bo; 0:03, Cy"), Vec::<String>::new());
        assert_eq!(cited(""), Vec::<String>::new());
    }
}
