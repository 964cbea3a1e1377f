// Linearity of the Markdown segmenter in wasm (issue 14 item 4): a ~1 MB
// Markdown answer (bench/markdown-answer.mjs's, repeated with fresh seeds)
// pushed into the built package's CitationBuffer({ markdown: true }) in
// 4-byte fragments, timing each tenth of the answer. The cost per byte of
// the last tenth should equal the first's: nothing grows with the answer.
// A ratio, printed; never asserted.
//
//   node bench/markdown.mjs            (after bash .ci/build)
import { CitationBuffer } from "../pkg/node.js";
import { markdownAnswer } from "./markdown-answer.mjs";

const TARGET = 1 << 20;
let text = "";
for (let seed = 1; text.length < TARGET; seed++) text += markdownAnswer({ tokens: 4000, seed }).text + "\n\n";
const fragments = [];
for (let at = 0; at < text.length; at += 4) fragments.push(text.slice(at, at + 4));

function run() {
  const buffer = new CitationBuffer({ markdown: true });
  const tenth = Math.ceil(fragments.length / 10);
  const times = [];
  let segments = 0;
  let start = performance.now();
  for (let i = 0; i < fragments.length; i++) {
    segments += buffer.push(fragments[i], i).length;
    if ((i + 1) % tenth === 0 || i === fragments.length - 1) {
      const now = performance.now();
      times.push(now - start);
      start = now;
    }
  }
  segments += buffer.finish().length;
  buffer.free();
  return { times, segments };
}

run(); // warm-up
const runs = Array.from({ length: Number(process.env.BENCH_RUNS ?? 3) }, run);
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tenths = runs[0].times.map((_, i) => median(runs.map((r) => r.times[i])));
const bytesPerTenth = Buffer.byteLength(text) / 10;
const nsPerByte = tenths.map((ms) => (ms * 1e6) / bytesPerTenth);
const total = tenths.reduce((a, b) => a + b, 0);
console.log(`Markdown segmenter (wasm, Node ${process.versions.node}): ${(Buffer.byteLength(text) / 1e6).toFixed(2)} MB in ${fragments.length} fragments of 4 characters, ${runs[0].segments} segments, median of ${runs.length} runs`);
console.log(`ns per byte by tenth: ${nsPerByte.map((n) => n.toFixed(0)).join(", ")}`);
console.log(`total ${total.toFixed(0)} ms (${(Buffer.byteLength(text) / 1e6 / (total / 1000)).toFixed(1)} MB/s); last tenth / first tenth: ${(nsPerByte[9] / nsPerByte[0]).toFixed(2)}x`);
