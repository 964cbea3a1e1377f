// The loop that reads a response body (src/wasm/chat/request.rs imports
// it): one Rust call per chunk, no future or closure per chunk.

/**
 * Reads `reader` to its end, calling `onChunk` with each chunk until it
 * returns false; resolves to whether the body ended, rejects with the read
 * error.
 */
export async function pump(reader, onChunk) {
  for (;;) {
    const { done, value } = await reader.read();
    if (done || !onChunk(value)) return done;
  }
}
