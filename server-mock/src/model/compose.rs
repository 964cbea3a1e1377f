//! Writes the answer from a [`Prompt`], in Markdown the way LLM answers
//! look: a lead paragraph, then what each conversation said (quoting the
//! sentence that matters and citing it inline) laid out as the question's
//! [`Shape`] asks, then a closing summary that cites the clearest passages
//! together in one bracket. The blocks themselves are written by
//! [`layout`](super::layout).

use super::layout::Writer;
use super::markdown::escape;
use super::prompt::Prompt;
use super::retrieval::Hit;
use super::shape::{self, Shape};
use super::text;
use crate::corpus::Conversation;
use crate::protocol::Citation;
use std::fmt::Write as _;

/// Most conversations an answer goes through one by one.
pub const MAX_CONVERSATIONS: usize = 6;
/// Most passages quoted from one conversation.
pub const MAX_PER_CONVERSATION: usize = 2;
/// Most passages quoted from the one conversation a follow-up is about
/// ("Tell me more about the second one" should say more than the list did).
pub const MAX_PER_REFERENT: usize = 4;

/// Words that, alone, make a request for steps about nothing but steps.
const STEP_WORDS: &[&str] = &["step", "action", "item", "todo"];

/// The answer text and the passages it cites, in order of first citation.
pub struct Composed {
    /// The answer, with inline citations.
    pub text: String,
    /// One entry per distinct passage cited.
    pub citations: Vec<Citation>,
}

/// Passages of one conversation, in the order they were spoken.
pub struct Group<'a> {
    /// Where they were said.
    pub conversation: &'a Conversation,
    /// In spoken order.
    pub hits: Vec<Hit<'a>>,
}

/// Composes the answer to `prompt`; `corpus_size` tells an empty corpus from
/// a scope that excluded everything.
pub fn compose(prompt: &Prompt<'_>, corpus_size: usize) -> Composed {
    let mut writer = Writer::new(quote_terms(&prompt.query));
    if let Some(unresolved) = &prompt.unresolved {
        writer.text = escape(&unresolved.sentence);
        return writer.finish();
    }
    let topic = match (prompt.shape, topic(&prompt.query)) {
        // "What are the next steps?" is about next steps, whatever words it uses.
        (Shape::Steps, Some(t))
            if text::terms(&t)
                .iter()
                .all(|w| STEP_WORDS.contains(&w.as_str())) =>
        {
            Some(String::from("next steps"))
        }
        // A comparison with nothing to compare on but the names.
        (_, Some(t))
            if !prompt.named.is_empty()
                && text::terms(&shape::search_words(&t, &prompt.named)).is_empty() =>
        {
            None
        }
        (_, topic) => topic,
    };
    // About one conversation, the answer says more than a list item would.
    let per_conversation = match (&prompt.referent, prompt.named.as_slice()) {
        (Some(_), _) | (None, [_]) => MAX_PER_REFERENT,
        _ => MAX_PER_CONVERSATION,
    };
    let mut groups = groups(&prompt.passages, per_conversation);
    if groups.is_empty() {
        writer.text = escape(&nothing_found(prompt, corpus_size, topic.as_deref()));
        return writer.finish();
    }
    // Named accounts are listed as the question named them.
    if !prompt.named.is_empty() {
        groups.sort_by_key(|g| prompt.named.iter().position(|c| c.id == g.conversation.id));
    }
    let shown = &groups[..groups.len().min(MAX_CONVERSATIONS)];
    // The lead has no Markdown of its own: names and the question's words
    // in it are text.
    writer.text = escape(&lead(prompt, &groups, topic.as_deref()));
    if groups.len() > shown.len() {
        let _ = write!(writer.text, " Here are the {} clearest.", shown.len());
    }
    // One account is not a comparison: it is listed as any other answer.
    let shape = match prompt.shape {
        Shape::Compare if shown.len() < 2 => Shape::List,
        shape => shape,
    };
    if shape == Shape::Compare && prompt.named.is_empty() {
        writer.text.push_str(" Here is how they compare.");
    }
    writer.text.push_str("\n\n");
    match shape {
        Shape::List => {
            writer.bullets(shown);
            writer.block_quote(prompt, shown);
        }
        Shape::Compare => writer.table(shown),
        Shape::Steps => writer.steps(shown),
    }
    writer.closing(
        prompt,
        shown,
        groups.len(),
        topic.as_deref(),
        shape == Shape::Compare,
    );
    writer.finish()
}

/// The lead paragraph: what was found where, or which item of an earlier
/// answer this one is about.
fn lead(prompt: &Prompt<'_>, groups: &[Group<'_>], topic: Option<&str>) -> String {
    let accounts = list(
        groups[..groups.len().min(MAX_CONVERSATIONS)]
            .iter()
            .map(|g| g.conversation.account.as_str()),
    );
    let searched = prompt.searched.len();
    if let Some(referent) = &prompt.referent {
        return referent.lead(topic, prompt.carried, true);
    }
    match &prompt.focus {
        Some(_) if prompt.carried => format!(
            "Here is more on {} from {accounts}.",
            topic.unwrap_or("that")
        ),
        Some(focus) => {
            let topic = capitalised(topic.unwrap_or("This"));
            match (focus.conversations.len(), groups.len()) {
                (1, _) => format!(
                    "{topic} also came up in the one conversation from my previous answer, {accounts}."
                ),
                (all, found) if all == found => format!(
                    "{topic} also came up in all {all} conversations from my previous answer."
                ),
                (all, found) => format!(
                    "{topic} also came up in {found} of the {all} conversations from my previous answer: {accounts}."
                ),
            }
        }
        None if !prompt.named.is_empty() && prompt.shape == Shape::Steps => {
            let named = list(prompt.named.iter().map(|c| c.account.as_str()));
            match prompt.named.as_slice() {
                [one] => format!(
                    "Here are the {} with {named}, in the order they came up in the {}.",
                    topic.unwrap_or("next steps"),
                    one.title
                ),
                _ => format!(
                    "Here are the {} with {named}.",
                    topic.unwrap_or("next steps")
                ),
            }
        }
        None if prompt.named.len() > 1 && prompt.shape == Shape::Compare => {
            let named = list(prompt.named.iter().map(|c| c.account.as_str()));
            let silent: Vec<&str> = prompt
                .named
                .iter()
                .filter(|c| !groups.iter().any(|g| g.conversation.id == c.id))
                .map(|c| c.account.as_str())
                .collect();
            let mut lead = match topic {
                Some(topic) => format!("Here is how {named} compare on {topic}."),
                None => format!("Here is how {named} compare."),
            };
            let topic = topic.unwrap_or("this");
            if !silent.is_empty() {
                let _ = write!(
                    lead,
                    " {} did not mention {topic} in {}, so only {accounts} can be shown.",
                    list(silent.iter().copied()),
                    if silent.len() == 1 {
                        "their call"
                    } else {
                        "their calls"
                    },
                );
            }
            lead
        }
        None => match topic {
            Some(topic) => format!(
                "{} came up in {} of the {} I searched.",
                capitalised(topic),
                groups.len(),
                counted(searched, "conversation"),
            ),
            None => format!(
                "I found relevant passages in {} of the {} I searched.",
                groups.len(),
                counted(searched, "conversation"),
            ),
        },
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
pub fn best_sentence<'t>(turn: &'t str, terms: &[String]) -> &'t str {
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
pub fn in_passing(more: usize) -> String {
    let verb = if more == 1 { "mentions" } else { "mention" };
    format!(
        " {} {verb} it in passing.",
        counted(more, "more conversation")
    )
}

/// `s` with its first character in upper case.
pub fn capitalised(s: &str) -> String {
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
