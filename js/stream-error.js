// The error type of every failure, and the one place its instances are made
// (src/wasm/error.rs and transport.js call `streamError` and `httpError`),
// so there is one class and `instanceof StreamError` is the plain
// prototype check. The message of each code is written here, from the same
// details the error carries.

/** A failure of a stream, with a stable `code` and the details of that code. */
export class StreamError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = "StreamError";
    this.code = code;
    if (details) Object.assign(this, details);
  }
}

/** The class itself, for the package's entry points to export. */
export function streamErrorClass() {
  return StreamError;
}

const PROTOCOL = {
  "line-too-long": (limit) => `an event-stream line is longer than ${limit} bytes`,
  "event-too-large": (limit) => `an event is larger than ${limit} bytes`,
  "malformed-payload": (_, event) => `the data of a \`${event}\` event is not valid JSON of the protocol's shape`,
  "no-session": () => "the event stream is not this protocol: expected a `session` event first",
  // An adapter's errors: `format` is the adapter's name, `index` the
  // offending event's number in the stream (from 1).
  "adapter-foreign": (format, event, index) =>
    `expected ${FORMATS[format]} stream: event ${index} (\`${event}\`) is not one`,
  "adapter-not-json": (format, event, index) =>
    `${FORMATS[format]} stream: event ${index} (\`${event}\`) is not JSON`,
  "adapter-shape": (format, event, index) =>
    `${FORMATS[format]} stream: event ${index} (\`${event}\`) does not have the format's shape`,
  "adapter-no-end": (format, _, index) =>
    `${FORMATS[format]} stream ended after ${index} events without its end event (${ENDS[format]})`,
  "adapter-refused": (format, event, index) =>
    `${FORMATS[format]} stream: the adapter gave no valid events for event ${index} (\`${event}\`)`,
};

const FORMATS = {
  "openai-chat": "an OpenAI Chat Completions",
  "openai-responses": "an OpenAI Responses",
  anthropic: "an Anthropic Messages",
  "ai-sdk": "an AI SDK UI message",
  custom: "the custom adapter's",
};
const ENDS = {
  "openai-chat": "`data: [DONE]`",
  "openai-responses": "`response.completed`",
  anthropic: "`message_stop`",
  "ai-sdk": "`finish`",
  custom: "`done` or `error`",
};

// For each code, from the arguments of `streamError`: the message and the
// details. An absent detail (undefined) is left out.
const KINDS = {
  "content-type": (found) => [
    `expected a text/event-stream response, got ${found || "no Content-Type"}`,
    { contentType: found },
  ],
  // `cause` is what failed, or a description of it; `attempts`, when the
  // connection dropped, the resume requests that were made, the last one
  // failing with `cause` (a network failure, or the StreamError of a refused
  // resume request).
  network: (cause, attempts) => {
    if (typeof cause === "string") cause = new Error(cause);
    if (attempts !== undefined && cause instanceof StreamError && cause.code === "network") cause = cause.cause;
    let message = cause instanceof Error ? `network error: ${cause.message}` : "network error";
    if (attempts !== undefined) {
      const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
      message = `network error: the connection dropped and was not resumed after ${tries}: ${cause?.message}`;
    }
    return [message, { cause, attempts }];
  },
  protocol: (detail, event, extra, index) =>
    index === undefined
      ? [PROTOCOL[detail](extra, event), { detail, event }]
      : [PROTOCOL[detail](extra, event, index), { detail, event, format: extra, index }],
  server: (serverCode, message, retryable) => [message, { serverCode, retryable }],
  "idle-timeout": (idleTimeoutMs) => [
    `no data arrived for ${Math.floor(idleTimeoutMs)} ms; the request was aborted`,
    { idleTimeoutMs },
  ],
  callback: (callback, cause) => [`the ${callback} callback threw`, { callback, cause }],
  aborted: (reason) => ["the caller's signal aborted the stream", { reason }],
};

/** A StreamError of `code` (any but `http`), from that code's details. */
export function streamError(code, a, b, c, d) {
  const [message, details] = KINDS[code](a, b, c, d);
  for (const key in details) if (details[key] === undefined) delete details[key];
  return new StreamError(code, message, details);
}

/**
 * The `http` error of a response that is not 2xx, with the server's JSON
 * error body when `text` is one and a redirect's `location` when visible.
 */
export function httpError(response, text) {
  const { status } = response;
  let body;
  if (text !== null) {
    try {
      body = JSON.parse(text);
    } catch {}
  }
  const detail = body?.error?.message;
  const location = response.headers.get("location") ?? undefined;
  const message =
    typeof detail === "string"
      ? `HTTP ${status}: ${detail}`
      : location !== undefined
        ? `HTTP ${status}: a redirect to ${location}, not followed`
        : `HTTP ${status} ${response.statusText}`;
  const details = { status };
  if (body !== undefined) details.body = body;
  if (location !== undefined) details.location = location;
  return new StreamError("http", message, details);
}
