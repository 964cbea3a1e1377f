// The options of streamChat at their edges: timer limits, callbacks that
// are not functions, redirects. Against the reference server in test mode
// and raw in-test HTTP servers.
//
// Run: bash .ci/with-server --token-delay-ms 5 --test-mode -- node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import { streamChat, StreamError } from "cite-stream";
import {
  track,
  joined,
  rawServer,
  head,
  done,
  SSE_HEADERS,
  CALLBACKS,
  referenceUrl,
  referenceHeaders,
  question,
  assertStreamError,
} from "./harness.mjs";

const url = referenceUrl();
const headers = referenceHeaders();
const quick = { timeout: 3000 };

// The largest delay setTimeout honours; anything longer fires after 1 ms.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Records every setTimeout call (its delay) while `run` is in progress.
 * The package reaches setTimeout through the global at call time.
 */
async function countTimers(run) {
  const original = globalThis.setTimeout;
  const delays = [];
  globalThis.setTimeout = function (callback, delay, ...rest) {
    delays.push(delay);
    return original.call(this, callback, delay, ...rest);
  };
  try {
    return { value: await run(), delays };
  } finally {
    globalThis.setTimeout = original;
  }
}

for (const timeoutMs of [Infinity, 2 ** 31 + 1000, 2 ** 40]) {
  test(`citations.timeoutMs ${timeoutMs}: no timer spins while a citation is held, and the citation still completes`, quick, async () => {
    const answerText = "Budget came up [12:45, Sarah Johnson] early.";
    // The server pauses 300 ms with the citation's `[` sent and its `]` not.
    const body = { question, fault: { answerText, pauseInCitationMs: 300 } };
    const { value: t, delays } = await countTimers(async () => {
      const t = track({ url, headers, body, citations: { timeoutMs } });
      await t.finished;
      return t;
    });
    const result = await t.finished;
    assert.equal(result.status, "done");
    assert.equal(result.text, answerText);
    assert.equal(joined(result.segments), answerText);
    const citations = result.segments.filter((s) => s.kind === "citation");
    assert.deepEqual(citations.map((s) => s.text), ["[12:45, Sarah Johnson]"]);
    // A timer overflowing to 1 ms re-arms itself hundreds of times in the
    // 300 ms pause; the idle timer and the fetch need a handful.
    assert.ok(delays.length < 20, `${delays.length} setTimeout calls during the stream`);
    assert.ok(delays.every((d) => d <= MAX_DELAY), `delays within the limit: ${delays.filter((d) => d > MAX_DELAY)}`);
    if (timeoutMs === Infinity) {
      // No timer at all for the citation: nothing but the idle timer's 45 s.
      assert.ok(!delays.some((d) => d > 45000), `no citation timer: ${delays}`);
    } else {
      assert.ok(delays.includes(MAX_DELAY), `the citation timer clamped to ${MAX_DELAY}: ${delays}`);
    }
  });
}

test("a callback option that is not a function is a TypeError naming it, thrown by the call, before any request", quick, async (ctx) => {
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("Never sent") + done(1));
  });
  ctx.after(() => server.close());
  for (const name of CALLBACKS) {
    for (const value of ["onSegment", 42, {}, true]) {
      assert.throws(
        () => streamChat({ url: server.url, body: { question }, [name]: value }),
        (error) => error instanceof TypeError && error.message.includes(`\`${name}\``),
        `${name}: ${JSON.stringify(value)}`,
      );
    }
    // Absent means absent.
    for (const value of [undefined, null]) {
      const chat = streamChat({ url: server.url, body: { question }, [name]: value });
      assert.equal((await chat.finished).status, "done", `${name}: ${value}`);
    }
  }
  const probe = await fetch(`${server.base}/probe`);
  await probe.text();
  // Only the calls with absent callbacks reached the server.
  assert.equal(server.chatRequests(), CALLBACKS.length * 2);
});

test("a 307 redirect is an http error with its location, and the POST never reaches the second server; followRedirects: true follows it", quick, async (ctx) => {
  const target = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(head("Re", "sent") + done(2));
  });
  ctx.after(() => target.close());
  const redirector = await rawServer((req, res) => {
    res.writeHead(307, { location: target.url });
    res.end();
  });
  ctx.after(() => redirector.close());

  const t = track({ url: redirector.url, body: { question } });
  const result = await t.finished;
  assert.equal(result.status, "error");
  assertStreamError(result.error, "http", StreamError);
  assert.equal(result.error.status, 307);
  assert.equal(result.error.location, target.url);
  assert.match(result.error.message, /redirect/);
  assert.deepEqual(t.names(), ["onError"]);
  assert.equal(redirector.chatRequests(), 1);
  // A probe sent after the stream is over: nothing came before it.
  const probe = await fetch(`${target.base}/probe`);
  await probe.text();
  assert.equal(target.chatRequests(), 0, "no POST reached the redirect's target");

  const followed = await track({ url: redirector.url, body: { question }, followRedirects: true }).finished;
  assert.equal(followed.status, "done");
  assert.equal(followed.text, "Resent");
  assert.equal(target.chatRequests(), 1);
  assert.equal(target.requests.find((r) => r.url === "/api/chat").method, "POST");

  assert.throws(() => streamChat({ url: redirector.url, body: {}, followRedirects: "yes" }), TypeError);
});
