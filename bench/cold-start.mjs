// Cold start in headless Chromium (playwright-core, the system Chromium):
// from just before a page's dynamic `import()` to the module being ready,
// for the package's browser entry (pkg/index.js, which initialises the wasm
// with top-level await, so the import resolves when init is done) and for
// eventsource-parser's ESM build. Each load is a fresh browser context with
// the cache disabled; the two alternate, LOADS loads each.
//
// Then the hold of the first segment behind one big chunk: a 620 KB chunk of
// token events, written by the server in one write and handed to
// `streamChat` as one chunk by a fetch wrapper on the page; measured from
// the moment the wrapper hands the chunk over to the first `onSegment`.
//
//   node bench/cold-start.mjs   (after `bash .ci/build`)
// Environment: BENCH_LOADS (default 20), CHROMIUM (default /usr/bin/chromium),
// CITE_STREAM_PKG (another built package folder; default pkg/).
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../tests/chromium.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LOADS = Number(process.env.BENCH_LOADS ?? 20);
const HELD_RUNS = 10;
const CHUNK_BYTES = 620_000;
const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
// URL prefix → folder served under it.
const FOLDERS = {
  "/pkg/": process.env.CITE_STREAM_PKG ?? join(ROOT, "pkg"),
  "/eventsource-parser/": join(ROOT, "node_modules/eventsource-parser/dist"),
};

const importPage = (entry) => `<!doctype html><meta charset="utf-8"><script type="module">
const start = performance.now();
await import(${JSON.stringify(entry)});
window.benchResult = performance.now() - start;
</script>`;

const PAGES = {
  "/cite-stream.html": importPage("/pkg/index.js"),
  "/eventsource-parser.html": importPage("/eventsource-parser/index.js"),
  "/held.html": `<!doctype html><meta charset="utf-8"><script type="module">
import { streamChat } from "/pkg/index.js";
// Reads the whole body, then hands it to streamChat as one chunk, noting when.
const realFetch = window.fetch.bind(window);
let handedOver = 0;
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const body = new ReadableStream({
    start(controller) {
      handedOver = performance.now();
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
};
window.runHeld = async () => {
  let first = 0;
  let segments = 0;
  const result = await streamChat({
    url: "/chunk",
    body: { question: "q" },
    onSegment() {
      if (segments++ === 0) first = performance.now();
    },
  }).finished;
  const end = performance.now();
  if (result.status !== "done") throw new Error("stream ended " + result.status + ": " + result.error);
  return { firstSegmentMs: first - handedOver, wholeChunkMs: end - handedOver, segments, chars: result.text.length };
};
window.benchResult = "ready";
</script>`,
};

/** About CHUNK_BYTES of token events (1 to 6 characters) and a done event. */
function bigChunk() {
  const words = "the budget is frozen until Q3 and José Álvarez asked about pricing for 東京 seats".split(" ");
  const parts = ['event: session\nid: m_1:1\ndata: {"sessionId":"s_1","messageId":"m_1"}\n\n'];
  let size = parts[0].length;
  let seq = 2;
  for (let i = 0; size < CHUNK_BYTES - 200; i++) {
    const word = " " + words[i % words.length];
    const part = `event: token\nid: m_1:${seq++}\ndata: ${word.slice(0, 1 + (i % 6))}\n\n`;
    parts.push(part);
    size += Buffer.byteLength(part);
  }
  parts.push(`event: done\nid: m_1:${seq}\ndata: {"messageId":"m_1","processingMs":1,"tokenCount":${seq - 2}}\n\n`);
  return Buffer.from(parts.join(""));
}
const CHUNK = bigChunk();

const server = createServer(async (req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/chunk") {
    req.resume();
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
    res.end(CHUNK); // one write
    return;
  }
  if (PAGES[path]) {
    res.writeHead(200, { "content-type": "text/html", "cache-control": "no-store" });
    res.end(PAGES[path]);
    return;
  }
  const prefix = Object.keys(FOLDERS).find((p) => path.startsWith(p));
  const file = prefix && normalize(join(FOLDERS[prefix], path.slice(prefix.length)));
  if (!file || !file.startsWith(FOLDERS[prefix])) {
    res.writeHead(404).end();
    return;
  }
  try {
    const bytes = await readFile(file);
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(bytes);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: CHROMIUM_ARGS,
});

/** Opens `path` in a fresh context with the cache disabled; waits for benchResult. */
async function open(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto(origin + path);
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 30_000 }).catch((e) => {
    throw new Error(`${path}: ${errors.join("; ") || e.message}`);
  });
  return { context, page, result: await page.evaluate(() => window.benchResult) };
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (value) => value.toFixed(1);

try {
  // One warm-up load of each (the browser's own start-up), not counted.
  for (const path of ["/cite-stream.html", "/eventsource-parser.html"]) await (await open(path)).context.close();
  const times = { "/cite-stream.html": [], "/eventsource-parser.html": [] };
  for (let i = 0; i < LOADS; i++) {
    for (const path of Object.keys(times)) {
      const { context, result } = await open(path);
      times[path].push(result);
      await context.close();
    }
  }
  const ours = times["/cite-stream.html"];
  const peer = times["/eventsource-parser.html"];
  console.log(`\nCold start, import() to ready, headless Chromium ${browser.version()}, ${LOADS} fresh loads each, cache disabled (ms)`);
  console.log("| module | median | p90 | min | max |");
  console.log("|---|---:|---:|---:|---:|");
  for (const [name, values] of [["cite-stream (pkg/index.js, init included)", ours], ["eventsource-parser (dist/index.js)", peer]]) {
    console.log(`| ${name} | ${ms(quantile(values, 0.5))} | ${ms(quantile(values, 0.9))} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} |`);
  }
  console.log(`| difference (cite-stream - eventsource-parser) | ${ms(quantile(ours, 0.5) - quantile(peer, 0.5))} | ${ms(quantile(ours, 0.9) - quantile(peer, 0.9))} | | |`);

  const { context, page } = await open("/held.html");
  const runs = [];
  await page.evaluate(() => window.runHeld()); // warm-up
  for (let i = 0; i < HELD_RUNS; i++) runs.push(await page.evaluate(() => window.runHeld()));
  await context.close();
  const first = runs.map((r) => r.firstSegmentMs);
  const whole = runs.map((r) => r.wholeChunkMs);
  console.log(`\nOne ${(CHUNK.length / 1000).toFixed(0)} KB chunk (${runs[0].chars.toLocaleString("en-US")} characters of token events) through streamChat, ${HELD_RUNS} runs in one page (ms)`);
  console.log("| from the chunk handed over to | median | p90 |");
  console.log("|---|---:|---:|");
  console.log(`| the first onSegment | ${ms(quantile(first, 0.5))} | ${ms(quantile(first, 0.9))} |`);
  console.log(`| finished (${runs[0].segments} segment(s)) | ${ms(quantile(whole, 0.5))} | ${ms(quantile(whole, 0.9))} |`);
} finally {
  await browser.close();
  server.close();
}
