// Browser and bundler entry: the module initialises itself from the .wasm
// file next to it (bundlers resolve and copy it through `import.meta.url`).
import { initWasm, streamErrorClass } from "./lib.js";

const wasmUrl = () => new URL("./cite_stream_bg.wasm", import.meta.url);

await initWasm({ module_or_path: wasmUrl() });

/** Already done on import; safe to call any number of times. */
export function init() {
  return initWasm({ module_or_path: wasmUrl() }).then(() => undefined);
}

/** The error type of every failure: a subclass of `Error`, defined in the module's shell. */
export const StreamError = streamErrorClass();

export { streamChat, EventStreamParser, CitationBuffer } from "./lib.js";
