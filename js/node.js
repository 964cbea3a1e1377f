// Node entry: Node's fetch cannot read file: URLs, so the module is
// initialised synchronously from the bytes of the .wasm file.
import { readFileSync } from "node:fs";
import { initSync } from "./cite_stream.js";

initSync({ module: readFileSync(new URL("./cite_stream_bg.wasm", import.meta.url)) });

/** Already done on import; safe to call any number of times. */
export async function init() {}

export * from "./api.js";
