// `npx tsc -p tests/types`: the README's usage samples, and every export of
// the package, type-check against the published declarations (pkg/index.d.ts,
// found as "cite-stream" through node_modules/cite-stream -> pkg/ after
// `bash .ci/build`). Nothing here runs; `tsc` only checks it.
//
// Part 1 copies the README's samples verbatim; only the declarations of the
// names they take from the surrounding page are added, and every departure
// from the README's text is marked with a comment saying why.
// Part 2 pins the type of every export and callback precisely.
// Part 3 proves wrong usage is rejected (`@ts-expect-error` fails the build
// when the line below it compiles).

import {
  CitationBuffer,
  EventStreamParser,
  StreamError,
  init,
  resumeChat,
  streamChat,
  type ReconnectInfo,
  type SavedAnswer,
  type ChatEvent,
  type ChatResult,
  type ChatStatus,
  type ChatStream,
  type Citation,
  type CitationEntry,
  type CitationOptions,
  type CitationPattern,
  type CitationResolution,
  type CitationSegment,
  type DoneInfo,
  type MarkdownSegment,
  type Tag,
  type NumberCitation,
  type Segment,
  type SessionInfo,
  type SseEvent,
  type StatusInfo,
  type StreamChatOptions,
  type StreamErrorCode,
  type ProtocolErrorDetail,
  type TextSegment,
  type TimestampCitation,
  type UnbackedCitation,
} from "cite-stream";

// ---------------------------------------------------------------------------
// Part 1: the README's samples (section "Usage").

// What the samples take from their page.
declare const token: string;
declare const status: HTMLElement; // shadows the DOM's deprecated global `status: string`
declare const stopButton: HTMLButtonElement;
declare const question: string;
declare function render(segment: Segment): void;

// README sample 1, verbatim but for the `!` (TypeScript's strict mode, not
// the API: `querySelector` may return null) and the `@ts-expect-error` (see
// the comment above it).
{
  const answer = document.querySelector("#answer")!;
  const chat = streamChat({
    url: "/api/chat",
    body: { question: "Which prospects mentioned budget constraints?" },
    headers: { Authorization: `Bearer ${token}` },
    onStatus({ message }) { status.textContent = message; },
    onSegment(segment) {
      if (segment.kind === "text") {
        answer.append(document.createTextNode(segment.text));
      } else {
        const badge = document.createElement("button");
        const [first] = segment.citations;
        // KNOWN MISMATCH between the README and js/index.d.ts: a citation
        // segment's `citations` is `CitationEntry[]` (timestamp-speaker OR
        // numeric entries) whatever the pattern; index.d.ts ties the entry
        // type to `citations.pattern` (default "timestamp-speaker"), so the
        // README's sample compiles as written.
        badge.textContent = `${first.timestamp} · ${first.speaker}`;
        answer.append(badge);
      }
    },
    onError(error) { console.error(error.code, error.message); },
  });

  stopButton.onclick = () => chat.stop();
  const result = await chat.finished; // { status: "done" | "stopped" | "error", text, segments, ... }
}

// README sample 2 ("The same stream is also an async iterator"), verbatim.
{
  for await (const event of streamChat({ url: "/api/chat", body: { question } })) {
    if (event.type === "segment") render(event.segment);
  }
}

// README sample 3 ("Resume and confirmed stop"), verbatim.
declare function keepInHistory(messageId: string, text: string): void;
{
  const chat = streamChat({
    url: "/api/chat",
    body: { question },
    onReconnect({ attempt, delayMs }) { status.textContent = `Reconnecting (${attempt})…`; },
  });
  stopButton.onclick = () => chat.stop();
  const result = await chat.finished;
  if (result.status === "stopped" && result.saved) keepInHistory(result.saved.messageId, result.saved.text);
}

// resumeChat takes streamChat's options but `body`, and a `messageId`.
{
  const chat = resumeChat({
    url: "/api/chat",
    headers: { Authorization: `Bearer ${token}` },
    messageId: "m_1",
    markdown: true,
    resume: { attempts: 3 },
    onReconnect(info: ReconnectInfo) {
      const attempt: number = info.attempt;
      const lastEventId: string | undefined = info.lastEventId;
      void attempt, lastEventId;
    },
  });
  const result = await chat.finished;
  const saved: SavedAnswer | null | undefined = result.saved;
  const attempts: number | undefined = result.error?.attempts;
  void saved, attempts;
  streamChat({ url: "/api/chat", body: {}, resume: false });
  // @ts-expect-error: resume is false or { attempts }
  streamChat({ url: "/api/chat", body: {}, resume: true });
  // @ts-expect-error: resumeChat needs the answer's messageId
  resumeChat({ url: "/api/chat" });
}

// Every option of StreamChatOptions, with the names the page supplies.
{
  const sessionId: string | undefined = undefined;
  const signal = new AbortController().signal;
  const chat = streamChat({
    url: "/api/chat",
    body: { question, sessionId },            // sent as JSON
    headers: { Authorization: `Bearer ${token}` },
    signal,                                    // optional external AbortSignal
    citations: { timeoutMs: 1000, maxLength: 64, pattern: "timestamp-speaker" }, // or "numeric"
    idleTimeoutMs: 45000,                      // no bytes at all for this long: error
    maxEventBytes: 1 << 20,                    // one event larger than this: error
    onSession({ sessionId, messageId }) {},
    onStatus({ message }) {},
    onSegment(segment) {},                     // render-ready, in order
    onCitations(citations, resolution) {},
    onDone({ messageId, processingMs, tokenCount }) {},
    onError(error) {},
  });
  chat.stop();                                 // user pressed Stop
  const result = await chat.finished;          // never rejects
  void result;
}

// ---------------------------------------------------------------------------
// Part 2: every export and type, precisely.

/** Compiles only when A and B are the same type (not merely assignable). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<_T extends true>(): void {}
function assertNever(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}

// init(): safe to call many times, resolves to nothing.
assertType<Equal<typeof init, () => Promise<void>>>();
await init();
await init();

// streamChat: options in, ChatStream out; every callback's arguments.
type Options = StreamChatOptions;
type Callback = "onSession" | "onStatus" | "onSegment" | "onCitations" | "onDone" | "onError" | "onReconnect";
type Arg<K extends Callback, N extends number = 0> = Parameters<NonNullable<Options[K]>>[N];
assertType<Equal<Extract<keyof Options, `on${string}`>, Callback>>();
// A generic function's Parameters/ReturnType use its constraint; a call
// without `citations.pattern` infers the default pattern.
assertType<Equal<Parameters<typeof streamChat>, [options: StreamChatOptions<CitationPattern, boolean>]>>();
assertType<Equal<ReturnType<typeof streamChat>, ChatStream<CitationPattern, boolean>>>();
const defaultPattern = streamChat({ url: "/api/chat", body: {} });
assertType<Equal<typeof defaultPattern, ChatStream<"timestamp-speaker">>>();
const numericPattern = streamChat({ url: "/api/chat", body: {}, citations: { pattern: "numeric" } });
assertType<Equal<typeof numericPattern, ChatStream<"numeric">>>();
assertType<Equal<Options["url"], string | URL>>();
assertType<Equal<Options["body"], unknown>>();
assertType<Equal<Options["signal"], AbortSignal | undefined>>();
assertType<Equal<Options["citations"], CitationOptions<"timestamp-speaker"> | undefined>>();
assertType<Equal<Options["idleTimeoutMs"], number | undefined>>();
assertType<Equal<Options["maxEventBytes"], number | undefined>>();
assertType<Equal<Arg<"onSession">, SessionInfo>>();
assertType<Equal<Arg<"onStatus">, StatusInfo>>();
assertType<Equal<Arg<"onSegment">, Segment<"timestamp-speaker">>>();
assertType<Equal<Arg<"onCitations", 0>, Citation[]>>();
assertType<Equal<Arg<"onCitations", 1>, CitationResolution<"timestamp-speaker">>>();
assertType<Equal<Arg<"onDone">, DoneInfo>>();
assertType<Equal<Arg<"onError">, StreamError>>();
assertType<Equal<SessionInfo, { sessionId: string; messageId: string }>>();
assertType<Equal<StatusInfo, { message: string }>>();
assertType<Equal<DoneInfo, { messageId: string; processingMs: number; tokenCount: number }>>();
assertType<Equal<CitationPattern, "timestamp-speaker" | "numeric">>();
assertType<Equal<CitationOptions, { timeoutMs?: number; maxLength?: number; pattern?: CitationPattern }>>();

// ChatStream: stop(), finished (never rejects: a ChatResult), async iterable.
assertType<Equal<ChatStream["stop"], () => void>>();
assertType<Equal<ChatStream["finished"], Promise<ChatResult>>>();
assertType<ChatStream extends AsyncIterable<ChatEvent> ? true : false>();

// ChatResult, as js/index.d.ts declares it.
assertType<Equal<ChatResult["sessionId"], string | null>>();
assertType<Equal<ChatResult["messageId"], string | null>>();
assertType<Equal<ChatResult["text"], string>>();
assertType<Equal<ChatResult["segments"], Segment[]>>();
assertType<Equal<ChatResult["citations"], Citation[]>>();
assertType<Equal<ChatResult["status"], ChatStatus>>();
assertType<Equal<ChatStatus, "done" | "stopped" | "error">>();
assertType<Equal<ChatResult["error"], StreamError | undefined>>();
assertType<Equal<keyof ChatResult, "sessionId" | "messageId" | "text" | "segments" | "citations" | "status" | "error" | "saved">>();
assertType<Equal<ChatResult["saved"], SavedAnswer | null | undefined>>();

function describeResult(result: ChatResult): string {
  switch (result.status) {
    case "done": return result.text;
    case "stopped": return `stopped after ${result.segments.length} segments`;
    case "error": return `${result.error?.code ?? "?"}: ${result.error?.message ?? ""}`;
    default: return assertNever(result.status);
  }
}

// Segment: narrowing on `kind`; entries narrowed by their own fields.
assertType<Equal<Segment, TextSegment | CitationSegment>>();
assertType<Equal<TextSegment, { kind: "text"; text: string }>>();
assertType<Equal<CitationSegment["citations"], CitationEntry[]>>();
assertType<Equal<CitationEntry, TimestampCitation | NumberCitation>>();
assertType<Equal<TimestampCitation, { timestamp: string; seconds: number; speaker: string }>>();
assertType<Equal<NumberCitation, { number: number }>>();

function renderSegment(segment: Segment): string {
  switch (segment.kind) {
    case "text":
      assertType<Equal<typeof segment, TextSegment>>();
      return segment.text;
    case "citation": {
      assertType<Equal<typeof segment, CitationSegment>>();
      const labels = segment.citations.map((entry) =>
        "number" in entry
          ? String(entry.number satisfies number)
          : `${entry.timestamp} (${entry.seconds.toFixed(0)} s) ${entry.speaker}`,
      );
      return `${segment.text} -> ${labels.join("; ")}`;
    }
    default:
      return assertNever(segment);
  }
}

// Citation sources and their resolution.
assertType<Equal<Citation, {
  id: string; conversationId: string; conversationTitle: string;
  timestamp: string; seconds: number; speaker: string; quote: string;
}>>();
assertType<Equal<CitationResolution["matches"], Citation[][]>>();
assertType<Equal<CitationResolution["unbacked"], UnbackedCitation[]>>();
assertType<Equal<UnbackedCitation["segmentIndex"], number>>();
function unbackedLabel(entry: UnbackedCitation): string {
  return "number" in entry ? `#${entry.segmentIndex}: ${entry.number}` : `#${entry.segmentIndex}: ${entry.speaker}`;
}

// ChatEvent: the async iterator's union, narrowed on `type`.
async function consume(stream: ChatStream): Promise<string[]> {
  const log: string[] = [];
  for await (const event of stream) {
    switch (event.type) {
      case "session": log.push(event.sessionId, event.messageId); break;
      case "status": log.push(event.message); break;
      case "segment": log.push(renderSegment(event.segment)); break;
      case "citations":
        log.push(`${event.citations.length} sources, ${event.resolution.matches.length} matched`);
        log.push(...event.resolution.unbacked.map(unbackedLabel));
        break;
      case "done": log.push(`${event.messageId} ${event.processingMs} ms ${event.tokenCount} tokens`); break;
      case "error": log.push(event.error.code); break;
      case "reconnect": log.push(`attempt ${event.attempt} after ${event.lastEventId ?? "nothing"} in ${event.delayMs} ms`); break;
      default: assertNever(event);
    }
  }
  return log;
}
assertType<Equal<ChatEvent["type"], "session" | "status" | "segment" | "citations" | "done" | "error" | "reconnect">>();
assertType<Equal<Extract<ChatEvent, { type: "segment" }>["segment"], Segment>>();
assertType<Equal<Extract<ChatEvent, { type: "error" }>["error"], StreamError>>();

// StreamError: a class with a stable code and the details of each code.
assertType<Equal<StreamErrorCode,
  "http" | "content-type" | "network" | "protocol" | "server" | "idle-timeout" | "callback" | "aborted">>();
assertType<Equal<StreamError["code"], StreamErrorCode>>();
assertType<Equal<StreamError["name"], "StreamError">>();
assertType<Equal<StreamError["status"], number | undefined>>();
assertType<Equal<StreamError["serverCode"], string | undefined>>();
assertType<Equal<StreamError["retryable"], boolean | undefined>>();
assertType<Equal<StreamError["callback"], string | undefined>>();
assertType<Equal<StreamError["contentType"], string | undefined>>();
assertType<StreamError extends Error ? true : false>();
assertType<Equal<StreamError["location"], string | undefined>>();
assertType<Equal<ProtocolErrorDetail, "line-too-long" | "event-too-large" | "malformed-payload" | "no-session"
  | "adapter-foreign" | "adapter-not-json" | "adapter-shape" | "adapter-no-end" | "adapter-refused">>();
assertType<Equal<StreamError["detail"], ProtocolErrorDetail | undefined>>();
assertType<Equal<StreamError["event"], string | undefined>>();
assertType<Equal<StreamChatOptions["followRedirects"], boolean | undefined>>();

function explain(error: unknown): string {
  if (!(error instanceof StreamError)) return String(error);
  switch (error.code) {
    case "http": return `HTTP ${error.status ?? "?"}: ${JSON.stringify(error.body)}`;
    case "content-type": return `not an event stream: ${error.contentType ?? "?"}`;
    case "network": return `network: ${String(error.cause)}`;
    case "protocol": return `protocol: ${error.message}`;
    case "server": return `server ${error.serverCode ?? "?"}, retry: ${error.retryable === true}`;
    case "idle-timeout": return "the server went silent";
    case "callback": return `${error.callback ?? "?"} threw ${String(error.cause)}`;
    case "aborted": return `aborted: ${String(error.reason)}`;
    default: return assertNever(error.code);
  }
}
const made = new StreamError("http", "refused", { status: 401 });
explain(made);

// EventStreamParser: bytes in, SseEvent[] out.
{
  const parser = new EventStreamParser({ maxEventBytes: 1 << 20 });
  const plain = new EventStreamParser();
  const events = parser.feed(new TextEncoder().encode("event: token\ndata: hi\n\n"));
  assertType<Equal<typeof events, SseEvent[]>>();
  assertType<Equal<SseEvent, { type: string; data: string; lastEventId: string }>>();
  assertType<Equal<ReturnType<EventStreamParser["finish"]>, SseEvent[]>>();
  assertType<Equal<ReturnType<EventStreamParser["reset"]>, void>>();
  assertType<Equal<EventStreamParser["lastEventId"], string>>();
  assertType<Equal<EventStreamParser["retry"], number | undefined>>();
  try {
    for (const { type, data, lastEventId } of [...events, ...parser.finish()]) {
      console.log(type, data, lastEventId, parser.lastEventId, parser.retry);
    }
  } catch (error) {
    if (error instanceof StreamError && error.code === "protocol") parser.reset();
  }
  parser.free();
  plain.free();
}

// CitationBuffer: text and a clock in, Segment[] out.
{
  const buffer = new CitationBuffer({ timeoutMs: 1000, maxLength: 64, pattern: "timestamp-speaker" });
  const numeric = new CitationBuffer({ pattern: "numeric" });
  const defaults = new CitationBuffer();
  const now = performance.now();
  const ready = buffer.push("See [12:45, Sarah", now);
  assertType<Equal<typeof ready, Segment<"timestamp-speaker">[]>>();
  assertType<Equal<ReturnType<CitationBuffer["poll"]>, Segment<"timestamp-speaker">[]>>();
  assertType<Equal<ReturnType<CitationBuffer["finish"]>, Segment<"timestamp-speaker">[]>>();
  assertType<Equal<CitationBuffer["deadline"], number | undefined>>();
  const deadline = buffer.deadline;
  const released = deadline === undefined ? [] : buffer.poll(deadline);
  [...ready, ...released, ...buffer.finish(), ...numeric.push("[3-5]", now)].map(renderSegment);
  buffer.free();
  numeric.free();
  defaults.free();
}

// ---------------------------------------------------------------------------
// Part 3: wrong usage is rejected.

declare const chat: ChatStream;
declare const segment: Segment;
declare const event: ChatEvent;
declare const error: StreamError;

// @ts-expect-error -- `url` is required
streamChat({ body: { question } });
// @ts-expect-error -- `followRedirects` is a boolean
streamChat({ url: "/api/chat", body: { question }, followRedirects: "follow" });
// @ts-expect-error -- a callback is a function
streamChat({ url: "/api/chat", body: { question }, onDone: "done" });
// @ts-expect-error -- `body` is required
streamChat({ url: "/api/chat" });
streamChat({
  url: "/api/chat",
  body: { question },
  // @ts-expect-error -- misspelled callback name
  onSegement(segment: Segment) {},
});
streamChat({
  url: "/api/chat",
  body: { question },
  // @ts-expect-error -- an unknown citation pattern
  citations: { pattern: "markdown" },
});
streamChat({
  url: "/api/chat",
  body: { question },
  // @ts-expect-error -- a duration is a number of milliseconds
  idleTimeoutMs: "45s",
});
streamChat({
  url: "/api/chat",
  body: { question },
  // @ts-expect-error -- onStatus receives { message }, not a string
  onStatus(message: string) {},
});
streamChat({
  url: "/api/chat",
  body: { question },
  // @ts-expect-error -- onError receives a StreamError, whose code is not a number
  onError(error: { code: number }) {},
});

// @ts-expect-error -- there is no "badge" segment kind
const badSegment: Segment = { kind: "badge", text: "[1]" };
// @ts-expect-error -- a citation segment needs its entries
const noEntries: CitationSegment = { kind: "citation", text: "[1]" };
// @ts-expect-error -- comparing `kind` with a kind that does not exist
if (segment.kind === "cite") {}
// @ts-expect-error -- `citations` exists only once narrowed to "citation"
segment.citations;
// @ts-expect-error -- the iterator has no "token" event
if (event.type === "token") {}
// @ts-expect-error -- `segment` exists only once narrowed to "segment"
event.segment;
// @ts-expect-error -- no such error code
if (error.code === "timeout") {}
// @ts-expect-error -- no such error code
new StreamError("timeout", "message");
// @ts-expect-error -- `code` is read-only
error.code = "http";
// @ts-expect-error -- `finished` is read-only
chat.finished = Promise.resolve({} as ChatResult);
// @ts-expect-error -- no such status
if ((await chat.finished).status === "aborted") {}
// @ts-expect-error -- ChatResult has no `answer`; the answer is `text`
(await chat.finished).answer;
// @ts-expect-error -- feed takes bytes, not text
new EventStreamParser().feed("data: x\n\n");
// @ts-expect-error -- `lastEventId` is read-only
new EventStreamParser().lastEventId = "7";
// @ts-expect-error -- an unknown parser option
new EventStreamParser({ maxEventSize: 1024 });
// @ts-expect-error -- push needs the current time
new CitationBuffer().push("text");
// @ts-expect-error -- an unknown citation pattern
new CitationBuffer({ pattern: "markdown" });
// @ts-expect-error -- `deadline` is read-only
new CitationBuffer().deadline = 0;

// Markdown mode: `markdown: true` makes every segment type the tree's.
{
  const markdownStream = streamChat({ url: "/api/chat", body: {}, markdown: true });
  assertType<Equal<typeof markdownStream, ChatStream<"timestamp-speaker", true>>>();
  streamChat({
    url: "/api/chat",
    body: {},
    markdown: true,
    onSegment(segment) {
      assertType<Equal<typeof segment, MarkdownSegment<"timestamp-speaker">>>();
      if (segment.kind === "open") assertType<Equal<typeof segment.tag, Tag>>();
      if (segment.kind === "citation") assertType<Equal<typeof segment.citations, TimestampCitation[]>>();
    },
  });
  const buffer = new CitationBuffer({ markdown: true, pattern: "numeric" });
  assertType<Equal<ReturnType<typeof buffer.push>, MarkdownSegment<"numeric">[]>>();
  // @ts-expect-error `markdown` is a boolean
  new CitationBuffer({ markdown: "yes" });
}
