// Browser and bundler entry: the module initialises itself from the .wasm
// file next to it (bundlers resolve and copy it through `import.meta.url`).
//
// The library module is imported dynamically, so that the .wasm download
// starts at once, beside it, rather than after it has loaded: one round
// trip less before the package is ready.
const wasmUrl = () => new URL("./cite_stream_bg.wasm", import.meta.url);
const wasm = fetch(wasmUrl());
const lib = await import("./lib.js");
await lib.initWasm({ module_or_path: wasm });

/** Already done on import; safe to call any number of times. */
export function init() {
  return lib.initWasm({ module_or_path: wasmUrl() }).then(() => undefined);
}

/** The error type of every failure: a subclass of `Error`, defined in the module's shell. */
export const StreamError = lib.streamErrorClass();

export const { streamChat, resumeChat, EventStreamParser, CitationBuffer, createSegmenter, resolveCitations } = lib;
