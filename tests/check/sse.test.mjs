// The checker's own event-stream reader (js/check/sse.mjs) against the
// WHATWG rules it judges servers by: line endings, comments, the single
// leading space, data joining, ids, a trailing event left undispatched.
// Each stream is also fed cut at every byte offset (inside multi-byte
// characters and between a CR and its LF), and byte by byte: the events
// must not depend on how the body is cut into chunks.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readEvents } from "../../js/check/sse.mjs";

const encoder = new TextEncoder();

/** A Response whose body delivers `chunks` (Uint8Arrays) one by one. */
function responseOf(chunks) {
  const body = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return new Response(body);
}

/** Every way of cutting `bytes` that the test tries: whole, at each offset, byte by byte. */
function* cuts(bytes) {
  yield [bytes];
  for (let at = 1; at < bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)];
  yield [...bytes].map((byte) => Uint8Array.of(byte));
}

const strip = ({ events, comments, complete }) => ({
  events: events.map(({ type, data, id }) => ({ type, data, id })),
  comments,
  complete,
});

/** Reads `stream` cut every way and expects the same result each time. */
async function readAllCuts(stream, expected) {
  const bytes = typeof stream === "string" ? encoder.encode(stream) : stream;
  for (const chunks of cuts(bytes)) {
    const result = strip(await readEvents(responseOf(chunks)));
    assert.deepEqual(result, expected, `cut into ${chunks.map((c) => c.length).join("+")} bytes`);
  }
}

const CASES = [
  {
    name: "typed events with ids, the one leading space stripped, data lines joined with LF",
    stream: "event: session\nid: m_1:1\ndata: {\"a\":1}\n\nevent: token\nid: m_1:2\ndata:  two\ndata:\ndata: lines\n\n",
    events: [
      { type: "session", data: '{"a":1}', id: "m_1:1" },
      { type: "token", data: " two\n\nlines", id: "m_1:2" },
    ],
  },
  {
    name: "CRLF, lone CR and LF line endings, mixed",
    stream: "event: token\r\nid: m:1\rdata: a\r\n\revent: token\nid: m:2\r\ndata: b\r\r\n",
    events: [
      { type: "token", data: "a", id: "m:1" },
      { type: "token", data: "b", id: "m:2" },
    ],
  },
  {
    name: "comments are counted, not dispatched; a BOM at the start is not part of the first field",
    stream: "\uFEFF: keep-alive\n\n:\ndata: x\n: inside an event\n\n",
    events: [{ type: "message", data: "x", id: "" }],
    comments: 3,
  },
  {
    name: "an event with no data is not dispatched, but its id stays the last event id",
    stream: "event: token\nid: m:7\n\ndata: y\n\n",
    events: [{ type: "message", data: "y", id: "m:7" }],
  },
  {
    name: "an id holding NUL is ignored; unknown fields and retry are ignored; a bare field name has an empty value",
    stream: "id: m:1\ndata: a\n\nid: m:\u00002\nretry: 10\nfoo: bar\ndata\n\n",
    events: [
      { type: "message", data: "a", id: "m:1" },
      { type: "message", data: "", id: "m:1" },
    ],
  },
  {
    name: "multi-byte characters survive any cut (the reader decodes UTF-8 as a stream)",
    stream: "event: token\ndata: José Álvarez “quoted” 😀\n\n",
    events: [{ type: "token", data: "José Álvarez “quoted” 😀", id: "" }],
  },
  {
    name: "an event the body ends in before its blank line is not dispatched, and the body is not complete",
    stream: "data: whole\n\nevent: done\ndata: {}\n",
    events: [{ type: "message", data: "whole", id: "" }],
    complete: false,
  },
];

for (const { name, stream, events, comments = 0, complete = true } of CASES) {
  test(`reader: ${name}`, () => readAllCuts(stream, { events, comments, complete }));
}

test("reader: an invalid byte becomes U+FFFD, as TextDecoder makes it", () =>
  readAllCuts(Uint8Array.of(...encoder.encode("data: a"), 0xff, ...encoder.encode("b\n\n")), {
    events: [{ type: "message", data: "a\uFFFDb", id: "" }],
    comments: 0,
    complete: true,
  }));

test("reader: `until` stops at the event it accepts and cancels the body", async () => {
  let cancelled = false;
  let pulls = 0;
  const body = new ReadableStream({
    pull(controller) {
      pulls++;
      controller.enqueue(encoder.encode(`event: token\nid: m:${pulls}\ndata: t${pulls}\n\n`));
    },
    cancel() {
      cancelled = true;
    },
  });
  const result = await readEvents(new Response(body), { until: (event) => event.id === "m:3" });
  assert.deepEqual(result.events.map((e) => e.data), ["t1", "t2", "t3"]);
  assert.equal(result.complete, false);
  assert.equal(cancelled, true, "the body was cancelled");
});
