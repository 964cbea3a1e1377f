// Sends one question at a time with the package's streamChat and renders the
// answer as it streams. Owns the current session id.

const CHAT_URL = "/api/chat";

export class ChatController {
  /**
   * `hooks`: `{ onSession(sessionId), onFinished(result, stored) }`, called
   * when the server names the session of a new answer and when an answer
   * ends. `stored` is `{ sessionId, messageId }` once the server announced
   * the answer (it then stores the question and, however the stream ends,
   * the answer), else null.
   * `fault` (test-only, see app.js) is forwarded in every request body.
   */
  constructor({ library, conversation, ui, token, fault, hooks }) {
    this.library = library;
    this.conversation = conversation;
    this.ui = ui;
    this.token = token;
    this.fault = fault;
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
    this.idle = this.run(question);
    return this.idle;
  }

  async run(question) {
    this.conversation.addQuestion(question);
    const answer = this.conversation.addAnswer();
    this.ui.scrollToEnd(true);
    this.ui.setStatus("");

    const body = { question };
    if (this.sessionId) body.sessionId = this.sessionId;
    if (this.fault !== undefined) body.fault = this.fault;
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;

    let seenSegment = false;
    let stored = null;
    let chat;
    try {
      chat = this.library.streamChat({
        url: CHAT_URL,
        body,
        headers,
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
          if (!seenSegment) {
            seenSegment = true;
            this.ui.setStatus("");
          }
          const follow = this.ui.nearEnd();
          answer.appendSegment(segment);
          this.ui.scrollToEnd(follow);
        },
        onCitations: (citations) => {
          answer.applyCitations(citations);
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
    this.finishAnswer(answer, result ?? { status: "error", error: new Error("No result") });
    this.ui.setStreaming(false);
    this.hooks.onFinished(result, stored);
  }

  finishAnswer(answer, result) {
    const follow = this.ui.nearEnd();
    answer.reconcile(result);
    if (!answer.sources && Array.isArray(result.citations) && result.citations.length > 0) {
      answer.applyCitations(result.citations);
    }
    const status = result.status === "done" || result.status === "stopped" ? result.status : "error";
    if (status === "done") {
      // The server sends a citations event only when a citation was made, so a
      // badge with no event at all is backed by nothing.
      if (!answer.sources) answer.applyCitations([]);
    } else {
      answer.markSourcesUnknown();
    }
    answer.setState(status);
    if (status === "stopped") {
      answer.setNote(answer.renderedText ? "Stopped" : "Stopped before any answer arrived");
    } else if (status === "error") {
      answer.showError(result.error);
    }
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
}
