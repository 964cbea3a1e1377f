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
export function done(messageId, processingMs, tokenCount) { return { messageId, processingMs, tokenCount }; }
export function unbacked(segmentIndex, entry) { return { segmentIndex, ...entry }; }
export function resolution(matches, unbacked) { return { matches, unbacked }; }
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
export function takeThrown(state) { const e = state.thrown; state.thrown = undefined; return e; }
