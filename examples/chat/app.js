// cite-stream example chat page: plain ES modules, no framework, no build step.
//
//   app.js                 configuration, the chat controller, keyboard and buttons
//   conversation-view.js   DOM rendering of questions, answers and badges (no network)
//   citation-popover.js    the hover/focus card that shows a badge's source
//
// A sessions sidebar and history slot in beside ChatController: history renders
// through ConversationView.addQuestion / addAnswer like a live answer does.
//
// Model text is only ever put into the DOM as text nodes or textContent.

import { ConversationView } from "./conversation-view.js";
import { CitationPopover } from "./citation-popover.js";

const LIBRARY_URL = "/pkg/index.js";
const CHAT_URL = "/api/chat";

/** Bearer token: ?token=... (remembered), else localStorage, else the page's meta tag. */
function resolveToken() {
  const key = "cite-stream.token";
  const fromQuery = new URLSearchParams(location.search).get("token");
  try {
    if (fromQuery) localStorage.setItem(key, fromQuery);
    const stored = localStorage.getItem(key);
    if (stored) return stored;
  } catch {
    // Storage can be unavailable (privacy mode); the query or meta value still works.
  }
  if (fromQuery) return fromQuery;
  return document.querySelector('meta[name="cite-stream-token"]')?.content || "";
}

// ---------------------------------------------------------------------------
// Chat controller: sends one question at a time, owns the session id.

class ChatController {
  constructor({ library, conversation, ui }) {
    this.library = library;
    this.conversation = conversation;
    this.ui = ui;
    this.sessionId = undefined;
    this.token = resolveToken();
    this.current = null;
  }

  get streaming() {
    return this.current !== null;
  }

  stop() {
    this.current?.stop();
  }

  async ask(question) {
    if (this.streaming) return;
    this.conversation.addQuestion(question);
    const answer = this.conversation.addAnswer();
    this.ui.scrollToEnd(true);
    this.ui.setStatus("");

    const body = { question };
    if (this.sessionId) body.sessionId = this.sessionId;
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;

    let seenSegment = false;
    let chat;
    try {
      chat = this.library.streamChat({
        url: CHAT_URL,
        body,
        headers,
        onSession: ({ sessionId, messageId }) => {
          if (sessionId) this.setSession(sessionId);
          answer.setMessageId(messageId);
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
    if (result?.sessionId) this.setSession(result.sessionId);
    this.finishAnswer(answer, result ?? { status: "error", error: new Error("No result") });
    this.ui.setStreaming(false);
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

  setSession(sessionId) {
    this.sessionId = sessionId;
    this.ui.messages.dataset.sessionId = sessionId;
  }
}

// ---------------------------------------------------------------------------
// Wiring

function createUi() {
  const ui = {
    form: document.getElementById("composer"),
    question: document.getElementById("question"),
    send: document.getElementById("send"),
    stop: document.getElementById("stop"),
    status: document.getElementById("status"),
    messages: document.getElementById("messages"),
    announcer: document.getElementById("announcer"),
    ready: false,
    streaming: false,
  };
  ui.popover = new CitationPopover(document.getElementById("citation-popover"), ui.messages);

  ui.setStatus = (text) => {
    ui.status.textContent = text;
  };
  ui.announce = (text) => {
    ui.announcer.textContent = "";
    // A fresh text change after clearing makes screen readers announce it again.
    setTimeout(() => {
      ui.announcer.textContent = text;
    }, 50);
  };
  ui.updateButtons = () => {
    ui.send.disabled = !ui.ready || ui.streaming || ui.question.value.trim() === "";
    ui.stop.disabled = !ui.streaming;
  };
  ui.setStreaming = (streaming) => {
    const hadFocus = document.activeElement === ui.stop || document.activeElement === document.body;
    ui.streaming = streaming;
    ui.messages.setAttribute("aria-busy", String(streaming));
    ui.updateButtons();
    if (!streaming && hadFocus) ui.question.focus();
  };
  ui.nearEnd = () => {
    const root = document.documentElement;
    return root.scrollHeight - (window.scrollY + window.innerHeight) < 120;
  };
  ui.scrollToEnd = (follow) => {
    if (follow) window.scrollTo({ top: document.documentElement.scrollHeight });
  };
  return ui;
}

async function loadLibrary() {
  const library = await import(LIBRARY_URL);
  // The browser entry initialises itself; init() is idempotent, so calling it is harmless.
  if (typeof library.init === "function") await library.init();
  if (typeof library.streamChat !== "function") throw new Error(`${LIBRARY_URL} has no streamChat export`);
  return library;
}

async function main() {
  const ui = createUi();
  const conversation = new ConversationView(ui.messages);
  let controller = null;

  const submit = () => {
    const question = ui.question.value.trim();
    if (!controller || controller.streaming || question === "") return;
    ui.question.value = "";
    ui.updateButtons();
    // Send is disabled while streaming; keep focus where typing (and Escape) works.
    if (document.activeElement === ui.send) ui.question.focus();
    controller.ask(question);
  };

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  ui.question.addEventListener("input", ui.updateButtons);
  ui.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  ui.stop.addEventListener("click", () => controller?.stop());
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const onBadge = event.target.closest?.(".badge");
    if (ui.popover.open) ui.popover.hide();
    // Escape on a badge only dismisses its card; anywhere else it stops the answer.
    if (onBadge) return;
    if (controller?.streaming) {
      event.preventDefault();
      controller.stop();
    }
  });

  try {
    const library = await loadLibrary();
    controller = new ChatController({ library, conversation, ui });
    ui.ready = true;
    document.body.dataset.ready = "true";
  } catch (error) {
    document.body.dataset.ready = "error";
    ui.setStatus(`Could not load the cite-stream package from ${LIBRARY_URL}: ${error?.message ?? error}`);
  }
  ui.updateButtons();
  ui.question.focus();
}

main();
