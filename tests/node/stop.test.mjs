// Stopping a stream: `stop()` at every moment, and the async iterator
// (whose early exit is a stop). Against the reference server in test mode
// and raw in-test HTTP servers that watch the connection.
//
// Run: bash .ci/with-server --token-delay-ms 5 --test-mode -- node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import { streamChat, StreamError } from "cite-stream";
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
  question,
  assertStreamError,
  watchUnhandledRejections,
} from "./harness.mjs";

const url = referenceUrl();
const headers = referenceHeaders();
// The bound is for hangs, not speed: the reference server's whole answer
// (434 tokens, 5 ms apart) takes about 2.8 s on its own here, and some tests
// read it twice at once.
const quick = { timeout: 10_000 };

/** After the stream, a probe on another path: the chat POST was not re-sent meanwhile. */
async function assertPostedOnce(server) {
  const probe = await fetch(`${server.base}/probe`);
  await probe.text();
  assert.equal(server.chatRequests(), 1, "the POST is sent exactly once");
  assert.equal(server.requests.at(-1).url, "/probe");
  assert.equal(server.requests.filter((r) => r.url === "/api/chat")[0].method, "POST");
}

// ------------------------------------------------------------------ stop()

test("stop() before the response arrives: stopped, no callback, connection closed, POST sent once", quick, async (ctx) => {
  const server = await rawServer(() => {
    // Never answers: the response can only end by the client hanging up.
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  await server.arrived(1);
  assert.equal(t.chat.stop(), undefined);
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.equal(result.text, "");
  assert.deepEqual(result.segments, []);
  assert.equal(result.sessionId, null);
  assert.deepEqual(t.names(), []);
  await assertPostedOnce(server);
  assert.deepEqual(t.late, []);
});

test("stop() right after the call, the reference server pausing before its first byte: finished resolves at once, stopped", quick, async () => {
  const started = performance.now();
  const t = track({ url, headers, body: { question, fault: { pauseBeforeFirstByteMs: 1500 } } });
  t.chat.stop();
  const result = await t.finished;
  assert.ok(performance.now() - started < 1000, "did not wait for the server");
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.equal(result.text, "");
  assert.deepEqual(t.names(), []);
  await turn();
  assert.deepEqual(t.late, []);
});

test("stop() during streaming, twice: stopped, partial text kept, no callback after it returns, connection closed, POST sent once", quick, async (ctx) => {
  const stopped = deferred();
  const server = await rawServer(async (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("Partial ", "answer"));
    // More data, once the client has stopped; it must not reach a callback.
    await stopped.promise;
    res.write(sse("token", " and more") + done(3));
  });
  ctx.after(() => server.close());
  const first = deferred();
  const t = track({
    url: server.url,
    body: { question },
    onSegment: () => first.resolve(),
  });
  await first.promise;
  assert.equal(t.chat.stop(), undefined);
  const callsAtStop = t.log.length;
  assert.equal(t.chat.stop(), undefined);
  stopped.resolve();
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false, "the client hung up mid-stream");
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.equal(result.text, "Partial answer");
  assert.deepEqual(result.segments, t.segments());
  assert.equal(result.sessionId, SESSION.sessionId);
  assert.equal(result.messageId, SESSION.messageId);
  assert.equal(t.log.length, callsAtStop);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment"]);
  await assertPostedOnce(server);
  assert.deepEqual(t.late, []);
});

test("stop() inside a callback: no later callback, even for events of the same chunk", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("one ", "two ", "three") + sse("citations", JSON.stringify({ citations: [] })));
  });
  ctx.after(() => server.close());
  let chat;
  const t = track({
    url: server.url,
    body: { question },
    onSession() {
      chat.stop();
    },
  });
  chat = t.chat;
  const [result, close] = await Promise.all([t.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.deepEqual(t.names(), ["onSession"]);
  assert.equal(result.sessionId, SESSION.sessionId);
  await assertPostedOnce(server);
  assert.deepEqual(t.late, []);
});

test("stop() inside a callback in the chunk that also holds done: stopped, no onDone, no unhandled rejection", quick, async (ctx) => {
  const unhandled = watchUnhandledRejections(ctx);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    // One chunk, three segments: "one ", the citation, " two three".
    res.end(head("one ", "[1:02, Zoë]", " two ", "three") + done(4));
  });
  ctx.after(() => server.close());
  let chat;
  let segments = 0;
  const t = track({
    url: server.url,
    body: { question },
    onSegment() {
      if (++segments === 2) chat.stop();
    },
  });
  chat = t.chat;
  const result = await t.finished;
  await turn();
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment", "onSegment"]);
  assert.deepEqual(t.late, []);
  // In Node an unhandled rejection ends the process by default.
  assert.deepEqual(unhandled.map(String), []);
});

test("stop() with a citation held back: its text is kept in the result, and no timer fires a callback later", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head("See ", "[12:45, Sa"));
  });
  ctx.after(() => server.close());
  const first = deferred();
  const t = track({
    url: server.url,
    body: { question },
    citations: { timeoutMs: 40 },
    onSegment: () => first.resolve(),
  });
  await first.promise;
  t.chat.stop();
  const result = await t.finished;
  assert.equal(result.status, "stopped");
  assert.equal(result.text, "See [12:45, Sa");
  assert.equal(joined(result.segments), "See [12:45, Sa");
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment"]);
  assert.deepEqual(t.segments(), [{ kind: "text", text: "See " }]);
  // The one deliberate wait of these tests: it proves an absence (the
  // citation timer, due 40 ms after the candidate arrived, must be gone).
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(t.late, []);
  assert.deepEqual(t.names(), ["onSession", "onStatus", "onSegment"]);
});

test("stop() after done: does not throw, finished stays done", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("All ", "of it") + done(2));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "done");
  assert.equal(result.text, "All of it");
  const callsAtDone = t.log.length;
  assert.equal(t.chat.stop(), undefined);
  assert.equal(t.chat.stop(), undefined);
  const again = await t.chat.finished;
  assert.equal(again.status, "done");
  assert.equal(again.error, undefined);
  assert.equal(again.text, result.text);
  assert.equal(t.names().at(-1), "onDone");
  assert.equal(t.count("onDone"), 1);
  await turn();
  assert.equal(t.log.length, callsAtDone);
  assert.deepEqual(t.late, []);
});

test("stop() inside onDone, and the caller's signal aborted there: finished stays done, no error, nothing after", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("All ", "of it") + done(2));
  });
  ctx.after(() => server.close());
  for (const how of ["stop", "signal"]) {
    const controller = new AbortController();
    const t = track({
      url: server.url,
      body: { question },
      signal: controller.signal,
      onDone() {
        if (how === "stop") t.chat.stop();
        else controller.abort(new Error("left the page"));
      },
    });
    const result = await t.finished;
    await turn();
    assert.equal(result.status, "done", how);
    assert.equal(result.error, undefined, how);
    assert.equal(result.text, "All of it", how);
    assert.equal(t.names().at(-1), "onDone", how);
    assert.equal(t.count("onError"), 0, how);
    assert.deepEqual(t.late, [], how);
  }
});

test("stop() after an error: does not throw, finished stays error", quick, async () => {
  const t = track({ url, headers, body: { question, fault: { failAfterTokens: 2 } } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assert.doesNotThrow(() => t.chat.stop());
  const again = await t.chat.finished;
  assert.equal(again.status, "error");
  assertStreamError(again.error, "server", StreamError);
  assert.equal(t.count("onError"), 1);
  await turn();
  assert.deepEqual(t.late, []);
});

test("stop() then the caller's signal: the first reason wins, status stopped", quick, async () => {
  const controller = new AbortController();
  const t = track({ url, headers, body: { question, fault: { pauseBeforeFirstByteMs: 1500 } }, signal: controller.signal });
  t.chat.stop();
  controller.abort("later");
  const result = await t.finished;
  assert.equal(result.status, "stopped");
  assert.deepEqual(t.names(), []);
});

// ---------------------------------------------------------- async iterator

test("for await started only after the stream is over still yields every event, in order", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("All ", "[1:02, Zoë]", " of it") + sse("citations", JSON.stringify({ citations: [] })) + done(3));
  });
  ctx.after(() => server.close());
  const seen = [];
  const chat = streamChat({ url: server.url, body: { question }, onSegment: (s) => seen.push(s) });
  // Every event has arrived and been delivered before the iteration starts.
  const result = await chat.finished;
  assert.equal(result.status, "done");
  const events = [];
  for await (const event of chat) events.push(event);
  assert.deepEqual(
    events.map((e) => e.type),
    ["session", "status", ...seen.map(() => "segment"), "citations", "done"],
  );
  assert.deepEqual({ ...events[0], type: undefined }, { type: undefined, ...SESSION });
  assert.deepEqual(events.filter((e) => e.type === "segment").map((e) => e.segment), seen);
  assert.equal(joined(seen), "All [1:02, Zoë] of it");
  assert.equal(events.at(-1).messageId, SESSION.messageId);
});

test("for await yields session, status…, segment…, citations, done, as the callbacks see them", quick, async () => {
  const t = track({ url, headers, body: { question } });
  const events = [];
  for await (const event of t.chat) events.push(event);
  const types = events.map((e) => e.type).join(" ");
  assert.match(types, /^session( status)+( segment)+ citations done$/);
  const result = await t.finished;
  assert.equal(result.status, "done");
  const segments = events.filter((e) => e.type === "segment").map((e) => e.segment);
  assert.deepEqual(segments, result.segments);
  assert.equal(joined(segments), result.text);
  assert.ok(segments.some((s) => s.kind === "citation"));
  // One event per callback, in the same order and with the same values.
  assert.deepEqual(
    events.map((e) => e.type),
    t.names().map((n) => n.slice(2).toLowerCase()),
  );
  const session = events[0];
  assert.deepEqual({ sessionId: session.sessionId, messageId: session.messageId }, t.log[0][1]);
  assert.equal(session.sessionId, result.sessionId);
  const citations = events.find((e) => e.type === "citations");
  assert.deepEqual(citations.citations, result.citations);
  assert.equal(citations.resolution.matches.length, segments.filter((s) => s.kind === "citation").length);
  const last = events.at(-1);
  assert.equal(last.messageId, result.messageId);
  assert.equal(typeof last.processingMs, "number");
  assert.equal(last.tokenCount, t.log.at(-1)[1].tokenCount);
});

test("breaking out of for await stops the stream: stopped, connection closed, nothing after", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    // One chunk, three segments: "one ", the citation, " two three".
    res.write(head("one ", "[1:02, Zoë]", " two ", "three"));
  });
  ctx.after(() => server.close());
  const t = track({ url: server.url, body: { question } });
  const seen = [];
  for await (const event of t.chat) {
    seen.push(event.type);
    if (seen.filter((type) => type === "segment").length === 2) break;
  }
  const callsAtBreak = t.log.length;
  const [result, close] = await Promise.all([t.chat.finished, server.closed(1)]);
  assert.equal(close.ended, false);
  assert.deepEqual(seen, ["session", "status", "segment", "segment"]);
  assert.equal(result.status, "stopped");
  assert.equal(result.error, undefined);
  assert.ok(result.text.startsWith("one [1:02, Zoë] two "), `text ${JSON.stringify(result.text)}`);
  assert.equal(t.log.length, callsAtBreak);
  await assertPostedOnce(server);
  assert.deepEqual(t.late, []);
});

test("breaking out of for await over the reference server: finished resolves stopped before done", quick, async () => {
  const chat = streamChat({ url, headers, body: { question } });
  const types = [];
  for await (const event of chat) {
    types.push(event.type);
    if (event.type === "segment") break;
  }
  assert.deepEqual(types.slice(0, 1), ["session"]);
  assert.equal(types.at(-1), "segment");
  const result = await chat.finished;
  assert.equal(result.status, "stopped");
  assert.ok(!types.includes("done"));
});

test("for await over a failing stream ends with an error event, without throwing", quick, async () => {
  const chat = streamChat({ url, headers, body: { question, fault: { failAfterTokens: 3 } } });
  const events = [];
  for await (const event of chat) events.push(event);
  const types = events.map((e) => e.type).join(" ");
  assert.match(types, /^session( status)+( segment)+ error$/);
  const { error } = events.at(-1);
  assertStreamError(error, "server", StreamError);
  assert.equal(error.serverCode, "llm_failed");
  const result = await chat.finished;
  assert.equal(result.status, "error");
  assert.equal(
    joined(events.filter((e) => e.type === "segment").map((e) => e.segment)),
    result.text,
  );
});

test("for await when the caller's signal was aborted before the call: no event, ends at once", quick, async () => {
  const controller = new AbortController();
  const reason = Symbol("gone");
  controller.abort(reason);
  const chat = streamChat({ url, headers, body: { question }, signal: controller.signal });
  const events = [];
  for await (const event of chat) events.push(event);
  assert.deepEqual(events, []);
  const result = await chat.finished;
  assert.equal(result.status, "stopped");
  assert.equal(result.error.code, "aborted");
  assert.equal(result.error.reason, reason);
});
