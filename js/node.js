// Node entry: Node's fetch cannot read file: URLs, so the module is
// initialised synchronously from the bytes of the .wasm file.
import { readFileSync } from "node:fs";
import { initSync, streamErrorClass } from "./lib.js";

initSync({ module: readFileSync(new URL("./cite_stream_bg.wasm", import.meta.url)) });

/** Already done on import; safe to call any number of times. */
export async function init() {}

/** The error type of every failure: a subclass of `Error`, defined in the module's shell. */
export const StreamError = streamErrorClass();

export { streamChat, resumeChat, EventStreamParser, CitationBuffer, createSegmenter, resolveCitations } from "./lib.js";
