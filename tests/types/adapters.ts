// The adapter option and the custom Adapter's events type-check; wrong
// ones do not.
import { streamChat, type Adapter, type ProtocolEvent, type StreamError } from "cite-stream";

streamChat({ url: "/v1/chat/completions", body: {}, adapter: "openai-chat" });
streamChat({ url: "/v1/responses", body: {}, adapter: "openai-responses", markdown: true });
streamChat({ url: "/v1/messages", body: {}, adapter: "anthropic" });
streamChat({ url: "/api/chat", body: {}, adapter: "ai-sdk" });

const custom: Adapter = {
  event(e): ProtocolEvent[] {
    if (e.type === "piece") return [{ type: "token", data: JSON.parse(e.data).t as string }];
    if (e.type === "over") return [{ type: "done", data: {} }];
    if (e.type === "fail") return [{ type: "error", data: { code: "x", message: e.data } }];
    return [{ type: "session", data: { messageId: e.lastEventId } }];
  },
};
streamChat({
  url: "/chat",
  body: {},
  adapter: custom,
  onError(error: StreamError) {
    const format: string | undefined = error.format;
    const index: number | undefined = error.index;
    void [format, index];
  },
});

// @ts-expect-error not a preset
streamChat({ url: "/chat", body: {}, adapter: "openai" });
// @ts-expect-error a token's data is its text
const bad: ProtocolEvent = { type: "token", data: 5 };
void bad;

// The README's text-in sample.
import { createSegmenter, resolveCitations, type MarkdownSegment, type Citation, type CitationResolution } from "cite-stream";
const seen: MarkdownSegment[] = [];
const segmenter = createSegmenter({ citations: { timeoutMs: 1000 }, markdown: true, onSegment: (s) => seen.push(s) });
segmenter.push("text");
segmenter.end();
const sources: Citation[] = [];
const resolution: CitationResolution = resolveCitations(seen, sources);
void resolution.matches;
// @ts-expect-error push takes text
segmenter.push(5);
