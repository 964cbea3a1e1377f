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
export type ProtocolErrorDetail = "line-too-long" | "event-too-large" | "malformed-payload" | "no-session";

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
  /** `network`, `callback`: what was thrown. */
  readonly cause?: unknown;
  /** `aborted`: the caller's `signal.reason`, unchanged. */
  readonly reason?: unknown;
  /** `protocol`: the rule the stream broke. */
  readonly detail?: ProtocolErrorDetail;
  /** `protocol`: the type of the event concerned, such as `"session"`, when one is. */
  readonly event?: string;
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
export interface StreamChatOptions<P extends CitationPattern = "timestamp-speaker"> {
  url: string | URL;
  /** Sent as JSON. */
  body: unknown;
  headers?: HeadersInit;
  /** Aborting it stops the stream: `finished` resolves with status `"stopped"` and an `aborted` error. */
  signal?: AbortSignal;
  citations?: CitationOptions<P>;
  /** No bytes at all for this long is an `idle-timeout` error. Default 45000. */
  idleTimeoutMs?: number;
  /** A line or an event larger than this is a `protocol` error. Default 1 MiB. */
  maxEventBytes?: number;
  /**
   * Follow redirects, re-sending the POST to the new location. Default
   * `false`: a redirect is an `http` error and the POST is never re-sent.
   */
  followRedirects?: boolean;
  onSession?(info: SessionInfo): void;
  onStatus?(info: StatusInfo): void;
  /**
   * Render-ready, in order. The text of one network chunk comes as one text
   * segment; each inline citation is a segment of its own, once complete.
   */
  onSegment?(segment: Segment<P>): void;
  onCitations?(citations: Citation[], resolution: CitationResolution<P>): void;
  onDone?(info: DoneInfo): void;
  onError?(error: StreamError): void;
}

export type ChatStatus = "done" | "stopped" | "error";

export interface ChatResult<P extends CitationPattern = CitationPattern> {
  sessionId: string | null;
  messageId: string | null;
  /** The answer text received, in full or up to the stop or error. */
  text: string;
  /** The segments `onSegment` received (equal, not the same objects); their texts join to `text`. */
  segments: Segment<P>[];
  citations: Citation[];
  status: ChatStatus;
  error?: StreamError;
}

/** The events of the async iterator, one per callback. */
export type ChatEvent<P extends CitationPattern = CitationPattern> =
  | ({ type: "session" } & SessionInfo)
  | ({ type: "status" } & StatusInfo)
  | { type: "segment"; segment: Segment<P> }
  | { type: "citations"; citations: Citation[]; resolution: CitationResolution<P> }
  | ({ type: "done" } & DoneInfo)
  | { type: "error"; error: StreamError };

export interface ChatStream<P extends CitationPattern = CitationPattern> extends AsyncIterable<ChatEvent<P>> {
  /** Aborts the request; safe at any time, any number of times. */
  stop(): void;
  /** Resolves when the stream is over; never rejects. */
  readonly finished: Promise<ChatResult<P>>;
}

export declare function streamChat<P extends CitationPattern = "timestamp-speaker">(
  options: StreamChatOptions<P>,
): ChatStream<P>;

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

export declare class CitationBuffer<P extends CitationPattern = "timestamp-speaker"> {
  constructor(options?: CitationOptions<P>);
  /** The segments ready to render now. */
  push(text: string, nowMs: number): Segment<P>[];
  /** The segments released by the timeout. */
  poll(nowMs: number): Segment<P>[];
  /** Everything still held, as text. */
  finish(): Segment<P>[];
  /** When `poll()` would release the held candidate. */
  readonly deadline: number | undefined;
  free(): void;
}

/** Loads the wasm module once; safe to call many times. Entry points already call it. */
export declare function init(): Promise<void>;
