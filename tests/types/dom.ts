// `npx tsc -p tests/types`: `cite-stream/dom` against its published
// declarations (pkg/dom.d.ts, reached through the package's `exports`).
// Part 1 is the README's AnswerView sample, Part 2 pins the types, Part 3
// proves wrong usage is rejected. Nothing here runs.

import { streamChat, type Citation, type CitationResolution, type Segment } from "cite-stream";
import {
  AnswerView,
  type AnswerCitationSegment,
  type AnswerSegment,
  type AnswerViewOptions,
  type CloseSegment,
  type MarkdownCitationSegment,
  type MarkdownTextSegment,
  type OpenSegment,
  type Tag,
} from "cite-stream/dom";

declare const question: string;
declare const sessionId: string;

// ---------------------------------------------------------------------------
// Part 1: the README's sample (section "Rendering: cite-stream/dom").
{
  const view = new AnswerView(document.querySelector("#answer")!, { cursor: true });
  streamChat({
    url: "/api/chat",
    body: { question, sessionId },
    markdown: true,
    onSegment: (segment) => view.push(segment),
    onCitations: (citations, resolution) => view.citations(citations, resolution),
    onDone: () => view.end(),
    onError: () => view.end(),
  });
  view.clear();
}

// ---------------------------------------------------------------------------
// Part 2: the types, precisely.
{
  const view = new AnswerView(document.body);
  new AnswerView(document.createElement("div"), {});
  new AnswerView(document.createElement("div"), {
    cursor: false,
    citation(segment: AnswerCitationSegment, entries) {
      const sup = document.createElement("sup");
      sup.textContent = segment.text;
      const first = entries[0];
      if (first && "number" in first) sup.dataset.n = String(first.number);
      return sup;
    },
  });
  const open: OpenSegment = { kind: "open", tag: "a", raw: "[", attrs: { href: "https://example.com" } };
  const ol: OpenSegment = { kind: "open", tag: "ol", raw: "3. ", attrs: { start: 3 } };
  const pre: OpenSegment = { kind: "open", tag: "pre", raw: "```rust\n", attrs: { lang: "rust" } };
  const th: OpenSegment = { kind: "open", tag: "th", raw: "| ", attrs: { align: "center" } };
  const close: CloseSegment = { kind: "close", tag: "a", raw: "](https://example.com)" };
  const text: MarkdownTextSegment = { kind: "text", text: "&", raw: "&amp;" };
  const cite: MarkdownCitationSegment = {
    kind: "citation",
    text: "[12:45, Sarah Johnson]",
    raw: "[12:45, Sarah Johnson]",
    citations: [{ timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson" }],
  };
  const flat: Segment = { kind: "text", text: "flat" };
  for (const segment of [open, ol, pre, th, close, text, cite, flat] satisfies AnswerSegment[]) view.push(segment);
  const sources: Citation[] = [];
  const resolution: CitationResolution = { matches: [[]], unbacked: [] };
  const r1: void = view.citations(sources, resolution);
  const r2: void = view.end();
  const r3: void = view.clear();
  const r4: void = view.flush();
  const tag: Tag = "blockquote";
  const options: AnswerViewOptions = { cursor: true };
  void [r1, r2, r3, r4, tag, options];
}

// ---------------------------------------------------------------------------
// Part 3: wrong usage is rejected.
{
  const view = new AnswerView(document.body);
  // @ts-expect-error a container is required
  new AnswerView();
  // @ts-expect-error not an element
  new AnswerView("#answer");
  // @ts-expect-error `cursor` is a boolean
  new AnswerView(document.body, { cursor: "yes" });
  // @ts-expect-error not a tag of the subset
  view.push({ kind: "open", tag: "script", raw: "" });
  // @ts-expect-error not a segment kind
  view.push({ kind: "html", text: "<b>" });
  // @ts-expect-error alignment is left, center or right
  view.push({ kind: "open", tag: "td", raw: "", attrs: { align: "justify" } });
  // @ts-expect-error the resolution is required
  view.citations([]);
}
