// `streamChat({ adapter })` over real sockets: the fixtures of
// tests/data/adapters/ (written from each provider's published stream
// reference) served at seeded random splits, read by each preset, against
// two oracles: the official SDKs' own stream readers (`openai`,
// `@anthropic-ai/sdk`) read the same fixtures to the same text, and the
// `ai` package itself produces the AI SDK fixture's bytes; and the same
// fragments sent in this protocol give the same segments. Then the
// failures: another format, bad JSON, a bad shape, a missing end event,
// a provider's error, a custom adapter that throws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { streamText, simulateReadableStream } from "ai";
import { MockLanguageModelV3 } from "ai/test";
import { streamChat, StreamError, EventStreamParser, CitationBuffer } from "cite-stream";
import { rawServer, sse, SSE_HEADERS, turn, assertStreamError } from "./harness.mjs";
import { ANSWER, DELTAS, FIXTURES, MESSAGE_IDS, NAMES, cuts, native, shape } from "./adapter-fixtures.mjs";

/** A server that sends `text` (per request: a function of the request number) in these chunks, then ends. */
async function serve(text, seed = 0, headers = SSE_HEADERS) {
  return rawServer(async (req, res, n) => {
    const body = typeof text === "function" ? text(n, req) : text;
    res.writeHead(200, headers);
    for (const chunk of cuts(Buffer.from(body), seed + n)) {
      if (chunk.length > 0) res.write(chunk);
      await turn();
    }
    res.end();
  });
}

async function collect(options) {
  const segments = [];
  const errors = [];
  const sessions = [];
  const dones = [];
  const chat = streamChat({
    body: { q: 1 },
    ...options,
    onSegment: (s) => segments.push(s),
    onError: (e) => errors.push(e),
    onSession: (s) => sessions.push(s),
    onDone: (d) => dones.push(d),
  });
  const result = await chat.finished;
  return { result, segments, errors, sessions, dones, chat };
}

test("the SDKs' own stream readers read the fixtures to the answer (the fixtures are the providers' format)", async () => {
  const server = await rawServer(async (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    const name = req.url.endsWith("/chat/completions") ? "openai-chat" : req.url.endsWith("/responses") ? "openai-responses" : "anthropic";
    res.end(FIXTURES[name]);
  });
  try {
    const openai = new OpenAI({ apiKey: "sk-test", baseURL: `${server.base}/v1`, maxRetries: 0 });
    let chat = "";
    for await (const chunk of await openai.chat.completions.create({ model: "gpt-4.1", messages: [{ role: "user", content: "q" }], stream: true })) {
      chat += chunk.choices[0]?.delta?.content ?? "";
    }
    assert.equal(chat, ANSWER);
    let responses = "";
    let completed = 0;
    for await (const event of await openai.responses.create({ model: "gpt-4.1", input: "q", stream: true })) {
      if (event.type === "response.output_text.delta") responses += event.delta;
      if (event.type === "response.completed") completed += 1;
    }
    assert.equal(responses, ANSWER);
    assert.equal(completed, 1);
    const anthropic = new Anthropic({ apiKey: "sk-ant-test", baseURL: server.base, maxRetries: 0 });
    let messages = "";
    const stream = anthropic.messages.stream({ model: "claude-opus-4-6", max_tokens: 100, messages: [{ role: "user", content: "q" }] });
    stream.on("text", (text) => {
      messages += text;
    });
    const final = await stream.finalMessage();
    assert.equal(messages, ANSWER);
    assert.equal(final.id, MESSAGE_IDS.anthropic);
    assert.equal(final.content[0].text, ANSWER);
  } finally {
    await server.close();
  }
});

/** A real UI message stream from the `ai` package: streamText over a mock model, as a Response. */
function aiResponse(parts = DELTAS) {
  const model = new MockLanguageModelV3({
    doStream: async () => ({
      stream: simulateReadableStream({
        initialDelayInMs: null,
        chunkDelayInMs: null,
        chunks: [
          { type: "stream-start", warnings: [] },
          { type: "text-start", id: "text-1" },
          ...parts.map((delta) => ({ type: "text-delta", id: "text-1", delta })),
          { type: "text-end", id: "text-1" },
          {
            type: "finish",
            finishReason: { unified: "stop", raw: "stop" },
            usage: { inputTokens: { total: 3, noCache: 3 }, outputTokens: { total: 10, text: 10 } },
          },
        ],
      }),
    }),
  });
  const result = streamText({ model, prompt: "q" });
  return { result, response: result.toUIMessageStreamResponse({ generateMessageId: () => MESSAGE_IDS["ai-sdk"] }) };
}

test("the ai package produces the AI SDK fixture's bytes, and its own text is the answer", async () => {
  const { result, response } = aiResponse();
  assert.equal(response.headers.get("x-vercel-ai-ui-message-stream"), "v1");
  assert.equal(await response.text(), FIXTURES["ai-sdk"]);
  assert.equal(await result.text, ANSWER);
});

test("a real ai package response, its bytes piped to a socket as they come, read with adapter: \"ai-sdk\"", async () => {
  const server = await rawServer(async (req, res) => {
    const { response } = aiResponse();
    res.writeHead(200, Object.fromEntries(response.headers));
    for await (const chunk of response.body) {
      res.write(chunk);
      await turn();
    }
    res.end();
  });
  try {
    const { result, errors, dones } = await collect({ url: server.url, adapter: "ai-sdk", markdown: true });
    assert.deepEqual(errors, []);
    assert.equal(result.status, "done");
    assert.equal(result.text, ANSWER);
    assert.equal(result.messageId, MESSAGE_IDS["ai-sdk"]);
    assert.equal(dones[0].tokenCount, DELTAS.length);
  } finally {
    await server.close();
  }
});

for (const markdown of [false, true]) {
  test(`each preset at seeded random splits: the answer, its citations and the same ${markdown ? "Markdown" : "flat"} segments as this protocol's stream`, async () => {
    const reference = await serve(native());
    const want = await collect({ url: reference.url, markdown });
    await reference.close();
    assert.equal(want.result.status, "done");
    const cited = shape(want.segments).filter((s) => s.kind === "citation");
    assert.deepEqual(cited.map((s) => s.text), ["[12:45, Sarah Johnson]", "[1:02:03, Mark O'Neil]"]);
    for (const [adapter, stream] of Object.entries(FIXTURES)) {
      for (let seed = 1; seed <= 12; seed++) {
        const server = await serve(stream, seed * 101);
        try {
          const got = await collect({ url: server.url, markdown, adapter });
          const where = `${adapter} seed ${seed}`;
          assert.deepEqual(got.errors, [], where);
          assert.equal(got.result.status, "done", where);
          assert.equal(got.result.text, ANSWER, where);
          assert.equal(got.result.messageId, MESSAGE_IDS[adapter], where);
          assert.deepEqual(got.sessions, [{ sessionId: "", messageId: MESSAGE_IDS[adapter] }], where);
          assert.equal(got.dones[0].tokenCount, DELTAS.length, where);
          assert.deepEqual(shape(got.segments), shape(want.segments), where);
          assert.deepEqual(shape(got.result.segments), shape(want.result.segments), where);
          // No stop or resume request: those servers have no such routes.
          assert.deepEqual(server.answerRequests(), [], where);
        } finally {
          await server.close();
        }
      }
    }
  });
}

test("a stream of another format is a protocol error naming the format expected", async () => {
  const others = { ...FIXTURES, "cite-stream": native() };
  for (const adapter of Object.keys(FIXTURES)) {
    for (const [name, stream] of Object.entries(others)) {
      if (name === adapter) continue;
      const server = await serve(stream, 7);
      try {
        const { result, errors } = await collect({ url: server.url, adapter });
        assert.equal(result.status, "error");
        assertStreamError(result.error, "protocol", StreamError);
        assert.equal(result.error.detail, "adapter-foreign");
        assert.equal(result.error.format, adapter);
        assert.equal(result.error.index, 1);
        assert.ok(result.error.message.startsWith(`expected ${NAMES[adapter]} stream`), result.error.message);
        assert.deepEqual(errors, [result.error]);
        assert.equal(result.text, "");
      } finally {
        await server.close();
      }
    }
  }
});

/** The first `n` events of a fixture. */
const head = (stream, n) => stream.split(/(?<=\n\n)/).slice(0, n).join("");

test("bad JSON, a bad shape and a missing end event: protocol errors naming format and event, the text so far kept", async () => {
  const cases = [
    ["openai-chat", head(FIXTURES["openai-chat"], 3) + 'data: {"choices":[{"delta\n\n', "adapter-not-json", "message", 4, "## Budget\n\nAcme said **no"],
    ["openai-chat", head(FIXTURES["openai-chat"], 2) + 'data: {"choices":{}}\n\n', "adapter-shape", "message", 3, "## Bud"],
    ["openai-responses", head(FIXTURES["openai-responses"], 5) + 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":7}\n\n', "adapter-shape", "response.output_text.delta", 6, "## Bud"],
    ["anthropic", head(FIXTURES.anthropic, 4) + "event: content_block_delta\ndata: {oops\n\n", "adapter-not-json", "content_block_delta", 5, "## Bud"],
    ["anthropic", head(FIXTURES.anthropic, 4) + 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta"}}\n\n', "adapter-shape", "content_block_delta", 5, "## Bud"],
    ["ai-sdk", head(FIXTURES["ai-sdk"], 4) + 'data: {"type":"text-delta","id":"text-1"}\n\n', "adapter-shape", "text-delta", 5, "## Bud"],
  ];
  for (const [adapter, stream, events] of Object.entries(FIXTURES).map(([a, s]) => [a, s, s.split(/(?<=\n\n)/).length])) {
    const cut = adapter === "ai-sdk" ? events - 2 : events - 1;
    cases.push([adapter, head(stream, cut), "adapter-no-end", undefined, cut, ANSWER]);
  }
  for (const [adapter, stream, detail, event, index, text] of cases) {
    for (const markdown of [false, true]) {
      const server = await serve(stream, index);
      try {
        const { result, errors, segments } = await collect({ url: server.url, adapter, markdown });
        const where = `${adapter} ${detail} markdown ${markdown}`;
        assert.equal(result.status, "error", where);
        assertStreamError(result.error, "protocol", StreamError);
        assert.equal(result.error.detail, detail, where);
        assert.equal(result.error.format, adapter, where);
        assert.equal(result.error.event, detail === "adapter-no-end" ? "" : event, where);
        assert.equal(result.error.index, index, where);
        assert.ok(result.error.message.includes(NAMES[adapter]), result.error.message);
        assert.deepEqual(errors, [result.error], where);
        // Nothing lost: the text so far, in `finished` and in the segments delivered.
        assert.equal(result.text, text, where);
        assert.equal(segments.map((s) => s.raw ?? s.text).join(""), text, where);
      } finally {
        await server.close();
      }
    }
  }
});

test("a provider's error event is a server error with the provider's code, the text so far kept", async () => {
  const cases = [
    ["openai-chat", 'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n', "server_error", "The server had an error", true],
    ["openai-responses", 'event: response.failed\ndata: {"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"boom"}}}\n\n', "server_error", "boom", true],
    ["openai-responses", 'event: error\ndata: {"type":"error","code":"ERR_SOMETHING","message":"Something went wrong","param":null}\n\n', "ERR_SOMETHING", "Something went wrong", false],
    ["anthropic", 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n', "overloaded_error", "Overloaded", true],
    ["ai-sdk", 'data: {"type":"error","errorText":"rate limited"}\n\n', "error", "rate limited", false],
  ];
  for (const [adapter, failure, serverCode, message, retryable] of cases) {
    const server = await serve(head(FIXTURES[adapter], 5) + failure, 3);
    try {
      const { result, errors } = await collect({ url: server.url, adapter });
      assert.equal(result.status, "error");
      assertStreamError(result.error, "server", StreamError);
      assert.equal(result.error.serverCode, serverCode);
      assert.equal(result.error.message, message);
      assert.equal(result.error.retryable, retryable);
      assert.deepEqual(errors, [result.error]);
      assert.ok(ANSWER.startsWith(result.text) && result.text.length > 0, result.text);
    } finally {
      await server.close();
    }
  }
});

/** A made-up format: `event: piece` with `{"t": text}`, then `event: over`. */
const pieces = (texts, end = true) =>
  texts.map((t) => sse("piece", JSON.stringify({ t }))).join("") + (end ? sse("over", "{}") : "");

const customAdapter = (seen = []) => ({
  event(e) {
    seen.push(e);
    if (e.type === "piece") return [{ type: "token", data: JSON.parse(e.data).t }];
    if (e.type === "over") return [{ type: "done", data: {} }];
    return [];
  },
});

test("a custom Adapter object: its events, with session and done defaults filled in", async () => {
  const server = await serve(pieces(DELTAS), 5);
  try {
    const seen = [];
    const { result, errors, dones, sessions } = await collect({ url: server.url, adapter: customAdapter(seen), markdown: true });
    assert.deepEqual(errors, []);
    assert.equal(result.status, "done");
    assert.equal(result.text, ANSWER);
    assert.deepEqual(sessions, []);
    assert.deepEqual(dones, [{ messageId: "", processingMs: 0, tokenCount: DELTAS.length }]);
    assert.deepEqual(seen[0], { type: "piece", data: JSON.stringify({ t: DELTAS[0] }), lastEventId: "" });
  } finally {
    await server.close();
  }
});

test("a custom adapter that throws stops the stream with a callback error, nothing lost; one that returns junk is a protocol error", async () => {
  const boom = new Error("adapter bug");
  const throwing = {
    event(e) {
      if (JSON.parse(e.data).t === DELTAS[3]) throw boom;
      return customAdapter().event(e);
    },
  };
  const server = await serve(pieces(DELTAS), 9);
  try {
    const { result, errors } = await collect({ url: server.url, adapter: throwing });
    assert.equal(result.status, "error");
    assertStreamError(result.error, "callback", StreamError);
    assert.equal(result.error.callback, "adapter.event");
    assert.equal(result.error.cause, boom);
    assert.deepEqual(errors, [result.error]);
    assert.equal(result.text, DELTAS.slice(0, 3).join(""));
    const junk = await collect({ url: server.url, adapter: { event: () => [{ type: "token", data: 5 }] } });
    assertStreamError(junk.result.error, "protocol", StreamError);
    assert.equal(junk.result.error.detail, "adapter-refused");
    assert.equal(junk.result.error.format, "custom");
    const unended = await collect({ url: server.url, adapter: { event: (e) => (e.type === "over" ? [] : customAdapter().event(e)) } });
    assert.equal(unended.result.error.detail, "adapter-no-end");
    assert.equal(unended.result.text, ANSWER);
  } finally {
    await server.close();
  }
});

test("adapter option checks: an unknown preset or a non-adapter is a TypeError naming it, before any request", async () => {
  const server = await serve(FIXTURES.anthropic);
  try {
    assert.throws(() => streamChat({ url: server.url, body: {}, adapter: "openai" }), (e) => e instanceof TypeError && e.message.includes('"openai"') && e.message.includes('"openai-chat"'));
    assert.throws(() => streamChat({ url: server.url, body: {}, adapter: { events() {} } }), TypeError);
    assert.throws(() => streamChat({ url: server.url, body: {}, adapter: 42 }), TypeError);
    assert.equal(server.chatRequests(), 0);
  } finally {
    await server.close();
  }
});

test("stop() on an adapted stream aborts it with the text so far, and sends no stop request", async () => {
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const server = await rawServer(async (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(head(FIXTURES.anthropic, 5));
    await gate;
    res.end();
  });
  try {
    let chat;
    const text = [];
    chat = streamChat({
      url: server.url,
      body: {},
      adapter: "anthropic",
      onSegment(s) {
        text.push(s.text);
        chat.stop();
      },
    });
    const result = await chat.finished;
    release();
    assert.equal(result.status, "stopped");
    assert.equal(result.text, DELTAS[0] + DELTAS[1]);
    assert.ok(text.length >= 1);
    assert.equal(result.saved, null);
    assert.deepEqual(server.answerRequests(), []);
  } finally {
    await server.close();
  }
});

// The glue an app wrote before adapters, per provider, with the low-level
// EventStreamParser and CitationBuffer: fetch, read, parse, map the
// provider's events, own the citation timer, keep the text, report errors.
// Each is counted (lines between its BEGIN and END markers) for the README
// and checked to read its fixture to the same segments as the adapter.
// BEGIN glue-shared
async function glue(url, body, onSegment, mapEvent) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const parser = new EventStreamParser();
  const buffer = new CitationBuffer({ timeoutMs: 1000 });
  const state = { text: "", done: false, error: null, messageId: "" };
  let timer;
  const emit = (segments) => segments.forEach(onSegment);
  const arm = () => {
    clearTimeout(timer);
    if (buffer.deadline === undefined) return;
    timer = setTimeout(() => { emit(buffer.poll(Date.now())); arm(); }, buffer.deadline - Date.now());
  };
  try {
    for await (const chunk of response.body) {
      for (const event of parser.feed(chunk)) {
        if (state.done) break;
        let json;
        try { json = JSON.parse(event.data); } catch { if (event.data !== "[DONE]") throw new Error(`bad JSON: ${event.data}`); }
        for (const text of mapEvent(event, json, state)) {
          state.text += text;
          emit(buffer.push(text, Date.now()));
          arm();
        }
      }
      if (state.done) break;
    }
    if (!state.done) throw new Error("stream ended before its end event");
  } finally {
    clearTimeout(timer);
    emit(buffer.finish());
    buffer.free();
    parser.free();
  }
  if (state.error) throw state.error;
  return state;
}
// END glue-shared
// BEGIN glue-openai-chat
const openaiChat = (event, json, state) => {
  if (event.data === "[DONE]") return (state.done = true), [];
  if (json.error) return (state.error = Object.assign(new Error(json.error.message), { code: json.error.code ?? json.error.type })), (state.done = true), [];
  state.messageId ||= json.id;
  return (json.choices ?? []).filter((c) => c.index === 0 && typeof c.delta?.content === "string").map((c) => c.delta.content);
};
// END glue-openai-chat
// BEGIN glue-openai-responses
const openaiResponses = (event, json, state) => {
  switch (json.type) {
    case "response.created": state.messageId = json.response.id; return [];
    case "response.output_text.delta": return [json.delta];
    case "response.completed": case "response.incomplete": state.done = true; return [];
    case "response.failed": state.error = Object.assign(new Error(json.response.error.message), { code: json.response.error.code }); state.done = true; return [];
    case "error": state.error = Object.assign(new Error(json.message), { code: json.code }); state.done = true; return [];
    default: return [];
  }
};
// END glue-openai-responses
// BEGIN glue-anthropic
const anthropic = (event, json, state) => {
  switch (json.type) {
    case "message_start": state.messageId = json.message.id; return [];
    case "content_block_delta": return json.delta.type === "text_delta" ? [json.delta.text] : [];
    case "message_stop": state.done = true; return [];
    case "error": state.error = Object.assign(new Error(json.error.message), { code: json.error.type }); state.done = true; return [];
    default: return [];
  }
};
// END glue-anthropic
// BEGIN glue-ai-sdk
const aiSdk = (event, json, state) => {
  if (event.data === "[DONE]") return (state.done = true), [];
  switch (json.type) {
    case "start": state.messageId = json.messageId ?? ""; return [];
    case "text-delta": return [json.delta];
    case "finish": state.done = true; return [];
    case "error": state.error = new Error(json.errorText); state.done = true; return [];
    default: return [];
  }
};
// END glue-ai-sdk

test("the low-level glue an app needed before adapters reads each fixture to the adapter's segments; its lines, counted", async () => {
  const source = readFileSync(new URL(import.meta.url), "utf8");
  const lines = (name) => {
    const block = source.split(`// BEGIN glue-${name}\n`)[1].split(`// END glue-${name}`)[0];
    return block.split("\n").filter((l) => l.trim() !== "").length;
  };
  const shared = lines("shared");
  const counts = {};
  for (const [adapter, map] of Object.entries({ "openai-chat": openaiChat, "openai-responses": openaiResponses, anthropic, "ai-sdk": aiSdk })) {
    const server = await serve(FIXTURES[adapter], 11);
    try {
      const before = [];
      const state = await glue(server.url, {}, (s) => before.push(s), map);
      assert.equal(state.text, ANSWER, adapter);
      assert.equal(state.messageId, MESSAGE_IDS[adapter], adapter);
      const after = await collect({ url: server.url, adapter });
      assert.deepEqual(shape(before), shape(after.segments), adapter);
      counts[adapter] = shared + lines(adapter);
    } finally {
      await server.close();
    }
  }
  console.log(`glue lines per provider, before adapters: ${JSON.stringify(counts)}; after: 1 (the adapter option)`);
  for (const count of Object.values(counts)) assert.ok(count > 30, `${count} lines`);
});
