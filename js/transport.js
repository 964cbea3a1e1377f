// The platform calls of one stream, made when the wasm shell asks for them
// (src/wasm/chat/transport.rs and timers.rs import these): the POST, each
// read of the body, timers and the caller's signal. Each reports its outcome
// with one synchronous call on `port`, the stream's own ChatStream object
// (`onResponse`, `onChunk`, `onEnd`, `onFailure`, `onTimer`, `onAbort`), so
// the shell needs no future and no closure, and decides everything itself.
import { streamError, httpError } from "./stream-error.js";

const quietly = () => {};

/**
 * The URL of one answer's own route under the chat endpoint `url`:
 * `{url}/{messageId}/{action}`, before any query or fragment
 * (`/api/chat?x=1` gives `/api/chat/m_1/stream?x=1`).
 */
export function answerUrl(url, messageId, action) {
  const text = String(url);
  const cut = text.search(/[?#]/);
  const [path, rest] = cut < 0 ? [text, ""] : [text.slice(0, cut), text.slice(cut)];
  return `${path.replace(/\/+$/, "")}/${encodeURIComponent(messageId)}/${action}${rest}`;
}

/**
 * POSTs `body` to `url`, or, when `messageId` is given, GETs the answer's
 * resume route with `Last-Event-ID` (when `lastEventId` is given), and
 * reports the response (or the failure, as a `network` StreamError). The
 * defaults for `content-type` and `accept` give way to the caller's headers.
 * The response's `Cite-Stream-Message-Id` header, when the server sends
 * one, names the answer before its `session` event is read.
 * A redirect is only followed when asked: following a 307 or 308 sends the
 * POST again, to wherever the server said; "manual" rather than "error" so
 * that the redirect itself is reported (a browser shows it as an opaque
 * response of status 0). Returns the fetch's AbortController.
 */
export function send(port, url, body, headers, followRedirects, messageId, lastEventId) {
  const controller = new AbortController();
  // In the executor, a bad `headers` is a rejection like any other.
  new Promise((resolve) => {
    const all = new Headers(headers ?? undefined);
    if (!all.has("accept")) all.set("accept", "text/event-stream");
    const resume = messageId !== undefined;
    if (resume) {
      if (lastEventId !== undefined) all.set("last-event-id", lastEventId);
    } else if (!all.has("content-type")) {
      all.set("content-type", "application/json");
    }
    resolve(fetch(resume ? answerUrl(url, messageId, "stream") : url, {
      method: resume ? "GET" : "POST",
      headers: all,
      body: resume ? undefined : body,
      signal: controller.signal,
      redirect: followRedirects ? "follow" : "manual",
    }));
  }).then(
    (response) =>
      port.onResponse(
        response,
        response.status,
        response.headers.get("content-type") ?? "",
        response.headers.get("cite-stream-message-id") ?? undefined,
      ),
    (error) => port.onFailure(streamError("network", error)),
  );
  return controller;
}

/** Aborts the fetch: its pending promise, whichever it is, rejects. */
export function abort(controller) {
  controller.abort();
}

/** A response that is not the stream: its `http` error, once its body is read. */
export function refuse(port, response) {
  response.text().then(
    (text) => port.onFailure(httpError(response, text), response.status),
    () => port.onFailure(httpError(response, null), response.status),
  );
}

/** A reader of the response's body, or undefined when it has none. */
export function bodyReader(response) {
  return response.body?.getReader();
}

/** Reads the next chunk of the body. */
export function read(port, reader) {
  reader.read().then(
    ({ done, value }) => (done ? port.onEnd() : port.onChunk(value)),
    (error) => port.onFailure(streamError("network", error)),
  );
}

/**
 * The answer is complete: cancels the rest of the body, then reports
 * `onEnd`. The report comes a few microtasks later, so that a callback's
 * promise that rejects at once (`onDone`'s, say) is still heard.
 */
export function close(port, reader) {
  reader.cancel().then(
    () => port.onEnd(),
    () => port.onEnd(),
  );
}

/**
 * Cancels a body or its reader, with the rejection handled: cancelling the
 * body of an aborted fetch rejects, and an unhandled rejection ends a Node
 * process.
 */
export function discard(body) {
  body?.cancel().catch(quietly);
}

/** Calls `port.onTimer(which)` after `delay` ms. */
export function startTimer(port, which, delay) {
  return setTimeout(() => port.onTimer(which), delay);
}

export function stopTimer(handle) {
  clearTimeout(handle);
}

/** Calls `port.onAbort(reason)` when the caller's signal fires. */
export function listen(port, signal) {
  const listener = () => port.onAbort(signal.reason);
  signal.addEventListener("abort", listener);
  return listener;
}

export function unlisten(signal, listener) {
  signal.removeEventListener("abort", listener);
}
