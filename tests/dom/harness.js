// In-page helpers of the AnswerView tests (loaded by page.html as the global
// `harness`): segment builders following API.md, frames, and a record of the
// DOM mutations made inside and outside animation frames.

/** Markdown segments as the segmenter emits them; `raw` is what the source would have had. */
export const open = (tag, attrs, raw = "") => (attrs ? { kind: "open", tag, raw, attrs } : { kind: "open", tag, raw });
export const close = (tag, raw = "") => ({ kind: "close", tag, raw });
export const text = (value, raw = value) => ({ kind: "text", text: value, raw });
export const cite = (value, citations, raw = value) => ({ kind: "citation", text: value, raw, citations });
/** Flat segments (`markdown: false`): no `raw`. */
export const flatText = (value) => ({ kind: "text", text: value });
export const flatCite = (value, citations) => ({ kind: "citation", text: value, citations });

export const stamp = (timestamp, speaker) => {
  const [m, s] = timestamp.split(":").map(Number);
  return { timestamp, seconds: m * 60 + s, speaker };
};

/** `[open tag, ...inner, close tag]`. */
export const wrap = (tag, inner, attrs) => [open(tag, attrs), ...inner, close(tag)];

// Taken at load, so that a test that wraps window.requestAnimationFrame to
// watch the view's own frame callbacks does not see the harness's.
const requestFrame = window.requestAnimationFrame.bind(window);

/** Resolves in the next animation frame, after the callbacks requested before it. */
export const nextFrame = () => new Promise((ok) => requestFrame(() => ok()));

/** Resolves in a later task (not a microtask, not a frame). */
export const nextTask = () =>
  new Promise((ok) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => ok();
    channel.port2.postMessage(null);
  });

/** A fresh container in the page. */
export function container() {
  const element = document.createElement("div");
  element.className = "answer";
  document.body.append(element);
  return element;
}

/** Renders `segments` into a new container in one go, ends, waits for the frame; returns the container. */
export async function render(segments, options) {
  const element = container();
  const view = new AnswerView(element, options);
  for (const segment of segments) view.push(segment);
  view.end();
  await nextFrame();
  return element;
}

/** The container's HTML, the way the assertions spell it. */
export const html = (element) => element.innerHTML;

/** The depth of the deepest element under `element` (`element` itself is 0). */
export function depth(element) {
  let max = 0;
  for (const child of element.children) max = Math.max(max, 1 + depth(child));
  return max;
}

/**
 * Watches every mutation under `element`. `take()` returns the records since
 * the last call, each as `{ type, target, added, removed }` with node
 * references.
 */
export function watch(element) {
  const observer = new MutationObserver(() => {});
  observer.observe(element, { subtree: true, childList: true, characterData: true, attributes: true });
  return {
    take: () =>
      observer.takeRecords().map((r) => ({ type: r.type, target: r.target, added: [...r.addedNodes], removed: [...r.removedNodes], attribute: r.attributeName })),
    stop: () => observer.disconnect(),
  };
}
