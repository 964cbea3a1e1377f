// The conformance checks of `cite-stream check`: each runs against a live
// server and gives { name, status: "pass" | "fail" | "skip", detail }.
// The protocol they hold the server to is docs/protocol.md.
import { readEvents } from "./sse.mjs";

/** The checks, in the order they run and are reported. */
export const CHECKS = [
  ["response", "POST /api/chat answers 200 with text/event-stream"],
  ["order", "session first, status before tokens, one done or error, last"],
  ["shapes", "every event's data has the protocol's shape"],
  ["ids", "every event's id is <messageId>:<seq>, seq from 1, increasing"],
  ["done", "done names the message and counts its tokens"],
  ["saved-text", "the history holds the tokens' text verbatim"],
  ["keep-alive", "no silence longer than the keep-alive limit"],
  ["resume", "GET …/{messageId}/stream replays the events after Last-Event-ID (1.1)"],
  ["stop", "after a disconnect no answer goes on, what was sent is kept"],
  ["confirmed-stop", "POST …/{messageId}/stop saves and answers the message (1.1)"],
  ["error-400", "a malformed body is a JSON 400"],
  ["error-401", "a missing or unknown token is a JSON 401"],
  ["error-413", "a body over 16 KiB is a JSON 413"],
  ["error-415", "a body that is not application/json is a JSON 415"],
];

const KINDS = new Set(["session", "status", "token", "citations", "done", "error"]);
const CITATION_FIELDS = { id: "string", conversationId: "string", conversationTitle: "string", timestamp: "string", seconds: "number", speaker: "string", quote: "string" };

/** A failed expectation: its message is the check's detail. */
class Failure extends Error {}
const expect = (ok, message) => {
  if (!ok) throw new Failure(message);
};
/** Fails unless `response` has `status`, quoting what it said instead. */
async function expectStatus(response, status, what = "") {
  if (response.status === status) return;
  const text = await response.text().catch(() => "");
  throw new Failure(`${what}expected ${status}, got ${response.status}${text ? `: ${show(text)}` : ""}`);
}
const show = (value, max = 80) => {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/**
 * Runs every check against the server at `url` (its origin, or its chat
 * endpoint). `protocol`: "1", "1.1" or "auto" (1.1 when the resume route
 * answers). Resolves to { endpoint, protocol, checks, durationMs }.
 */
export async function runChecks({ url, token, question, keepAliveMs = 15_000, protocol = "auto", stopWaitMs = 10_000 }) {
  const started = performance.now();
  const chat = chatEndpoint(url);
  const base = chat.slice(0, -"/api/chat".length);
  const auth = token ? { Authorization: `Bearer ${token}` } : {};
  const results = new Map();
  const record = async (name, run) => {
    try {
      const outcome = await run();
      results.set(name, outcome?.skip ? { status: "skip", detail: outcome.skip } : { status: "pass", detail: outcome ?? "" });
    } catch (error) {
      const cause = error?.cause ? ` (${error.cause.code ?? error.cause.message ?? error.cause})` : "";
      const detail = error instanceof Failure ? error.message : `${error?.name ?? "Error"}: ${error?.message ?? error}${cause}`;
      results.set(name, { status: "fail", detail });
    }
  };
  const skipAll = (names, why) => names.forEach((name) => results.set(name, { status: "skip", detail: why }));
  const post = (init = {}) =>
    fetch(chat, {
      method: "POST",
      redirect: "manual",
      ...init,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...auth, ...init.headers },
    });
  const history = async (sessionId) => {
    const response = await fetch(`${base}/api/sessions/${encodeURIComponent(sessionId)}/messages`, { headers: auth });
    expect(response.ok, `GET /api/sessions/${sessionId}/messages answered ${response.status}`);
    const body = await response.json();
    expect(Array.isArray(body?.messages), "the history has no `messages` array");
    return body.messages;
  };
  const body = JSON.stringify({ question });

  // --- one whole answer ------------------------------------------------------
  let answer = null;
  await record("response", async () => {
    const response = await post({ body });
    await expectStatus(response, 200);
    const type = response.headers.get("content-type") ?? "";
    expect(/^text\/event-stream\b/i.test(type), `expected Content-Type text/event-stream, got ${show(type)}`);
    answer = await readEvents(response);
    return `${answer.events.length} events`;
  });
  const streamChecks = ["order", "shapes", "ids", "done", "saved-text", "keep-alive"];
  let session = null;
  if (!answer) {
    skipAll([...streamChecks, "resume"], "no event stream to check (see response)");
  } else {
    const events = answer.events.filter((e) => KINDS.has(e.type));
    session = parse(events[0]);
    await record("order", () => checkOrder(events, answer.complete));
    await record("shapes", () => checkShapes(events));
    await record("ids", () => checkIds(events, session?.messageId));
    await record("done", () => checkDone(events, session?.messageId));
    await record("saved-text", async () => {
      expect(typeof session?.sessionId === "string" && typeof session?.messageId === "string", "no session event names the session and message");
      const text = tokens(events);
      const saved = (await history(session.sessionId)).find((m) => m.id === session.messageId);
      expect(saved, `the history of ${session.sessionId} has no message ${session.messageId}`);
      expect(saved.role === "assistant", `message ${session.messageId} has role ${show(saved.role)}`);
      expect(saved.text === text, `saved text ${show(saved.text)} differs from the tokens' ${show(text)}`);
      expect(saved.stopped === false, "the whole answer is saved as stopped");
      return `${text.length} characters`;
    });
    await record("keep-alive", () => {
      expect(answer.maxSilenceMs <= keepAliveMs, `${Math.round(answer.maxSilenceMs)} ms without a byte, over the ${keepAliveMs} ms limit`);
      return `longest silence ${Math.round(answer.maxSilenceMs)} ms, ${answer.comments} comment lines`;
    });
  }

  // --- version 1.1: resume -----------------------------------------------------
  let version = protocol === "auto" ? null : protocol;
  if (answer && session?.messageId) {
    const events = answer.events.filter((e) => KINDS.has(e.type));
    await record("resume", async () => {
      const middle = events[Math.floor(events.length / 2)];
      const seq = seqOf(middle?.id, session.messageId);
      expect(seq !== null, "no numbered event to resume after");
      const response = await fetch(`${chat}/${encodeURIComponent(session.messageId)}/stream`, {
        headers: { ...auth, Accept: "text/event-stream", "Last-Event-ID": middle.id },
      });
      if (version === null) version = response.status === 200 ? "1.1" : "1";
      if (version === "1") {
        await response.body?.cancel();
        return { skip: `the server does not offer version 1.1 (the resume route answered ${response.status})` };
      }
      await expectStatus(response, 200);
      const replay = (await readEvents(response)).events.filter((e) => KINDS.has(e.type));
      const expected = [events[0], ...events.filter((e) => (seqOf(e.id, session.messageId) ?? 0) > seq)];
      const same = (a, b) => a && b && a.type === b.type && a.data === b.data && a.id === b.id;
      const first = expected.findIndex((e, i) => !same(e, replay[i]));
      expect(first === -1 && replay.length === expected.length,
        first === -1
          ? `${replay.length} events replayed after ${middle.id}, expected ${expected.length}`
          : `replayed event ${first + 1} is ${show(replay[first] && [replay[first].type, replay[first].id, replay[first].data])}, expected ${show([expected[first].type, expected[first].id, expected[first].data])}`);
      return `${replay.length} events after ${middle.id}`;
    });
  } else {
    version ??= "unknown";
  }
  version ??= "1";

  // --- stop ----------------------------------------------------------------------
  let stopped = null;
  await record("stop", async () => {
    const response = await post({ body });
    await expectStatus(response, 200);
    const read = await readEvents(response, { until: (e) => e.type === "token" || e.type === "done" || e.type === "error" });
    const events = read.events.filter((e) => KINDS.has(e.type));
    const info = parse(events[0]);
    expect(info?.messageId && info?.sessionId, "the stream did not start with a session event");
    expect(events.at(-1)?.type === "token", `the answer ended (${events.at(-1)?.type}) before its first token: nothing to stop`);
    const received = tokens(events);
    // The server notices the closed connection by itself: read the history
    // until two reads 100 ms apart agree that the answer is kept and no
    // longer grows.
    const deadline = performance.now() + stopWaitMs;
    const keptIn = (m) => m && (m.streaming === true ? version === "1.1" : m.stopped === true);
    const same = (a, b) => a && b && a.text === b.text && a.stopped === b.stopped && a.streaming === b.streaming;
    let saved;
    let settled = false;
    for (;;) {
      const previous = saved;
      saved = (await history(info.sessionId)).find((m) => m.id === info.messageId);
      settled = keptIn(saved) && same(previous, saved);
      if (settled || performance.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(saved, `message ${info.messageId} is not in the history ${stopWaitMs} ms after the disconnect`);
    expect(saved.stopped !== false, "the answer went on after the disconnect and was saved whole (stopped: false)");
    expect(settled,
      keptIn(saved)
        ? `the saved answer still changed ${stopWaitMs} ms after the disconnect: tokens went on`
        : version === "1.1"
          ? "after the disconnect the answer is neither paused (streaming: true) nor saved as stopped"
          : `the answer is not saved as stopped ${stopWaitMs} ms after the disconnect`);
    const paused = saved.streaming === true;
    expect(paused || String(saved.text).startsWith(received), `saved text ${show(saved.text)} does not start with what was sent, ${show(received)}`);
    stopped = { ...info, received };
    return paused ? "paused for a resume (version 1.1)" : `saved as stopped, ${String(saved.text).length} characters`;
  });

  await record("confirmed-stop", async () => {
    if (version !== "1.1") return { skip: "the server does not offer version 1.1" };
    expect(stopped, "no stopped answer to confirm (see stop)");
    const stopUrl = `${chat}/${encodeURIComponent(stopped.messageId)}/stop`;
    const send = () => fetch(stopUrl, { method: "POST", headers: auth });
    const first = await send();
    await expectStatus(first, 200);
    const message = (await first.json())?.message;
    expect(message?.id === stopped.messageId && message?.stopped === true && typeof message?.text === "string",
      `expected {"message": {"id": "${stopped.messageId}", "text", "stopped": true}}, got ${show(message)}`);
    expect(message.text.startsWith(stopped.received), `saved text ${show(message.text)} does not start with what was sent, ${show(stopped.received)}`);
    const again = await send();
    const repeat = again.status === 200 ? (await again.json())?.message : null;
    expect(repeat?.text === message.text && repeat?.stopped === true, `a second stop answered ${again.status} ${show(repeat)}, not the same message`);
    const saved = (await history(stopped.sessionId)).find((m) => m.id === stopped.messageId);
    expect(saved?.text === message.text && saved?.stopped === true, `the history holds ${show(saved)}, not what the stop answered`);
    const unknown = await fetch(`${chat}/m_cite_stream_check_unknown/stop`, { method: "POST", headers: auth });
    expect(unknown.status === 404, `stopping an unknown message answered ${unknown.status}, expected 404`);
    return `${message.text.length} characters saved`;
  });

  // --- errors before streaming -------------------------------------------------
  const jsonError = async (response, status) => {
    await expectStatus(response, status);
    const type = response.headers.get("content-type") ?? "";
    expect(/^application\/json\b/i.test(type), `expected a JSON error, got Content-Type ${show(type)}`);
    const error = (await response.json().catch(() => null))?.error;
    expect(typeof error?.code === "string" && typeof error?.message === "string",
      `expected {"error": {"code", "message"}}, got ${show(error)}`);
    return error.code;
  };
  await record("error-400", async () => {
    const codes = [];
    for (const bad of ["{", JSON.stringify({ question: "" }), JSON.stringify({ question: 42 })]) {
      codes.push(await jsonError(await post({ body: bad }), 400).catch((e) => {
        throw new Failure(`body ${bad}: ${e.message}`);
      }));
    }
    return codes.join(", ");
  });
  await record("error-401", async () => {
    const none = await jsonError(await fetch(chat, { method: "POST", headers: { "Content-Type": "application/json" }, body }), 401).catch((e) => {
      throw new Failure(`no token: ${e.message}`);
    });
    const wrong = await jsonError(await post({ body, headers: { Authorization: "Bearer cite-stream-check-unknown-token" } }), 401).catch((e) => {
      throw new Failure(`unknown token: ${e.message}`);
    });
    return `${none}, ${wrong}`;
  });
  await record("error-413", async () => jsonError(await post({ body: JSON.stringify({ question: "x".repeat(20_000) }) }), 413));
  await record("error-415", async () => jsonError(await post({ body, headers: { "Content-Type": "text/plain" } }), 415));

  const checks = CHECKS.map(([name, title]) => ({ name, title, ...results.get(name) }));
  return { endpoint: chat, protocol: version, checks, durationMs: performance.now() - started };
}

/** The chat endpoint for a server's origin or the endpoint itself. */
export function chatEndpoint(url) {
  const parsed = new URL(url);
  const path = parsed.pathname.replace(/\/+$/, "");
  parsed.pathname = path.endsWith("/api/chat") ? path : `${path}/api/chat`;
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}

function parse(event) {
  try {
    return event && event.type !== "token" ? JSON.parse(event.data) : null;
  } catch {
    return null;
  }
}

const tokens = (events) => events.filter((e) => e.type === "token").map((e) => e.data).join("");

function seqOf(id, messageId) {
  const prefix = `${messageId}:`;
  if (typeof id !== "string" || !id.startsWith(prefix)) return null;
  const seq = id.slice(prefix.length);
  return /^[1-9]\d*$/.test(seq) ? Number(seq) : null;
}

function checkOrder(events, complete) {
  expect(events.length > 0, "the stream has no protocol event");
  expect(events[0].type === "session", `the first event is ${show(events[0].type)}, expected session`);
  const ends = events.filter((e) => e.type === "done" || e.type === "error");
  expect(ends.length === 1, ends.length === 0 ? "the stream ended without done or error" : `${ends.length} done/error events, expected exactly one`);
  expect(events.at(-1) === ends[0], `${events.at(-1).type} came after ${ends[0].type}`);
  expect(complete, "the body ended in the middle of an event");
  let seenToken = false;
  let seenCitations = false;
  for (const [index, event] of events.entries()) {
    if (index > 0) expect(event.type !== "session", `a second session event, event ${index + 1}`);
    if (event.type === "token") {
      expect(!seenCitations, `a token after the citations event, event ${index + 1}`);
      seenToken = true;
    }
    if (event.type === "status") expect(!seenToken, `a status event after the first token, event ${index + 1}`);
    if (event.type === "citations") {
      expect(!seenCitations, `a second citations event, event ${index + 1}`);
      seenCitations = true;
    }
  }
  return `${events.length} events, ending with ${ends[0].type}`;
}

function checkShapes(events) {
  const has = (object, fields, where) => {
    expect(object !== null && typeof object === "object" && !Array.isArray(object), `${where}: data is not a JSON object`);
    for (const [field, type] of Object.entries(fields)) {
      expect(typeof object[field] === type, `${where}: \`${field}\` is ${show(object[field])}, expected a ${type}`);
    }
  };
  for (const [index, event] of events.entries()) {
    const where = `${event.type} event ${index + 1}`;
    if (event.type === "token") {
      expect(event.data !== "", `${where}: an empty fragment`);
      continue;
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      throw new Failure(`${where}: data is not JSON: ${show(event.data)}`);
    }
    if (event.type === "session") has(data, { sessionId: "string", messageId: "string" }, where);
    if (event.type === "status") has(data, { message: "string" }, where);
    if (event.type === "citations") {
      expect(Array.isArray(data?.citations), `${where}: no \`citations\` array`);
      data.citations.forEach((citation, i) => has(citation, CITATION_FIELDS, `${where}, citation ${i + 1}`));
    }
    if (event.type === "done") {
      has(data, { messageId: "string", processingMs: "number", tokenCount: "number" }, where);
      expect(Number.isInteger(data.tokenCount) && data.tokenCount >= 0, `${where}: tokenCount ${data.tokenCount} is not a whole number`);
    }
    if (event.type === "error") {
      has(data, { code: "string", message: "string" }, where);
      expect(data.retryable === undefined || typeof data.retryable === "boolean", `${where}: retryable is ${show(data.retryable)}`);
    }
  }
  return `${events.length} events`;
}

function checkIds(events, messageId) {
  expect(typeof messageId === "string", "no session event names the message");
  let previous = 0;
  for (const [index, event] of events.entries()) {
    const seq = seqOf(event.id, messageId);
    expect(seq !== null, `${event.type} event ${index + 1} has id ${show(event.id)}, expected ${messageId}:<seq>`);
    expect(index > 0 || seq === 1, `the session event's seq is ${seq}, expected 1`);
    expect(seq > previous, `${event.type} event ${index + 1} has seq ${seq} after ${previous}`);
    previous = seq;
  }
  return `seq 1 to ${previous}`;
}

function checkDone(events, messageId) {
  const end = events.at(-1);
  if (end?.type !== "done") return { skip: `the answer ended with ${end?.type ?? "nothing"}, not done` };
  const done = parse(end);
  expect(done?.messageId === messageId, `done names message ${show(done?.messageId)}, the session event ${show(messageId)}`);
  const count = events.filter((e) => e.type === "token").length;
  expect(done.tokenCount === count, `done counts ${done.tokenCount} tokens, the stream had ${count}`);
  return `${count} tokens`;
}
