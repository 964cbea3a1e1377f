//! Writes the answer from a [`Prompt`]: a lead sentence, what each
//! conversation said (quoting the sentence that matters and citing it
//! inline), and a closing summary that cites the clearest passages together
//! in one bracket.

use super::prompt::Prompt;
use super::retrieval::Hit;
use super::text;
use crate::corpus::{format_timestamp, Conversation};
use crate::protocol::Citation;
use std::fmt::Write as _;

/// Most conversations an answer goes through one by one.
pub const MAX_CONVERSATIONS: usize = 6;
/// Most passages quoted from one conversation.
pub const MAX_PER_CONVERSATION: usize = 2;
/// Most passages quoted from the one conversation a follow-up is about
/// ("Tell me more about the second one" should say more than the list did).
pub const MAX_PER_REFERENT: usize = 4;

const VERBS: &[&str] = &["said", "noted", "explained", "pointed out"];

/// The answer text and the passages it cites, in order of first citation.
pub struct Composed {
    /// The answer, with inline citations.
    pub text: String,
    /// One entry per distinct passage cited.
    pub citations: Vec<Citation>,
}

/// Passages of one conversation, in the order they were spoken.
struct Group<'a> {
    conversation: &'a Conversation,
    hits: Vec<Hit<'a>>,
}

/// Composes the answer to `prompt`; `corpus_size` tells an empty corpus from
/// a scope that excluded everything.
pub fn compose(prompt: &Prompt<'_>, corpus_size: usize) -> Composed {
    let mut writer = Writer {
        text: String::new(),
        citations: Vec::new(),
        quote_terms: quote_terms(&prompt.query),
    };
    if let Some(unresolved) = &prompt.unresolved {
        writer.text.clone_from(&unresolved.sentence);
        return writer.finish();
    }
    let topic = topic(&prompt.query);
    let per_conversation = match prompt.referent {
        Some(_) => MAX_PER_REFERENT,
        None => MAX_PER_CONVERSATION,
    };
    let groups = groups(&prompt.passages, per_conversation);
    if groups.is_empty() {
        writer.text = nothing_found(prompt, corpus_size, topic.as_deref());
        return writer.finish();
    }
    let shown = &groups[..groups.len().min(MAX_CONVERSATIONS)];
    let accounts = list(shown.iter().map(|g| g.conversation.account.as_str()));
    let searched = prompt.searched.len();
    // `write!` into a String cannot fail; results are ignored for that reason.
    let text = &mut writer.text;
    match (&prompt.referent, &prompt.focus, &topic) {
        (Some(referent), _, _) => {
            text.push_str(&referent.lead(topic.as_deref(), prompt.carried, true));
        }
        (None, Some(_), _) if prompt.carried => {
            let _ = write!(
                text,
                "Here is more on {} from {accounts}.",
                topic.as_deref().unwrap_or("that")
            );
        }
        (None, Some(focus), _) => {
            let topic = capitalised(topic.as_deref().unwrap_or("This"));
            let _ = match (focus.conversations.len(), groups.len()) {
                (1, _) => write!(
                    text,
                    "{topic} also came up in the one conversation from my previous answer, {accounts}."
                ),
                (all, found) if all == found => write!(
                    text,
                    "{topic} also came up in all {all} conversations from my previous answer."
                ),
                (all, found) => write!(
                    text,
                    "{topic} also came up in {found} of the {all} conversations from my previous answer: {accounts}."
                ),
            };
        }
        (None, None, Some(topic)) => {
            let _ = write!(
                text,
                "{} came up in {} of the {} I searched.",
                capitalised(topic),
                groups.len(),
                counted(searched, "conversation"),
            );
        }
        (None, None, None) => {
            let _ = write!(
                text,
                "I found relevant passages in {} of the {} I searched.",
                groups.len(),
                counted(searched, "conversation"),
            );
        }
    }
    if groups.len() > shown.len() {
        let _ = write!(writer.text, " Here are the {} clearest.", shown.len());
    }
    writer.text.push_str("\n\n");
    for group in shown {
        writer.group(group);
    }
    writer.closing(prompt, shown, groups.len(), topic.as_deref());
    writer.finish()
}

struct Writer {
    text: String,
    citations: Vec<Citation>,
    quote_terms: Vec<String>,
}

impl Writer {
    /// One bullet: who said what in this conversation, each quote cited.
    fn group(&mut self, group: &Group<'_>) {
        let _ = write!(self.text, "- {}: ", group.conversation.title);
        let mut previous: Option<&str> = None;
        for hit in &group.hits {
            let quote = best_sentence(&hit.turn.text, &self.quote_terms);
            let speaker = hit.turn.speaker.as_str();
            match previous {
                None => {
                    let verb = VERBS[hit.position % VERBS.len()];
                    let _ = write!(self.text, "{speaker} {verb} “{quote}”");
                }
                Some(p) if p == speaker => {
                    let _ = write!(self.text, ", and later “{quote}”");
                }
                Some(_) => {
                    let verb = VERBS[hit.position % VERBS.len()];
                    let _ = write!(self.text, "; {speaker} {verb} “{quote}”");
                }
            }
            let cite = self.cite(group.conversation, hit);
            let _ = write!(self.text, " [{cite}]");
            previous = Some(speaker);
        }
        self.text.push_str(".\n");
    }

    /// The summary line, citing the best passage of the top two
    /// conversations together.
    fn closing(
        &mut self,
        prompt: &Prompt<'_>,
        shown: &[Group<'_>],
        total: usize,
        topic: Option<&str>,
    ) {
        let topic = topic.unwrap_or("this");
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
        self.text.push('\n');
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
                    list(others.iter().copied()),
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
                shown[0].conversation.account
            );
        } else {
            let accounts = list(shown.iter().map(|g| g.conversation.account.as_str()));
            let all = if shown.len() == 2 { "both" } else { "all" };
            let _ = write!(
                self.text,
                "In short, {accounts} {all} raised {topic}; the clearest statements are [{best}]."
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

    fn finish(self) -> Composed {
        Composed {
            text: self.text.trim_end().to_owned(),
            citations: self.citations,
        }
    }
}

/// The answer when no passage is relevant.
fn nothing_found(prompt: &Prompt<'_>, corpus_size: usize, topic: Option<&str>) -> String {
    let topic = topic.unwrap_or("this");
    if corpus_size == 0 {
        return String::from("There are no conversations to search yet.");
    }
    if prompt.searched.is_empty() {
        return String::from("None of the selected conversations could be searched.");
    }
    if let Some(referent) = &prompt.referent {
        return referent.lead(Some(topic), prompt.carried, false);
    }
    match &prompt.focus {
        Some(focus) => format!(
            "None of the {} from my previous answer mention {topic}: I checked {}.",
            counted(focus.conversations.len(), "conversation"),
            list(focus.conversations.iter().map(|c| c.account.as_str())),
        ),
        None => format!(
            "None of the {} I searched mention {topic}.",
            counted(prompt.searched.len(), "conversation")
        ),
    }
}

/// The relevant passages grouped by conversation, conversations in order of
/// their best passage, each group's passages in spoken order.
fn groups<'a>(passages: &[Hit<'a>], per_conversation: usize) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for hit in passages {
        match groups
            .iter_mut()
            .find(|g| g.conversation.id == hit.conversation.id)
        {
            Some(group) if group.hits.len() < per_conversation => group.hits.push(*hit),
            Some(_) => {}
            None => groups.push(Group {
                conversation: hit.conversation,
                hits: vec![*hit],
            }),
        }
    }
    for group in &mut groups {
        group.hits.sort_by_key(|h| h.turn.seconds);
    }
    groups
}

/// What the question is about, in its own words: the longest run of
/// content words, which may hold a connector ("budget constraints", "risk
/// of churn"); the last such run on a tie, as questions end on their topic.
fn topic(question: &str) -> Option<String> {
    const CONNECTORS: &[&str] = &["of", "for", "and", "with", "in", "on"];
    let words: Vec<&str> = question
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    let content = |w: &str| !w.is_empty() && !text::terms(w).is_empty();
    let mut best: Option<(usize, usize)> = None;
    for start in (0..words.len()).filter(|&i| content(words[i])) {
        let mut end = start;
        let mut next = start + 1;
        while next < words.len() {
            if content(words[next]) {
                end = next;
            } else if !CONNECTORS.contains(&words[next].to_lowercase().as_str()) {
                break;
            }
            next += 1;
        }
        if best.is_none_or(|(s, e)| end - start >= e - s) {
            best = Some((start, end));
        }
    }
    best.map(|(start, end)| words[start..=end].join(" "))
}

/// The question's terms and their synonyms, for picking what to quote.
fn quote_terms(question: &str) -> Vec<String> {
    text::terms(question)
        .iter()
        .flat_map(|t| text::expand(t))
        .map(|(word, _)| word)
        .collect()
}

/// The sentence of `turn` that holds the most of `terms` (the first on a
/// tie), so a long turn is quoted where it answers the question.
fn best_sentence<'t>(turn: &'t str, terms: &[String]) -> &'t str {
    let mut best = turn;
    let mut best_count = 0;
    let mut start = 0;
    let bytes = turn.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ends = matches!(b, b'.' | b'?' | b'!') && bytes.get(i + 1).is_none_or(|n| *n == b' ');
        if !ends {
            continue;
        }
        let sentence = turn[start..=i].trim();
        let count = text::words(sentence).filter(|w| terms.contains(w)).count();
        if count > best_count {
            best = sentence;
            best_count = count;
        }
        start = i + 1;
    }
    if best_count == 0 {
        return turn;
    }
    best
}

/// `A`, `A and B`, `A, B and C`.
pub fn list<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let items: Vec<&str> = items.collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `1 conversation`, `3 conversations`.
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The closing's note on the conversations not gone through one by one:
/// ` 1 more conversation mentions it in passing.`, ` 3 more conversations
/// mention it in passing.`
fn in_passing(more: usize) -> String {
    let verb = if more == 1 { "mentions" } else { "mention" };
    format!(
        " {} {verb} it in passing.",
        counted(more, "more conversation")
    )
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_is_the_longest_run_of_content_words() {
        assert_eq!(
            topic("Which prospects mentioned budget constraints?").as_deref(),
            Some("budget constraints")
        );
        assert_eq!(
            topic("What did Zoë say about data residency?").as_deref(),
            Some("data residency")
        );
        assert_eq!(topic("Which of them did?"), None);
        assert_eq!(
            topic("Which customers are at risk of churn?").as_deref(),
            Some("risk of churn")
        );
        assert_eq!(
            topic("Which competitors came up?").as_deref(),
            Some("competitors")
        );
    }

    #[test]
    fn best_sentence_quotes_where_the_terms_are() {
        let turn = "Thanks. Our budget is tight this year. Anything else?";
        let terms = quote_terms("budget constraints");
        assert_eq!(
            best_sentence(turn, &terms),
            "Our budget is tight this year."
        );
        assert_eq!(best_sentence(turn, &[]), turn);
        assert_eq!(
            best_sentence("Costs 3.5 times more.", &terms),
            "Costs 3.5 times more."
        );
    }

    #[test]
    fn lists_read_as_english() {
        assert_eq!(list(["A"].into_iter()), "A");
        assert_eq!(list(["A", "B", "C"].into_iter()), "A, B and C");
        assert_eq!(counted(1, "passage"), "1 passage");
        assert_eq!(capitalised("ürgency"), "Ürgency");
    }

    #[test]
    fn in_passing_agrees_in_number() {
        assert_eq!(
            in_passing(1),
            " 1 more conversation mentions it in passing."
        );
        assert_eq!(
            in_passing(3),
            " 3 more conversations mention it in passing."
        );
    }
}
