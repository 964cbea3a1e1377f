//! The blocks of an answer after its lead, as Markdown: a bullet per
//! account (or per person, when one conversation is shown) with the name
//! in bold, a block quote of the passage that answers best, a table row per
//! account for a comparison, a numbered list for steps, and the closing
//! summary. Each block ends with a blank line.
//!
//! Every quote is followed by its inline citation, `[12:45, Sarah
//! Johnson]`, and every passage cited is added to the `citations` the
//! first time, so the two always agree.

use super::compose::{best_sentence, in_passing, list, Composed, Group};
use super::markdown::{block_quote, bold, escape, table};
use super::prompt::Prompt;
use super::retrieval::Hit;
use crate::corpus::{format_timestamp, Conversation};
use crate::protocol::Citation;
use std::fmt::Write as _;

const VERBS: &[&str] = &["said", "noted", "explained", "pointed out"];

/// The answer being written and the passages it has cited.
pub struct Writer {
    /// The answer so far.
    pub text: String,
    citations: Vec<Citation>,
    quote_terms: Vec<String>,
}

impl Writer {
    /// An empty answer that quotes, from each passage, the sentence with
    /// the most of `quote_terms`.
    pub fn new(quote_terms: Vec<String>) -> Self {
        Self {
            text: String::new(),
            citations: Vec::new(),
            quote_terms,
        }
    }

    /// The bullet list: one item per account, its name in bold; when only
    /// one conversation is shown, one item per person quoted in it.
    pub fn bullets(&mut self, shown: &[Group<'_>]) {
        if let [group] = shown {
            for (speaker, hits) in by_speaker(&group.hits) {
                let _ = write!(self.text, "- {} ", bold(speaker));
                self.quotes(group.conversation, &hits, false);
                self.text.push_str(".\n");
            }
        } else {
            for group in shown {
                let _ = write!(
                    self.text,
                    "- {}: in the {}, ",
                    bold(&group.conversation.account),
                    escape(&group.conversation.title)
                );
                self.quotes(group.conversation, &group.hits, true);
                self.text.push_str(".\n");
            }
        }
        self.text.push('\n');
    }

    /// The passage that answers best, verbatim, as a block quote under a
    /// sentence that says whose words they are.
    pub fn block_quote(&mut self, prompt: &Prompt<'_>, shown: &[Group<'_>]) {
        let Some(best) = prompt
            .passages
            .iter()
            .find(|h| shown.iter().any(|g| g.conversation.id == h.conversation.id))
        else {
            return;
        };
        let cite = self.cite(best.conversation, best);
        let _ = write!(
            self.text,
            "The most direct statement came from {} of {}:\n\n",
            escape(&best.turn.speaker),
            escape(&best.conversation.account),
        );
        let quote = format!("“{}” [{cite}]", escape(&best.turn.text));
        self.text.push_str(&block_quote(&quote));
        self.text.push('\n');
    }

    /// A comparison: one table row per account, who spoke and what they
    /// said, each quote cited in its cell.
    pub fn table(&mut self, shown: &[Group<'_>]) {
        let mut rows = Vec::new();
        for group in shown {
            let mut speakers: Vec<&str> = Vec::new();
            for hit in &group.hits {
                if !speakers.contains(&hit.turn.speaker.as_str()) {
                    speakers.push(&hit.turn.speaker);
                }
            }
            let mut said = Vec::new();
            for hit in &group.hits {
                let quote = best_sentence(&hit.turn.text, &self.quote_terms);
                let cite = self.cite(group.conversation, hit);
                said.push(format!("“{}” [{cite}]", escape(quote)));
            }
            rows.push(vec![
                bold(&group.conversation.account),
                escape(&list(speakers.into_iter())),
                said.join(" "),
            ]);
        }
        self.text
            .push_str(&table(&["Account", "Who", "What they said"], &rows));
        self.text.push('\n');
    }

    /// Steps: a numbered item per account, or per passage in the order it
    /// was said when only one conversation is shown.
    pub fn steps(&mut self, shown: &[Group<'_>]) {
        if let [group] = shown {
            for (n, hit) in group.hits.iter().enumerate() {
                let _ = write!(self.text, "{}. {} ", n + 1, bold(&hit.turn.speaker));
                self.quotes(group.conversation, std::slice::from_ref(hit), false);
                self.text.push_str(".\n");
            }
        } else {
            for (n, group) in shown.iter().enumerate() {
                let _ = write!(
                    self.text,
                    "{}. {}: in the {}, ",
                    n + 1,
                    bold(&group.conversation.account),
                    escape(&group.conversation.title)
                );
                self.quotes(group.conversation, &group.hits, true);
                self.text.push_str(".\n");
            }
        }
        self.text.push('\n');
    }

    /// Who said what, each quote cited: `Sarah Johnson explained “…”
    /// [12:45, Sarah Johnson], and later “…” [14:02, Sarah Johnson]`;
    /// without `named`, the first quote starts at the verb (the item has
    /// just given the speaker's name, in bold).
    fn quotes(&mut self, conversation: &Conversation, hits: &[Hit<'_>], named: bool) {
        let mut previous: Option<&str> = None;
        for hit in hits {
            let quote = escape(best_sentence(&hit.turn.text, &self.quote_terms));
            let speaker = hit.turn.speaker.as_str();
            let verb = VERBS[hit.position % VERBS.len()];
            match previous {
                None if named => {
                    let _ = write!(self.text, "{} {verb} “{quote}”", escape(speaker));
                }
                None => {
                    let _ = write!(self.text, "{verb} “{quote}”");
                }
                Some(p) if p == speaker => {
                    let _ = write!(self.text, ", and later “{quote}”");
                }
                Some(_) => {
                    let _ = write!(self.text, "; {} {verb} “{quote}”", escape(speaker));
                }
            }
            let cite = self.cite(conversation, hit);
            let _ = write!(self.text, " [{cite}]");
            previous = Some(speaker);
        }
    }

    /// The summary paragraph, citing the best passage of the top two
    /// conversations together; after a table, only that.
    pub fn closing(
        &mut self,
        prompt: &Prompt<'_>,
        shown: &[Group<'_>],
        total: usize,
        topic: Option<&str>,
        table: bool,
    ) {
        let topic = escape(topic.unwrap_or("this"));
        let best: Vec<String> = shown
            .iter()
            .take(2)
            .filter_map(|g| {
                let hit = prompt
                    .passages
                    .iter()
                    .find(|h| h.conversation.id == g.conversation.id)?;
                Some(self.cite(g.conversation, hit))
            })
            .collect();
        let (clearest, best) = match best.len() {
            1 => ("The clearest statement is", best.join("; ")),
            _ => ("The clearest statements are", best.join("; ")),
        };
        if table && prompt.focus.is_none() {
            let _ = write!(
                self.text,
                "Side by side, the clearest statements are [{best}]."
            );
            if total > shown.len() {
                self.text.push_str(&in_passing(total - shown.len()));
            }
            return;
        }
        if let Some(focus) = &prompt.focus {
            let others: Vec<&str> = focus
                .conversations
                .iter()
                .filter(|c| !shown.iter().any(|g| g.conversation.id == c.id))
                .map(|c| c.account.as_str())
                .collect();
            if others.is_empty() {
                let _ = write!(self.text, "{clearest} [{best}].");
            } else {
                let _ = write!(
                    self.text,
                    "{clearest} [{best}]. {} did not mention {topic} in {}.",
                    escape(&list(others.iter().copied())),
                    if others.len() == 1 {
                        "that call"
                    } else {
                        "those calls"
                    },
                );
            }
            return;
        }
        if shown.len() == 1 {
            let _ = write!(
                self.text,
                "In short, only {} raised {topic}, most clearly here [{best}].",
                escape(&shown[0].conversation.account)
            );
        } else {
            let accounts = list(shown.iter().map(|g| g.conversation.account.as_str()));
            let all = if shown.len() == 2 { "both" } else { "all" };
            let _ = write!(
                self.text,
                "In short, {} {all} raised {topic}; the clearest statements are [{best}].",
                escape(&accounts)
            );
        }
        if total > shown.len() {
            self.text.push_str(&in_passing(total - shown.len()));
        }
    }

    /// The inline form of `hit`, adding it to the citations the first time.
    fn cite(&mut self, conversation: &Conversation, hit: &Hit<'_>) -> String {
        let timestamp = format_timestamp(hit.turn.seconds);
        let known = self.citations.iter().any(|c| {
            c.conversation_id == conversation.id
                && c.seconds == hit.turn.seconds
                && c.speaker == hit.turn.speaker
        });
        if !known {
            self.citations.push(Citation {
                id: format!("c{}", self.citations.len() + 1),
                conversation_id: conversation.id.clone(),
                conversation_title: conversation.title.clone(),
                timestamp: timestamp.clone(),
                seconds: hit.turn.seconds,
                speaker: hit.turn.speaker.clone(),
                quote: hit.turn.text.clone(),
            });
        }
        format!("{timestamp}, {}", hit.turn.speaker)
    }

    /// The answer, without the blank line the last block left.
    pub fn finish(self) -> Composed {
        Composed {
            text: self.text.trim_end().to_owned(),
            citations: self.citations,
        }
    }
}

/// `hits` by speaker, in order of each one's first passage.
fn by_speaker<'h, 'a>(hits: &'h [Hit<'a>]) -> Vec<(&'a str, Vec<Hit<'a>>)> {
    let mut people: Vec<(&'a str, Vec<Hit<'a>>)> = Vec::new();
    for hit in hits {
        let speaker = hit.turn.speaker.as_str();
        match people.iter_mut().find(|(s, _)| *s == speaker) {
            Some((_, own)) => own.push(*hit),
            None => people.push((speaker, vec![*hit])),
        }
    }
    people
}
