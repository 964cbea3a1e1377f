// The built package, imported by its name, in Node against the running
// reference server (CITE_STREAM_SERVER, set by .ci/test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { streamChat, StreamError, EventStreamParser, CitationBuffer } from "cite-stream";

const server = process.env.CITE_STREAM_SERVER;
assert.ok(server, "run with CITE_STREAM_SERVER=http://127.0.0.1:PORT (.ci/test does)");
const url = `${server}/api/chat`;
// Every API request carries the demo user's token (CITE_STREAM_TOKEN, also set by .ci/test).
assert.ok(process.env.CITE_STREAM_TOKEN, "run with CITE_STREAM_TOKEN set (.ci/test does)");
const headers = { Authorization: `Bearer ${process.env.CITE_STREAM_TOKEN}` };
const question = "Which prospects mentioned budget constraints?";

test("streamChat streams a whole answer in Node", async () => {
  const seen = [];
  const segments = [];
  const chat = streamChat({
    url,
    headers,
    body: { question },
    onSession: (s) => seen.push(["session", s.sessionId]),
    onStatus: (s) => seen.push(["status", s.message]),
    onSegment: (segment) => segments.push(segment),
    onCitations: (citations, resolution) => seen.push(["citations", citations.length, resolution.matches.length]),
    onDone: (d) => seen.push(["done", typeof d.processingMs]),
    onError: (e) => assert.fail(`unexpected error ${e}`),
  });
  const result = await chat.finished;
  assert.equal(result.status, "done");
  assert.equal(segments.map((s) => s.text).join(""), result.text);
  assert.deepEqual(result.segments, segments);
  const cited = segments.filter((s) => s.kind === "citation");
  assert.ok(cited.length >= 2, "at least two citations");
  assert.equal(cited.length, (result.text.match(/\[/g) ?? []).length);
  for (const c of cited) assert.match(c.text, /^\[\d{1,2}:\d{2}, [^\]]+\]$|^\[.*; .*\]$/);
  assert.equal(seen[0][0], "session");
  assert.ok(seen[0][1].startsWith("s_"));
  assert.match(seen[1][1], /^Searching across \d+ conversations\.\.\.$/);
  const [, sources, matched] = seen.find(([kind]) => kind === "citations");
  assert.ok(sources >= 2);
  assert.equal(matched, cited.length);
  assert.deepEqual(seen.at(-1), ["done", "number"]);
  assert.equal(result.sessionId, seen[0][1]);
});

test("the async iterator yields the same stream as events", async () => {
  const types = [];
  let text = "";
  for await (const event of streamChat({ url, headers, body: { question } })) {
    types.push(event.type);
    if (event.type === "segment") text += event.segment.text;
  }
  assert.equal(types[0], "session");
  assert.equal(types.at(-1), "done");
  assert.ok(types.includes("citations"));
  assert.ok(text.includes("["));
});

test("a refused request is an http StreamError with the server's JSON body", async () => {
  const errors = [];
  const chat = streamChat({ url, headers, body: { question: "" }, onError: (e) => errors.push(e) });
  const result = await chat.finished;
  assert.equal(result.status, "error");
  assert.equal(errors.length, 1);
  const error = result.error;
  assert.ok(error instanceof StreamError);
  assert.ok(error instanceof Error);
  assert.equal(error.code, "http");
  assert.equal(error.status, 400);
  assert.equal(typeof error.body.error.code, "string");
  assert.equal(result.text, "");
});

test("EventStreamParser keeps a character split across chunks", () => {
  const bytes = new TextEncoder().encode("event: token\ndata: Zoë 😀\r\n\r\n");
  const parser = new EventStreamParser();
  const events = [];
  for (const b of bytes) events.push(...parser.feed(Uint8Array.of(b)));
  events.push(...parser.finish());
  assert.deepEqual(events, [{ type: "token", data: "Zoë 😀", lastEventId: "" }]);
});

test("CitationBuffer holds a split citation until it closes", () => {
  const buffer = new CitationBuffer();
  const out = [];
  for (const token of ["See ", "[", "12", ":45", ", Sarah", " Johnson", "]", "."]) {
    out.push(buffer.push(token, 0));
  }
  assert.deepEqual(out[0], [{ kind: "text", text: "See " }]);
  assert.deepEqual(out.slice(1, 6), [[], [], [], [], []]);
  assert.deepEqual(out[6], [
    {
      kind: "citation",
      text: "[12:45, Sarah Johnson]",
      citations: [{ timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson" }],
    },
  ]);
  assert.equal(buffer.deadline, undefined);
});
