// The error type of every failure (src/wasm/error.rs imports it). The wasm
// shell creates every instance through `streamError`, so there is one
// class, and `instanceof StreamError` is the plain prototype check.

/** A failure of a stream, with a stable `code` and the details of that code. */
export class StreamError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = "StreamError";
    this.code = code;
    if (details) Object.assign(this, details);
  }
}

/** A new StreamError; its other properties are set by the caller. */
export function streamError(code, message) {
  return new StreamError(code, message);
}

/** The class itself, for the package's entry points to export. */
export function streamErrorClass() {
  return StreamError;
}
