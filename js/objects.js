// The JS objects the wasm shell hands to callers, each built by one call
// across the boundary (src/wasm/convert.rs imports these), and the loop
// that delivers a batch of segments to `onSegment` without crossing back
// per segment.
//
// Segments cross in one form: one string, the UTF-16 offsets where each
// segment ends in it, the indexes of the citation segments and, for each,
// the array of its entries.
export function stampEntry(timestamp, seconds, speaker) { return { timestamp, seconds, speaker }; }
export function numberEntry(number) { return { number }; }
export function source(id, conversationId, conversationTitle, timestamp, seconds, speaker, quote) {
  return { id, conversationId, conversationTitle, timestamp, seconds, speaker, quote };
}
export function session(sessionId, messageId) { return { sessionId, messageId }; }
export function status(message) { return { message }; }
export function reconnect(attempt, lastEventId, delayMs) { return { attempt, lastEventId, delayMs }; }
export function done(messageId, processingMs, tokenCount) { return { messageId, processingMs, tokenCount }; }
export function unbacked(segmentIndex, entry) { return { segmentIndex, ...entry }; }
export function resolution(matches, unbacked) { return { matches, unbacked }; }
/** A stream's `finished` promise and the function that resolves it. */
export function settlement() {
  let resolve;
  const promise = new Promise((found) => { resolve = found; });
  return [promise, resolve];
}
/** What `finished` resolves to; `error` is left out when there is none. */
export function result(sessionId, messageId, text, segments, citations, status, error) {
  const value = { sessionId, messageId, text, segments, citations, status };
  if (error !== undefined) value.error = error;
  return value;
}

/** The segment at `i` of a batch: text from `start` to `end`, cited or not. */
function segmentAt(text, start, end, citation) {
  const piece = text.slice(start, end);
  return citation === undefined ? { kind: "text", text: piece } : { kind: "citation", text: piece, citations: citation };
}

/** The segments of a batch, as an array. */
export function segmentsOf(text, ends, citationAt, citationEntries) {
  const out = new Array(ends.length);
  for (let i = 0, c = 0, start = 0; i < ends.length; start = ends[i++]) {
    out[i] = segmentAt(text, start, ends[i], citationAt[c] === i ? citationEntries[c++] : undefined);
  }
  return out;
}

/**
 * Calls `callback` with each segment of a batch, in order, until
 * `state.closed` is set; returns the index of the call that threw (its
 * exception kept in `state.thrown`), or -1.
 */
export function deliverBatch(text, ends, citationAt, citationEntries, callback, thisArg, state) {
  for (let i = 0, c = 0, start = 0; i < ends.length; start = ends[i++]) {
    if (state.closed) return -1;
    const segment = segmentAt(text, start, ends[i], citationAt[c] === i ? citationEntries[c++] : undefined);
    try {
      callback.call(thisArg, segment);
    } catch (error) {
      state.thrown = error;
      return i;
    }
  }
  return -1;
}
// Markdown segments cross as one string and a list of numbers that says
// how to cut it (src/wasm/markdown.rs describes the form).
const TAGS = [
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "hr", "br",
  "strong", "em", "del", "a", "table", "thead", "tbody", "tr", "th", "td",
];
const ALIGN = [undefined, "left", "center", "right"];

/** The Markdown segments packed in `text` and `codes`, as an array. */
export function markdownOf(text, codes, entries) {
  const out = [];
  let at = 0;
  const take = (length) => text.slice(at, (at += length));
  for (let c = 0, e = 0; c < codes.length; ) {
    const head = codes[c++];
    const kind = head & 3;
    const tag = TAGS[(head >> 2) & 31];
    if (kind === 0) {
      const segment = { kind: "open", tag, raw: take(codes[c++]) };
      if (head & 0xf80) {
        const attrs = {};
        if (head & 0x80) attrs.href = take(codes[c++]);
        if (head & 0x100) attrs.lang = take(codes[c++]);
        if (head & 0x200) attrs.start = codes[c++];
        if (head & 0xc00) attrs.align = ALIGN[(head >> 10) & 3];
        segment.attrs = attrs;
      }
      out.push(segment);
    } else if (kind === 1) {
      out.push({ kind: "close", tag, raw: take(codes[c++]) });
    } else if (kind === 2) {
      const shown = take(codes[c++]);
      out.push({ kind: "text", text: shown, raw: head & 0x80 ? take(codes[c++]) : shown });
    } else {
      const shown = take(codes[c++]);
      out.push({ kind: "citation", text: shown, raw: shown, citations: entries[e++] });
    }
  }
  return out;
}

/** `deliverBatch` for Markdown segments. */
export function deliverMarkdown(text, codes, entries, callback, thisArg, state) {
  const segments = markdownOf(text, codes, entries);
  for (let i = 0; i < segments.length; i++) {
    if (state.closed) return -1;
    try {
      callback.call(thisArg, segments[i]);
    } catch (error) {
      state.thrown = error;
      return i;
    }
  }
  return -1;
}
export function takeThrown(state) { const e = state.thrown; state.thrown = undefined; return e; }
