// Type declarations for `cite-stream/dom`: plain JavaScript over segments,
// without the wasm module.

import type {
  Citation, CitationEntry, CitationResolution, CloseSegment, MarkdownCitationSegment, MarkdownTextSegment,
  OpenSegment, Segment,
} from "./index.js";
export type { Tag, OpenSegment, CloseSegment, MarkdownTextSegment, MarkdownCitationSegment, MarkdownSegment } from "./index.js";

/** What `AnswerView.push` takes: a flat segment (`markdown: false`) or a Markdown one. */
export type AnswerSegment = Segment | OpenSegment | CloseSegment | MarkdownTextSegment | MarkdownCitationSegment;

/** The citation segments, flat or Markdown. */
export type AnswerCitationSegment = Extract<AnswerSegment, { kind: "citation" }>;

export interface AnswerViewOptions {
  /**
   * A `span.cs-cursor` (`aria-hidden`) at the insertion point until `end()`.
   * It is empty: the page's stylesheet makes it visible and blink (README).
   * Default true.
   */
  cursor?: boolean;
  /**
   * Makes the element shown for a citation segment; `entries` are its
   * `citations`. After `citations()`, the element gets `data-state`
   * `"resolved"`, `"unbacked"` or `"partial"`. When it is absent, returns
   * something other than a node, or throws, the default badge shows: a
   * `span.cs-citation` (the bracket text in `data-raw`) holding one
   * `button.cs-badge` per entry, whose `data-state` is `"pending"`, then
   * `"resolved"` or `"unbacked"`.
   */
  citation?(segment: AnswerCitationSegment, entries: CitationEntry[]): Node;
}

/**
 * Renders one answer into `container`, which it owns (`clear()` empties it).
 * DOM writes happen at most once per animation frame; each segment costs the
 * same however long the answer is. Text enters as text nodes only; a link
 * gets `href` only for http:, https:, mailto: and relative URLs, and always
 * `rel="noopener noreferrer"`. `aria-busy="true"` is on the container from
 * the first frame until `end()`.
 */
export declare class AnswerView {
  constructor(container: Element, options?: AnswerViewOptions);
  /** Queues a segment of any kind; it shows at the next frame. */
  push(segment: AnswerSegment): void;
  /** The `onCitations` arguments: each badge becomes resolved (titled with its source) or unbacked. */
  citations(citations: Citation[], resolution: CitationResolution): void;
  /** The answer is over: the cursor and `aria-busy` go at the next frame. */
  end(): void;
  /** Empties the container at the next frame; the view then starts a new answer. */
  clear(): void;
  /** Applies every pending write now rather than at the next frame. */
  flush(): void;
}
