// EventStreamParser through the built package, in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventStreamParser, StreamError } from "cite-stream";

const encode = (text) => new TextEncoder().encode(text);

function parseAll(chunks, options) {
  const parser = new EventStreamParser(options);
  const events = [];
  for (const chunk of chunks) events.push(...parser.feed(typeof chunk === "string" ? encode(chunk) : chunk));
  events.push(...parser.finish());
  return { events, parser };
}

const ev = (type, data, lastEventId = "") => ({ type, data, lastEventId });

test("the interpretation rules, through the JS API", () => {
  const table = [
    ["data: a\r\n\r\ndata: b\rdata: c\r\r", [ev("message", "a"), ev("message", "b\nc")]],
    [": comment\nevent: token\ndata:  two spaces\n\n", [ev("token", " two spaces")]],
    ["data\ndata\n\n", [ev("message", "\n")]],
    ["Data: no\n\nevent: x\n\n", []],
    ["id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", [ev("message", "a", "7"), ev("message", "b", "7"), ev("message", "c")]],
    ["id: 1\0\ndata: a\n\n", [ev("message", "a")]],
    ["\uFEFFdata: bom\n\ndata: unfinished", [ev("message", "bom")]],
  ];
  for (const [input, expected] of table) {
    assert.deepEqual(parseAll([input]).events, expected, JSON.stringify(input));
  }
});

test("CR at the end of one chunk and LF at the start of the next are one line ending", () => {
  assert.deepEqual(parseAll(["data: a\r", "\ndata: b\r\n\r\n"]).events, [ev("message", "a\nb")]);
});

test("a character split across chunks is decoded once, and bad bytes as TextDecoder does", () => {
  const bytes = encode("data: Zoë 東京 😀\n\n");
  const oneByOne = parseAll([...bytes].map((b) => Uint8Array.of(b))).events;
  assert.deepEqual(oneByOne, [ev("message", "Zoë 東京 😀")]);
  const bad = Uint8Array.of(...encode("data: "), 0xf0, 0x9f, 0x98, 0x41, 0xff, 0xed, 0xa0, 0x80, 10, 10);
  const expected = new TextDecoder().decode(bad).slice(6, -2);
  assert.deepEqual(parseAll([bad.subarray(0, 8), bad.subarray(8)]).events, [ev("message", expected)]);
});

test("retry takes ASCII digits only; lastEventId carries forward", () => {
  const { parser } = parseAll(["retry: 2500\nid: m_1:3\ndata: x\n\nretry: 1e3\nretry: -1\n"]);
  assert.equal(parser.retry, 2500);
  assert.equal(parser.lastEventId, "m_1:3");
  assert.equal(new EventStreamParser().retry, undefined);
});

test("an event over maxEventBytes is a protocol StreamError that keeps earlier events; reset recovers", () => {
  const parser = new EventStreamParser({ maxEventBytes: 64 });
  let error;
  try {
    parser.feed(encode(`data: ok\n\ndata: ${"x".repeat(100)}\n\n`));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof StreamError);
  assert.equal(error.code, "protocol");
  assert.equal(error.detail, "line-too-long");
  assert.deepEqual(error.events, [ev("message", "ok")]);
  assert.throws(() => parser.feed(encode("data: again\n\n")), (e) => e.code === "protocol");
  parser.reset();
  // Lines within the limit whose data together is over it.
  const half = "x".repeat(40);
  assert.throws(
    () => parser.feed(encode(`data: ${half}\ndata: ${half}\n\n`)),
    (e) => e.code === "protocol" && e.detail === "event-too-large" && e.event === undefined,
  );
  parser.reset();
  assert.deepEqual(parser.feed(encode("data: fresh\n\n")), [ev("message", "fresh")]);
});

test("a line that never ends is refused at the limit, not buffered", () => {
  const parser = new EventStreamParser({ maxEventBytes: 1024 });
  const chunk = encode("y".repeat(100));
  assert.throws(() => {
    for (let i = 0; i < 1000; i++) parser.feed(chunk);
  }, (e) => e.code === "protocol" && e.detail === "line-too-long");
});

test("large chunks grow the module's memory without breaking later small ones", () => {
  const parser = new EventStreamParser({ maxEventBytes: 8 << 20 });
  const big = "z".repeat(4 << 20);
  assert.deepEqual(parser.feed(encode(`data: ${big}\n\n`)), [ev("message", big)]);
  assert.deepEqual(parser.feed(encode("data: small\n\n")), [ev("message", "small")]);
});

test("wrong arguments are TypeErrors", () => {
  assert.throws(() => new EventStreamParser().feed("text"), TypeError);
  assert.throws(() => new EventStreamParser({ maxEventBytes: -1 }), TypeError);
});

test("a comment line longer than maxEventBytes is ignored like any comment", () => {
  const parser = new EventStreamParser({ maxEventBytes: 64 });
  assert.deepEqual(parser.feed(encode(`: ${"c".repeat(100)}\ndata: after\n\n`)), [ev("message", "after")]);
  // Split across chunks too.
  assert.deepEqual(parser.feed(encode(`:${"c".repeat(50)}`)), []);
  assert.deepEqual(parser.feed(encode(`${"c".repeat(50)}\ndata: later\n\n`)), [ev("message", "later")]);
});

test("values of 8 KiB or more, decoded where they lie in the input, match TextDecoder at every cut: several per chunk, broken UTF-8 at their edges, CRLF, ids", () => {
  const big = (n, fill) => fill.repeat(Math.ceil(n / fill.length)).slice(0, n);
  const bytes = new Uint8Array([
    ...encode(`id: 1\r\nevent: one\r\ndata: ${big(9000, "Zoë 東京 😀 ")}\r\n\r\n`),
    // A value that starts and ends with broken sequences.
    ...encode("data: "), 0xe6, 0x9d, ...encode(big(10000, "a")), 0xf0, 0x9f, ...encode("\n\n"),
    ...encode(`data: ${big(8192, "x")}\ndata: ${big(9000, "y")}\n\n`),
    ...encode(`event: four\ndata: ${big(12000, "é")}\n\n`),
  ]);
  // The oracle: the whole stream decoded by TextDecoder, then split by the
  // event-stream rules for these simple events.
  const expected = [];
  let id = "";
  for (const block of new TextDecoder().decode(bytes).split(/\r\n\r\n|\n\n/).filter(Boolean)) {
    const fields = block.split(/\r\n|\n/).map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]);
    const data = fields.filter(([name]) => name === "data").map(([, value]) => value).join("\n");
    id = fields.find(([name]) => name === "id")?.[1] ?? id;
    expected.push(ev(fields.find(([name]) => name === "event")?.[1] ?? "message", data, id));
  }
  assert.equal(expected.length, 4);
  assert.ok(expected[1].data.startsWith("\uFFFD") && expected[1].data.endsWith("\uFFFD"));
  const whole = parseAll([bytes]).events;
  assert.deepEqual(whole, expected, "one chunk");
  for (const size of [1000, 8191, 8192, 20000, 30001]) {
    const chunks = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    assert.deepEqual(parseAll(chunks).events, expected, `chunks of ${size} bytes`);
  }
});
