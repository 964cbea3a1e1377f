// Rendering of the conversation: questions, and answers through the
// package's AnswerView (cite-stream/dom), which builds their Markdown and
// citation badges. Knows nothing about the network. Model text only enters
// the DOM as text nodes or textContent, never as HTML.

// ---------------------------------------------------------------------------
// Citation matching

/**
 * The resolution `onCitations` gives for `segments` (the citation segments
 * of an answer, in order) and `sources`, computed the way the library does
 * (src/core/citation/resolve.rs): a timestamp entry is backed by the source
 * with the same `timestamp` and `speaker`, exactly; entry `n` of the numeric
 * pattern by the n-th source. Used where no `citations` event was received:
 * an answer from history, or the sources saved with a stopped answer.
 */
export function resolveCitations(segments, sources) {
  const resolution = { matches: [], unbacked: [] };
  segments.forEach((segment, segmentIndex) => {
    const matched = [];
    for (const entry of segment.citations ?? []) {
      const source =
        typeof entry.number === "number"
          ? sources[entry.number - 1]
          : sources.find((s) => s.timestamp === entry.timestamp && s.speaker === entry.speaker);
      if (source) matched.push(source);
      else resolution.unbacked.push({ segmentIndex, ...entry });
    }
    resolution.matches.push(matched);
  });
  return resolution;
}

/** The source a badge button stands for among `sources`, by the same rule. */
function sourceFor(button, sources) {
  const { number, timestamp, speaker } = button.dataset;
  if (number !== undefined) return sources[Number(number) - 1] ?? null;
  return sources.find((s) => s.timestamp === timestamp && s.speaker === speaker) ?? null;
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
  /** `renderer` (set once the package is loaded): `{ AnswerView, splitAnswer }`, see app.js. */
  constructor(container) {
    this.container = container;
    this.renderer = null;
  }

  /** Empties the list and shows `emptyText` (a new chat, or why nothing loaded). */
  clear(emptyText = "Ask a question about your recorded calls to begin.") {
    this.container.replaceChildren(el("p", "messages-empty", emptyText));
  }

  /**
   * Renders a stored session: `messages` as `GET /api/sessions/{id}/messages`
   * returns them. Each answer goes through the same segmenter and the same
   * AnswerView as a live one, so it shows the same DOM. Returns the last
   * message when it is an answer still being generated, which it leaves
   * out (the page reattaches to it), else null.
   */
  renderHistory(messages) {
    this.container.replaceChildren();
    // An answer still being generated (the page was reloaded during it, say)
    // is left out: the page reattaches to it and renders it live.
    const last = messages.at(-1);
    const live = last?.role === "assistant" && last.streaming === true ? last : null;
    for (const message of live ? messages.slice(0, -1) : messages) {
      if (message.role === "user") {
        this.addQuestion(String(message.text ?? ""));
        continue;
      }
      const failed = message.error ? storedError(message.error) : null;
      const answer = this.addAnswer({ state: failed ? "error" : message.stopped ? "stopped" : "done" });
      answer.setMessageId(message.id);
      // A stopped answer can end inside a citation; that half citation is
      // not shown (the stored text keeps it). Any other ending shows it as
      // text, as a live stream releases it then.
      answer.renderText(String(message.text ?? ""), { stopped: message.stopped && !failed });
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
            : answer.shownLength > 0
              ? "Stopped"
              : "Stopped before any answer arrived",
        );
      } else {
        answer.applyCitations(sources);
      }
      answer.end();
    }
    if (messages.length === 0) this.clear("This session has no messages yet.");
    return live;
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
    const answer = new Answer(this.renderer, state);
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

/** One assistant answer: its AnswerView (text, Markdown, badges), note, error and final state. */
class Answer {
  constructor({ AnswerView, splitAnswer }, state) {
    this.root = el("article", "message answer");
    this.root.dataset.role = "assistant";
    this.body = el("div", "answer-body");
    this.note = el("p", "answer-note");
    this.root.append(this.body, this.note);
    this.view = new AnswerView(this.body, { cursor: true });
    this.splitAnswer = splitAnswer;
    this.reset();
    /** The sources of the answer's badges once known (`citations` event, history, saved answer). */
    this.sources = null;
    answers.set(this.body, this);
    this.setState(state);
  }

  reset() {
    /** How many segments were pushed, the length of the source text they account for, and the citation ones. */
    this.pushed = 0;
    this.shownLength = 0;
    this.citationSegments = [];
  }

  setState(state) {
    this.root.dataset.state = state;
  }

  get state() {
    return this.root.dataset.state;
  }

  setMessageId(messageId) {
    if (messageId) this.root.dataset.messageId = messageId;
  }

  push(segment) {
    this.pushed += 1;
    this.shownLength += (segment.raw ?? segment.text ?? "").length;
    if (segment.kind === "citation") this.citationSegments.push(segment);
    this.view.push(segment);
  }

  /**
   * Renders a whole answer text as a live stream would have (the package's
   * CitationBuffer, app.js), from scratch. `stopped`: an unfinished citation
   * the text ends in is left out, and kept as `data-unfinished-citation`.
   */
  renderText(text, { stopped = false } = {}) {
    const { segments, unfinished } = this.splitAnswer(text, { stopped });
    if (this.pushed > 0) this.view.clear();
    this.reset();
    for (const segment of segments) this.push(segment);
    this.setUnfinished(unfinished);
  }

  /**
   * A stopped live answer: `result` is what `finished` gave. What the
   * library still held at the stop (in `result.segments`, never passed to
   * `onSegment`) is shown too, except an unfinished citation at the end. If
   * that half citation is on screen already (released as text by the
   * citation timeout), the answer is rendered again from its text, as the
   * history would show it.
   */
  stopWith(result) {
    const text = typeof result.text === "string" ? result.text : "";
    const { unfinished } = this.splitAnswer(text, { stopped: true });
    const keep = text.length - unfinished.length;
    const segments = Array.isArray(result.segments) ? result.segments : [];
    if (this.shownLength > keep || segments.length < this.pushed) {
      this.renderText(text, { stopped: true });
      return;
    }
    let offset = this.shownLength;
    for (const segment of segments.slice(this.pushed)) {
      const length = (segment.raw ?? segment.text ?? "").length;
      const content = segment.kind === "text" || segment.kind === "citation";
      if (!content || offset + length <= keep) this.push(segment);
      offset += length;
    }
    this.setUnfinished(unfinished);
  }

  setUnfinished(unfinished) {
    if (unfinished) this.root.dataset.unfinishedCitation = unfinished;
    else delete this.root.dataset.unfinishedCitation;
  }

  /**
   * Resolves the badges: with the library's `resolution` when the
   * `citations` event gave one, else computed the same way.
   */
  applyCitations(sources, resolution) {
    this.sources = Array.isArray(sources) ? sources : [];
    this.view.citations(this.sources, resolution ?? resolveCitations(this.citationSegments, this.sources));
    if (this.root.dataset.sources === "unknown") delete this.root.dataset.sources;
  }

  /** The badges' sources will not arrive (a failed answer, or a stopped one whose saved sources did not load). */
  markSourcesUnknown() {
    if (!this.sources) this.root.dataset.sources = "unknown";
  }

  /** No more segments: the view drops its cursor and writes everything now. */
  end() {
    this.view.end();
    this.view.flush();
  }

  badges() {
    return this.body.querySelectorAll(".cs-badge");
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

/** The page's answer of each answer body. */
const answers = new WeakMap();

/**
 * What the citation card shows for a badge button (`.cs-badge`):
 * `{ source }` when a known source backs it, else `{ why }`: "pending"
 * (sources not known yet), "unbacked" (none of the sources backs it) or
 * "unknown" (they will not arrive), and `stopped`.
 */
export function badgeInfo(button) {
  const answer = answers.get(button.closest(".answer-body"));
  const stopped = answer?.state === "stopped";
  if (!answer) return { why: "unknown", stopped };
  if (answer.sources) {
    const source = sourceFor(button, answer.sources);
    return source ? { source } : { why: "unbacked", stopped };
  }
  return { why: answer.root.dataset.sources === "unknown" ? "unknown" : "pending", stopped };
}
