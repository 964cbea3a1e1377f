// The checks of one recorded event stream, as pure functions of its events
// (no I/O): order, shapes, ids and `done`. Each returns a short detail or
// throws a Failure whose message says what was expected and what came.

/** The protocol's event types; others are ignored (forward compatibility). */
export const KINDS = new Set(["session", "status", "token", "citations", "done", "error"]);
const CITATION_FIELDS = { id: "string", conversationId: "string", conversationTitle: "string", timestamp: "string", seconds: "number", speaker: "string", quote: "string" };

/** A failed expectation: its message is the check's detail. */
export class Failure extends Error {}
export const expect = (ok, message) => {
  if (!ok) throw new Failure(message);
};
/** `value` as JSON, shortened for a report line. */
export const show = (value, max = 80) => {
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/** The JSON data of a non-token event, or null. */
export function parse(event) {
  try {
    return event && event.type !== "token" ? JSON.parse(event.data) : null;
  } catch {
    return null;
  }
}

/** The token fragments joined: the answer text as sent. */
export const tokens = (events) => events.filter((e) => e.type === "token").map((e) => e.data).join("");

/** The seq of an id `<messageId>:<seq>` (decimal, from 1), or null. */
export function seqOf(id, messageId) {
  const prefix = `${messageId}:`;
  if (typeof id !== "string" || !id.startsWith(prefix)) return null;
  const seq = id.slice(prefix.length);
  return /^[1-9]\d*$/.test(seq) ? Number(seq) : null;
}

export function checkOrder(events, complete) {
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

export function checkShapes(events) {
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

export function checkIds(events, messageId) {
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

export function checkDone(events, messageId) {
  const end = events.at(-1);
  if (end?.type !== "done") return { skip: `the answer ended with ${end?.type ?? "nothing"}, not done` };
  const done = parse(end);
  expect(done?.messageId === messageId, `done names message ${show(done?.messageId)}, the session event ${show(messageId)}`);
  const count = events.filter((e) => e.type === "token").length;
  expect(done.tokenCount === count, `done counts ${done.tokenCount} tokens, the stream had ${count}`);
  return `${count} tokens`;
}
