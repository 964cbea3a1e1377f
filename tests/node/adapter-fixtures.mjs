// The provider stream fixtures of tests/data/adapters/ and what the
// adapter tests (in Node, and in the browsers under tests/dom/) compare them
// with: the answer they carry, its fragments, this protocol's stream of the
// same fragments, seeded random cuts, and segments as a renderer sees them.
import { readFileSync } from "node:fs";
import { sse } from "./harness.mjs";
import { mulberry32 as random } from "../random.mjs";

const fixture = (name) => readFileSync(new URL(`../data/adapters/${name}`, import.meta.url), "utf8");
export const ANSWER = fixture("answer.txt");
export const FIXTURES = {
  "openai-chat": fixture("openai-chat.sse"),
  "openai-responses": fixture("openai-responses.sse"),
  anthropic: fixture("anthropic.sse"),
  "ai-sdk": fixture("ai-sdk.sse"),
};
export const NAMES = {
  "openai-chat": "an OpenAI Chat Completions",
  "openai-responses": "an OpenAI Responses",
  anthropic: "an Anthropic Messages",
  "ai-sdk": "an AI SDK UI message",
};
export const MESSAGE_IDS = {
  "openai-chat": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
  "openai-responses": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
  anthropic: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
  "ai-sdk": "msg_ai_1",
};
/** The fragments every fixture carries, in order. */
export const DELTAS = [
  "## Bud", "get\n\nAcme said **no", " budget** [", "12", ":45, Sarah",
  " Johnson] until Q3.\n\n- Beta: caf", "é [1:02:03, Mark O'Neil]",
  "\n- Gamma: `x[0]` and [docs](https://example.com)\n",
];

/** `bytes` cut at up to 30 seeded random places (inside characters too). */
export function cuts(bytes, seed) {
  const next = random(seed);
  const at = Array.from({ length: Math.floor(next() * 30) }, () => Math.floor(next() * (bytes.length + 1))).sort((a, b) => a - b);
  const chunks = [];
  let start = 0;
  for (const cut of [...at, bytes.length]) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}

/** Adjacent text segments merged: what a renderer shows, whatever the chunks. */
export function shape(segments) {
  const out = [];
  for (const s of segments) {
    const last = out.at(-1);
    if (s.kind === "text" && last?.kind === "text") {
      last.text += s.text;
      if (s.raw !== undefined) last.raw += s.raw;
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

/** This protocol's stream of the same fragments. */
export const native = () =>
  sse("session", JSON.stringify({ sessionId: "", messageId: "m" })) +
  DELTAS.map((d) => sse("token", d)).join("") +
  sse("done", JSON.stringify({ messageId: "m", processingMs: 0, tokenCount: DELTAS.length }));

