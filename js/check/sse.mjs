// A small WHATWG event-stream reader for the checker: whole events with
// their id, type and data, plus the longest silence between two chunks.
// The checker does not use the package's own parser: it judges a server by
// the standard, not by the client it tests servers for.

/**
 * Reads `response`'s body to its end (or until `until(event, events)`
 * returns true, which cancels the body). Resolves to
 * `{ events, comments, maxSilenceMs, complete }`; `complete` is false when
 * the body ended in the middle of an event or `until` stopped it.
 */
export async function readEvents(response, { until } = {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const events = [];
  let comments = 0;
  let pending = "";
  let lastCr = false;
  let event = fresh();
  let lastId = "";
  let last = performance.now();
  let maxSilenceMs = 0;
  let stopped = false;

  const line = (text) => {
    if (text === "") {
      if (event.data.length > 0) {
        const data = event.data.join("\n");
        events.push({ type: event.type || "message", data, id: lastId, at: performance.now() });
        if (until?.(events.at(-1), events)) stopped = true;
      }
      event = fresh();
      return;
    }
    if (text.startsWith(":")) {
      comments++;
      return;
    }
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") event.type = value;
    else if (field === "data") event.data.push(value);
    else if (field === "id" && !value.includes("\0")) lastId = value;
  };

  const feed = (text) => {
    let start = 0;
    for (let i = 0; i < text.length && !stopped; i++) {
      const c = text[i];
      if (c === "\n" && lastCr) {
        lastCr = false;
        start = i + 1;
        continue;
      }
      lastCr = false;
      if (c === "\n" || c === "\r") {
        line(pending + text.slice(start, i));
        pending = "";
        start = i + 1;
        lastCr = c === "\r";
      }
    }
    if (!stopped) pending += text.slice(start);
  };

  for (;;) {
    const { done, value } = await reader.read();
    const now = performance.now();
    maxSilenceMs = Math.max(maxSilenceMs, now - last);
    last = now;
    if (done) {
      feed(decoder.decode());
      break;
    }
    feed(decoder.decode(value, { stream: true }));
    if (stopped) {
      await reader.cancel().catch(() => {});
      break;
    }
  }
  const complete = !stopped && pending === "" && event.data.length === 0 && event.type === "";
  return { events, comments, maxSilenceMs, complete };
}

function fresh() {
  return { type: "", data: [] };
}
