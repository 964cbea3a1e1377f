// `cite-stream/dom`: builds an answer's DOM from segments as they arrive,
// flat (`{ kind: "text" | "citation" }`) or Markdown (`open`, `close`,
// `text`, `citation`, API.md "Markdown-aware segments"). Plain JS over plain
// objects: it does not import the wasm module, so segments may come from any
// source.
//
// Why it stays flat however long the answer grows: the view keeps the stack
// of open elements and the text node being written, so a text segment is an
// `appendData` on that node and an `open` is one `createElement` appended to
// the innermost element. Nothing already shown is read, parsed or rendered
// again. Writes wait for the next animation frame, where every segment
// pushed since the last one is applied in one pass (consecutive text joined
// into one `appendData`).
//
// Defensive, since segments may come from anywhere: only the tags of the
// Markdown subset become elements (anything else is transparent: its content
// goes into the enclosing element); a `close` closes the innermost open
// element of its tag and every element opened inside it, as an HTML parser
// recovers from a missing end tag, and a `close` with no open element of its
// tag is ignored; elements nest at most MAX_DEPTH deep, deeper `open`s are
// transparent; text only ever enters through text nodes; `href` is set only
// for http:, https:, mailto: and relative URLs.

/** The elements a Markdown segment may open (API.md `Tag`). */
const TAGS = new Set([
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "hr", "br",
  "strong", "em", "del", "a", "table", "thead", "tbody", "tr", "th", "td",
]);
/** Opened and closed at once: never on the stack, so text cannot go into them. */
const VOID = new Set(["hr", "br"]);
/** Elements that hold only other elements: never the cursor's place. */
const STRUCTURAL = new Set(["ul", "ol", "table", "thead", "tbody", "tr"]);
const ALIGN = new Set(["left", "center", "right"]);
const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);
/** Elements nested deeper than this (the core's own limits are 32 blocks and 16 inlines) stay out of the DOM. */
const MAX_DEPTH = 64;

const frame = (callback) =>
  typeof requestAnimationFrame === "function" ? requestAnimationFrame(callback) : setTimeout(callback, 16);
const cancelFrame = (id) => (typeof cancelAnimationFrame === "function" ? cancelAnimationFrame(id) : clearTimeout(id));

/**
 * Whether `href` may be a link target: its scheme, as the browser's own URL
 * parser reads it (which drops tabs and newlines and ignores case, so
 * `JaVa\tScRipt:` is still javascript:), is http, https or mailto, or it has
 * none (relative, resolved here against a placeholder https base).
 */
function safeHref(href) {
  if (typeof href !== "string") return false;
  try {
    return SAFE_PROTOCOLS.has(new URL(href, "https://relative.invalid/").protocol);
  } catch {
    return false;
  }
}

/** The accessible name of one citation entry: "Source: Sarah Johnson at 12:45", "Source 3". */
function entryName(entry) {
  if (entry && typeof entry.number === "number") return `Source ${entry.number}`;
  if (entry && typeof entry.timestamp === "string") return `Source: ${entry.speaker ?? ""} at ${entry.timestamp}`;
  return "Source";
}

/** What a badge shows: "12:45 · Sarah Johnson", "3". */
function entryLabel(entry, fallback) {
  if (entry && typeof entry.number === "number") return String(entry.number);
  if (entry && typeof entry.timestamp === "string") return `${entry.timestamp} · ${entry.speaker ?? ""}`;
  return fallback;
}

const sameEntry = (a, b) =>
  typeof b.number === "number" ? a.number === b.number : a.timestamp === b.timestamp && a.speaker === b.speaker;

/**
 * The default badge of a citation segment: a `span.cs-citation` keeping the
 * bracket text in `data-raw`, holding one focusable `button.cs-badge` per
 * cited entry.
 */
function defaultBadge(segment, entries) {
  const group = document.createElement("span");
  group.className = "cs-citation";
  group.dataset.raw = segment.text;
  const buttons = [];
  for (const entry of entries) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cs-badge";
    button.dataset.state = "pending";
    button.setAttribute("aria-label", entryName(entry));
    if (typeof entry?.number === "number") button.dataset.number = String(entry.number);
    if (typeof entry?.timestamp === "string") {
      button.dataset.timestamp = entry.timestamp;
      button.dataset.speaker = entry.speaker ?? "";
      if (typeof entry.seconds === "number") button.dataset.seconds = String(entry.seconds);
    }
    button.append(entryLabel(entry, segment.text));
    group.append(button);
    buttons.push(button);
  }
  if (entries.length === 0) group.append(segment.text);
  return { element: group, buttons };
}

/** The hover text of a backed entry: who, when, in which conversation, and the quote. */
function sourceTitle(source) {
  const head = [source.speaker && source.timestamp ? `${source.speaker} at ${source.timestamp}` : "", source.conversationTitle]
    .filter(Boolean)
    .join(", ");
  return source.quote ? `${head}\n“${source.quote}”` : head;
}

/** Renders an answer's segments into `container`, which it owns. See js/dom.d.ts. */
export class AnswerView {
  #container;
  #cursor;
  #citation;
  /** Open elements, innermost last: `{ tag, into }` (`into` is where its content goes; `code` for `pre`). */
  #stack;
  /** The text node text segments are appended to, or null when the next text needs a new one. */
  #text = null;
  /** Text waiting to be written into the innermost element. */
  #pendingText = "";
  /** Segments pushed since the last pass. */
  #queue = [];
  #frame = 0;
  /** "fresh" (nothing shown yet: the next pass starts the answer), "streaming", "ended". */
  #state = "fresh";
  #reset = false;
  /** One record per citation segment, by its index among them: `{ element, buttons, entries }`. */
  #badges = [];
  #resolution = null;
  #resolutionDirty = false;

  constructor(container, { cursor = true, citation } = {}) {
    if (!container || typeof container.appendChild !== "function") throw new TypeError("AnswerView needs a container element");
    this.#container = container;
    this.#citation = typeof citation === "function" ? citation : null;
    if (cursor) {
      this.#cursor = document.createElement("span");
      this.#cursor.className = "cs-cursor";
      this.#cursor.setAttribute("aria-hidden", "true");
    }
    this.#stack = [{ tag: "", into: container }];
    this.#schedule();
  }

  /** Queues one segment of any kind, flat or Markdown; shown at the next frame. */
  push(segment) {
    if (segment === null || typeof segment !== "object") return;
    this.#queue.push(segment);
    this.#schedule();
  }

  /**
   * The `onCitations` arguments: marks each badge resolved (its title the
   * matching source) or unbacked.
   */
  citations(citations, resolution) {
    this.#resolution = resolution && typeof resolution === "object" ? resolution : { matches: [], unbacked: [] };
    this.#resolutionDirty = true;
    this.#schedule();
  }

  /** The answer is over: the cursor and `aria-busy` go at the next frame. */
  end() {
    this.#state = "ended";
    this.#schedule();
  }

  /** Empties the container at the next frame and starts again, as a new view would. */
  clear() {
    this.#queue = [];
    this.#pendingText = "";
    this.#reset = true;
    this.#state = "fresh";
    this.#resolution = null;
    this.#resolutionDirty = false;
    this.#schedule();
  }

  /** Applies every pending write now instead of at the next frame (tests, or before measuring the DOM). */
  flush() {
    if (this.#frame) cancelFrame(this.#frame);
    this.#pass();
  }

  #schedule() {
    if (!this.#frame) this.#frame = frame(() => this.#pass());
  }

  /** The one DOM pass of a frame. */
  #pass() {
    this.#frame = 0;
    if (this.#reset) {
      this.#reset = false;
      this.#container.replaceChildren();
      this.#stack = [{ tag: "", into: this.#container }];
      this.#text = null;
      this.#badges = [];
    }
    const queue = this.#queue;
    this.#queue = [];
    for (const segment of queue) this.#apply(segment);
    this.#writeText();
    if (this.#resolutionDirty) {
      this.#resolutionDirty = false;
      this.#badges.forEach((badge, index) => this.#mark(badge, index));
    }
    if (this.#state === "fresh") this.#state = "streaming";
    const streaming = this.#state === "streaming";
    if (streaming !== (this.#container.getAttribute("aria-busy") === "true")) {
      if (streaming) this.#container.setAttribute("aria-busy", "true");
      else this.#container.removeAttribute("aria-busy");
    }
    if (this.#cursor) {
      if (!streaming) this.#cursor.remove();
      else {
        // Between the items of a list or the cells of a table the cursor
        // stays where it was (at the end of the last one) until the next
        // one opens, rather than jumping out and back.
        const top = this.#stack[this.#stack.length - 1];
        const target = STRUCTURAL.has(top.tag) ? (this.#cursor.parentNode ? null : this.#cursorTarget()) : top.into;
        if (target && this.#cursor.parentNode !== target) target.appendChild(this.#cursor);
      }
    }
  }

  #apply(segment) {
    switch (segment.kind) {
      case "text":
        if (typeof segment.text === "string") this.#pendingText += segment.text;
        return;
      case "citation":
        this.#writeText();
        this.#badge(segment);
        return;
      case "open":
        this.#writeText();
        this.#open(segment.tag, segment.attrs);
        return;
      case "close":
        this.#writeText();
        this.#close(segment.tag);
        return;
      default:
      // A kind this version does not know: nothing to show.
    }
  }

  /** Inserts `node` as the last child of `parent`, before the cursor when the cursor is there. */
  #insert(parent, node) {
    parent.insertBefore(node, this.#cursor?.parentNode === parent ? this.#cursor : null);
  }

  #writeText() {
    if (!this.#pendingText) return;
    if (this.#text) this.#text.appendData(this.#pendingText);
    else {
      this.#text = document.createTextNode(this.#pendingText);
      this.#insert(this.#stack[this.#stack.length - 1].into, this.#text);
    }
    this.#pendingText = "";
  }

  #open(tag, attrs) {
    const top = this.#stack[this.#stack.length - 1];
    if (!TAGS.has(tag) || this.#stack.length > MAX_DEPTH) {
      if (!VOID.has(tag)) this.#stack.push({ tag, into: top.into });
      return;
    }
    // `pre` made its `code` at once (so that text reaching `pre` directly
    // still lands in `code`): the segmenter's own `open code` takes it over.
    if (tag === "code" && top.tag === "pre" && top.code) {
      this.#stack.push({ tag, into: top.code });
      top.code = null;
      return;
    }
    const element = document.createElement(tag);
    const entry = { tag, into: element };
    const a = attrs && typeof attrs === "object" ? attrs : {};
    if (tag === "a") {
      if (safeHref(a.href)) element.setAttribute("href", a.href);
      element.rel = "noopener noreferrer";
    } else if (tag === "ol") {
      if (Number.isSafeInteger(a.start) && a.start >= 0 && a.start !== 1) element.start = a.start;
    } else if (tag === "th" || tag === "td") {
      if (ALIGN.has(a.align)) element.style.textAlign = a.align;
    } else if (tag === "pre") {
      const code = document.createElement("code");
      const lang = typeof a.lang === "string" ? a.lang.trim().split(/\s/)[0].replace(/[^\w+#.-]/g, "") : "";
      if (lang) code.className = `language-${lang}`;
      element.append(code);
      entry.into = entry.code = code;
    }
    this.#insert(top.into, element);
    this.#text = null;
    if (!VOID.has(tag)) this.#stack.push(entry);
  }

  #close(tag) {
    for (let i = this.#stack.length - 1; i > 0; i--) {
      if (this.#stack[i].tag === tag) {
        this.#stack.length = i;
        this.#text = null;
        return;
      }
    }
    // No open element of this tag (a void tag's close among them): nothing to close.
  }

  #badge(segment) {
    const entries = Array.isArray(segment.citations) ? segment.citations : [];
    const text = typeof segment.text === "string" ? segment.text : "";
    let record;
    let custom = null;
    try {
      custom = this.#citation?.(segment, entries);
    } catch (error) {
      // The app's badge failed: the default one stands in, and the error is
      // reported without ending this pass (the other segments still show).
      queueMicrotask(() => {
        throw error;
      });
    }
    if (custom && typeof custom === "object" && typeof custom.nodeType === "number") record = { element: custom, buttons: null };
    else record = defaultBadge({ text }, entries);
    record.entries = entries;
    this.#insert(this.#stack[this.#stack.length - 1].into, record.element);
    this.#text = null;
    this.#badges.push(record);
    if (this.#resolution) this.#mark(record, this.#badges.length - 1);
  }

  /**
   * Marks the badge of the `index`-th citation segment from the resolution:
   * its entries, in order, take the sources `matches[index]` lists, except
   * those `unbacked` names.
   */
  #mark(record, index) {
    const resolution = this.#resolution;
    const matches = Array.isArray(resolution.matches?.[index]) ? resolution.matches[index] : [];
    const unbacked = (Array.isArray(resolution.unbacked) ? resolution.unbacked : []).filter((u) => u?.segmentIndex === index);
    let next = 0;
    let backed = 0;
    record.entries.forEach((entry, i) => {
      const missing = unbacked.findIndex((u) => sameEntry(u, entry ?? {}));
      const source = missing < 0 ? matches[next++] : undefined;
      if (missing >= 0) unbacked.splice(missing, 1);
      if (source) backed += 1;
      const button = record.buttons?.[i];
      if (!button) return;
      button.dataset.state = source ? "resolved" : "unbacked";
      button.title = source ? sourceTitle(source) : "No source found for this citation";
      button.setAttribute("aria-label", source ? entryName(entry) : `${entryName(entry)} (no source found)`);
    });
    const element = record.element;
    if (element.nodeType === 1) {
      const entries = record.entries.length;
      element.setAttribute("data-state", backed === entries ? "resolved" : backed === 0 ? "unbacked" : "partial");
    }
  }

  /** The innermost open element that is not a list or a table part (the first pass may open one). */
  #cursorTarget() {
    for (let i = this.#stack.length - 1; i > 0; i--) {
      if (!STRUCTURAL.has(this.#stack[i].tag)) return this.#stack[i].into;
    }
    return this.#container;
  }
}
