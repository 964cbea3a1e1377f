// The adapters in the built package (pkg/: the wasm module and its JS) in
// headless Chromium and Firefox: each provider fixture of
// tests/data/adapters/ is served over a real socket, cut at seeded random
// places (inside characters too), and read by `streamChat({ adapter,
// markdown: true })` in the page. Each run must give the answer the
// providers' own SDKs read from the fixture (tests/node/adapters.test.mjs
// checks that against them), the provider's id, and the same Markdown
// segments as this protocol's stream of the same fragments; a stream of
// another format must be a typed "protocol" error naming the format.
//
//   bash .ci/build && node --test tests/dom/adapters.test.mjs
//
// CITE_STREAM_SEED=N replays a run's cuts.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inEachBrowser, serveRepository } from "./support.mjs";
import { ANSWER, FIXTURES, MESSAGE_IDS, NAMES, cuts, native, shape } from "../node/adapter-fixtures.mjs";
import { turn } from "../node/harness.mjs";

const SEED = Number(process.env.CITE_STREAM_SEED ?? Date.now() % 1_000_000);
const SEEDS = 6;
const STREAMS = { ...FIXTURES, "cite-stream": native() };

/** `/stream/<format>/<seed>`: that format's stream, in that seed's chunks, one per turn of the event loop. */
async function stream(request, response, path) {
  const [, , format, seed] = path.split("/");
  for await (const _ of request); // the question, read and not needed
  if (!(format in STREAMS)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
  for (const chunk of cuts(Buffer.from(STREAMS[format]), Number(seed))) {
    if (chunk.length > 0) response.write(chunk);
    await turn();
  }
  response.end();
}

const server = await serveRepository(["/js/", "/tests/dom/", "/pkg/"], { "/stream/": stream });
after(() => server.close());

/** Runs each `{ format, seed, adapter }` in the page with the package; their results, as JSON. */
function readInPage(run, runs) {
  return run(async (runs) => {
    const { streamChat, StreamError } = await import("/pkg/index.js");
    const results = [];
    for (const { format, seed, adapter } of runs) {
      const segments = [];
      const options = { url: `/stream/${format}/${seed}`, body: { q: 1 }, markdown: true, onSegment: (s) => segments.push(s) };
      if (adapter) options.adapter = adapter;
      const result = await streamChat(options).finished;
      const error = result.error && {
        streamError: result.error instanceof StreamError,
        code: result.error.code,
        detail: result.error.detail,
        format: result.error.format,
        index: result.error.index,
        message: result.error.message,
      };
      results.push({ status: result.status, text: result.text, messageId: result.messageId, segments, error: error ?? null });
    }
    return results;
  }, runs);
}

inEachBrowser(server.url, (run) => {
  test("each preset at seeded random cuts: the answer, the provider's id and the same Markdown segments as this protocol's stream", async () => {
    const runs = [];
    for (let n = 0; n < SEEDS; n++) {
      const seed = SEED + n * 101;
      runs.push({ format: "cite-stream", seed });
      for (const adapter of Object.keys(FIXTURES)) runs.push({ format: adapter, seed, adapter });
    }
    const results = await readInPage(run, runs);
    assert.equal(results.length, runs.length);
    const want = results[0];
    assert.equal(want.status, "done");
    assert.equal(want.text, ANSWER);
    const cited = shape(want.segments).filter((s) => s.kind === "citation");
    assert.deepEqual(cited.map((s) => s.text), ["[12:45, Sarah Johnson]", "[1:02:03, Mark O'Neil]"]);
    assert.ok(want.segments.some((s) => s.kind === "open" && s.tag === "strong"), "the answer has Markdown structure");
    runs.forEach((run, i) => {
      const got = results[i];
      const where = `${run.format}, seed ${run.seed}`;
      assert.equal(got.error, null, where);
      assert.equal(got.status, "done", where);
      assert.equal(got.text, ANSWER, where);
      assert.equal(got.messageId, run.adapter ? MESSAGE_IDS[run.adapter] : "m", where);
      assert.deepEqual(shape(got.segments), shape(want.segments), where);
    });
  });

  test("a stream of another format is a typed protocol error naming the format expected", async () => {
    const runs = [];
    for (const adapter of Object.keys(FIXTURES)) {
      for (const format of Object.keys(STREAMS)) if (format !== adapter) runs.push({ format, seed: SEED, adapter });
    }
    const results = await readInPage(run, runs);
    runs.forEach(({ format, adapter }, i) => {
      const { status, text, error } = results[i];
      const where = `${format} read as ${adapter}`;
      assert.equal(status, "error", where);
      assert.equal(error?.streamError, true, where);
      assert.equal(error.code, "protocol", where);
      assert.equal(error.detail, "adapter-foreign", where);
      assert.equal(error.format, adapter, where);
      assert.equal(error.index, 1, where);
      assert.ok(error.message.startsWith(`expected ${NAMES[adapter]} stream`), `${where}: ${error.message}`);
      assert.equal(text, "", where);
    });
  });
});
