//! The four provider adapters on arbitrary bytes, through the whole
//! pipeline (flat or Markdown): they never panic, and what the answer
//! received (session, text, sources, how it ended) and the error the
//! stream stopped with are the same however the input is cut into chunks.
#![no_main]

use cite_stream::core::adapter::{Format, Preset};
use cite_stream::core::citation::{table_class, CitationOptions};
use cite_stream::core::pipeline::{ChatPipeline, PipelineError, Transcript};
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 4] = [
    Format::OpenAiChat,
    Format::OpenAiResponses,
    Format::Anthropic,
    Format::AiSdk,
];

fn run(format: Format, markdown: bool, input: &[u8], cuts: &[usize]) -> (Transcript, Option<PipelineError>) {
    let options = CitationOptions::default();
    let pipeline = if markdown {
        ChatPipeline::markdown(1 << 16, options, table_class)
    } else {
        ChatPipeline::new(1 << 16, options)
    };
    let preset = Preset::<serde_json::Value>::new(format).expect("a preset");
    let mut pipeline = pipeline.with_adapter(Box::new(preset));
    let mut out = Vec::new();
    let mut error = None;
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        if let Err(e) = pipeline.feed::<serde_json::Value>(&input[start..cut], 0.0, &mut out) {
            error = Some(e);
            break;
        }
        start = cut;
    }
    if error.is_none() {
        error = pipeline.end_of_body().err();
    }
    pipeline.finish(&mut out);
    let mut transcript = pipeline.take_transcript();
    // Where segments were cut depends on the chunks; nothing else may.
    transcript.segments = Default::default();
    transcript.markdown.clear();
    (transcript, error)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, data)) = input.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(control & 3)];
    let markdown = control & 4 != 0;
    let whole = run(format, markdown, data, &[]);
    let step = usize::from(control >> 3) % 17 + 1;
    let cuts: Vec<usize> = (step..data.len()).step_by(step).collect();
    assert_eq!(run(format, markdown, data, &cuts), whole, "chunks of {step}");
    let bytes: Vec<usize> = (1..data.len()).collect();
    assert_eq!(run(format, markdown, data, &bytes), whole, "1-byte chunks");
});
