// EventStreamParser (wasm, events delivered to JS as objects) against
// eventsource-parser fed by a streaming TextDecoder, in one process, on the
// same generated streams. Prints MB/s for each and the ratio.
//
//   node bench/parser.mjs        (after `bash .ci/build`)
import { createParser } from "eventsource-parser";
import { EventStreamParser } from "cite-stream";
import { wasmMemory } from "../pkg/lib.js";
import { tokenStream, bigEvent, chunked } from "./streams.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 11);

function runOurs(chunks, maxEventBytes) {
  const parser = new EventStreamParser({ maxEventBytes });
  let events = 0;
  let chars = 0;
  for (const chunk of chunks) {
    for (const event of parser.feed(chunk)) {
      events++;
      chars += event.data.length;
    }
  }
  parser.finish();
  parser.free();
  return [events, chars];
}

function runPeer(chunks) {
  const decoder = new TextDecoder();
  let events = 0;
  let chars = 0;
  const parser = createParser({
    onEvent(event) {
      events++;
      chars += event.data.length;
    },
  });
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  parser.feed(decoder.decode());
  return [events, chars];
}

/** Median MB/s of each runner over RUNS rounds, after a warm-up; the
 * runners alternate within each round so both see the same conditions. */
function measure(runners, chunks, bytes) {
  const results = runners.map((run) => run(chunks));
  const times = runners.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, run] of runners.entries()) {
      const start = process.hrtime.bigint();
      run(chunks);
      times[i].push(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
  return runners.map((_, i) => {
    const sorted = times[i].sort((a, b) => a - b);
    return { mbps: bytes / 1e6 / sorted[Math.floor(sorted.length / 2)], result: results[i] };
  });
}

export function row(name, bytes, chunkSize, maxEventBytes = 1 << 20) {
  const chunks = chunked(bytes, chunkSize);
  const [ours, peer] = measure([(c) => runOurs(c, maxEventBytes), runPeer], chunks, bytes.length);
  if (ours.result[0] !== peer.result[0] || ours.result[1] !== peer.result[1]) {
    throw new Error(`${name}: results differ: ours ${ours.result}, eventsource-parser ${peer.result}`);
  }
  return { name, ours: ours.mbps, peer: peer.mbps, ratio: ours.mbps / peer.mbps };
}

export function print(title, rows) {
  console.log(`\n${title}`);
  console.log("| stream | cite-stream MB/s | eventsource-parser MB/s | ratio |");
  console.log("|---|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${r.ours.toFixed(0)} | ${r.peer.toFixed(0)} | ${r.ratio.toFixed(2)}x |`);
  }
}

/**
 * The module's memory (which only grows) after each scenario: how far a
 * stream, however long, or an event that never ends, makes it grow.
 */
function memoryRows(tokens) {
  const mib = () => wasmMemory().buffer.byteLength / (1 << 20);
  const rows = [["before", mib()]];
  runOurs(chunked(tokens, 16384), 1 << 20);
  rows.push([`after ${(tokens.length / 1e6).toFixed(0)} MB of token events (maxEventBytes 1 MiB)`, mib()]);
  const parser = new EventStreamParser({ maxEventBytes: 1 << 20 });
  const line = new TextEncoder().encode("data: " + "y".repeat(65530));
  let fed = 0;
  try {
    for (; fed < 100 << 20; fed += line.length) parser.feed(line);
  } catch (error) {
    if (error.code !== "protocol") throw error;
  }
  rows.push([`after a line that never ends, refused at ${(fed / (1 << 20)).toFixed(1)} MiB (maxEventBytes 1 MiB)`, mib()]);
  runOurs(chunked(bigEvent(), 256), 8 << 20);
  rows.push(["after one 4 MB event (maxEventBytes 8 MiB)", mib()]);
  console.log("\nwasm memory (it never shrinks, so each row is the high-water mark so far)");
  console.log("| after | MiB |");
  console.log("|---|---:|");
  for (const [name, size] of rows) console.log(`| ${name} | ${size.toFixed(1)} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const tokens = tokenStream();
  const big = bigEvent();
  const mb = (tokens.length / 1e6).toFixed(1);
  // First, while the module's memory is fresh.
  if (!process.env.BENCH_NO_MEMORY) memoryRows(tokens);
  print(`EventStreamParser vs eventsource-parser + TextDecoder (Node ${process.version}, median of ${RUNS})`, [
    row(`${mb} MB, 200,000 token events, 64 B chunks`, tokens, 64),
    row(`${mb} MB, 200,000 token events, 1 KiB chunks`, tokens, 1024),
    row(`${mb} MB, 200,000 token events, 16 KiB chunks`, tokens, 16384),
    row("one 4 MB event, 256 B chunks", big, 256, 8 << 20),
    row("one 4 MB event, one chunk", big, big.length, 8 << 20),
  ]);
}
