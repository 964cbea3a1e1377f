// Shared helpers of the failure and stop tests. Not a test file itself
// (node --test only runs files named *.test.mjs).
//
// - `track(options)`: starts `streamChat` with every callback recorded, in
//   order, and remembers which calls came after `finished` resolved.
// - `rawServer(handler)`: a real HTTP server on 127.0.0.1, port 0, for the
//   bytes the reference server never sends and to watch the connection.
// - `referenceTokens(body)`: the `token` data the reference server sends
//   for a request, read with plain `fetch`, as an oracle for partial text.
// - `referenceHeaders()`: the demo user's `Authorization` header, which
//   every request to the reference server's API needs.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { streamChat, EventStreamParser } from "cite-stream";

export const CALLBACKS = ["onSession", "onStatus", "onSegment", "onCitations", "onDone", "onError"];

/** The reference server's chat URL (set by .ci/with-server). */
export function referenceUrl() {
  const server = process.env.CITE_STREAM_SERVER;
  assert.ok(server, "run with CITE_STREAM_SERVER=http://127.0.0.1:PORT (.ci/with-server sets it)");
  return `${server}/api/chat`;
}

/** The demo user's bearer token header (CITE_STREAM_TOKEN, set by .ci/with-server). */
export function referenceHeaders() {
  const token = process.env.CITE_STREAM_TOKEN;
  assert.ok(token, "run with CITE_STREAM_TOKEN=<the server's demo token> (.ci/with-server sets it)");
  return { Authorization: `Bearer ${token}` };
}

export const question = "Which prospects mentioned budget constraints?";

/**
 * `streamChat(options)` with each callback logged as `[name, ...args]`
 * before the caller's own callback (if any) runs. Calls that happen once
 * `finished` has resolved go to `late` instead of `log`.
 */
export function track(options) {
  const log = [];
  const late = [];
  let over = false;
  const wrapped = { ...options };
  for (const name of CALLBACKS) {
    const user = options[name];
    wrapped[name] = (...args) => {
      (over ? late : log).push([name, ...args]);
      if (user) return user(...args);
    };
  }
  const chat = streamChat(wrapped);
  const finished = chat.finished.then((result) => {
    over = true;
    return result;
  });
  return {
    chat,
    finished,
    log,
    late,
    /** The callback names, in call order. */
    names: () => log.map(([name]) => name),
    count: (name) => log.filter(([n]) => n === name).length,
    segments: () => log.filter(([n]) => n === "onSegment").map(([, s]) => s),
    errors: () => log.filter(([n]) => n === "onError").map(([, e]) => e),
  };
}

/** Joins the texts of segments. */
export const joined = (segments) => segments.map((s) => s.text).join("");

/** A promise with its resolve function outside. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** One macrotask turn: lets anything already queued (I/O, timers due) run. */
export const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A real HTTP server on 127.0.0.1 with an OS-chosen port. `handler(req,
 * res, n)` answers each request (n counts from 1). Every response's
 * `close` is recorded: `closes[i]` resolves, when response i's connection
 * is over, to `{ ended }`, where `ended` is whether the server had called
 * `res.end()` (false: the client hung up while the server was still
 * writing). `requests` lists `{ method, url, headers, body }` of every
 * request; `GET /probe` is answered here and is not passed to `handler`,
 * nor are the stop and resume routes of protocol 1.1 (`/api/chat/{id}/stop`,
 * `/api/chat/{id}/stream`), answered 404 as a 1.0 server would.
 */
const ANSWER_ROUTE = /^\/api\/chat\/[^/]+\/(stop|stream)$/;

export async function rawServer(handler) {
  const requests = [];
  const closes = [];
  const arrivals = [];
  const waiting = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    try {
      for await (const chunk of req) chunks.push(chunk);
    } catch {
      return; // The client hung up before its request was read.
    }
    const entry = {
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(entry);
    if (req.url === "/probe") {
      // A request of the test itself, answered here, never by `handler`.
      res.end("probe");
      return;
    }
    if (ANSWER_ROUTE.test(req.url)) {
      // A stop or resume request of protocol 1.1, which this server does
      // not implement: it answers as a 1.0 server would, 404.
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "not_found", message: "no such route" } }));
      return;
    }
    const closed = deferred();
    closes.push(closed.promise);
    res.on("close", () => closed.resolve({ ended: res.writableEnded }));
    arrivals.push(entry);
    while (waiting.length > 0) waiting.shift()();
    try {
      await handler(req, res, arrivals.length);
    } catch (error) {
      res.destroy(error);
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/api/chat`,
    base,
    requests,
    closes,
    /** Resolves once the n-th handled request (from 1) has arrived and been read. */
    async arrived(n = 1) {
      while (arrivals.length < n) await new Promise((resolve) => waiting.push(resolve));
      return arrivals[n - 1];
    },
    /** Resolves with `{ ended }` once the n-th response's connection is over. */
    async closed(n = 1) {
      await this.arrived(n);
      return closes[n - 1];
    },
    /** The stop and resume requests, answered 404 here. */
    answerRequests: () => requests.filter((r) => ANSWER_ROUTE.test(r.url)),
    /** The number of chat requests (a probe on another path is not one). */
    chatRequests: () => requests.filter((r) => r.url === "/api/chat").length,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The bytes of one event-stream event. */
export function sse(type, data, id) {
  let text = "";
  if (type !== undefined) text += `event: ${type}\n`;
  if (id !== undefined) text += `id: ${id}\n`;
  for (const line of String(data).split("\n")) text += `data: ${line}\n`;
  return `${text}\n`;
}

export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

export const SESSION = { sessionId: "s_raw", messageId: "m_raw" };

/** `session`, one `status`, then a `token` per fragment. */
export function head(...tokens) {
  return (
    sse("session", JSON.stringify(SESSION)) +
    sse("status", JSON.stringify({ message: "Searching across 1 conversation..." })) +
    tokens.map((t) => sse("token", t)).join("")
  );
}

export const done = (tokenCount) =>
  sse("done", JSON.stringify({ messageId: SESSION.messageId, processingMs: 1, tokenCount }));

/**
 * The `token` data the reference server sends for `body`, read with plain
 * `fetch` and the package's parser, up to the end of the body or its
 * failure. Also returns the other event types, in order.
 */
export async function referenceTokens(body) {
  const response = await fetch(referenceUrl(), {
    method: "POST",
    headers: { ...referenceHeaders(), "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  const parser = new EventStreamParser();
  const events = [];
  try {
    for await (const chunk of response.body) events.push(...parser.feed(chunk));
  } catch {
    // A cut connection: what arrived before it is the answer so far.
  }
  parser.free();
  return {
    tokens: events.filter((e) => e.type === "token").map((e) => e.data),
    types: events.map((e) => e.type),
  };
}

/** Asserts that `error` is a StreamError-shaped Error with this code. */
export function assertStreamError(error, code, StreamError) {
  assert.ok(error instanceof Error, `expected an Error, got ${error}`);
  assert.ok(error instanceof StreamError, "instanceof StreamError");
  assert.equal(error.name, "StreamError");
  assert.equal(error.code, code, `code of ${error.message}`);
}

/**
 * Collects the unhandled promise rejections that happen while the test
 * runs (node:test would report them too, but possibly against another
 * test); the returned array is filled in place.
 */
export function watchUnhandledRejections(ctx) {
  const seen = [];
  const listener = (reason) => seen.push(reason);
  process.on("unhandledRejection", listener);
  ctx.after(() => process.off("unhandledRejection", listener));
  return seen;
}
