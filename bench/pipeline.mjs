// The whole client pipeline, bytes in and render-ready segments out to JS
// callbacks: streamChat (its real fetch/reader loop, fed by a stubbed fetch
// whose body replays a generated answer stream) against the same read loop
// driving eventsource-parser with a streaming TextDecoder and JSON.parse of
// the JSON events, which does strictly less (no citation handling).
//
//   node bench/pipeline.mjs              (after `bash .ci/build`)
//   node bench/pipeline.mjs --separate   each side in processes of its own
//
// In one process the two alternate, so both see the same machine; each
// then also pays for some of the other's garbage. `--separate` runs each
// side alone in a fresh process (three of each, alternating), as an app
// would run one of them.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createParser } from "eventsource-parser";
import { streamChat } from "cite-stream";
import { chunked } from "./streams.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 11);

/** An answer of `tokens` LLM-like fragments (1 to 6 characters), with an
 * inline citation every 40 fragments or so, as the reference server sends. */
function answerStream(tokens = 200_000) {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  const words = "the budget is frozen until Q3 and José Álvarez asked about pricing for 東京 seats".split(" ");
  let text = "";
  let fragments = 0;
  const parts = ['event: session\nid: m_1:1\ndata: {"sessionId":"s_1","messageId":"m_1"}\n\n',
    'event: status\nid: m_1:2\ndata: {"message":"Searching across 12 conversations..."}\n\n'];
  let seq = 3;
  let pending = "";
  while (fragments < tokens) {
    pending += fragments % 40 === 39 ? " [12:45, Sarah Johnson]" : " " + words[Math.floor(random() * words.length)];
    while (pending.length > 6 && fragments < tokens) {
      const n = 1 + Math.floor(random() * 6);
      const fragment = pending.slice(0, n);
      pending = pending.slice(n);
      text += fragment;
      parts.push(`event: token\nid: m_1:${seq++}\ndata: ${fragment}\n\n`);
      fragments++;
    }
  }
  parts.push(`event: citations\nid: m_1:${seq++}\ndata: {"citations":[{"id":"c1","conversationId":"c_a","conversationTitle":"Acme","timestamp":"12:45","seconds":765,"speaker":"Sarah Johnson","quote":"No budget until Q3."}]}\n\n`);
  parts.push(`event: done\nid: m_1:${seq}\ndata: {"messageId":"m_1","processingMs":1,"tokenCount":${tokens}}\n\n`);
  return { bytes: new TextEncoder().encode(parts.join("")), text };
}

function body(chunks) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else controller.close();
    },
  });
}

globalThis.fetch = async (_url, init) =>
  new Response(init.body === '"bench"' ? null : body(currentChunks), {
    headers: { "content-type": "text/event-stream" },
  });
let currentChunks = [];

async function runOurs(chunks) {
  currentChunks = chunks;
  let segments = 0;
  let chars = 0;
  const result = await streamChat({
    url: "http://bench.invalid/api/chat",
    body: { question: "q" },
    onSegment(segment) {
      segments++;
      chars += segment.text.length;
    },
  }).finished;
  if (result.status !== "done") throw new Error(`ours ended ${result.status}: ${result.error}`);
  return chars;
}

async function runPeer(chunks) {
  const reader = body(chunks).getReader();
  const decoder = new TextDecoder();
  let segments = 0;
  let chars = 0;
  const onSegment = (segment) => {
    segments++;
    chars += segment.text.length;
  };
  const parser = createParser({
    onEvent(event) {
      if (event.event === "token") onSegment({ kind: "text", text: event.data });
      else JSON.parse(event.data);
    },
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  return chars;
}

/** Median MB/s of each runner over RUNS rounds, after a warm-up; the
 * runners alternate within each round so both see the same conditions. */
async function measure(runners, chunks, bytes) {
  const chars = [];
  for (const run of runners) chars.push(await run(chunks));
  const times = runners.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, run] of runners.entries()) {
      const start = process.hrtime.bigint();
      await run(chunks);
      times[i].push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  return runners.map((_, i) => {
    const sorted = times[i].sort((a, b) => a - b);
    return { mbps: bytes / 1e6 / sorted[Math.floor(sorted.length / 2)], chars: chars[i] };
  });
}

const { bytes, text } = answerStream();
const SIZES = [1024, 16384];
const RUNNERS = { streamChat: runOurs, "eventsource-parser": runPeer };

/** One side alone (the child process of `--separate`): prints its MB/s. */
async function alone(name, size) {
  const run = RUNNERS[name];
  const chunks = chunked(bytes, size);
  for (let i = 0; i < 5; i++) {
    if ((await run(chunks)) !== text.length) throw new Error(`${name}: wrong text length`);
  }
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await run(chunks);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  console.log(JSON.stringify({ mbps: bytes.length / 1e6 / times[Math.floor(RUNS / 2)] }));
}

function header(how) {
  console.log(`\nstreamChat pipeline vs eventsource-parser + TextDecoder + JSON.parse (Node ${process.version}, ${how})`);
  console.log(`${(bytes.length / 1e6).toFixed(1)} MB, 200,000 token events of 1 to 6 characters, a citation every 40`);
  console.log("| chunks | streamChat MB/s | eventsource-parser MB/s | ratio |");
  console.log("|---|---:|---:|---:|");
}

const row = (size, ours, peer) =>
  console.log(`| ${size} B | ${ours.toFixed(0)} | ${peer.toFixed(0)} | ${(ours / peer).toFixed(2)}x |`);

if (process.env.BENCH_ALONE) {
  await alone(process.env.BENCH_ALONE, Number(process.env.BENCH_SIZE));
} else if (process.argv.includes("--separate")) {
  header(`each side alone in 3 processes, median of ${RUNS} runs each, median process`);
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const size of SIZES) {
    const mbps = { streamChat: [], "eventsource-parser": [] };
    for (let round = 0; round < 3; round++) {
      for (const name of Object.keys(mbps)) {
        const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
          env: { ...process.env, BENCH_ALONE: name, BENCH_SIZE: String(size) },
          encoding: "utf8",
        });
        if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
        mbps[name].push(JSON.parse(child.stdout.trim().split("\n").at(-1)).mbps);
      }
    }
    row(size, median(mbps.streamChat), median(mbps["eventsource-parser"]));
  }
} else {
  header(`alternating in one process, median of ${RUNS}`);
  for (const size of SIZES) {
    const chunks = chunked(bytes, size);
    const [ours, peer] = await measure([runOurs, runPeer], chunks, bytes.length);
    if (ours.chars !== text.length || peer.chars !== text.length) {
      throw new Error(`text lengths differ: ${ours.chars} / ${peer.chars} / ${text.length}`);
    }
    row(size, ours.mbps, peer.mbps);
  }
}
