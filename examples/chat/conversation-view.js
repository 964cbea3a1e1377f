// Rendering of the conversation: questions, answers, citation badges.
// Knows nothing about the network. Model text only enters the DOM as text
// nodes or textContent, never as HTML.

// ---------------------------------------------------------------------------
// Citation matching

function normaliseSpeaker(speaker) {
  return String(speaker ?? "").normalize("NFC").replace(/\s+/g, " ").trim().toLocaleLowerCase();
}

function timestampSeconds(timestamp) {
  const parts = String(timestamp ?? "").split(":").map(Number);
  if (parts.length < 2 || parts.length > 3 || parts.some((n) => !Number.isInteger(n))) return NaN;
  return parts.reduce((total, n) => total * 60 + n, 0);
}

/** The source in `sources` that backs one inline entry, matched by timestamp + speaker. */
function findSource(entry, sources) {
  if (entry.timestamp === undefined || entry.speaker === undefined) return null;
  const speaker = normaliseSpeaker(entry.speaker);
  const seconds = Number.isFinite(entry.seconds) ? entry.seconds : timestampSeconds(entry.timestamp);
  return (
    sources.find((source) => {
      if (normaliseSpeaker(source.speaker) !== speaker) return false;
      if (source.timestamp === entry.timestamp) return true;
      const sourceSeconds = Number.isFinite(source.seconds) ? source.seconds : timestampSeconds(source.timestamp);
      return Number.isFinite(seconds) && sourceSeconds === seconds;
    }) ?? null
  );
}

// ---------------------------------------------------------------------------
// Rendering

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The list of messages in #messages. Knows nothing about the network. */
export class ConversationView {
  constructor(container) {
    this.container = container;
  }

  /** Empties the list and shows `emptyText` (a new chat, or why nothing loaded). */
  clear(emptyText = "Ask a question about your recorded calls to begin.") {
    this.container.replaceChildren(el("p", "messages-empty", emptyText));
  }

  /**
   * Renders a stored session: `messages` as `GET /api/sessions/{id}/messages`
   * returns them. `splitAnswer(text)` cuts an answer's text into the same
   * segments a live stream gives, plus the unfinished citation the library
   * would still hold at its end (app.js uses the package's CitationBuffer).
   */
  renderHistory(messages, splitAnswer) {
    this.container.replaceChildren();
    for (const message of messages) {
      if (message.role === "user") {
        this.addQuestion(String(message.text ?? ""));
        continue;
      }
      const failed = message.error ? storedError(message.error) : null;
      const answer = this.addAnswer({ state: failed ? "error" : message.stopped ? "stopped" : "done" });
      answer.setMessageId(message.id);
      const { segments, unfinished } = splitAnswer(String(message.text ?? ""));
      for (const segment of segments) answer.appendSegment(segment);
      // A stopped answer can end inside a citation; that half citation is
      // not shown (the stored text keeps it). Any other ending shows it as
      // text, as a live stream releases it then.
      if (message.stopped && !failed) answer.setUnfinished(unfinished);
      else answer.appendText(unfinished, { raw: true });
      const sources = Array.isArray(message.citations) ? message.citations : [];
      if (failed) {
        // As a live failure shows it: the partial text, then the error in place.
        if (sources.length > 0) answer.applyCitations(sources);
        answer.markSourcesUnknown();
        answer.showError(failed);
      } else if (message.stopped) {
        // The server saves with a stopped answer the sources its text cited.
        if (Array.isArray(message.citations)) answer.applyCitations(sources);
        else answer.markSourcesUnknown();
        answer.setNote(
          message.streaming
            ? "Still being answered: reload once it is done to see it"
            : answer.renderedText
              ? "Stopped"
              : "Stopped before any answer arrived",
        );
      } else {
        answer.applyCitations(sources);
      }
    }
    if (messages.length === 0) this.clear("This session has no messages yet.");
  }

  addQuestion(text) {
    this.container.querySelector(".messages-empty")?.remove();
    const message = el("article", "message message-user");
    message.dataset.role = "user";
    message.append(el("p", "message-text", text));
    this.container.append(message);
    return message;
  }

  /** Adds an empty answer; history rendering can pass state "done", "stopped" or "error". */
  addAnswer({ state = "streaming" } = {}) {
    const answer = new AnswerView(state);
    this.container.append(answer.root);
    return answer;
  }
}

/**
 * The error a live stream reports for the server's `error` event (a
 * StreamError with code `server`), rebuilt from a stored answer's
 * `{ code, message }`, so that showError renders both the same way.
 */
function storedError({ code, message }) {
  const error = new Error(String(message ?? "") || "The answer failed");
  error.name = "StreamError";
  error.code = "server";
  if (code !== undefined) error.serverCode = String(code);
  return error;
}

/** One assistant answer: text, badges, final state. */
class AnswerView {
  constructor(state) {
    this.root = el("article", "message answer");
    this.root.dataset.role = "assistant";
    this.body = el("div", "answer-body");
    this.note = el("p", "answer-note");
    this.root.append(this.body, this.note);
    /** Raw text of every segment rendered so far, in order. */
    this.renderedText = "";
    this.segmentCount = 0;
    this.sources = null;
    this.setState(state);
  }

  setState(state) {
    this.root.dataset.state = state;
    this.root.setAttribute("aria-busy", String(state === "streaming"));
  }

  get state() {
    return this.root.dataset.state;
  }

  setMessageId(messageId) {
    if (messageId) this.root.dataset.messageId = messageId;
  }

  appendSegment(segment) {
    this.segmentCount += 1;
    this.renderedText += segment.text ?? "";
    const entries = segment.kind === "citation" && Array.isArray(segment.citations) ? segment.citations : [];
    if (entries.length === 0) {
      this.appendText(segment.text ?? "");
      return;
    }
    // One element per citation segment keeps its raw text (`[12:45, A; 14:02, B]`);
    // inside it, one badge per cited entry.
    const group = el("span", "citation");
    group.dataset.raw = segment.text ?? "";
    for (const entry of entries) {
      const badge = createBadge(entry, segment.text);
      if (this.sources) markBadge(badge, this.sources);
      group.append(badge);
    }
    this.body.append(group);
  }

  /** Appends plain text; `raw: true` also counts it in `renderedText` (appendSegment does that itself). */
  appendText(text, { raw = false } = {}) {
    if (!text) return;
    if (raw) this.renderedText += text;
    const last = this.body.lastChild;
    if (last && last.nodeType === Node.TEXT_NODE) last.appendData(text);
    else this.body.append(document.createTextNode(text));
  }

  /**
   * Renders whatever `finished` holds beyond what the callbacks already
   * delivered, up to `end` characters of its text (all of it by default).
   */
  reconcile(result, end = Infinity) {
    const text = typeof result.text === "string" ? result.text.slice(0, end) : "";
    if (text.length <= this.renderedText.length || !text.startsWith(this.renderedText)) return;
    const segments = Array.isArray(result.segments) ? result.segments : [];
    let offset = 0;
    let index = 0;
    while (index < segments.length && offset < this.renderedText.length) {
      offset += (segments[index].text ?? "").length;
      index += 1;
    }
    if (offset === this.renderedText.length) {
      for (const segment of segments.slice(index)) {
        if (this.renderedText.length + (segment.text ?? "").length > text.length) break;
        this.appendSegment(segment);
      }
    }
    if (this.renderedText.length < text.length) this.appendText(text.slice(this.renderedText.length), { raw: true });
  }

  /**
   * The answer's text is its first `keep` characters followed by
   * `unfinished`, an unfinished citation that is not shown. Whatever of it
   * is on screen already as text (a citation held past the library's
   * timeout is released as text) is taken off the end. The answer keeps it
   * as `data-unfinished-citation`, so the rendered text followed by that
   * attribute is the whole text.
   */
  setUnfinished(unfinished, keep = this.renderedText.length) {
    if (!unfinished) {
      delete this.root.dataset.unfinishedCitation;
      return;
    }
    this.root.dataset.unfinishedCitation = unfinished;
    let extra = this.renderedText.length - keep;
    while (extra > 0 && this.body.lastChild?.nodeType === Node.TEXT_NODE) {
      const node = this.body.lastChild;
      const cut = Math.min(extra, node.length);
      node.deleteData(node.length - cut, cut);
      if (node.length === 0) node.remove();
      this.renderedText = this.renderedText.slice(0, this.renderedText.length - cut);
      extra -= cut;
    }
  }

  applyCitations(sources) {
    this.sources = Array.isArray(sources) ? sources : [];
    for (const badge of this.badges()) markBadge(badge, this.sources);
  }

  /** Badges whose sources never arrived (stopped or failed answers). */
  markSourcesUnknown() {
    for (const badge of this.badges()) {
      if (badge.dataset.match === "pending") badge.dataset.match = "unknown";
    }
  }

  badges() {
    return this.body.querySelectorAll(".badge");
  }

  setNote(text) {
    this.note.textContent = text;
  }

  showError(error) {
    const box = el("p", "answer-error");
    box.setAttribute("role", "alert");
    const message = error?.message || String(error ?? "Unknown error");
    box.append(document.createTextNode(message));
    const serverMessage = error?.body?.error?.message ?? error?.error?.message;
    if (serverMessage && serverMessage !== message) {
      box.append(document.createTextNode(` — ${serverMessage}`));
    }
    const details = [error?.code, error?.status].filter((part) => part !== undefined && part !== "");
    if (details.length > 0) {
      box.append(document.createTextNode(" "), el("code", "", `(${details.join(" ")})`));
    }
    if (error?.code) this.root.dataset.errorCode = String(error.code);
    this.root.append(box);
  }

  /** The answer as read aloud: text, and each badge as its label. */
  plainText() {
    return this.body.textContent;
  }
}

/** Live data for the popover, by badge. */
const badgeSources = new WeakMap();

function createBadge(entry, rawText) {
  const badge = el("button", "badge");
  badge.type = "button";
  badge.dataset.raw = rawText ?? "";
  badge.dataset.match = "pending";
  let label;
  if (entry.timestamp !== undefined) {
    badge.dataset.timestamp = entry.timestamp;
    badge.dataset.speaker = entry.speaker ?? "";
    if (entry.seconds !== undefined) badge.dataset.seconds = String(entry.seconds);
    label = `${entry.timestamp} · ${entry.speaker ?? ""}`;
  } else if (entry.number !== undefined) {
    badge.dataset.number = String(entry.number);
    label = String(entry.number);
  } else {
    label = rawText ?? "";
  }
  badge.append(el("span", "badge-label", label));
  return badge;
}

/** Shows, in the badge itself, that no source backs it (not only by colour). */
function setUnbacked(badge, unbacked) {
  badge.classList.toggle("unbacked", unbacked);
  const flag = badge.querySelector(".badge-flag");
  if (unbacked && !flag) badge.append(el("span", "badge-flag", "no source"));
  if (!unbacked) flag?.remove();
}

function markBadge(badge, sources) {
  if (badge.dataset.timestamp === undefined) {
    badge.dataset.match = "unknown";
    return;
  }
  const source = findSource(
    {
      timestamp: badge.dataset.timestamp,
      speaker: badge.dataset.speaker,
      seconds: badge.dataset.seconds === undefined ? undefined : Number(badge.dataset.seconds),
    },
    sources,
  );
  if (source) {
    badgeSources.set(badge, source);
    badge.dataset.match = "matched";
    if (source.id !== undefined) badge.dataset.sourceId = String(source.id);
    if (source.conversationId !== undefined) badge.dataset.conversationId = String(source.conversationId);
    setUnbacked(badge, false);
  } else {
    badgeSources.delete(badge);
    badge.dataset.match = "unbacked";
    delete badge.dataset.sourceId;
    delete badge.dataset.conversationId;
    setUnbacked(badge, true);
  }
}

/** The source a badge was matched to, if any. */
export function sourceOf(badge) {
  return badgeSources.get(badge);
}
