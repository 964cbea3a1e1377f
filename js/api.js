// The public API over the wasm module. Environment-specific entry points
// (index.js for browsers and bundlers, node.js for Node) initialise the
// module and re-export everything from here.
import { startChat, RawEventStreamParser, RawCitationBuffer, RawMarkdownSegmenter, wasmMemory } from "./cite_stream.js";
import { answerUrl } from "./transport.js";

// Options are read and checked here; the shell takes them as plain
// values, `undefined` for a default. A wrong option is a programming error,
// reported at once as a TypeError naming it.
const present = (value) => value !== undefined && value !== null;

/** A number option: `undefined` when absent; `integer` asks for 1 or more, whole. */
function number(object, key, integer = false) {
  const value = object?.[key];
  if (!present(value)) return undefined;
  if (integer) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`\`${key}\` must be a positive integer`);
  } else if (typeof value !== "number" || !(value >= 0)) {
    throw new TypeError(`\`${key}\` must be a non-negative number`);
  }
  return value;
}

/** The `markdown` option: `true` for Markdown-aware segments. */
function markdown(options) {
  const value = options?.markdown;
  if (present(value) && typeof value !== "boolean") throw new TypeError("`markdown` must be a boolean");
  return value === true;
}

/** `{ timeoutMs, maxLength, pattern }` as the shell takes them. */
function citationOptions(options) {
  const pattern = options?.pattern;
  if (present(pattern) && pattern !== "timestamp-speaker" && pattern !== "numeric") {
    throw new TypeError(`\`pattern\` must be "timestamp-speaker" or "numeric", not ${JSON.stringify(pattern)}`);
  }
  return [number(options, "timeoutMs"), number(options, "maxLength", true), pattern === "numeric"];
}

// The module's Memory object never changes; its buffer is replaced when it
// grows. Read lazily: this module is evaluated before the wasm is ready.
let memoryObject;
const wasmBuffer = () => (memoryObject ??= wasmMemory()).buffer;

const decoder = new TextDecoder();
// Every packed run ends with CR, so no character is ever left pending; the
// streaming mode is used because engines decode faster in it.
const STREAM = { stream: true };

const LF = 10;

/**
 * Decodes and splits packed events: type, data, id, each ended by CR. An
 * `indexOf` loop rather than `split`: it finds the same CRs, but slices
 * the fields out directly instead of building an intermediate array (twice
 * as fast on V8 for chunks of small events, and for one large event). A
 * type that starts with LF marks the event whose data was left in place:
 * `inPlace()` decodes it.
 */
function unpack(bytes, inPlace) {
  const text = decoder.decode(bytes, STREAM);
  const events = [];
  for (let start = 0; start < text.length; ) {
    const typeEnd = text.indexOf("\r", start);
    const dataEnd = text.indexOf("\r", typeEnd + 1);
    const idEnd = text.indexOf("\r", dataEnd + 1);
    const apart = text.charCodeAt(start) === LF;
    events.push({
      type: text.slice(apart ? start + 1 : start, typeEnd),
      data: apart ? inPlace() : text.slice(typeEnd + 1, dataEnd),
      lastEventId: text.slice(dataEnd + 1, idEnd),
    });
    start = idEnd + 1;
  }
  return events;
}

/**
 * The WHATWG event-stream parser: bytes in, events out, whatever the chunk
 * boundaries. Chunks are written straight into the module's memory and the
 * events of a chunk come back as one packed byte run, so a chunk costs one
 * call across the boundary.
 */
export class EventStreamParser {
  #raw;
  #memory = new Uint8Array(0);
  #input = 0;
  #capacity = -1;

  constructor(options = {}) {
    this.#raw = new RawEventStreamParser(number(options, "maxEventBytes", true));
  }

  #view() {
    const buffer = wasmBuffer();
    if (this.#memory.buffer !== buffer) this.#memory = new Uint8Array(buffer);
    return this.#memory;
  }

  /** The events this chunk completes. */
  feed(bytes) {
    if (!(bytes instanceof Uint8Array)) throw new TypeError("feed() takes a Uint8Array");
    if (bytes.length > this.#capacity) {
      this.#input = this.#raw.input(bytes.length);
      this.#capacity = bytes.length;
    }
    this.#view().set(bytes, this.#input);
    let length;
    try {
      length = this.#raw.feed(bytes.length);
    } catch (error) {
      if (typeof error?.packedLength === "number") {
        const packed = error.packedLength;
        delete error.packedLength;
        error.events = packed === 0 ? [] : this.#output(packed);
      }
      throw error;
    }
    return length === 0 ? [] : this.#output(length);
  }

  #output(length) {
    const start = this.#raw.output();
    const memory = this.#view();
    const inPlace = () => {
      const [at, length] = new Uint32Array(memory.buffer, this.#raw.inPlace(), 2);
      // Not streaming: an incomplete character at its end is U+FFFD, as
      // at the end of any field.
      return decoder.decode(memory.subarray(at, at + length));
    };
    return unpack(memory.subarray(start, start + length), inPlace);
  }

  /** The end of the stream; an unfinished event is discarded, as the spec says. */
  finish() {
    this.#raw.finish();
    return [];
  }

  /** Back to a fresh state, also after an error. */
  reset() {
    this.#raw.reset();
  }

  get lastEventId() {
    return this.#raw.lastEventId;
  }

  get retry() {
    return this.#raw.retry;
  }

  /** Releases the wasm memory now rather than at garbage collection. */
  free() {
    this.#raw.free();
  }
}

/** The citation buffer: text in, segments out, citations held until whole. */
export class CitationBuffer {
  #raw;

  constructor(options = {}) {
    const Raw = markdown(options) ? RawMarkdownSegmenter : RawCitationBuffer;
    this.#raw = new Raw(...citationOptions(options));
  }

  /** The segments ready to render after this text arrived at `nowMs`. */
  push(text, nowMs) {
    return this.#raw.push(text, nowMs);
  }

  /** The segments released by the timeout at `nowMs`. */
  poll(nowMs) {
    return this.#raw.poll(nowMs);
  }

  /** Everything still held, as text (and, with `markdown`, the closes of every open element). */
  finish() {
    return this.#raw.finish();
  }

  /** When `poll()` would release the held candidate. */
  get deadline() {
    return this.#raw.deadline;
  }

  /** Releases the wasm memory now rather than at garbage collection. */
  free() {
    this.#raw.free();
  }
}

/** `resume: false` or `{ attempts }`: the shell's attempts, undefined for the default. */
function resumeAttempts(options, name) {
  const value = options.resume;
  if (!present(value)) return undefined;
  if (value === false) return 0;
  if (typeof value !== "object") throw new TypeError(`${name}: \`resume\` must be false or { attempts }`);
  const attempts = value.attempts;
  if (present(attempts) && !(Number.isInteger(attempts) && attempts >= 0 && attempts <= 30)) {
    throw new TypeError(`${name}: \`resume.attempts\` must be a whole number from 0 to 30`);
  }
  return attempts ?? undefined;
}

const PRESETS = ["openai-chat", "openai-responses", "anthropic", "ai-sdk"];

/**
 * The caller's own `Adapter` as the shell calls it: `(type, data, id)` to
 * an array of protocol events in `{ type, data }` form, or `{ threw, cause }`
 * when the caller's `event` threw. Defaults the caller need not write are
 * filled in: a `session` without ids, a `done` without `messageId`,
 * `processingMs` or `tokenCount` (the tokens seen), an `error` without
 * `retryable`.
 */
function customAdapter(adapter) {
  let messageId = "";
  let tokens = 0;
  return (type, data, id) => {
    let events;
    try {
      events = adapter.event({ type, data, lastEventId: id });
    } catch (cause) {
      return { threw: true, cause };
    }
    if (!Array.isArray(events)) return null;
    return events.map((event) => {
      const kind = event?.type;
      const payload = event?.data;
      if (kind === "token") {
        tokens += 1;
        return event;
      }
      if (payload === null || typeof payload !== "object") return event;
      if (kind === "session") {
        messageId = typeof payload.messageId === "string" ? payload.messageId : messageId;
        return { type: kind, data: { sessionId: "", messageId, ...payload } };
      }
      if (kind === "done") return { type: kind, data: { messageId, processingMs: 0, tokenCount: tokens, ...payload } };
      return event;
    });
  };
}

/** The `adapter` option as the shell takes it: undefined, a preset's name, or a wrapped function. */
function adapterOption(options, name) {
  const adapter = options.adapter;
  if (!present(adapter)) return undefined;
  if (typeof adapter === "string") {
    if (!PRESETS.includes(adapter)) {
      throw new TypeError(
        `${name}: \`adapter\` ${JSON.stringify(adapter)} is not one of ${PRESETS.map((p) => `"${p}"`).join(", ")}`,
      );
    }
    return adapter;
  }
  if (typeof adapter !== "object" || typeof adapter.event !== "function") {
    throw new TypeError(`${name}: \`adapter\` must be a preset's name or an object with an \`event(e)\` method`);
  }
  return customAdapter(adapter);
}

/**
 * Starts the shell's stream for `options` and the wrapped callbacks:
 * `streamChat`'s POST, or with `attach` (a message id) `resumeChat`'s
 * resume request.
 */
function start(name, options, callbacks, attach, adapter) {
  const { url, signal } = options;
  if (typeof url !== "string" && !(url !== null && typeof url === "object")) {
    throw new TypeError(`${name}: \`url\` is required`);
  }
  let body = "";
  if (attach === undefined) {
    try {
      body = JSON.stringify(options.body);
    } catch {}
    if (typeof body !== "string") throw new TypeError(`${name}: \`body\` cannot be serialised as JSON`);
  }
  if (present(signal) && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${name}: \`signal\` must be an AbortSignal`);
  }
  const follow = options.followRedirects;
  if (present(follow) && typeof follow !== "boolean") {
    throw new TypeError(`${name}: \`followRedirects\` must be a boolean`);
  }
  return startChat(
    String(url),
    body,
    options.headers,
    present(signal) ? signal : undefined,
    ...citationOptions(options.citations),
    markdown(options),
    number(options, "idleTimeoutMs"),
    number(options, "maxEventBytes", true),
    follow === true,
    // Another server's stream has no resume route.
    adapter === undefined ? resumeAttempts(options, name) : 0,
    attach,
    adapter,
    callbacks,
    options,
  );
}

// In the order of the shell's `Callback` enum: a callback is named to it by
// its position here.
const CALLBACKS = {
  onSession: (info) => ({ type: "session", ...info }),
  onStatus: (info) => ({ type: "status", ...info }),
  onSegment: (segment) => ({ type: "segment", segment }),
  onCitations: (citations, resolution) => ({ type: "citations", citations, resolution }),
  onDone: (info) => ({ type: "done", ...info }),
  onError: (error) => ({ type: "error", error }),
  onReconnect: (info) => ({ type: "reconnect", ...info }),
};
const SESSION = 0;
const DONE = 4;
const ERROR = 5;

/** How long the stop request may take before `saved` gives up on it. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Tells the server to stop the answer `messageId` (protocol 1.1, "Confirmed
 * stop"): what it saved, `{ messageId, text, stopped }`, or null when it
 * could not be reached or refused. `keepalive`, so that the request still
 * goes out when the page is being closed.
 */
async function confirmStop(url, headers, messageId) {
  try {
    const all = new Headers(headers ?? undefined);
    all.set("accept", "application/json");
    const response = await fetch(answerUrl(url, messageId, "stop"), {
      method: "POST",
      headers: all,
      keepalive: true,
      signal: AbortSignal.timeout(STOP_TIMEOUT_MS),
    });
    if (!response.ok) return null;
    const { message } = await response.json();
    if (typeof message?.text !== "string") return null;
    return { messageId: message.id, text: message.text, stopped: message.stopped === true };
  } catch {
    return null;
  }
}

/**
 * `streamChat` and `resumeChat`: the stream with its callbacks wrapped to
 * feed the async iterator, and the stop request sent on `stop()` or the
 * caller's signal while the answer is still being generated.
 */
function open(name, options, attach) {
  if (options === null || typeof options !== "object") throw new TypeError(`${name}: options must be an object`);
  // Events are queued from the call, so that one arriving before the
  // iteration starts is not lost; the queue goes with the returned object.
  const queue = [];
  let wake = null;
  let ended = false;
  const notify = () => {
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  // The answer being generated (known from its `session` event, or the one
  // attached to) until its `done` or `error`; and the stop request, once sent.
  let live = attach;
  let over = false;
  let saving = null;
  // Another server's stream has no stop route: a stop only aborts the fetch.
  const adapter = attach === undefined ? adapterOption(options, name) : undefined;
  const stopOnServer = () => {
    // Before its `session` event, the answer the response's header named.
    const answer = live ?? (over ? undefined : stream?.answerId);
    if (answer !== undefined && saving === null && adapter === undefined) {
      saving = confirmStop(options.url, options.headers, answer);
    }
  };
  let stream;
  // A callback's promise that rejects is a callback that threw: the stream
  // stops with a `callback` error instead of an unhandled rejection.
  const settled = (index, value) => {
    if (value !== null && typeof value === "object" && typeof value.then === "function") {
      Promise.resolve(value).catch((error) => stream.callbackRejected(index, error));
    }
    return value;
  };
  const wrapped = [];
  let index = -1;
  for (const [callback, toEvent] of Object.entries(CALLBACKS)) {
    const which = ++index;
    const user = options[callback] ?? undefined;
    if (user !== undefined && typeof user !== "function") {
      throw new TypeError(`${name}: \`${callback}\` must be a function`);
    }
    // Fixed arity: onSegment runs once per chunk, so no rest array.
    wrapped[which] =
      toEvent.length === 1
        ? function (a) {
            if (which === SESSION) live = a.messageId;
            else if (which === DONE || which === ERROR) {
              live = undefined;
              over = true;
            }
            queue.push(toEvent(a));
            notify();
            if (user) return settled(which, user.call(options, a));
          }
        : function (a, b) {
            queue.push(toEvent(a, b));
            notify();
            if (user) return settled(which, user.call(options, a, b));
          };
  }
  const { signal } = options;
  const onAbort = () => stopOnServer();
  if (signal instanceof AbortSignal && !signal.aborted) signal.addEventListener("abort", onAbort);
  stream = start(name, options, wrapped, attach, adapter);
  const stop = () => {
    stopOnServer();
    stream.stop();
  };
  const finished = stream.finished.then(async (result) => {
    if (signal instanceof AbortSignal) signal.removeEventListener("abort", onAbort);
    if (result.status === "stopped") result.saved = saving === null ? null : await saving;
    ended = true;
    notify();
    return result;
  });
  return {
    stop,
    finished,
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          for (;;) {
            if (queue.length > 0) return { value: queue.shift(), done: false };
            if (ended) return { value: undefined, done: true };
            await new Promise((resolve) => {
              wake = resolve;
            });
          }
        },
        return: async () => {
          // Leaving a for-await loop early stops the stream.
          stop();
          await finished;
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/**
 * Streams one answer. Returns `{ stop(), finished, [Symbol.asyncIterator] }`.
 * Throws a TypeError at once for a wrong option; everything else is reported
 * through `onError` and `finished`, which never rejects.
 */
export function streamChat(options) {
  return open("streamChat", options, undefined);
}

/**
 * Attaches to an answer still being generated (after a page reload, say):
 * replays it from its start and goes on live, with the same callbacks and
 * result as `streamChat`. `url` is the chat endpoint `streamChat` POSTs to.
 */
export function resumeChat(options) {
  const messageId = options?.messageId;
  if (typeof messageId !== "string" || messageId === "") {
    throw new TypeError("resumeChat: `messageId` must be a non-empty string");
  }
  return open("resumeChat", options, messageId);
}

/**
 * For text that arrives by other means (a WebSocket, a provider SDK's
 * async iterator): `push(text)` as it comes, `end()` once it is over; the
 * segments go to `onSegment`, in order, exactly as `streamChat` would
 * deliver them. The citation buffer's timer is owned here: a held
 * candidate that receives no more text is released when its timeout
 * passes, with no call from the caller.
 */
export function createSegmenter(options) {
  if (options === null || typeof options !== "object") throw new TypeError("createSegmenter: options must be an object");
  const { onSegment } = options;
  if (typeof onSegment !== "function") throw new TypeError("createSegmenter: `onSegment` must be a function");
  const buffer = new CitationBuffer({ ...options.citations, markdown: markdown(options) });
  let timer;
  let ended = false;
  const deliver = (segments) => {
    for (const segment of segments) onSegment.call(options, segment);
  };
  const arm = () => {
    clearTimeout(timer);
    timer = undefined;
    const deadline = buffer.deadline;
    if (deadline === undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (ended) return;
      const segments = buffer.poll(Date.now());
      // Armed again first: a callback that throws leaves the timer consistent.
      arm();
      deliver(segments);
    }, Math.max(0, deadline - Date.now()));
  };
  return {
    /** Text of the answer, in order. */
    push(text) {
      if (typeof text !== "string") throw new TypeError("createSegmenter: push() takes a string");
      if (ended) throw new TypeError("createSegmenter: push() after end()");
      const segments = buffer.push(text, Date.now());
      arm();
      deliver(segments);
    },
    /** The text is over: everything still held is released. Safe to call again. */
    end() {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      timer = undefined;
      const segments = buffer.finish();
      buffer.free();
      deliver(segments);
    },
  };
}

/** Whether `source` backs the inline entry `entry`; numeric entries count from 1. */
const backs = (entry, source, index) =>
  entry.number !== undefined ? entry.number === index + 1 : source.timestamp === entry.timestamp && source.speaker === entry.speaker;

/**
 * Matches the citation segments among `segments` (flat or Markdown) to the
 * sources `citations`, as `onCitations` does: for the n-th citation
 * segment, the sources its entries match (a timestamp entry by `timestamp`
 * and `speaker`, a numeric one `n` by position); and every entry that
 * matches none.
 */
export function resolveCitations(segments, citations) {
  if (!Array.isArray(segments) || !Array.isArray(citations)) {
    throw new TypeError("resolveCitations(segments, citations) takes two arrays");
  }
  const matches = [];
  const unbacked = [];
  for (const segment of segments) {
    if (segment?.kind !== "citation") continue;
    const segmentIndex = matches.length;
    const matched = [];
    for (const entry of segment.citations) {
      const index = citations.findIndex((source, i) => backs(entry, source, i));
      if (index >= 0) matched.push(citations[index]);
      else unbacked.push({ segmentIndex, ...entry });
    }
    matches.push(matched);
  }
  return { matches, unbacked };
}
