// What the package's one library module (pkg/lib.js, bundled by .ci/build)
// exports: the public API, and for the entry points the module's
// initialisers and its error class (and its memory, for bench/parser.mjs).
export { streamChat, resumeChat, EventStreamParser, CitationBuffer, createSegmenter, resolveCitations } from "./api.js";
export { default as initWasm, initSync, streamErrorClass, wasmMemory } from "./cite_stream.js";
