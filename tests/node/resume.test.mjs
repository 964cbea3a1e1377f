// Resume after a dropped connection and confirmed stop (protocol 1.1),
// against the real reference server over real sockets: the server's test
// mode cuts the connection right after chosen events (`dropAtSeqs`), and
// its test endpoint (`GET /api/_test/answers/{id}`) says what it did: the
// POSTs it received, the resumes it served, what it saved.
//
// The drop points are drawn from a seeded generator (CITE_STREAM_SEED to
// replay a run); the figures of the drop-to-first-resumed-token time are
// printed as a diagnostic, never asserted.
import test from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { streamChat, resumeChat, StreamError } from "cite-stream";
import { referenceUrl, referenceHeaders, question, joined } from "./harness.mjs";
import { mulberry32 as generator } from "../random.mjs";

const url = referenceUrl();
const headers = referenceHeaders();
const base = url.replace(/\/api\/chat$/, "");

const seed = Number(process.env.CITE_STREAM_SEED ?? Date.now() % 1_000_000);

/** What the server did for one answer (its test endpoint). */
async function observed(messageId, at = base, auth = headers) {
  const response = await fetch(`${at}/api/_test/answers/${messageId}`, { headers: auth });
  assert.equal(response.status, 200);
  return response.json();
}

/** The answer as the history lists it. */
async function historyMessage(sessionId, messageId, at = base, auth = headers) {
  const response = await fetch(`${at}/api/sessions/${sessionId}/messages`, { headers: auth });
  assert.equal(response.status, 200);
  const { messages } = await response.json();
  const message = messages.find((m) => m.id === messageId);
  assert.ok(message, `the history lists ${messageId}`);
  return message;
}

/**
 * Streams one answer with every event recorded, with a timestamp: the
 * segments, the reconnects, the end.
 */
function recorded(start, options) {
  const events = [];
  const at = () => performance.now();
  const chat = start({
    ...options,
    onSegment: (segment) => {
      events.push({ type: "segment", segment, at: at() });
      options.onSegment?.(segment);
    },
    onReconnect: (info) => {
      events.push({ type: "reconnect", info, at: at() });
      options.onReconnect?.(info);
    },
    onSession: (info) => events.push({ type: "session", info, at: at() }),
    onDone: (info) => events.push({ type: "done", info, at: at() }),
    onError: (error) => events.push({ type: "error", error, at: at() }),
  });
  return { chat, events, finished: chat.finished };
}

/**
 * Segments with neighbouring plain text joined: where flat text is cut
 * into segments follows the chunks, which a drop changes; the text, the
 * citations and their order do not.
 */
function merged(segments) {
  const out = [];
  for (const segment of segments) {
    const last = out.at(-1);
    const plain = (s) => s?.kind === "text" && Object.keys(s).length === 2;
    if (plain(segment) && plain(last)) {
      out[out.length - 1] = { ...last, text: last.text + segment.text };
    } else out.push(segment);
  }
  return out;
}

const segmentsOf = (events) => events.filter((e) => e.type === "segment").map((e) => e.segment);
const reconnectsOf = (events) => events.filter((e) => e.type === "reconnect").map((e) => e.info);

/** A clean run of the question: its text, and how many events the answer has. */
async function cleanRun(markdown) {
  const { finished } = recorded(streamChat, { url, headers, body: { question }, markdown });
  const result = await finished;
  assert.equal(result.status, "done");
  const { logEvents } = await observed(result.messageId);
  return { text: result.text, segments: result.segments, events: logEvents };
}

test("a drop at 24 random points, one to three drops a run: the exact saved text, nothing repeated or missing, one POST", async () => {
  const random = generator(seed);
  const flat = await cleanRun(false);
  const marked = await cleanRun(true);
  assert.equal(flat.text, marked.text);
  assert.ok(flat.events > 10, `the answer has ${flat.events} events`);
  // seq 1 is `session`, the last one `done`: a drop may follow any event
  // but the last, the one just before `done` included.
  const last = flat.events - 1;
  const runs = [[1], [2], [last]];
  while (runs.length < 24) {
    const count = 1 + Math.floor(random() * 3);
    const seqs = new Set();
    while (seqs.size < count) seqs.add(1 + Math.floor(random() * last));
    runs.push([...seqs].sort((a, b) => a - b));
  }
  const gaps = [];
  let replayed = 0;
  let resumes = 0;
  for (const [i, dropAtSeqs] of runs.entries()) {
    const markdown = i % 2 === 1;
    const body = { question, fault: { dropAtSeqs } };
    const { events, finished } = recorded(streamChat, { url, headers, body, markdown });
    const result = await finished;
    const why = `seed ${seed}, run ${i}, drops after ${dropAtSeqs.join(", ")}${markdown ? ", markdown" : ""}`;
    assert.equal(result.status, "done", `${why}: ${result.error?.message}`);
    assert.equal(result.text, flat.text, why);
    const server = await observed(result.messageId);
    assert.equal(server.chatPosts, 1, `${why}: the question was POSTed once`);
    assert.equal(server.resumes, dropAtSeqs.length, why);
    assert.deepEqual(server.saved, { text: result.text, stopped: false, stored: true }, why);
    const message = await historyMessage(result.sessionId, result.messageId);
    assert.equal(message.text, result.text, why);
    assert.equal(message.streaming, false, why);
    // The segments are those of an answer never cut, each piece once, in
    // order (flat ones are the text itself; Markdown ones its rendering).
    const clean = markdown ? marked : flat;
    assert.deepEqual(merged(result.segments), merged(clean.segments), why);
    if (!markdown) assert.equal(joined(segmentsOf(events)), result.text, why);
    assert.equal(joined(segmentsOf(events)), joined(clean.segments), why);
    const reconnects = reconnectsOf(events);
    assert.deepEqual(reconnects.map((r) => r.attempt), dropAtSeqs.map(() => 1), why);
    assert.deepEqual(
      reconnects.map((r) => r.lastEventId),
      dropAtSeqs.map((seq) => `${result.messageId}:${seq}`),
      why,
    );
    // Each drop to the next segment after it (one is due unless the drop
    // was just before `done`, or only non-text events followed).
    for (const [k, event] of events.entries()) {
      if (event.type !== "reconnect") continue;
      const next = events.slice(k + 1).find((e) => e.type === "segment" || e.type === "reconnect");
      if (next?.type === "segment") gaps.push(next.at - event.at);
    }
    assert.equal(events.filter((e) => e.type === "done").length, 1, why);
    replayed += server.replayedEvents;
    resumes += server.resumes;
  }
  gaps.sort((a, b) => a - b);
  const p = (q) => gaps[Math.min(gaps.length - 1, Math.floor(q * gaps.length))].toFixed(1);
  console.log(
    `# resume (seed ${seed}): ${runs.length} runs, ${resumes} drops; drop to first resumed segment ` +
      `median ${p(0.5)} ms, p95 ${p(0.95)} ms (the first backoff is 250 ms) over ${gaps.length}; ` +
      `${(replayed / resumes).toFixed(2)} events replayed a resume (its session event included)`,
  );
});

test("a drop just before done: the resumed stream delivers done, the text is whole", async () => {
  const { events } = await cleanRun(false);
  const body = { question, fault: { dropAtSeqs: [events - 1] } };
  const run = recorded(streamChat, { url, headers, body });
  const result = await run.finished;
  assert.equal(result.status, "done");
  assert.equal(run.events.filter((e) => e.type === "done").length, 1);
  assert.equal(reconnectsOf(run.events).length, 1);
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.equal(result.text, message.text);
  assert.equal(message.stopped, false);
});

test("a drop before any event: the answer the response header named is resumed from its start, the exact text, one POST", async () => {
  const clean = await cleanRun(false);
  const body = { question, fault: { dropAtSeqs: [0] } };
  const run = recorded(streamChat, { url, headers, body });
  const result = await run.finished;
  assert.equal(result.status, "done", String(result.error));
  const reconnects = reconnectsOf(run.events);
  assert.equal(reconnects.length, 1);
  assert.equal(reconnects[0].lastEventId, undefined, "nothing taken yet: the whole answer is asked for");
  assert.equal(run.events.filter((e) => e.type === "session").length, 1);
  assert.equal(result.text, clean.text);
  assert.deepEqual(merged(result.segments), merged(clean.segments));
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.equal(message.text, result.text);
  const server = await observed(result.messageId);
  assert.equal(server.chatPosts, 1);
  assert.equal(server.resumes, 1);
});

test("stop before the session event is read: the stop goes to the answer the header named, saved as stopped", async () => {
  const body = { question, fault: { dropAtSeqs: [0] } };
  const run = recorded(streamChat, { url, headers, body, onReconnect: () => run.chat.stop() });
  const result = await run.finished;
  assert.equal(result.status, "stopped");
  assert.equal(run.events.filter((e) => e.type === "session").length, 0);
  assert.ok(result.saved, "the server confirmed the stop");
  assert.equal(result.saved.stopped, true);
  assert.equal(result.saved.text, "");
  const server = await observed(result.saved.messageId);
  assert.equal(server.chatPosts, 1);
  assert.equal(server.resumes, 0);
  assert.equal(server.saved.stopped, true);
});

test("a citation and a bold span cut by the drop still render whole", async () => {
  const answerText = "Budget was **tight for Q3** [12:45, Sarah Johnson] and the rest followed.";
  // Drop after every token event in turn: seq 1 session, 2 status, then tokens.
  const clean = recorded(streamChat, { url, headers, body: { question, fault: { answerText } }, markdown: true });
  const reference = await clean.finished;
  const { logEvents } = await observed(reference.messageId);
  for (let seq = 2; seq < logEvents; seq++) {
    const body = { question, fault: { answerText, dropAtSeqs: [seq] } };
    const run = recorded(streamChat, { url, headers, body, markdown: true });
    const result = await run.finished;
    assert.equal(result.status, "done", `drop after ${seq}`);
    assert.equal(result.text, reference.text, `drop after ${seq}`);
    assert.deepEqual(merged(result.segments), merged(reference.segments), `drop after ${seq}: the same segments`);
  }
});

test("stop mid-answer: the stop request is confirmed, finished.saved equals the history", async () => {
  let segments = 0;
  const run = recorded(streamChat, {
    url,
    headers,
    body: { question },
    onSegment: () => {
      if (++segments === 3) run.chat.stop();
    },
  });
  const result = await run.finished;
  assert.equal(result.status, "stopped");
  assert.ok(result.saved, "the server confirmed what it kept");
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.deepEqual(result.saved, { messageId: result.messageId, text: message.text, stopped: true });
  assert.equal(message.stopped, true);
  assert.equal(message.streaming, false);
  // The server kept at least what the client showed.
  assert.ok(message.text.startsWith(result.text), `${JSON.stringify(result.text)} starts the saved text`);
  const server = await observed(result.messageId);
  assert.equal(server.resumes, 0);
  assert.equal(server.saved.stopped, true);
});

test("the caller's signal stops on the server too: saved, stopped, in the history", async () => {
  const controller = new AbortController();
  let segments = 0;
  const run = recorded(streamChat, {
    url,
    headers,
    body: { question },
    signal: controller.signal,
    onSegment: () => {
      if (++segments === 2) controller.abort(new Error("leaving"));
    },
  });
  const result = await run.finished;
  assert.equal(result.status, "stopped");
  assert.equal(result.error?.code, "aborted");
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.deepEqual(result.saved, { messageId: result.messageId, text: message.text, stopped: true });
});

test("stop racing a resume: stopped during the backoff, no resume request, saved as stopped", async () => {
  const body = { question, fault: { dropAtSeqs: [4] } };
  const run = recorded(streamChat, { url, headers, body, onReconnect: () => run.chat.stop() });
  const result = await run.finished;
  assert.equal(result.status, "stopped");
  assert.equal(reconnectsOf(run.events).length, 1);
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.deepEqual(result.saved, { messageId: result.messageId, text: message.text, stopped: true });
  assert.equal(message.text, result.text, "the server kept exactly what was sent before the drop");
  const server = await observed(result.messageId);
  assert.equal(server.resumes, 0);
  assert.equal(server.chatPosts, 1);
});

test("stop racing a resume: stopped while the resumed stream runs, saved as stopped", async () => {
  const body = { question, fault: { dropAtSeqs: [3] } };
  let resumed = false;
  const run = recorded(streamChat, {
    url,
    headers,
    body,
    onReconnect: () => {
      resumed = true;
    },
    onSegment: () => {
      if (resumed) run.chat.stop();
    },
  });
  const result = await run.finished;
  assert.equal(result.status, "stopped");
  const message = await historyMessage(result.sessionId, result.messageId);
  assert.deepEqual(result.saved, { messageId: result.messageId, text: message.text, stopped: true });
  assert.ok(message.text.startsWith(result.text));
  const server = await observed(result.messageId);
  assert.equal(server.resumes, 1);
  assert.equal(server.chatPosts, 1);
});

test("resume: false: a drop is a plain network error, and nothing is resumed", async () => {
  const body = { question, fault: { dropAtSeqs: [4] } };
  const run = recorded(streamChat, { url, headers, body, resume: false });
  const result = await run.finished;
  assert.equal(result.status, "error");
  assert.ok(result.error instanceof StreamError);
  assert.equal(result.error.code, "network");
  assert.equal(result.error.attempts, undefined);
  assert.equal(reconnectsOf(run.events).length, 0);
  assert.equal((await observed(result.messageId)).resumes, 0);
});

test("resumeChat after a lost page: replays the answer from its start and goes on live, the same as the history", async () => {
  // The first page: its connection drops and it does not resume (the page
  // is gone); the answer is paused on the server.
  const body = { question, fault: { dropAtSeqs: [5] } };
  const lost = await recorded(streamChat, { url, headers, body, resume: false }).finished;
  assert.equal(lost.error?.code, "network");
  const paused = await historyMessage(lost.sessionId, lost.messageId);
  assert.equal(paused.streaming, true, "a paused answer is listed as streaming");
  const held = await observed(lost.messageId);
  assert.equal(held.streaming, true);
  assert.equal(held.saved, null);
  console.log(`# a paused answer holds ${held.logEvents} events, ${held.logBytes} bytes of log (${held.fragments} fragments generated)`);
  // The reloaded page attaches.
  const run = recorded(resumeChat, { url, headers, messageId: lost.messageId, markdown: true });
  const result = await run.finished;
  assert.equal(result.status, "done");
  assert.equal(result.messageId, lost.messageId);
  assert.ok(result.text.startsWith(lost.text) && result.text.length > lost.text.length);
  const message = await historyMessage(lost.sessionId, lost.messageId);
  assert.equal(result.text, message.text);
  assert.equal(message.streaming, false);
  const server = await observed(lost.messageId);
  assert.equal(server.chatPosts, 1);
  assert.equal(server.resumes, 1);
});

test("resumeChat of an unknown answer: an http 404 error, at once", async () => {
  const result = await resumeChat({ url, headers, messageId: "m_unknown" }).finished;
  assert.equal(result.status, "error");
  assert.equal(result.error.code, "http");
  assert.equal(result.error.status, 404);
  assert.equal(result.error.body.error.code, "message_not_found");
});

test("the options of resume are checked", () => {
  for (const resume of [true, 3, "yes", { attempts: -1 }, { attempts: 1.5 }, { attempts: 31 }]) {
    assert.throws(() => streamChat({ url, body: {}, resume }), TypeError, JSON.stringify(resume));
  }
  assert.throws(() => resumeChat({ url }), /messageId/);
  assert.throws(() => resumeChat({ url, messageId: "" }), /messageId/);
  assert.throws(() => resumeChat({ url, messageId: "m_1", onReconnect: 1 }), /onReconnect/);
});

/** A second reference server, with its own flags, stopped after the test. */
async function ownServer(ctx, flags) {
  const child = spawn("target/debug/server-mock", ["--addr", "127.0.0.1:0", "--db", ":memory:", ...flags], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  ctx.after(() => child.kill());
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const at = (await lines.next()).value.trim();
  const auth = (await lines.next()).value.trim().replace(/^Authorization: /, "");
  return { at, headers: { Authorization: auth }, child };
}

test("resume after the window: a network error with the attempts, its cause the 410 resume_expired; the history has the answer", async (ctx) => {
  // A window of 0: a dropped answer is saved as stopped at once, so the
  // first resume request, 250 ms later, is past it.
  const server = await ownServer(ctx, ["--test-mode", "--token-delay-ms", "5", "--resume-window-ms", "0"]);
  const body = { question, fault: { dropAtSeqs: [4] } };
  const run = recorded(streamChat, { url: `${server.at}/api/chat`, headers: server.headers, body });
  const result = await run.finished;
  assert.equal(result.status, "error");
  assert.equal(result.error.code, "network");
  assert.equal(result.error.attempts, 1);
  assert.match(result.error.message, /not resumed after 1 attempt: HTTP 410/);
  assert.ok(result.error.cause instanceof StreamError);
  assert.equal(result.error.cause.status, 410);
  assert.equal(result.error.cause.body.error.code, "resume_expired");
  const message = await historyMessage(result.sessionId, result.messageId, server.at, server.headers);
  assert.equal(message.stopped, true);
  assert.equal(message.text, result.text, "what the client showed is what was saved");
});

test("a server gone for good: every attempt is made, with backoff doubling, then a network error with the attempts", async (ctx) => {
  const server = await ownServer(ctx, ["--test-mode", "--token-delay-ms", "5"]);
  let killed = false;
  const run = recorded(streamChat, {
    url: `${server.at}/api/chat`,
    headers: server.headers,
    body: { question },
    resume: { attempts: 3 },
    onSegment: () => {
      if (!killed) {
        killed = true;
        server.child.kill("SIGKILL");
      }
    },
  });
  const result = await run.finished;
  assert.equal(result.status, "error");
  assert.equal(result.error.code, "network");
  assert.equal(result.error.attempts, 3);
  const reconnects = reconnectsOf(run.events);
  assert.deepEqual(reconnects.map((r) => r.attempt), [1, 2, 3]);
  assert.deepEqual(reconnects.map((r) => r.delayMs), [250, 500, 1000]);
  assert.ok(result.text.length > 0, "the text received is kept");
});
