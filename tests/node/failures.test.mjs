// How streamChat fails: each failure mode of the public contract
// (the API in js/index.d.ts and README.md, the wire in docs/protocol.md), against the reference server in
// test mode (its `fault` request field) and against raw in-test HTTP
// servers where arbitrary bytes or the connection itself must be seen.
//
// Run: bash .ci/with-server --token-delay-ms 5 --test-mode -- node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import { StreamError, EventStreamParser } from "cite-stream";
import {
  track,
  joined,
  deferred,
  turn,
  rawServer,
  sse,
  head,
  done,
  SSE_HEADERS,
  SESSION,
  referenceUrl,
  referenceHeaders,
  referenceTokens,
  question,
  assertStreamError,
  watchUnhandledRejections,
} from "./harness.mjs";

const url = referenceUrl();
const headers = referenceHeaders();
// Every test must finish quickly; a hang (a connection never aborted, a
// promise never settled) fails it instead of stalling the run.
// The bound is for hangs, not speed: the reference server's whole answer
// (434 tokens, 5 ms apart) takes about 2.8 s on its own here, and some tests
// read it twice at once.
const quick = { timeout: 10_000 };

// ------------------------------------------------------------ StreamError

test("StreamError is a real subclass of Error: the errors the package reports are its instances, with a stack", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("down");
  });
  ctx.after(() => server.close());
  const { error } = await track({ url: server.url, body: { question } }).finished;
  const parserError = (() => {
    try {
      new EventStreamParser({ maxEventBytes: 8 }).feed(new TextEncoder().encode("data: too long\n\n"));
    } catch (e) {
      return e;
    }
  })();
  // instanceof is the plain prototype-chain check: no Symbol.hasInstance.
  assert.equal(Object.hasOwn(StreamError, Symbol.hasInstance), false);
  assert.equal(StreamError[Symbol.hasInstance], Function.prototype[Symbol.hasInstance]);
  assert.equal(Object.getPrototypeOf(StreamError.prototype), Error.prototype);
  for (const [e, code] of [[error, "http"], [parserError, "protocol"]]) {
    assert.equal(Object.getPrototypeOf(e), StreamError.prototype, code);
    assert.ok(e instanceof StreamError, code);
    assert.ok(e instanceof Error, code);
    assert.equal(e.name, "StreamError", code);
    assert.equal(e.code, code);
    assert.equal(typeof e.stack, "string", code);
    assert.ok(e.stack.length > 0, code);
    assert.equal(Object.prototype.toString.call(e), "[object Error]", code);
  }
  assert.equal(error.status, 503);
  // A look-alike is not one.
  const lookalike = Object.assign(new Error("no"), { name: "StreamError", code: "http" });
  assert.equal(lookalike instanceof StreamError, false);
});

// ---------------------------------------------------------------- 1. http

test("non-2xx from the reference server: http error with status 400 and its JSON body, nothing streamed", quick, async () => {
  // The body the server sends, read independently, is the oracle for `body`.
  const plain = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ question: "" }),
  });
  assert.equal(plain.status, 400);
  const expectedBody = await plain.json();
  assert.equal(expectedBody.error.code, "missing_question");

  const t = track({ url, headers, body: { question: "" } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "http", StreamError);
  assert.equal(result.error.status, 400);
  assert.deepEqual(result.error.body, expectedBody);
  assert.deepEqual(t.names(), ["onError"]);
  const [onErrorArg] = t.errors();
  assertStreamError(onErrorArg, "http", StreamError);
  assert.equal(onErrorArg.status, 400);
  assert.deepEqual(onErrorArg.body, expectedBody);
  assert.equal(result.text, "");
  assert.deepEqual(result.segments, []);
  assert.deepEqual(result.citations, []);
  assert.equal(result.sessionId, null);
  assert.equal(result.messageId, null);
  await turn();
  assert.deepEqual(t.late, []);
});

test("non-2xx with a non-JSON body: http error with status 503 and no body", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(503, { "content-type": "text/plain" });
    res.end("Service Unavailable: try again later");
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "http", StreamError);
  assert.equal(result.error.status, 503);
  assert.equal(result.error.body, undefined);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(t.errors()[0].code, "http");
  assert.equal(t.errors()[0].status, 503);
  assert.equal(t.errors()[0].body, undefined);
  assert.equal(result.text, "");
  assert.equal(server.chatRequests(), 1);
  await turn();
  assert.deepEqual(t.late, []);
});

test("non-2xx whose body is a valid event stream is still an http error: nothing is parsed", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(500, SSE_HEADERS);
    res.end(head("Looks ", "like ", "an answer") + done(3));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "http", StreamError);
  assert.equal(result.error.status, 500);
  assert.equal(result.error.body, undefined);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(result.text, "");
  assert.deepEqual(result.segments, []);
  assert.equal(result.sessionId, null);
});

// ---------------------------------------------------------- 2. content-type

test("200 with Content-Type text/html: content-type error, nothing parsed", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    // Even SSE-looking lines in the page must not be read as events.
    res.end(`<!doctype html><html><body>\n${head("Hello")}${done(1)}</body></html>\n`);
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "content-type", StreamError);
  assert.equal(result.error.contentType, "text/html; charset=utf-8");
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(t.errors()[0].code, "content-type");
  assert.equal(t.count("onSession"), 0);
  assert.equal(result.sessionId, null);
  assert.equal(result.text, "");
  assert.deepEqual(result.segments, []);
  await turn();
  assert.deepEqual(t.late, []);
});

test("200 without any Content-Type: content-type error, nothing parsed", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.removeHeader("content-type");
    res.writeHead(200);
    res.end(head("Hello") + done(1));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "content-type", StreamError);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(result.text, "");
});

// --------------------------------------------------------------- 3. network

test("connection cut after 4 tokens: network error, the 4 tokens' text kept", quick, async () => {
  const body = { question, fault: { cutAfterTokens: 4 } };
  const oracle = await referenceTokens(body);
  assert.equal(oracle.tokens.length, 4);
  assert.ok(!oracle.types.includes("done") && !oracle.types.includes("error"));

  const t = track({ url, headers, body, idleTimeoutMs: 2000 });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "network", StreamError);
  const segments = t.segments();
  assert.ok(segments.length > 0);
  assert.equal(joined(segments), oracle.tokens.join(""));
  assert.equal(result.text, oracle.tokens.join(""));
  assert.deepEqual(result.segments, segments);
  assert.equal(t.count("onSession"), 1);
  assert.equal(t.count("onError"), 1);
  assert.equal(t.count("onDone"), 0);
  assert.equal(t.count("onCitations"), 0);
  assert.equal(t.names().at(-1), "onError");
  assert.equal(t.errors()[0].code, "network");
  assert.match(result.sessionId, /^s_/);
  assert.match(result.messageId, /^m_/);
  await turn();
  assert.deepEqual(t.late, []);
});

test("a body that ends cleanly without done or error is a network error with the text kept", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("Half ", "an answer"));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "network", StreamError);
  assert.equal(result.text, "Half an answer");
  // Both tokens came in one chunk: one text segment.
  assert.deepEqual(result.segments, [{ kind: "text", text: "Half an answer" }]);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onError"]);
  assert.equal(result.sessionId, SESSION.sessionId);
});

// ---------------------------------------------------------------- 4. server

test("error event after 3 tokens: server error llm_failed, retryable, text kept, onError once, no onDone", quick, async () => {
  const body = { question, fault: { failAfterTokens: 3 } };
  const oracle = await referenceTokens(body);
  assert.equal(oracle.tokens.length, 3);
  assert.equal(oracle.types.at(-1), "error");

  const t = track({ url, headers, body });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "server", StreamError);
  assert.equal(result.error.serverCode, "llm_failed");
  assert.equal(result.error.retryable, true);
  assert.equal(result.text, oracle.tokens.join(""));
  assert.equal(joined(t.segments()), oracle.tokens.join(""));
  assert.deepEqual(result.segments, t.segments());
  assert.equal(t.count("onError"), 1);
  assert.equal(t.count("onDone"), 0);
  assert.equal(t.count("onCitations"), 0);
  assert.equal(t.names().at(-1), "onError");
  const [error] = t.errors();
  assertStreamError(error, "server", StreamError);
  assert.equal(error.serverCode, "llm_failed");
  assert.equal(error.retryable, true);
  await turn();
  assert.deepEqual(t.late, []);
});

test("an answer the server could not save: server error storage_failed after the whole text, no onDone", quick, async () => {
  // A short answer keeps the test quick; the server streams it, then fails to save it.
  const body = { question, fault: { failStorage: true, answerText: "Kept nowhere, said [12:45, Sarah Johnson]." } };
  const oracle = await referenceTokens(body);
  assert.equal(oracle.types.at(-1), "error");
  assert.ok(!oracle.types.includes("done"));

  const t = track({ url, headers, body });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "server", StreamError);
  assert.equal(result.error.serverCode, "storage_failed");
  assert.equal(result.error.retryable, false);
  // Everything was streamed; only keeping it failed, and the app is told.
  assert.equal(result.text, oracle.tokens.join(""));
  assert.equal(t.count("onError"), 1);
  assert.equal(t.count("onDone"), 0);
  await turn();
  assert.deepEqual(t.late, []);
});

test("an error event with retryable false reports retryable false", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(
      head("Partial") +
        sse("error", JSON.stringify({ code: "context_too_long", message: "Too long", retryable: false })),
    );
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assertStreamError(result.error, "server", StreamError);
  assert.equal(result.error.serverCode, "context_too_long");
  assert.equal(result.error.retryable, false);
  assert.equal(result.text, "Partial");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onError"]);
});

// ---------------------------------------------------------- 5. idle timeout

test("idle timeout before the first byte: idle-timeout error, nothing received", quick, async () => {
  const started = performance.now();
  const t = track({ url, headers, body: { question, fault: { pauseBeforeFirstByteMs: 1500 } }, idleTimeoutMs: 200 });
  const result = await t.finished;
  const elapsed = performance.now() - started;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "idle-timeout", StreamError);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(t.errors()[0].code, "idle-timeout");
  assert.equal(result.text, "");
  assert.equal(result.sessionId, null);
  // It gave up after the idle time, not when the server finally answered.
  assert.ok(elapsed >= 190, `gave up after ${elapsed} ms, before idleTimeoutMs`);
  assert.ok(elapsed < 1200, `gave up after ${elapsed} ms, not at idleTimeoutMs`);
  await turn();
  assert.deepEqual(t.late, []);
});

test("idle timeout in silence after 2 tokens: idle-timeout error, the 2 tokens' text kept", quick, async () => {
  const body = { question, fault: { silenceAfterTokens: 2, silenceMs: 1500 } };
  const oracle = await referenceTokens({ question, fault: { cutAfterTokens: 2 } });
  assert.equal(oracle.tokens.length, 2);

  const started = performance.now();
  const t = track({ url, headers, body, idleTimeoutMs: 200 });
  const result = await t.finished;
  const elapsed = performance.now() - started;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "idle-timeout", StreamError);
  assert.equal(result.text, oracle.tokens.join(""));
  assert.equal(joined(t.segments()), oracle.tokens.join(""));
  assert.equal(t.count("onSession"), 1);
  assert.equal(t.count("onError"), 1);
  assert.equal(t.count("onDone"), 0);
  assert.equal(t.names().at(-1), "onError");
  assert.ok(elapsed >= 190 && elapsed < 1200, `gave up after ${elapsed} ms`);
  await turn();
  assert.deepEqual(t.late, []);
});

test("a silence shorter than idleTimeoutMs is fine: the answer completes", quick, async () => {
  // A short answer: the whole model answer (434 tokens, 5 ms apart) takes
  // close to the test's 3 s on its own.
  const answerText = "Acme said budget is frozen until Q3 [12:45, Sarah Johnson], and Globex agreed.";
  const t = track({
    url,
    headers,
    body: { question, fault: { silenceAfterTokens: 2, silenceMs: 100, answerText } },
    idleTimeoutMs: 1000,
  });
  const [result, oracle] = await Promise.all([t.finished, referenceTokens({ question, fault: { answerText } })]);
  assert.equal(result.status, "done");
  assert.equal(result.error, undefined);
  assert.equal(t.count("onError"), 0);
  assert.equal(t.count("onDone"), 1);
  assert.equal(t.names().at(-1), "onDone");
  assert.equal(joined(t.segments()), result.text);
  assert.equal(result.text, oracle.tokens.join(""));
});

// -------------------------------------------------------------- 6. callback

test("a callback that throws: callback error with the thrown value as cause, no callback after, status error", quick, async (ctx) => {
  // Everything in one chunk: the throw must stop delivery of the rest of
  // that very chunk. (With `done` in the chunk too, see the next test.)
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    // One chunk, three segments: "One ", the citation, " two three four".
    res.end(head("One ", "[1:02, Zoë]", " two ", "three ", "four") + sse("citations", JSON.stringify({ citations: [] })));
  });
  ctx.after(() => server.close());
  const thrown = { reason: "render failed" };
  let calls = 0;
  const t = track({
    url: server.url,
    body: { question },
    onSegment() {
      calls += 1;
      if (calls === 2) throw thrown;
    },
  });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "callback", StreamError);
  assert.equal(result.error.cause, thrown);
  assert.equal(result.error.callback, "onSegment");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onSegment", "onError"]);
  const [error] = t.errors();
  assertStreamError(error, "callback", StreamError);
  assert.equal(error.cause, thrown);
  assert.equal(error.callback, "onSegment");
  assert.ok(result.text.startsWith("One [1:02, Zoë] two "), `text ${JSON.stringify(result.text)}`);
  await turn();
  assert.deepEqual(t.late, []);
});

test("a callback that throws in the chunk that also holds done: no unhandled rejection, status error", quick, async (ctx) => {
  const unhandled = watchUnhandledRejections(ctx);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("One ", "[1:02, Zoë]", " two ", "three") + done(4));
  });
  ctx.after(() => server.close());
  const thrown = new Error("render failed");
  let calls = 0;
  const t = track({
    url: server.url,
    body: { question },
    onSegment() {
      if (++calls === 2) throw thrown;
    },
  });
  const result = await t.finished;
  await turn();
  assert.equal(result.status, "error");
  assertStreamError(result.error, "callback", StreamError);
  assert.equal(result.error.cause, thrown);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onSegment", "onError"]);
  assert.deepEqual(t.late, []);
  // In Node an unhandled rejection ends the process by default.
  assert.deepEqual(unhandled.map(String), []);
});

test("a callback that throws aborts the request: the server sees the connection close mid-stream", quick, async (ctx) => {
  const firstSegment = deferred();
  const server = await rawServer(async (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("One "));
    // The next tokens only once the client has rendered the first, so
    // they come in a later chunk; then the response is left open.
    await firstSegment.promise;
    res.write(sse("token", "two ") + sse("token", "three "));
  });
  ctx.after(() => server.close());
  const thrown = new RangeError("no room for this segment");
  let calls = 0;
  const t = track({
    url: server.url,
    body: { question },
    onSegment() {
      calls += 1;
      if (calls === 1) firstSegment.resolve();
      if (calls === 2) throw thrown;
    },
  });
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false, "the client hung up while the server was still writing");
  assert.equal(result.status, "error");
  assertStreamError(result.error, "callback", StreamError);
  assert.equal(result.error.cause, thrown);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onSegment", "onError"]);
  assert.equal(t.errors()[0].cause, thrown);
  assert.equal(server.chatRequests(), 1);
  assert.deepEqual(t.late, []);
});

test("a callback whose promise rejects: callback error with the rejection as cause, request aborted, no unhandled rejection", quick, async (ctx) => {
  const unhandled = watchUnhandledRejections(ctx);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    // Left open: only the client can end this response.
    res.write(head("One "));
  });
  ctx.after(() => server.close());
  const rejected = new Error("async render failed");
  const t = track({
    url: server.url,
    body: { question },
    async onSegment() {
      throw rejected;
    },
  });
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  await turn();
  assert.equal(close.ended, false, "the client hung up while the server was still writing");
  assert.equal(result.status, "error");
  assertStreamError(result.error, "callback", StreamError);
  assert.equal(result.error.cause, rejected);
  assert.equal(result.error.callback, "onSegment");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onError"]);
  assert.equal(t.errors()[0].cause, rejected);
  assert.equal(result.text, "One ");
  assert.deepEqual(t.late, []);
  assert.deepEqual(unhandled.map(String), []);
});

test("onDone returning a rejected promise: status error with a callback error; onError's own rejection is not unhandled", quick, async (ctx) => {
  const unhandled = watchUnhandledRejections(ctx);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("One ", "two") + done(2));
  });
  ctx.after(() => server.close());
  const rejected = { reason: "saving the answer failed" };
  const t = track({
    url: server.url,
    body: { question },
    onDone: () => Promise.reject(rejected),
    onError: () => Promise.reject(new Error("onError failed too")),
  });
  const result = await t.finished;
  await turn();
  assert.equal(result.status, "error");
  assertStreamError(result.error, "callback", StreamError);
  assert.equal(result.error.callback, "onDone");
  assert.equal(result.error.cause, rejected);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onDone", "onError"]);
  assert.equal(result.text, "One two");
  assert.deepEqual(t.late, []);
  assert.deepEqual(unhandled.map(String), []);
});

test("onError itself throwing does not loop, reject finished or call anything more", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("A ", "B ") + sse("error", JSON.stringify({ code: "llm_failed", message: "x", retryable: true })));
  });
  ctx.after(() => server.close());
  const t = track({
    url: server.url,
    body: { question },
    onError() {
      throw new Error("onError is broken too");
    },
  });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "server", StreamError);
  assert.equal(t.count("onError"), 1);
  assert.equal(result.text, "A B ");
  await turn();
  assert.deepEqual(t.late, []);
});

// ---------------------------------------------------------- 7. caller signal

for (const [label, reason] of [
  ["a string", "user left"],
  ["a plain object", { why: "navigated away", at: 42 }],
]) {
  test(`signal aborted before the call with ${label} reason: no request, stopped, aborted error with the reason unchanged, no onError`, quick, async (ctx) => {
    const server = await rawServer((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end(head("Should ", "not ", "arrive") + done(3));
    });
    ctx.after(() => server.close());
    const controller = new AbortController();
    controller.abort(reason);
    const t = track({ url: server.url, body: { question }, signal: controller.signal });
    const result = await t.finished;
    assert.equal(result.status, "stopped");
    assertStreamError(result.error, "aborted", StreamError);
    assert.equal(result.error.reason, reason);
    assert.deepEqual(t.names(), []);
    assert.equal(result.text, "");
    // A later request on the same server arrives and is counted, so had the
    // chat request been sent it would have been counted before or with it.
    const probe = await fetch(`${server.base}/probe`);
    await probe.text();
    assert.equal(server.requests.length, 1);
    assert.equal(server.chatRequests(), 0);
    assert.deepEqual(t.late, []);
  });
}

test("signal aborted during streaming: stopped, aborted error with the reason, no onError, text kept, connection closed", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("Partial ", "answer"));
    // Left open: only the client can end this response.
  });
  ctx.after(() => server.close());
  const controller = new AbortController();
  const reason = { why: "user left" };
  const first = deferred();
  const t = track({
    url: server.url,
    body: { question },
    signal: controller.signal,
    onSegment: () => first.resolve(),
  });
  await first.promise;
  controller.abort(reason);
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.equal(result.status, "stopped");
  assertStreamError(result.error, "aborted", StreamError);
  assert.equal(result.error.reason, reason);
  assert.equal(t.count("onError"), 0);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment"]);
  assert.equal(result.text, "Partial answer");
  assert.equal(result.sessionId, SESSION.sessionId);
  assert.equal(server.chatRequests(), 1);
  assert.deepEqual(t.late, []);
});

test("signal aborted from inside a callback: no later callback, even for events of the same chunk", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("one ", "two ", "three"));
  });
  ctx.after(() => server.close());
  const controller = new AbortController();
  const t = track({
    url: server.url,
    body: { question },
    signal: controller.signal,
    onSegment() {
      controller.abort("enough");
    },
  });
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.equal(result.status, "stopped");
  assert.equal(result.error.code, "aborted");
  assert.equal(result.error.reason, "enough");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment"]);
  assert.deepEqual(t.late, []);
});

test("a signal that fires after done changes nothing", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("All ", "of it") + done(2));
  });
  ctx.after(() => server.close());
  const controller = new AbortController();
  const t = track({ url: server.url, body: { question }, signal: controller.signal });
  const result = await t.finished;
  assert.equal(result.status, "done");
  assert.equal(result.text, "All of it");
  controller.abort("too late");
  assert.equal((await t.chat.finished).status, "done");
  assert.equal((await t.chat.finished).error, undefined);
  await turn();
  assert.deepEqual(t.late, []);
});

// ------------------------------------------------------ 8. protocol

test("unknown event types are ignored", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(
      sse("session", JSON.stringify(SESSION)) +
        sse("token", "Hello") +
        sse("future-thing", JSON.stringify({ token: "NOT TEXT" })) +
        sse("future-thing", "{not even json") +
        sse(undefined, "an unnamed message event") +
        sse("token", " world") +
        done(2),
    );
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "done");
  assert.equal(result.error, undefined);
  assert.equal(result.text, "Hello world");
  // One chunk: the two tokens are one segment, the unknown events between them nothing.
  assert.deepEqual(t.names(), ["onSession", "onSegment", "onDone"]);
  assert.deepEqual(t.log.at(-1)[1], { messageId: SESSION.messageId, processingMs: 1, tokenCount: 2 });
});

test("malformed JSON in a known event: protocol error, earlier text kept", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("Kept ", "text") + "event: done\ndata: {oops\n\n");
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "protocol", StreamError);
  assert.equal(result.text, "Kept text");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onError"]);
  assert.equal(t.errors()[0].code, "protocol");
  assert.equal(t.count("onDone"), 0);
  await turn();
  assert.deepEqual(t.late, []);
});

test("malformed JSON in session: protocol error before anything is delivered", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end("event: session\ndata: {\"sessionId\": \n\n" + sse("token", "never") + done(1));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "protocol", StreamError);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(result.text, "");
});

test("an event over maxEventBytes: protocol error, earlier text kept, request aborted", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("Before"));
    // A line that never ends: the client must give up at its limit.
    res.write("event: token\ndata: " + "x".repeat(4096));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question }, maxEventBytes: 1024 });
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.equal(result.status, "error");
  assertStreamError(result.error, "protocol", StreamError);
  assert.equal(result.text, "Before");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onError"]);
});

test("an OpenAI-format event stream: protocol error saying a session event was expected, not a network error", quick, async (ctx) => {
  const chunk = (content) => `data: ${JSON.stringify({ id: "chatcmpl-1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }] })}\n\n`;
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(chunk("Hello") + chunk(" world") + "data: [DONE]\n\n");
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "protocol", StreamError);
  assert.match(result.error.message, /expected a `session` event first/);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(t.errors()[0].code, "protocol");
  assert.equal(result.text, "");
  assert.equal(result.sessionId, null);
  await turn();
  assert.deepEqual(t.late, []);
});

test("protocol errors keep their structure: detail names the rule broken, event the event type concerned", quick, async (ctx) => {
  const bodies = {
    malformed: sse("session", "{not json"),
    large: sse("session", JSON.stringify(SESSION)) + sse("token", `${"x".repeat(60)}\n${"x".repeat(60)}`),
    foreign: `data: ${JSON.stringify({ choices: [] })}\n\ndata: [DONE]\n\n`,
  };
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(bodies[new URL(req.url, server.base).searchParams.get("case")]);
  });
  ctx.after(() => server.close());
  const expected = {
    malformed: { detail: "malformed-payload", event: "session" },
    large: { detail: "event-too-large", event: undefined },
    foreign: { detail: "no-session", event: undefined },
  };
  for (const [name, fields] of Object.entries(expected)) {
    const t = track({ url: `${server.url}?case=${name}`, body: { question }, maxEventBytes: 100 });
    const { error } = await t.finished;
    assertStreamError(error, "protocol", StreamError);
    assert.deepEqual({ code: error.code, detail: error.detail, event: error.event }, { code: "protocol", ...fields }, name);
    assert.equal(t.errors()[0].detail, fields.detail, name);
  }
});

test("a comment line longer than maxEventBytes is skipped, not counted against the limit", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(`: ${"keep-alive ".repeat(20)}\n` + head("Fine") + done(1));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question }, maxEventBytes: 100 });
  const result = await t.finished;
  assert.equal(result.error, undefined);
  assert.equal(result.status, "done");
  assert.equal(result.text, "Fine");
});

test("anything after done is ignored", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("Only this") + done(1) + sse("token", " and not this") + "event: done\ndata: {broken\n\n");
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "done");
  assert.equal(result.text, "Only this");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onDone"]);
});

// ---------------------------------------------------------- finished never rejects

test("an unreachable server is a network error; finished resolves", quick, async () => {
  // A port that was just listening and is now closed refuses connections.
  const server = await rawServer(() => {});
  const closedUrl = server.url;
  await server.close();
  const t = track({ url: closedUrl, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "network", StreamError);
  assert.ok(result.error.cause !== undefined, "the fetch failure is the cause");
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(t.errors()[0].code, "network");
});

test("one 600 KB chunk is delivered slice by slice: its first segments reach onSegment before the rest is parsed", quick, async (ctx) => {
  const tokens = Array.from({ length: 20_000 }, (_, i) => `word${i} `);
  const stream = head(...tokens) + done(tokens.length);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(stream);
  });
  ctx.after(() => server.close());
  // The whole body handed over as one chunk, as a buffering proxy would.
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (...args) => {
    const response = await realFetch(...args);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  ctx.after(() => (globalThis.fetch = realFetch));
  assert.ok(stream.length > 600_000, `${stream.length} bytes`);

  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "done");
  assert.equal(result.text, tokens.join(""));
  assert.equal(joined(t.segments()), result.text);
  // One chunk, yet one text segment per 16 KiB slice of it.
  const segments = t.segments();
  assert.ok(segments.length >= Math.floor(stream.length / 16384), `${segments.length} segments`);
  assert.ok(segments[0].text.length < 16384, `the first segment holds ${segments[0].text.length} characters`);
});
