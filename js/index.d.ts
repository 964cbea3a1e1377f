// Type declarations for the `cite-stream` package.

/** One entry of a timestamp-speaker citation: `12:45, Sarah Johnson`. */
export interface TimestampCitation {
  timestamp: string;
  seconds: number;
  speaker: string;
}

/** One entry of a numeric citation: `[3-5]` gives 3, 4 and 5. */
export interface NumberCitation {
  number: number;
}

export type CitationPattern = "timestamp-speaker" | "numeric";

/** The entries of a citation under each pattern. */
export interface CitationEntryOf {
  "timestamp-speaker": TimestampCitation;
  numeric: NumberCitation;
}

/** One entry of an inline citation; under a known pattern, that pattern's entry. */
export type CitationEntry<P extends CitationPattern = CitationPattern> = CitationEntryOf[P];

export interface TextSegment {
  kind: "text";
  text: string;
}

export interface CitationSegment<P extends CitationPattern = CitationPattern> {
  kind: "citation";
  /** The raw bracket text, such as `"[12:45, Sarah Johnson]"`. */
  text: string;
  citations: CitationEntry<P>[];
}

/** A render-ready piece of the answer. */
export type Segment<P extends CitationPattern = CitationPattern> = TextSegment | CitationSegment<P>;

// Markdown-aware segments (`markdown: true`): an append-only tree.

/** The elements a Markdown segment opens. */
export type Tag =
  | "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "ul" | "ol" | "li"
  | "blockquote" | "pre" | "code" | "hr" | "br" | "strong" | "em" | "del" | "a"
  | "table" | "thead" | "tbody" | "tr" | "th" | "td";

/** Opens an element inside the innermost open one (`hr` and `br` are closed at once). */
export interface OpenSegment {
  kind: "open";
  tag: Tag;
  /** The exact source this segment accounts for, such as `"## "`. */
  raw: string;
  attrs?: {
    /** `a`: the link target, as CommonMark normalises it. */
    href?: string;
    /** `ol`: the first number, when it is not 1. */
    start?: number;
    /** `pre`: the fence's language. */
    lang?: string;
    /** `th`, `td`: the column's alignment. */
    align?: "left" | "center" | "right";
  };
}

/** Closes the innermost open element. */
export interface CloseSegment {
  kind: "close";
  tag: Tag;
  raw: string;
}

/** Text for the innermost open element; `text` is what a reader sees, `raw` its source. */
export interface MarkdownTextSegment {
  kind: "text";
  text: string;
  raw: string;
}

/** A complete inline citation inside Markdown. */
export interface MarkdownCitationSegment<E extends CitationEntry = CitationEntry> {
  kind: "citation";
  /** The bracket text, such as `"[12:45, Sarah Johnson]"`. */
  text: string;
  raw: string;
  citations: E[];
}

/** A piece of the append-only Markdown tree (`markdown: true`). */
export type MarkdownSegment<P extends CitationPattern = CitationPattern> =
  | OpenSegment
  | CloseSegment
  | MarkdownTextSegment
  | MarkdownCitationSegment<CitationEntry<P>>;

/** The segments of pattern `P`: Markdown ones when `M` is `true`. */
export type SegmentOf<P extends CitationPattern, M extends boolean> = M extends true ? MarkdownSegment<P> : Segment<P>;

/** One source passage from the `citations` event. */
export interface Citation {
  id: string;
  conversationId: string;
  conversationTitle: string;
  timestamp: string;
  seconds: number;
  speaker: string;
  quote: string;
}

/** An inline citation entry that no source backs. */
export type UnbackedCitation<P extends CitationPattern = CitationPattern> = { segmentIndex: number } & CitationEntry<P>;

export interface CitationResolution<P extends CitationPattern = CitationPattern> {
  /** For the n-th citation segment, the sources its entries matched. */
  matches: Citation[][];
  /** The inline citation entries that match no source. */
  unbacked: UnbackedCitation<P>[];
}

export interface SessionInfo {
  sessionId: string;
  messageId: string;
}

export interface StatusInfo {
  message: string;
}

export interface DoneInfo {
  messageId: string;
  processingMs: number;
  tokenCount: number;
}

export type StreamErrorCode =
  | "http"
  | "content-type"
  | "network"
  | "protocol"
  | "server"
  | "idle-timeout"
  | "callback"
  | "aborted";

/**
 * What a `protocol` error is about: a line or an event over `maxEventBytes`,
 * a known event whose data is not the protocol's JSON, or an event stream
 * that ended without a `session` event (another protocol).
 */
export type ProtocolErrorDetail =
  | "line-too-long"
  | "event-too-large"
  | "malformed-payload"
  | "no-session"
  /** An adapter's stream is of another format (its first event is not the format's). */
  | "adapter-foreign"
  /** An adapter's event whose data is not JSON. */
  | "adapter-not-json"
  /** An adapter's event of a type its format has, without the format's shape. */
  | "adapter-shape"
  /** An adapter's stream ended without its format's end event. */
  | "adapter-no-end"
  /** A custom adapter returned something other than an array of valid `ProtocolEvent`s. */
  | "adapter-refused";

/** Every failure; `code` is stable. */
export declare class StreamError extends Error {
  constructor(code: StreamErrorCode, message: string, details?: Record<string, unknown>);
  readonly name: "StreamError";
  readonly code: StreamErrorCode;
  /** `http`: the response status. */
  readonly status?: number;
  /** `http`: the server's JSON error body, when it sent one. */
  readonly body?: unknown;
  /** `http` for a redirect that was not followed: its `Location`, where the environment shows it (not in browsers, whose status is then 0). */
  readonly location?: string;
  /** `content-type`: the Content-Type that was received. */
  readonly contentType?: string;
  /** `server`: the code of the `error` event, such as `"llm_failed"`. */
  readonly serverCode?: string;
  /** `server`: whether asking again may succeed. */
  readonly retryable?: boolean;
  /** `callback`: the name of the callback that threw. */
  readonly callback?: string;
  /**
   * `network`, `callback`: what was thrown. For a `network` error with
   * `attempts`, the last resume request's failure: what it threw, or the
   * `StreamError` of its refusal (an `http` 410 `resume_expired`, say).
   */
  readonly cause?: unknown;
  /** `network`: the connection dropped and this many resume requests were made, all in vain. */
  readonly attempts?: number;
  /** `aborted`: the caller's `signal.reason`, unchanged. */
  readonly reason?: unknown;
  /** `protocol`: the rule the stream broke. */
  readonly detail?: ProtocolErrorDetail;
  /** `protocol`: the type of the event concerned, such as `"session"`, when one is. */
  readonly event?: string;
  /** `protocol` from an adapter: the adapter's name (`"custom"` for an `Adapter` object). */
  readonly format?: AdapterName | "custom";
  /** `protocol` from an adapter: the offending event's number in the stream, from 1 (for `adapter-no-end`, the events seen). */
  readonly index?: number;
}

/** The built-in adapters, by the stream format they read. */
export type AdapterName = "openai-chat" | "openai-responses" | "anthropic" | "ai-sdk";

/**
 * One of the six protocol events in JS form, as a custom `Adapter` returns
 * them: `type` is the event's name and `data` its payload as the protocol's
 * JSON has it (a token's is its text). Defaults filled in for the caller:
 * the ids of `session` (`""`), and `messageId` (the session's),
 * `processingMs` (0) and `tokenCount` (the tokens returned) of `done`.
 */
export type ProtocolEvent =
  | { type: "session"; data: Partial<SessionInfo> }
  | { type: "status"; data: StatusInfo }
  | { type: "token"; data: string }
  | { type: "citations"; data: { citations: Citation[] } }
  | { type: "done"; data: Partial<DoneInfo> }
  | { type: "error"; data: { code: string; message: string; retryable?: boolean } };

/**
 * Turns each server-sent event of another server's stream into protocol
 * events (often none). A throw stops the stream with a `callback` error
 * (`callback: "adapter.event"`); the stream must end with a `done` or
 * `error` event, or it fails with a `protocol` error, `adapter-no-end`.
 */
export interface Adapter {
  event(e: SseEvent): ProtocolEvent[];
}

export interface CitationOptions<P extends CitationPattern = CitationPattern> {
  /** A held candidate that receives no text for this long is released as text. Default 1000. */
  timeoutMs?: number;
  /** A held candidate longer than this many characters is released as text. Default 64. */
  maxLength?: number;
  /** Default `"timestamp-speaker"`. */
  pattern?: P;
}

/** `P` is the citation pattern, inferred from `citations.pattern` ("timestamp-speaker" when absent). */
export interface StreamChatOptions<P extends CitationPattern = "timestamp-speaker", M extends boolean = false> {
  url: string | URL;
  /** Sent as JSON. */
  body: unknown;
  headers?: HeadersInit;
  /** Aborting it stops the stream: `finished` resolves with status `"stopped"` and an `aborted` error. */
  signal?: AbortSignal;
  citations?: CitationOptions<P>;
  /**
   * Markdown-aware segments: open, close, text and citation segments of an
   * append-only tree whose `raw` texts join to the answer. Default `false`.
   */
  markdown?: M;
  /** No bytes at all for this long is an `idle-timeout` error. Default 45000. */
  idleTimeoutMs?: number;
  /** A line or an event larger than this is a `protocol` error. Default 1 MiB. */
  maxEventBytes?: number;
  /**
   * Follow redirects, re-sending the POST to the new location. Default
   * `false`: a redirect is an `http` error and the POST is never re-sent.
   */
  followRedirects?: boolean;
  /**
   * Resume after a connection dropped once the `session` event arrived:
   * `GET {url}/{messageId}/stream` with `Last-Event-ID`, backoff from 250 ms
   * doubling, never re-sending the POST. Default `{ attempts: 5 }`; `false`
   * (or `attempts: 0`) turns it off.
   */
  resume?: false | { attempts?: number };
  /**
   * Read another server's stream instead of this protocol's: a preset
   * (`"openai-chat"` Chat Completions, `"openai-responses"` the Responses
   * API, `"anthropic"` Messages, `"ai-sdk"` the Vercel AI SDK UI message
   * stream) or an `Adapter` of your own. Segments, citations, stop and
   * errors work the same; the `session` event is made from the provider's
   * id (`sessionId` is `""`), a provider's error is a `server` error with
   * its code. Resume and the stop request are off: those servers have no
   * such routes, so `finished.saved` is `null` after a stop.
   */
  adapter?: AdapterName | Adapter;
  onSession?(info: SessionInfo): void;
  onStatus?(info: StatusInfo): void;
  /**
   * Render-ready, in order. The text of one network chunk comes as one text
   * segment; each inline citation is a segment of its own, once complete.
   */
  onSegment?(segment: SegmentOf<P, M>): void;
  onCitations?(citations: Citation[], resolution: CitationResolution<P>): void;
  onDone?(info: DoneInfo): void;
  onError?(error: StreamError): void;
  /** A resume attempt is about to wait `delayMs` and then ask for the events after `lastEventId`. */
  onReconnect?(info: ReconnectInfo): void;
}

export interface ReconnectInfo {
  /** 1 for the first attempt after a drop. */
  attempt: number;
  /** The `Last-Event-ID` the resume request sends; `undefined` before any event of the answer. */
  lastEventId: string | undefined;
  /** The backoff before the request. */
  delayMs: number;
}

/** `resumeChat`: attach to an answer still being generated. */
export interface ResumeChatOptions<P extends CitationPattern = "timestamp-speaker", M extends boolean = false>
  extends Omit<StreamChatOptions<P, M>, "body"> {
  /** The chat endpoint `streamChat` POSTs to; the resume route is `{url}/{messageId}/stream`. */
  url: string | URL;
  /** The answer, as its `session` event or the history named it. */
  messageId: string;
}

/** What the server confirmed it kept, after a stop. */
export interface SavedAnswer {
  messageId: string;
  text: string;
  stopped: boolean;
}

export type ChatStatus = "done" | "stopped" | "error";

export interface ChatResult<P extends CitationPattern = CitationPattern, M extends boolean = false> {
  sessionId: string | null;
  messageId: string | null;
  /** The answer text received, in full or up to the stop or error. */
  text: string;
  /** The segments `onSegment` received (equal, not the same objects); their texts join to `text`. */
  segments: SegmentOf<P, M>[];
  citations: Citation[];
  status: ChatStatus;
  error?: StreamError;
  /**
   * Status `"stopped"` only: what the server saved, as its answer to the
   * stop request (`POST {url}/{messageId}/stop`), or `null` when it could
   * not be reached or there was no answer to stop yet.
   */
  saved?: SavedAnswer | null;
}

/** The events of the async iterator, one per callback. */
export type ChatEvent<P extends CitationPattern = CitationPattern, M extends boolean = false> =
  | ({ type: "session" } & SessionInfo)
  | ({ type: "status" } & StatusInfo)
  | { type: "segment"; segment: SegmentOf<P, M> }
  | { type: "citations"; citations: Citation[]; resolution: CitationResolution<P> }
  | ({ type: "done" } & DoneInfo)
  | { type: "error"; error: StreamError }
  | ({ type: "reconnect" } & ReconnectInfo);

export interface ChatStream<P extends CitationPattern = CitationPattern, M extends boolean = false>
  extends AsyncIterable<ChatEvent<P, M>> {
  /**
   * Tells the server to stop (while the answer is being generated) and
   * aborts the request; safe at any time, any number of times.
   */
  stop(): void;
  /** Resolves when the stream is over; never rejects. */
  readonly finished: Promise<ChatResult<P, M>>;
}

export declare function streamChat<P extends CitationPattern = "timestamp-speaker", M extends boolean = false>(
  options: StreamChatOptions<P, M>,
): ChatStream<P, M>;

/**
 * Attaches to an answer still being generated (after a page reload, say):
 * replays it from its start and goes on live, with the same result as
 * `streamChat`.
 */
export declare function resumeChat<P extends CitationPattern = "timestamp-speaker", M extends boolean = false>(
  options: ResumeChatOptions<P, M>,
): ChatStream<P, M>;

/** One dispatched server-sent event. */
export interface SseEvent {
  /** `"message"` when the stream named no type. */
  type: string;
  data: string;
  lastEventId: string;
}

export declare class EventStreamParser {
  constructor(options?: { maxEventBytes?: number });
  /** The events this chunk completes; throws a `protocol` StreamError over the size limit. */
  feed(bytes: Uint8Array): SseEvent[];
  /** The end of the stream; an unfinished event is discarded. */
  finish(): SseEvent[];
  /** Back to a fresh state, also after an error. */
  reset(): void;
  readonly lastEventId: string;
  readonly retry: number | undefined;
  free(): void;
}

export declare class CitationBuffer<P extends CitationPattern = "timestamp-speaker", M extends boolean = false> {
  /** `markdown: true` gives Markdown-aware segments, as `streamChat` does. */
  constructor(options?: CitationOptions<P> & { markdown?: M });
  /** The segments ready to render now. */
  push(text: string, nowMs: number): SegmentOf<P, M>[];
  /** The segments released by the timeout. */
  poll(nowMs: number): SegmentOf<P, M>[];
  /** Everything still held, as text (with `markdown`, and every open element closed). */
  finish(): SegmentOf<P, M>[];
  /** When `poll()` would release the held candidate. */
  readonly deadline: number | undefined;
  free(): void;
}

export interface SegmenterOptions<P extends CitationPattern = "timestamp-speaker", M extends boolean = false> {
  citations?: CitationOptions<P>;
  /** Markdown-aware segments, as `streamChat({ markdown: true })` gives. Default `false`. */
  markdown?: M;
  /** Render-ready, in order; called from `push()`, `end()` and the citation timer. */
  onSegment(segment: SegmentOf<P, M>): void;
}

/** Text in, segments out, for text that arrives by other means than `streamChat`. */
export interface Segmenter {
  /** More of the answer's text; throws a TypeError after `end()`. */
  push(text: string): void;
  /** The text is over: everything still held is released. Safe to call again. */
  end(): void;
}

/**
 * A citation buffer (or Markdown segmenter) that owns its timer: a held
 * citation candidate that gets no more text is released at its timeout
 * with no call from the caller.
 */
export declare function createSegmenter<P extends CitationPattern = "timestamp-speaker", M extends boolean = false>(
  options: SegmenterOptions<P, M>,
): Segmenter;

/**
 * Matches the citation segments among `segments` to `citations`, as
 * `onCitations` gives its `resolution`.
 */
export declare function resolveCitations<P extends CitationPattern = CitationPattern>(
  segments: readonly (Segment<P> | MarkdownSegment<P>)[],
  citations: readonly Citation[],
): CitationResolution<P>;

/** Loads the wasm module once; safe to call many times. Entry points already call it. */
export declare function init(): Promise<void>;
