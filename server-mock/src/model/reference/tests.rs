//! Multi-turn sessions run through [`model::answer`](crate::model::answer)
//! with the history accumulating as the server would store it, and the
//! grammar on its own.

use super::{Kind, Nth, Reference, ORDINALS};
use crate::corpus::Corpus;
use crate::model::tests::{assert_citations_consistent, exchange};
use crate::model::{answer, Answer, Turn};

const BUDGET: &str = "Which prospects mentioned budget constraints?";
const URGENCY: &str = "Of those, which ones also expressed urgency?";
const SECOND: &str = "Tell me more about the second one";
/// The budget answer names its six conversations in this order.
const BUDGET_ORDER: [&str; 6] = [
    "c_globex_renewal",
    "c_tyrell_demo",
    "c_acme_discovery",
    "c_northwind_discovery",
    "c_wayne_pricing",
    "c_hooli_churn_risk",
];
const FROM_PREVIOUS: &str = "Searching the 1 conversation from the previous answer...";
const READING: &str = "Looking back for what the question refers to...";

fn bundled() -> Corpus {
    Corpus::bundled().expect("bundled corpus parses")
}

/// Asks `questions` in order in one session; every answer's citations are
/// checked as they come. Returns every answer.
fn session(corpus: &Corpus, questions: &[&str]) -> Vec<Answer> {
    let mut history: Vec<Turn> = Vec::new();
    let mut answers = Vec::new();
    for question in questions {
        let answer = answer(corpus, question, None, &history);
        assert_citations_consistent(corpus, &answer);
        assert_eq!(answer.fragments.concat(), answer.text);
        history.extend(exchange(question, &answer));
        answers.push(answer);
    }
    answers
}

/// The conversations an answer cites, in order of first citation.
fn cited_in_order(answer: &Answer) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for c in &answer.citations {
        if !ids.contains(&c.conversation_id.as_str()) {
            ids.push(&c.conversation_id);
        }
    }
    ids
}

/// What the last answer of a session must be.
enum Expect {
    /// Cites exactly these conversations, in this order, and begins with
    /// this sentence; the first status message is the third field.
    Cites(&'static [&'static str], &'static str, &'static str),
    /// Is exactly this sentence, with no citations; first status message.
    Says(&'static str, &'static str),
}

struct Case {
    name: &'static str,
    questions: &'static [&'static str],
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        name: "the second one is the second conversation the budget answer named",
        questions: &[BUDGET, SECOND],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "The second one, Tyrell Corporation, talked about budget constraints in the Tyrell Corporation product demo.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "after the second one, the first one still counts in the budget list",
        questions: &[BUDGET, SECOND, "What about the first one?"],
        expect: Expect::Cites(
            &["c_globex_renewal"],
            "The first one, Globex, talked about budget constraints in the Globex renewal negotiation.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "the last one",
        questions: &[BUDGET, "And the last one?"],
        expect: Expect::Cites(
            &["c_hooli_churn_risk"],
            "The last one, Hooli, talked about budget constraints in the Hooli account health check (churn risk).",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "number 3",
        questions: &[BUDGET, "Tell me about number 3"],
        expect: Expect::Cites(
            &["c_acme_discovery"],
            "The third one, Acme Corp, talked about budget constraints in the Acme Corp discovery call.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "the third prospect",
        questions: &[BUDGET, "Tell me more about the third prospect"],
        expect: Expect::Cites(
            &["c_acme_discovery"],
            "The third one, Acme Corp, talked about budget constraints in the Acme Corp discovery call.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "a bare ordinal with digits",
        questions: &[BUDGET, "what about the 4th?"],
        expect: Expect::Cites(
            &["c_northwind_discovery"],
            "The fourth one, Northwind Logistics, talked about budget constraints in the Northwind Logistics discovery call.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "an ordinal with a topic of its own searches that topic in that call",
        questions: &[BUDGET, "Did the fifth one mention pricing?"],
        expect: Expect::Cites(
            &["c_wayne_pricing"],
            "The fifth one, Wayne Enterprises, talked about pricing in the Wayne Enterprises pricing negotiation.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "the referent did not mention the topic",
        questions: &[BUDGET, "Did the third one mention urgency?"],
        expect: Expect::Says(
            "The third one, Acme Corp, did not mention urgency: I checked the Acme Corp discovery call.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "of those narrows to the cited conversations, as before",
        questions: &[BUDGET, URGENCY],
        expect: Expect::Cites(
            &["c_tyrell_demo", "c_globex_renewal", "c_hooli_churn_risk", "c_northwind_discovery"],
            "Urgency also came up in 4 of the 6 conversations from my previous answer:",
            "Searching the 6 conversations from the previous answer...",
        ),
    },
    Case {
        name: "positions count in the narrowed list once it replaced the budget list",
        questions: &[BUDGET, URGENCY, "Tell me more about the first one"],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "The first one, Tyrell Corporation, talked about urgency in the Tyrell Corporation product demo.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "of those after an answer about one item still means the whole list",
        questions: &[BUDGET, SECOND, URGENCY],
        expect: Expect::Cites(
            &["c_tyrell_demo", "c_globex_renewal", "c_hooli_churn_risk", "c_northwind_discovery"],
            "Urgency also came up in 4 of the 6 conversations from my previous answer:",
            "Searching the 6 conversations from the previous answer...",
        ),
    },
    Case {
        name: "he is the one person the latest answer quoted",
        questions: &[BUDGET, SECOND, "What else did he say?"],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "Here is more on budget constraints from Kwame Mensah of Tyrell Corporation.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "they is the one company the latest answer named",
        questions: &[BUDGET, SECOND, "Did they mention urgency?"],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "Tyrell Corporation talked about urgency in the Tyrell Corporation product demo.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "that one after an answer about one company",
        questions: &[BUDGET, "the last one", "What else came up in that call?"],
        expect: Expect::Cites(
            &["c_hooli_churn_risk"],
            "Here is more on budget constraints from Hooli.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "she is the person the previous question named",
        questions: &["What did Zoë say about data residency?", "What else did she say?"],
        expect: Expect::Cites(
            &["c_initech_demo"],
            "Here is more on data residency from Zoë Müller of Initech.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "the second person counts the people quoted",
        questions: &[BUDGET, "What did the second person say?"],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "The second person, Kwame Mensah of Tyrell Corporation, talked about budget constraints in the Tyrell Corporation product demo.",
            FROM_PREVIOUS,
        ),
    },
    Case {
        name: "tell me more about them keeps the whole list",
        questions: &[BUDGET, "Tell me more about them"],
        expect: Expect::Cites(
            &BUDGET_ORDER,
            "Here is more on budget constraints from Globex, Tyrell Corporation, Acme Corp, Northwind Logistics, Wayne Enterprises and Hooli.",
            "Searching the 6 conversations from the previous answer...",
        ),
    },
    Case {
        name: "the first quarter is a topic, not a reference",
        questions: &[BUDGET, "What happened in the first quarter?"],
        expect: Expect::Cites(
            &[
                "c_globex_renewal",
                "c_initech_demo",
                "c_cyberdyne_qbr",
                "c_hooli_churn_risk",
                "c_wayne_pricing",
                "c_acme_discovery",
            ],
            "First quarter came up in 10 of the 13 conversations I searched.",
            "Searching across 13 conversations...",
        ),
    },
    Case {
        name: "no previous answer",
        questions: &[SECOND],
        expect: Expect::Says(
            "There is no earlier answer in this session for “the second one” to refer to.",
            READING,
        ),
    },
    Case {
        name: "them with no previous answer and no topic",
        questions: &["Tell me more about them"],
        expect: Expect::Says(
            "There is no earlier answer in this session for “them” to refer to.",
            READING,
        ),
    },
    Case {
        name: "the fifth one of three",
        questions: &["Who talked about SOC 2 or security reviews?", "And the fifth one?"],
        expect: Expect::Says(
            "My previous answer named 3 conversations, Acme Corp, Umbrella Health and Initech, so there is no fifth one.",
            READING,
        ),
    },
    Case {
        name: "number 7 of six, after an answer about one of them",
        questions: &[BUDGET, SECOND, "number 7"],
        expect: Expect::Says(
            "My earlier answer named 6 conversations, Globex, Tyrell Corporation, Acme Corp, Northwind Logistics, Wayne Enterprises and Hooli, so there is no seventh one.",
            READING,
        ),
    },
    Case {
        name: "she when six people were quoted and none was asked about",
        questions: &[BUDGET, "What else did she say?"],
        expect: Expect::Says(
            "My previous answer quoted 6 people, José Álvarez, Kwame Mensah, Sarah Johnson, Grace Liu, محمد العلي and Дмитрий Смирнов, so I can't tell who “she” is.",
            READING,
        ),
    },
    Case {
        name: "that one when six conversations were named",
        questions: &[BUDGET, "Tell me more about that one"],
        expect: Expect::Says(
            "My previous answer named 6 conversations, Globex, Tyrell Corporation, Acme Corp, Northwind Logistics, Wayne Enterprises and Hooli, so I can't tell which one “that one” is.",
            READING,
        ),
    },
    Case {
        name: "the previous answer found nothing",
        questions: &["xyzzy?", "the first one"],
        expect: Expect::Says(
            "My previous answer named no conversations, so there is nothing for “the first one” to refer to.",
            READING,
        ),
    },
    Case {
        name: "an unresolved reference does not replace the list",
        questions: &[BUDGET, "the seventh one", "the second one"],
        expect: Expect::Cites(
            &["c_tyrell_demo"],
            "The second one, Tyrell Corporation, talked about budget constraints in the Tyrell Corporation product demo.",
            FROM_PREVIOUS,
        ),
    },
];

#[test]
fn multi_turn_references_resolve_against_the_session() {
    let corpus = bundled();
    assert!(CASES.len() >= 20);
    for case in CASES {
        let answers = session(&corpus, case.questions);
        let last = answers.last().expect("at least one question");
        let name = case.name;
        match case.expect {
            Expect::Cites(ids, lead, status) => {
                assert_eq!(cited_in_order(last), ids, "{name}: {}", last.text);
                assert!(
                    last.text.starts_with(lead),
                    "{name}: {:?} does not start with {lead:?}",
                    last.text
                );
                assert_eq!(last.status_messages()[0], status, "{name}");
            }
            Expect::Says(sentence, status) => {
                assert_eq!(last.text, sentence, "{name}");
                assert!(last.citations.is_empty(), "{name}");
                assert_eq!(last.status_messages()[0], status, "{name}");
            }
        }
    }
}

#[test]
fn every_position_of_the_budget_answer_cites_only_that_conversation() {
    let corpus = bundled();
    let budget = &session(&corpus, &[BUDGET])[0];
    assert_eq!(cited_in_order(budget), BUDGET_ORDER);
    for (n, word) in ORDINALS.iter().take(BUDGET_ORDER.len()).enumerate() {
        let question = format!("Tell me more about the {word} one");
        let answers = session(&corpus, &[BUDGET, &question]);
        let more = &answers[1];
        assert_eq!(cited_in_order(more), [BUDGET_ORDER[n]], "{question}");
        assert!(more.follow_up);
        assert_eq!(more.conversations_searched, 1);
        // Only passages the list answer could have cited: the same topic.
        let account = &corpus
            .conversations()
            .iter()
            .find(|c| c.id == BUDGET_ORDER[n])
            .expect("listed conversation")
            .account;
        let lead = format!("The {word} one, {account}, talked about budget constraints");
        assert!(more.text.starts_with(&lead), "{}", more.text);
        assert_eq!(more.status_messages()[0], FROM_PREVIOUS);
    }
}

#[test]
fn unresolved_status_names_the_words() {
    let corpus = bundled();
    let answers = session(&corpus, &[BUDGET, "the ninth one"]);
    assert_eq!(
        answers[1].status_messages(),
        [READING, "Found nothing that “the ninth one” could mean"]
    );
    assert_eq!(answers[1].conversations_searched, 0);
}

#[test]
fn the_grammar_reads_positions_pronouns_and_plurals() {
    let kind = |q: &str| Reference::parse(q).map(|r| r.kind);
    let at = |n| Kind::Position {
        nth: Nth::At(n),
        people: false,
    };
    for (question, expected) in [
        ("Tell me more about the second one", Some(at(2))),
        ("the first", Some(at(1))),
        ("What about the 2nd?", Some(at(2))),
        ("number three", Some(at(3))),
        (
            "the last one",
            Some(Kind::Position {
                nth: Nth::Last,
                people: false,
            }),
        ),
        (
            "What did the third speaker say?",
            Some(Kind::Position {
                nth: Nth::At(3),
                people: true,
            }),
        ),
        ("What else did she say?", Some(Kind::Person)),
        ("Tell me more about that company", Some(Kind::That)),
        (URGENCY, Some(Kind::Those)),
        ("Which of them mentioned Salesforce?", Some(Kind::Those)),
        ("Did they mention a deadline?", Some(Kind::They)),
        ("Tell me more", Some(Kind::More)),
        ("What about security?", Some(Kind::More)),
        ("What happened in the first quarter?", None),
        ("Who was the first to mention pricing?", None),
        ("What was their number one concern?", Some(Kind::They)),
        ("Tell me about number 2", Some(at(2))),
        ("Who spoke first?", None),
        ("What did they say last year?", Some(Kind::They)),
        (BUDGET, None),
        ("What did Zoë say about data residency?", None),
    ] {
        assert_eq!(kind(question), expected, "{question}");
    }
    let reference = Reference::parse("Did the second one mention security?").expect("a reference");
    assert_eq!(reference.phrase, "the second one");
    assert!(reference.has_topic());
    assert_eq!(
        reference.rest.split_whitespace().collect::<Vec<_>>(),
        ["Did", "mention", "security?"]
    );
    assert!(!Reference::parse(SECOND).expect("a reference").has_topic());
}
