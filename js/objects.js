// The JS objects the wasm shell hands to callers, each built by one call
// across the boundary (src/wasm/convert.rs imports these), and the loop
// that delivers a batch of segments to `onSegment` without crossing back
// per segment.
export function segment(citation, text, entries) {
  return citation ? { kind: 'citation', text, citations: entries } : { kind: 'text', text };
}
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
export function segmentsOf(text, ends, citationAt, citationEntries) {
  const out = new Array(ends.length);
  for (let i = 0, start = 0; i < ends.length; start = ends[i++]) {
    out[i] = { kind: 'text', text: text.slice(start, ends[i]) };
  }
  for (let j = 0; j < citationAt.length; j++) {
    out[citationAt[j]] = { kind: 'citation', text: out[citationAt[j]].text, citations: citationEntries[j] };
  }
  return out;
}
export function deliverBatch(text, ends, citationAt, citationEntries, callback, thisArg, state) {
  for (let i = 0, c = 0, start = 0; i < ends.length; start = ends[i++]) {
    if (state.closed) return -1;
    const piece = text.slice(start, ends[i]);
    const segment = c < citationAt.length && citationAt[c] === i
      ? { kind: 'citation', text: piece, citations: citationEntries[c++] }
      : { kind: 'text', text: piece };
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
