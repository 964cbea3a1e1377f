// The text-in helper: createSegmenter({ citations, markdown, onSegment })
// gives, for text pushed at any cuts, the segments streamChat gives for the
// same text (the oracle: this protocol's stream of it over a real socket),
// owns the citation timer, and resolveCitations(segments, citations)
// agrees with the resolution streamChat's core computes (onCitations).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createSegmenter, resolveCitations, streamChat, CitationBuffer } from "cite-stream";
import { rawServer, sse, SSE_HEADERS, deferred } from "./harness.mjs";
import { mulberry32 as random } from "../random.mjs";

const TEXT =
  "## Budget\n\nAcme said **no budget** [12:45, Sarah Johnson] until Q3.\n\n" +
  "- Beta: café [1:02:03, Mark O'Neil; 14:02, Mark Lee]\n- Gamma: `x[0]` and [docs](https://example.com) [3:00, Nobody]\n";
const SOURCES = [
  { id: "c1", conversationId: "c_a", conversationTitle: "Acme", timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson", quote: "No budget." },
  { id: "c2", conversationId: "c_b", conversationTitle: "Beta", timestamp: "14:02", seconds: 842, speaker: "Mark Lee", quote: "Later." },
];

/** `text` in seeded random pieces (whole code points). */
function pieces(text, seed) {
  const chars = [...text];
  const next = random(seed);
  const out = [];
  for (let i = 0; i < chars.length; ) {
    const n = 1 + Math.floor(next() * 12);
    out.push(chars.slice(i, i + n).join(""));
    i += n;
  }
  return out;
}

/**
 * What a renderer builds: adjacent texts merged, and `raw` left out (where
 * a line end's source goes, a text or the close after it, depends on where
 * the text was cut; the joined `raw` is checked on its own).
 */
function shape(segments) {
  const out = [];
  for (const { raw, ...s } of segments) {
    const last = out.at(-1);
    if (s.kind === "text" && last?.kind === "text") last.text += s.text;
    else if (s.kind !== "text" || s.text !== "") out.push(s);
  }
  return out;
}

/** streamChat's segments, result and resolution for `tokens` sent in this protocol. */
async function viaStreamChat(tokens, options) {
  const server = await rawServer(async (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(
      sse("session", JSON.stringify({ sessionId: "s", messageId: "m" })) +
        tokens.map((t) => sse("token", t)).join("") +
        sse("citations", JSON.stringify({ citations: SOURCES })) +
        sse("done", JSON.stringify({ messageId: "m", processingMs: 1, tokenCount: tokens.length })),
    );
  });
  try {
    let resolution;
    const segments = [];
    const result = await streamChat({
      url: server.url,
      body: {},
      ...options,
      onSegment: (s) => segments.push(s),
      onCitations: (_, r) => (resolution = r),
    }).finished;
    assert.equal(result.status, "done");
    return { segments, result, resolution };
  } finally {
    await server.close();
  }
}

for (const markdown of [false, true]) {
  test(`createSegmenter at seeded random cuts gives streamChat's ${markdown ? "Markdown" : "flat"} segments, and resolveCitations its resolution`, async () => {
    const want = await viaStreamChat(pieces(TEXT, 1), { markdown });
    assert.ok(want.resolution.unbacked.length > 0, "the oracle has an unbacked citation");
    assert.deepEqual(resolveCitations(want.segments, SOURCES), want.resolution);
    assert.deepEqual(resolveCitations(want.result.segments, want.result.citations), want.resolution);
    for (let seed = 1; seed <= 40; seed++) {
      const got = [];
      const segmenter = createSegmenter({ markdown, onSegment: (s) => got.push(s) });
      for (const piece of pieces(TEXT, seed)) segmenter.push(piece);
      segmenter.end();
      assert.equal(got.map((s) => s.raw ?? s.text).join(""), TEXT, `seed ${seed}`);
      assert.deepEqual(shape(got), shape(want.segments), `seed ${seed}`);
      assert.deepEqual(resolveCitations(got, SOURCES), want.resolution, `seed ${seed}`);
    }
  });
}

test("resolveCitations under the numeric pattern: n is the n-th source; past the end is unbacked", async () => {
  const want = await viaStreamChat(["As said [1", "] and [2-3]."], { citations: { pattern: "numeric" } });
  assert.deepEqual(resolveCitations(want.segments, SOURCES), want.resolution);
  assert.deepEqual(want.resolution.unbacked, [{ segmentIndex: 1, number: 3 }]);
  assert.throws(() => resolveCitations("x", SOURCES), TypeError);
});

test("the segmenter owns the citation timer: a held candidate is released at its timeout with no call", async () => {
  const released = deferred();
  const got = [];
  const start = Date.now();
  const segmenter = createSegmenter({
    citations: { timeoutMs: 40 },
    onSegment(s) {
      got.push([s, Date.now() - start]);
      if (s.text === "[12:4") released.resolve();
    },
  });
  segmenter.push("See [12:4");
  assert.deepEqual(got.map(([s]) => s.text), ["See "]);
  await released.promise;
  const [, at] = got.at(-1);
  assert.ok(at >= 35, `released after ${at} ms`);
  // Against the low-level buffer: the same segment, by poll at the deadline.
  const buffer = new CitationBuffer({ timeoutMs: 40 });
  buffer.push("See [12:4", 0);
  assert.deepEqual(buffer.poll(buffer.deadline), [got.at(-1)[0]]);
  buffer.free();
  segmenter.push(" more");
  segmenter.end();
  segmenter.end();
  assert.equal(got.map(([s]) => s.text).join(""), "See [12:4 more");
  assert.throws(() => segmenter.push("late"), TypeError);
});

test("end() releases what is held, and cancels the timer", async () => {
  const got = [];
  const segmenter = createSegmenter({ citations: { timeoutMs: 20 }, markdown: true, onSegment: (s) => got.push(s) });
  segmenter.push("**Held [12:45, Sar");
  segmenter.end();
  const after = got.length;
  assert.equal(got.map((s) => s.raw).join(""), "**Held [12:45, Sar");
  // A timer left armed would fire within its 20 ms; a later one must see nothing new.
  const later = deferred();
  setTimeout(later.resolve, 60);
  await later.promise;
  assert.equal(got.length, after);
});

test("createSegmenter option checks", () => {
  assert.throws(() => createSegmenter(), TypeError);
  assert.throws(() => createSegmenter({}), /onSegment/);
  assert.throws(() => createSegmenter({ onSegment() {}, markdown: "yes" }), /markdown/);
  assert.throws(() => createSegmenter({ onSegment() {}, citations: { pattern: "x" } }), /pattern/);
  const segmenter = createSegmenter({ onSegment() {} });
  assert.throws(() => segmenter.push(5), TypeError);
  segmenter.end();
});
