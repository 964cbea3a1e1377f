// The conformance checks of `cite-stream check`: each runs against a live
// server and gives { name, status: "pass" | "fail" | "skip", detail }.
// The protocol they hold the server to is docs/protocol.md.
import { readEvents } from "./sse.mjs";
import { Failure, KINDS, checkDone, checkIds, checkOrder, checkShapes, expect, parse, seqOf, show, tokens } from "./validate.mjs";

/** The checks, in the order they run and are reported. */
export const CHECKS = [
  ["response", "POST /api/chat answers 200 with text/event-stream"],
  ["order", "session first, status before tokens, one done or error, last"],
  ["shapes", "every event's data has the protocol's shape"],
  ["ids", "every event's id is <messageId>:<seq>, seq from 1, increasing; a Cite-Stream-Message-Id header names the same message"],
  ["done", "done names the message and counts its tokens"],
  ["saved-text", "the history holds the tokens' text verbatim"],
  ["keep-alive", "no silence longer than the keep-alive limit"],
  ["resume", "GET …/{messageId}/stream replays the events after Last-Event-ID (1.1)"],
  ["resume-live", "an answer dropped mid-stream and resumed goes on live to done (1.1)"],
  ["stop", "after a disconnect no answer goes on, what was sent is kept"],
  ["confirmed-stop", "POST …/{messageId}/stop saves and answers the message (1.1)"],
  ["error-400", "a malformed body is a JSON 400"],
  ["error-401", "a missing or unknown token is a JSON 401"],
  ["error-413", "a body over 16 KiB is a JSON 413"],
  ["error-415", "a body that is not application/json is a JSON 415"],
];

/** Fails unless `response` has `status`, quoting what it said instead. */
async function expectStatus(response, status, what = "") {
  if (response.status === status) return;
  const text = await firstChunk(response);
  throw new Failure(`${what}expected ${status}, got ${response.status}${text ? `: ${show(text)}` : ""}`);
}
/**
 * The start of a body, enough to quote: its first chunk, then the rest is
 * cancelled (a stream where an error was due need not be read to its end).
 */
async function firstChunk(response) {
  const reader = response.body?.getReader();
  if (!reader) return "";
  try {
    const { value } = await reader.read();
    return value ? new TextDecoder().decode(value) : "";
  } catch {
    return "";
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * Runs every check against the server at `url` (its origin, or its chat
 * endpoint). `protocol`: "1", "1.1" or "auto" (1.1 when the resume route
 * answers). Every request, its body included, is given `timeoutMs`: a
 * server that never answers or never ends a stream fails, it does not hang
 * the checker. Resolves to { endpoint, protocol, checks, durationMs }.
 */
export async function runChecks({ url, token, question, keepAliveMs = 15_000, protocol = "auto", stopWaitMs = 10_000, timeoutMs = 120_000 }) {
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
  const request = (target, init = {}) => fetch(target, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs), ...init });
  // Every stream read, for the keep-alive check: what it was, its longest
  // silence and its comment lines.
  const streams = [];
  const readStream = async (what, response, options) => {
    const read = await readEvents(response, options);
    streams.push({ what, silenceMs: read.maxSilenceMs, comments: read.comments });
    return read;
  };
  const skipAll = (names, why) => names.forEach((name) => results.set(name, { status: "skip", detail: why }));
  const post = (init = {}) =>
    request(chat, {
      method: "POST",
      ...init,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream", ...auth, ...init.headers },
    });
  const history = async (sessionId) => {
    const response = await request(`${base}/api/sessions/${encodeURIComponent(sessionId)}/messages`, { headers: auth });
    expect(response.ok, `GET /api/sessions/${sessionId}/messages answered ${response.status}`);
    const body = await response.json();
    expect(Array.isArray(body?.messages), "the history has no `messages` array");
    return body.messages;
  };
  const body = JSON.stringify({ question });

  /** Drops an answer after its second token and resumes it with Last-Event-ID. */
  async function dropAndResume() {
    const response = await post({ body });
    await expectStatus(response, 200, "a new answer to drop: ");
    let count = 0;
    // Drops the connection after the second token, as a network would.
    const read = await readStream("the answer dropped", response, { until: (e) => (e.type === "token" && ++count === 2) || e.type === "done" || e.type === "error" });
    const events = read.events.filter((e) => KINDS.has(e.type));
    const info = parse(events[0]);
    expect(events[0]?.type === "session" && info?.messageId, "the stream did not start with a session event");
    const last = events.at(-1);
    expect(last.type === "token", `the answer ended (${last.type}) before its second token: nothing to resume`);
    const lastSeq = seqOf(last.id, info.messageId);
    expect(lastSeq !== null, `the last event received has id ${show(last.id)}, not ${info.messageId}:<seq>`);
    const resumed = await request(`${chat}/${encodeURIComponent(info.messageId)}/stream`, {
      headers: { ...auth, Accept: "text/event-stream", "Last-Event-ID": last.id },
    });
    await expectStatus(resumed, 200, `resuming after ${last.id}: `);
    const rest = await readStream("the resumed answer", resumed);
    const replay = rest.events.filter((e) => KINDS.has(e.type));
    const first = replay[0];
    expect(first?.type === "session" && first.id === events[0].id && first.data === events[0].data,
      `the resumed stream starts with ${show(first && [first.type, first.id, first.data])}, expected the session event again, ${show([events[0].type, events[0].id, events[0].data])}`);
    const seqs = replay.slice(1).map((e) => seqOf(e.id, info.messageId));
    expect(seqs.length > 0, "the resumed stream sent the session event and ended, without done: the answer did not go on");
    expect(seqs[0] === lastSeq + 1, `after Last-Event-ID ${last.id} the resumed stream sent seq ${seqs[0]} first, expected ${lastSeq + 1}`);
    const back = seqs.findIndex((seq, i) => i > 0 && !(seq > seqs[i - 1]));
    expect(back === -1, `the resumed stream sent seq ${seqs[back]} after ${seqs[back - 1]}`);
    const end = replay.at(-1);
    expect(end.type === "done", `the resumed stream ended with ${end.type} (seq ${seqs.at(-1)}), not done: the answer did not go on`);
    expect(rest.complete, "the resumed body ended in the middle of an event");
    return `${replay.length - 1} events after ${last.id}, to done`;
  }

  // An answer dropped and resumed runs alongside the whole answer (the
  // version is known only after it); a version-1 server's refusal is then
  // reported as a skip. The promise settles, never rejects.
  const liveResume = protocol === "1" ? null : dropAndResume().then((detail) => ({ detail }), (error) => ({ error }));

  // --- one whole answer ------------------------------------------------------
  let answer = null;
  await record("response", async () => {
    const response = await post({ body });
    await expectStatus(response, 200);
    const type = response.headers.get("content-type") ?? "";
    expect(/^text\/event-stream\b/i.test(type), `expected Content-Type text/event-stream, got ${show(type)}`);
    const named = response.headers.get("cite-stream-message-id");
    answer = await readStream("the whole answer", response);
    answer.named = named;
    return `${answer.events.length} events`;
  });
  const streamChecks = ["order", "shapes", "ids", "done", "saved-text"];
  let session = null;
  if (!answer) {
    skipAll([...streamChecks, "resume"], "no event stream to check (see response)");
  } else {
    const events = answer.events.filter((e) => KINDS.has(e.type));
    session = parse(events[0]);
    await record("order", () => checkOrder(events, answer.complete));
    await record("shapes", () => checkShapes(events));
    await record("ids", () => {
      const detail = checkIds(events, session?.messageId);
      if (answer.named === null) return detail;
      // Optional (docs/protocol.md): the answer named before any event.
      expect(answer.named === session?.messageId,
        `the Cite-Stream-Message-Id header names ${show(answer.named)}, the session event ${show(session?.messageId)}`);
      return `${detail}; the Cite-Stream-Message-Id header names the same message`;
    });
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
  }

  // --- version 1.1: resume -----------------------------------------------------
  let version = protocol === "auto" ? null : protocol;
  if (answer && session?.messageId) {
    const events = answer.events.filter((e) => KINDS.has(e.type));
    await record("resume", async () => {
      const middle = events[Math.floor(events.length / 2)];
      const seq = seqOf(middle?.id, session.messageId);
      expect(seq !== null, "no numbered event to resume after");
      const response = await request(`${chat}/${encodeURIComponent(session.messageId)}/stream`, {
        headers: { ...auth, Accept: "text/event-stream", "Last-Event-ID": middle.id },
      });
      // 410 is a version-1.1 answer too (the resume window has passed).
      if (version === null) version = response.status === 200 || response.status === 410 ? "1.1" : "1";
      if (version === "1") {
        await response.body?.cancel();
        return { skip: `the server does not offer version 1.1 (the resume route answered ${response.status})` };
      }
      await expectStatus(response, 200);
      const replay = (await readStream("the replay", response)).events.filter((e) => KINDS.has(e.type));
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
  const notOffered = () =>
    version === "unknown" ? "no whole answer to tell the version by (see response)" : "the server does not offer version 1.1";

  await record("resume-live", async () => {
    if (version !== "1.1") return { skip: notOffered() };
    const outcome = await liveResume;
    if (outcome.error) throw outcome.error;
    return outcome.detail;
  });

  const jsonError = async (response, status) => {
    await expectStatus(response, status);
    const type = response.headers.get("content-type") ?? "";
    expect(/^application\/json\b/i.test(type), `expected a JSON error, got Content-Type ${show(type)}`);
    const error = (await response.json().catch(() => null))?.error;
    expect(typeof error?.code === "string" && typeof error?.message === "string",
      `expected {"error": {"code", "message"}}, got ${show(error)}`);
    return error.code;
  };

  // --- stop ----------------------------------------------------------------------
  let stopped = null;
  await record("stop", async () => {
    const response = await post({ body });
    await expectStatus(response, 200);
    const read = await readStream("the answer disconnected", response, { until: (e) => e.type === "token" || e.type === "done" || e.type === "error" });
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
    // Paused (1.1) or saved, the history holds the text generated so far,
    // which starts with what this client was sent.
    expect(String(saved.text).startsWith(received), `saved text ${show(saved.text)} does not start with what was sent, ${show(received)}`);
    stopped = { ...info, received };
    return paused ? "paused for a resume (version 1.1)" : `saved as stopped, ${String(saved.text).length} characters`;
  });

  // --- version 1.1: confirmed stop ----------------------------------------------
  const stopRoute = (messageId) => request(`${chat}/${encodeURIComponent(messageId)}/stop`, { method: "POST", headers: auth });
  /** The `message` of a 200 stop answer, in the protocol's shape. */
  const stopAnswer = async (response, messageId, what) => {
    await expectStatus(response, 200, what);
    const message = (await response.json().catch(() => null))?.message;
    expect(message?.id === messageId && typeof message.text === "string" && typeof message.stopped === "boolean" && Array.isArray(message.citations),
      `${what}expected {"message": {"id": "${messageId}", "text", "citations", "stopped"}}, got ${show(message)}`);
    return message;
  };
  const savedMessage = async (sessionId, messageId) => (await history(sessionId)).find((m) => m.id === messageId);
  await record("confirmed-stop", async () => {
    if (version !== "1.1") return { skip: notOffered() };
    expect(stopped, "no stopped answer to confirm (see stop)");
    // The answer the stop check left behind (1.1: paused for a resume).
    const message = await stopAnswer(await stopRoute(stopped.messageId), stopped.messageId, "stopping a paused answer: ");
    expect(message.stopped === true, `stopping a paused answer: saved with stopped: ${message.stopped}`);
    expect(message.text.startsWith(stopped.received), `saved text ${show(message.text)} does not start with what was sent, ${show(stopped.received)}`);
    const again = await stopRoute(stopped.messageId);
    const repeat = again.status === 200 ? (await again.json().catch(() => null))?.message : null;
    expect(repeat?.text === message.text && repeat?.stopped === true, `a second stop answered ${again.status} ${show(repeat)}, not the same message`);
    const saved = await savedMessage(stopped.sessionId, stopped.messageId);
    expect(saved?.text === message.text && saved?.stopped === true, `the history holds ${show(saved)}, not what the stop answered`);

    // An answer stopped while its reader is attached: the stop answers what
    // was saved, and the stream sends nothing that is not in it, nor `done`.
    const live = await stopWhileStreaming();
    // An answer that ended: the saved message, unchanged.
    expect(session?.messageId, "no whole answer to stop after its end (see response)");
    const whole = await savedMessage(session.sessionId, session.messageId);
    const after = await stopAnswer(await stopRoute(session.messageId), session.messageId, "stopping an answer that ended: ");
    expect(whole, `the history of ${session.sessionId} has no message ${session.messageId}`);
    const changed = ["text", "stopped", "citations"].filter((field) => JSON.stringify(after[field]) !== JSON.stringify(whole[field]));
    expect(changed.length === 0,
      `stopping an answer that ended answered ${changed.map((field) => `${field} ${show(after[field], 40)}, not the saved ${show(whole[field], 40)}`).join("; ")}`);
    await jsonError(await stopRoute("m_cite_stream_check_unknown"), 404).catch((e) => {
      throw new Failure(`stopping an unknown message: ${e.message}`);
    });
    return `a paused answer (${message.text.length} characters) and one being streamed (after ${live.tokens} token${live.tokens === 1 ? "" : "s"}, ${live.text.length} characters) saved as stopped; an ended one unchanged; 404 for an unknown one`;
  });
  async function stopWhileStreaming() {
    const response = await post({ body });
    await expectStatus(response, 200, "a new answer to stop: ");
    let stopping = null;
    let before = "";
    const read = await readStream("the answer stopped", response, {
      until: (event, events) => {
        if (stopping || event.type !== "token") return false;
        const info = parse(events.find((e) => e.type === "session"));
        before = tokens(events);
        // Settles, never rejects: the stream is still being read.
        stopping = info?.messageId
          ? stopRoute(info.messageId).then((answer) => ({ answer, info }), (error) => ({ error }))
          : Promise.resolve({ error: new Failure("the stream did not start with a session event") });
        return false;
      },
    });
    expect(stopping, "the answer ended before its first token: nothing to stop");
    const { answer, info, error } = await stopping;
    if (error) throw error;
    const message = await stopAnswer(answer, info.messageId, "stopping an answer being streamed: ");
    expect(message.stopped === true, `stopping an answer being streamed: saved with stopped: ${message.stopped}`);
    expect(message.text.startsWith(before), `stopping an answer being streamed: saved text ${show(message.text)} does not start with what was sent before the stop, ${show(before)}`);
    const sent = tokens(read.events);
    expect(message.text.startsWith(sent),
      `the stream went on after the stop: it sent ${sent.length - message.text.length} characters more than the ${message.text.length} saved (${show(sent.slice(message.text.length), 40)})`);
    expect(!read.events.some((e) => e.type === "done"), "the stream sent done after the stop");
    const saved = await savedMessage(info.sessionId, info.messageId);
    expect(saved?.text === message.text && saved?.stopped === true, `the history holds ${show(saved)}, not what the stop answered`);
    return { tokens: read.events.filter((e) => e.type === "token").length, text: message.text };
  }

  // --- errors before streaming -------------------------------------------------
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
    const none = await jsonError(await request(chat, { method: "POST", headers: { "Content-Type": "application/json" }, body }), 401).catch((e) => {
      throw new Failure(`no token: ${e.message}`);
    });
    const wrong = await jsonError(await post({ body, headers: { Authorization: "Bearer cite-stream-check-unknown-token" } }), 401).catch((e) => {
      throw new Failure(`unknown token: ${e.message}`);
    });
    return `${none}, ${wrong}`;
  });
  await record("error-413", async () => {
    const codes = [];
    // A body over 16 KiB, and a question over 4,000 characters in a small one.
    for (const [what, length] of [["a 20,000-character question", 20_000], ["a 4,001-character question", 4_001]]) {
      codes.push(await jsonError(await post({ body: JSON.stringify({ question: "x".repeat(length) }) }), 413).catch((e) => {
        throw new Failure(`${what}: ${e.message}`);
      }));
    }
    return codes.join(", ");
  });
  await record("error-415", async () => jsonError(await post({ body, headers: { "Content-Type": "text/plain" } }), 415));

  await record("keep-alive", () => {
    if (streams.length === 0) return { skip: "no event stream was read (see response)" };
    const longest = streams.reduce((a, b) => (b.silenceMs > a.silenceMs ? b : a));
    const comments = streams.reduce((sum, s) => sum + s.comments, 0);
    const ms = Math.round(longest.silenceMs);
    expect(longest.silenceMs <= keepAliveMs, `${ms} ms without a byte in ${longest.what}, over the ${keepAliveMs} ms limit`);
    return `longest silence ${ms} ms (${longest.what}) over ${streams.length} streams, ${comments} comment lines`;
  });

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
