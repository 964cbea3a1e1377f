//! Prints the reference model's answers to a few questions (a session), for
//! reading what it writes.
//!
//!     cargo run -p server-mock --example answers
//!     cargo run -p server-mock --example answers -- "Which customers are at risk of churning?"

use server_mock::corpus::Corpus;
use server_mock::model::{self, Role, Turn};

const QUESTIONS: &[&str] = &[
    "Which prospects mentioned budget constraints?",
    "Of those, which ones also expressed urgency?",
    "Tell me more about the second one",
];

fn main() -> Result<(), String> {
    let corpus = Corpus::bundled().map_err(|e| e.to_string())?;
    let asked: Vec<String> = std::env::args().skip(1).collect();
    let questions: Vec<&str> = if asked.is_empty() {
        QUESTIONS.to_vec()
    } else {
        asked.iter().map(String::as_str).collect()
    };
    let mut history = Vec::new();
    for question in questions {
        let answer = model::answer(&corpus, question, None, &history);
        println!("## {question}\n\n{}\n\n---\n", answer.text);
        history.push(Turn {
            role: Role::User,
            text: question.to_owned(),
        });
        history.push(Turn {
            role: Role::Assistant,
            text: answer.text,
        });
    }
    Ok(())
}
