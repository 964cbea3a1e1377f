// The public API over the wasm module. Environment-specific entry points
// (index.js for browsers and bundlers, node.js for Node) initialise the
// module and re-export everything from here.
import { ChatStream, RawEventStreamParser, CitationBuffer, wasmMemory } from "./cite_stream.js";

export { CitationBuffer };

// The module's Memory object never changes; its buffer is replaced when it
// grows. Read lazily: this module is evaluated before the wasm is ready.
let memoryObject;
const wasmBuffer = () => (memoryObject ??= wasmMemory()).buffer;

const decoder = new TextDecoder();
// Every packed run ends with CR, so no character is ever left pending; the
// streaming mode is used because engines decode faster in it.
const STREAM = { stream: true };

/** Decodes and splits packed events: type, data, id, each ended by CR. */
function unpack(bytes) {
  const fields = decoder.decode(bytes, STREAM).split("\r");
  const count = (fields.length - 1) / 3;
  const events = new Array(count);
  for (let i = 0, f = 0; i < count; i++, f += 3) {
    events[i] = { type: fields[f], data: fields[f + 1], lastEventId: fields[f + 2] };
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
    this.#raw = new RawEventStreamParser(options);
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
    return unpack(this.#view().subarray(start, start + length));
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

// In the order of the shell's `Callback` enum: a callback is named to it by
// its position here.
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
  let stream;
  // A callback's promise that rejects is a callback that threw: the stream
  // stops with a `callback` error instead of an unhandled rejection.
  const settled = (index, value) => {
    if (value !== null && typeof value === "object" && typeof value.then === "function") {
      Promise.resolve(value).catch((error) => stream.callbackRejected(index, error));
    }
    return value;
  };
  const wrapped = { ...options };
  let index = -1;
  for (const [name, toEvent] of Object.entries(CALLBACKS)) {
    const which = ++index;
    const user = options?.[name] ?? undefined;
    if (user !== undefined && typeof user !== "function") {
      throw new TypeError(`streamChat: \`${name}\` must be a function`);
    }
    // Fixed arity: onSegment runs once per chunk, so no rest array.
    wrapped[name] =
      toEvent.length === 1
        ? function (a) {
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
  stream = new ChatStream(wrapped);
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
