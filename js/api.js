// The public API over the wasm module. Environment-specific entry points
// (index.js for browsers and bundlers, node.js for Node) initialise the
// module and re-export everything from here.
import { ChatStream, EventStreamParser, CitationBuffer } from "./cite_stream.js";

export { EventStreamParser, CitationBuffer };

/**
 * The error type of every failure. Errors are created inside the wasm
 * module as plain `Error`s named "StreamError" (so they carry a stack in
 * every engine); `instanceof StreamError` recognises them.
 */
export class StreamError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "StreamError";
    this.code = code;
    Object.assign(this, details);
  }

  static [Symbol.hasInstance](value) {
    return value instanceof Error && value.name === "StreamError" && typeof value.code === "string";
  }
}

const CALLBACKS = {
  onSession: (info) => ({ type: "session", ...info }),
  onStatus: (info) => ({ type: "status", ...info }),
  onSegment: (segment) => ({ type: "segment", segment }),
  onCitations: (citations, resolution) => ({ type: "citations", citations, resolution }),
  onDone: (info) => ({ type: "done", ...info }),
  onError: (error) => ({ type: "error", error }),
};

/**
 * Streams one answer. Returns `{ stop(), finished, [Symbol.asyncIterator] }`.
 * Throws a TypeError at once for a wrong option; everything else is reported
 * through `onError` and `finished`, which never rejects.
 */
export function streamChat(options) {
  // Events are queued only once someone iterates, so a caller who only uses
  // callbacks keeps nothing in memory.
  let queue = null;
  let wake = null;
  let ended = false;
  const notify = () => {
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const wrapped = { ...options };
  for (const [name, toEvent] of Object.entries(CALLBACKS)) {
    const user = options?.[name];
    wrapped[name] = function (...args) {
      if (queue) {
        queue.push(toEvent(...args));
        notify();
      }
      if (typeof user === "function") return user.apply(options, args);
    };
  }
  const stream = new ChatStream(wrapped);
  const finished = stream.finished.then((result) => {
    ended = true;
    notify();
    return result;
  });
  return {
    stop() {
      stream.stop();
    },
    finished,
    [Symbol.asyncIterator]() {
      queue ??= [];
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
          stream.stop();
          await finished;
          return { value: undefined, done: true };
        },
      };
    },
  };
}
