// A finished stream lets go of everything: its answer, its result and the
// caller's callbacks are garbage once the caller drops them, even when a
// callback refers to its own stream (an app's usual `chat` variable), or a
// listener on the caller's signal does. The stream holds JS objects from
// wasm, where the garbage collector cannot see a cycle, so it must give
// them up itself when it settles.
//
// Run: bash .ci/with-server --token-delay-ms 5 --test-mode -- node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { streamChat } from "cite-stream";
import { rawServer, head, done, SSE_HEADERS, question, turn } from "./harness.mjs";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc");

/** Collects garbage until `registry` has seen `count` objects go, or gives
 * up after a bounded number of rounds (finalizers run between rounds: the
 * glue frees the wasm side in one, the result becomes garbage in the next). */
async function collected(state, count) {
  for (let round = 0; round < 50 && state.gone < count; round++) {
    gc();
    await turn();
  }
  return state.gone;
}

/** One stream whose callback and signal listener refer to it; its result
 * is registered, then dropped with everything else of this call. */
async function oneStream(url, registry) {
  const controller = new AbortController();
  let segments = 0;
  const chat = streamChat({
    url,
    body: { question },
    signal: controller.signal,
    onSegment() {
      segments += 1;
    },
    // The cycle an app makes: a callback that refers to its own stream.
    onDone() {
      chat.done = segments;
    },
  });
  controller.signal.addEventListener("abort", () => chat.stop());
  const result = await chat.finished;
  assert.equal(result.status, "done");
  assert.equal(chat.done, 3);
  registry.register(result);
}

test("finished streams are garbage, even when their callbacks and signal listeners refer to them", { timeout: 20000 }, async (ctx) => {
  const answer = head("A long ", "answer ", "[1:02, Zoë]", " with text") + done(4);
  const server = await rawServer((req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.end(answer);
  });
  ctx.after(() => server.close());

  const state = { gone: 0 };
  const registry = new FinalizationRegistry(() => {
    state.gone += 1;
  });
  const STREAMS = 20;
  for (let i = 0; i < STREAMS; i++) await oneStream(server.url, registry);
  assert.equal(await collected(state, STREAMS), STREAMS, "every result was collected");
});
