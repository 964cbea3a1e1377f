// Sends one question at a time with the package's streamChat (Markdown
// segments) and hands the answer's segments to its AnswerView as they
// stream. Owns the current session id.

const CHAT_URL = "/api/chat";

/**
 * A stopped answer gets no `citations` event; the server saves it with the
 * sources its text cited once it notices the stop. The page reads them from
 * the history, trying again after each of these waits (ms) while the saved
 * answer is not there yet.
 */
const SAVED_SOURCES_RETRIES = [0, 100, 200, 400, 800, 1600, 3200];

export class ChatController {
  /**
   * `hooks`: `{ onSession(sessionId), onFinished(result, stored), onGone() }`,
   * called when the server names the session of a new answer, when an
   * answer ends, and when an answer the page reattached to turns out to
   * have ended meanwhile. `stored` is `{ sessionId, messageId }` once the server announced
   * the answer (it then stores the question and, however the stream ends,
   * the answer), else null.
   * `fault` (test-only, see app.js) is forwarded in every request body.
   * `sessions` is the history API (sessions-api.js).
   */
  constructor({ library, conversation, ui, token, fault, sessions, hooks }) {
    this.library = library;
    this.conversation = conversation;
    this.ui = ui;
    this.token = token;
    this.fault = fault;
    this.sessions = sessions;
    this.hooks = hooks;
    this.sessionId = null;
    this.current = null;
    this.idle = Promise.resolve();
  }

  get streaming() {
    return this.current !== null;
  }

  stop() {
    this.current?.stop();
  }

  /** Stops the answer in progress, if any, and resolves once it is rendered as stopped. */
  async stopAndWait() {
    this.stop();
    await this.idle;
  }

  ask(question) {
    if (this.streaming) return this.idle;
    this.conversation.addQuestion(question);
    const body = { question };
    if (this.sessionId) body.sessionId = this.sessionId;
    if (this.fault !== undefined) body.fault = this.fault;
    this.idle = this.follow((callbacks) => this.library.streamChat({ url: CHAT_URL, body, ...callbacks }), {
      counted: false,
    });
    return this.idle;
  }

  /**
   * Attaches to `messageId`, the shown session's answer that the server is
   * still generating (the page was reloaded during it): the server replays
   * it from the start and goes on live, and it renders as any answer. The
   * history already counted it. Nothing else ever calls this: the page
   * does not resume an answer the user stopped, and sends nothing when it
   * becomes visible again.
   */
  reattach(messageId) {
    if (this.streaming) return this.idle;
    this.idle = this.follow((callbacks) => this.library.resumeChat({ url: CHAT_URL, messageId, ...callbacks }), {
      counted: true,
    });
    return this.idle;
  }

  /**
   * Renders one answer as it streams: `open(options)` starts it with
   * `streamChat` or `resumeChat` and these options. `counted`: whether the
   * history the page loaded already holds the answer.
   */
  async follow(open, { counted }) {
    const answer = this.conversation.addAnswer();
    this.ui.scrollToEnd(true);
    this.ui.setStatus("");

    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;

    let seenSegment = false;
    let reconnecting = false;
    // AnswerView writes at the next animation frame; a frame callback
    // requested after its own runs after it, so the page scrolls to what it wrote.
    let scrolling = false;
    const scrollAfterWrite = () => {
      if (scrolling) return;
      scrolling = true;
      const follow = this.ui.nearEnd();
      requestAnimationFrame(() => {
        scrolling = false;
        this.ui.scrollToEnd(follow);
      });
    };
    let stored = null;
    let chat;
    try {
      chat = open({
        headers,
        markdown: true,
        onSession: ({ sessionId, messageId }) => {
          answer.setMessageId(messageId);
          if (sessionId) stored = { sessionId, messageId };
          if (sessionId && sessionId !== this.sessionId) {
            this.sessionId = sessionId;
            this.hooks.onSession(sessionId);
          }
        },
        onStatus: ({ message }) => {
          if (!seenSegment) this.ui.setStatus(message ?? "");
        },
        onSegment: (segment) => {
          if (!seenSegment || reconnecting) {
            seenSegment = true;
            reconnecting = false;
            this.ui.setStatus("");
          }
          answer.push(segment);
          scrollAfterWrite();
        },
        // The library resumes a dropped stream by itself, where it left off.
        onReconnect: ({ attempt }) => {
          reconnecting = true;
          answer.root.dataset.reconnects = String(attempt);
          this.ui.setStatus(`Connection lost: reconnecting (attempt ${attempt})…`);
        },
        onCitations: (citations, resolution) => {
          answer.applyCitations(citations, resolution);
          this.ui.popover.refresh();
        },
        onDone: ({ messageId, processingMs, tokenCount }) => {
          answer.setMessageId(messageId);
          if (processingMs !== undefined) answer.root.dataset.processingMs = String(processingMs);
          if (tokenCount !== undefined) answer.root.dataset.tokenCount = String(tokenCount);
        },
        // Errors are shown from `finished`, which reports every outcome once.
        onError: () => {},
      });
    } catch (error) {
      this.finishAnswer(answer, { status: "error", error });
      return;
    }

    this.current = chat;
    this.ui.setStreaming(true);
    let result;
    try {
      result = await chat.finished;
    } catch (error) {
      result = { status: "error", error };
    }
    this.current = null;
    result ??= { status: "error", error: new Error("No result") };
    if (counted && result.status === "error" && [404, 410].includes(result.error?.status)) {
      // The answer ended, or its resume window passed, between reading the
      // history and attaching: the history has it now.
      answer.root.remove();
      this.ui.setStreaming(false);
      this.hooks.onGone();
      return;
    }
    this.finishAnswer(answer, result);
    this.ui.setStreaming(false);
    this.hooks.onFinished(result, counted ? null : stored);
    if (result.status === "stopped" && answer.badges().length > 0) {
      if (stored) {
        this.loadSavedSources(answer, stored);
      } else {
        answer.markSourcesUnknown();
        this.ui.popover.refresh();
      }
    }
  }

  finishAnswer(answer, result) {
    const follow = this.ui.nearEnd();
    const status = result.status === "done" || result.status === "stopped" ? result.status : "error";
    if (status === "stopped") {
      // On stop the library releases what it still held into `segments`
      // only, not to onSegment; the half citation among it is not shown.
      answer.stopWith(result);
    } else if (Array.isArray(result.segments)) {
      // Every segment reached onSegment, unless the stream failed before it could.
      for (const segment of result.segments.slice(answer.pushed)) answer.push(segment);
    }
    if (!answer.sources && Array.isArray(result.citations) && result.citations.length > 0) {
      answer.applyCitations(result.citations);
    }
    if (status === "done") {
      // The server sends a citations event only when a citation was made, so a
      // badge with no event at all is backed by nothing.
      if (!answer.sources) answer.applyCitations([]);
    } else if (status === "error") {
      answer.markSourcesUnknown();
    }
    // A stopped answer's badges stay pending until loadSavedSources finds
    // the saved answer (the card says so meanwhile).
    answer.setState(status);
    if (status === "stopped") {
      answer.setNote(answer.shownLength > 0 ? "Stopped" : "Stopped before any answer arrived");
    } else if (status === "error") {
      answer.showError(result.error);
    }
    answer.end();
    this.ui.setStatus("");
    this.ui.popover.refresh();
    this.ui.announce(
      status === "done"
        ? answer.plainText()
        : status === "stopped"
          ? "Answer stopped."
          : `Error: ${result.error?.message ?? "the answer failed"}`,
    );
    this.ui.scrollToEnd(follow);
  }

  /**
   * Fills a stopped answer's badges from the sources the server saved with
   * it, read from the session's history once the saved answer is there.
   * Badges whose sources never turn up are marked as unknown.
   */
  async loadSavedSources(answer, { sessionId, messageId }) {
    answer.root.dataset.sources = "loading";
    for (const wait of SAVED_SOURCES_RETRIES) {
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // Another session is shown now: its own history rendering has the sources.
      if (!answer.root.isConnected) return;
      let messages;
      try {
        messages = await this.sessions.messages(sessionId);
      } catch (error) {
        if (error.status === 404) break;
        continue;
      }
      const saved = messages.find((m) => m.id === messageId && m.role === "assistant" && !m.streaming);
      if (!saved) continue;
      if (!answer.root.isConnected) return;
      if (Array.isArray(saved.citations)) answer.applyCitations(saved.citations);
      else answer.markSourcesUnknown();
      answer.root.dataset.sources = "saved";
      this.ui.popover.refresh();
      return;
    }
    answer.markSourcesUnknown();
    answer.root.dataset.sources = "unknown";
    this.ui.popover.refresh();
  }
}
