// cite-stream example chat page: plain ES modules, no framework, no build step.
// It imports the built package from /pkg/ as any application would.
//
//   app.js                 configuration, session routing, keyboard and buttons
//   chat-controller.js     sends a question with streamChat and renders the answer live
//   conversation-view.js   questions, and answers through the package's AnswerView
//                          (cite-stream/dom: Markdown, badges, cursor); no network
//   citation-popover.js    the hover/focus card that shows a badge's source
//   sessions-api.js        the server's history routes (list, messages, delete, export)
//   sessions-sidebar.js    the sessions list (no network)
//
// The current session is in the URL hash (`#session=<id>`), so a reload or a
// second tab shows the same conversation, loaded from the server.
//
// Model text is only ever put into the DOM as text nodes or textContent.
//
// The bearer token is the page's meta tag, which the server fills in with the
// demo user's; there is deliberately no way to pass one in the URL, so a link
// from another site can't sign the page in as somebody else (login CSRF).
//
// Query parameters:
//   ?fault=<json>  TEST ONLY: sent as the `fault` object of every chat request,
//                  for the end-to-end tests (tests/e2e/). Only a server started
//                  with --test-mode accepts it; any other refuses the request
//                  with 400, which the page shows as the answer's error.

import { ConversationView } from "./conversation-view.js";
import { CitationPopover } from "./citation-popover.js";
import { ChatController } from "./chat-controller.js";
import { SessionsApi } from "./sessions-api.js";
import { SessionsSidebar, sessionFromHash, sessionHash } from "./sessions-sidebar.js";

const LIBRARY_URL = "/pkg/index.js";
const RENDERER_URL = "/pkg/dom.js";
const params = new URLSearchParams(location.search);

/** Bearer token: the page's meta tag (the server fills in the demo user's). */
function resolveToken() {
  return document.querySelector('meta[name="cite-stream-token"]')?.content || "";
}

/** The test-only `fault` object from ?fault=<json>: `{ fault }`, or `{ error }` if it is not JSON. */
function resolveFault() {
  const raw = params.get("fault");
  if (raw === null) return {};
  try {
    const fault = JSON.parse(raw);
    console.info("cite-stream demo: TEST ONLY fault injection on every request:", fault);
    return { fault };
  } catch (error) {
    return { error: `?fault= is not JSON: ${error.message}` };
  }
}

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
  const [library, renderer] = await Promise.all([import(LIBRARY_URL), import(RENDERER_URL)]);
  // The browser entry initialises itself; init() is idempotent, so calling it is harmless.
  if (typeof library.init === "function") await library.init();
  if (typeof library.streamChat !== "function") throw new Error(`${LIBRARY_URL} has no streamChat export`);
  if (typeof renderer.AnswerView !== "function") throw new Error(`${RENDERER_URL} has no AnswerView export`);
  return { library, AnswerView: renderer.AnswerView };
}

/**
 * Cuts an answer's whole text into Markdown segments exactly as a live
 * stream would be, with the package's own segmenter: `{ segments,
 * unfinished }`. With `stopped`, an unfinished citation the text ends in
 * (such as `[1:08:45, Nadia`, which the library would still hold) is left
 * out of `segments` and returned as `unfinished` (the elements it was in
 * are still closed); else `unfinished` is "" and it is released as text,
 * as at the end of a live stream.
 */
function answerSplitter(library) {
  return (text, { stopped = false } = {}) => {
    const buffer = new library.CitationBuffer({ markdown: true });
    try {
      const segments = buffer.push(text, 0);
      const held = buffer.finish();
      const heldText = held.map((segment) => (segment.kind === "text" ? segment.raw : "")).join("");
      const open = heldText.indexOf("[");
      if (!stopped || open < 0) return { segments: segments.concat(held), unfinished: "" };
      return {
        segments: segments.concat(held.filter((segment) => segment.kind !== "text")),
        unfinished: heldText.slice(open),
      };
    } finally {
      buffer.free?.();
    }
  };
}

/** Downloads `blob` as `filename`. */
function saveFile({ blob, filename }) {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function main() {
  const ui = createUi();
  const token = resolveToken();
  const { fault, error: faultError } = resolveFault();
  const conversation = new ConversationView(ui.messages);
  const api = new SessionsApi(token);
  let controller = null;

  // --- sessions: the list, and which one the page shows -------------------
  // How many messages the server holds, or is about to, for the session the
  // page shows: those loaded with it plus a question and an answer for each
  // answer the server announced since. A stopped answer is saved only once
  // the server notices the closed connection, which can be after the list
  // was read; the sidebar never shows fewer than this for that session.
  let known = { sessionId: null, count: 0 };
  const withKnownCount = (sessions) =>
    sessions.map((session) =>
      session.id === known.sessionId && Number.isFinite(session.messageCount) && session.messageCount < known.count
        ? { ...session, messageCount: known.count }
        : session,
    );

  let listRequest = 0;
  const refreshSessions = async () => {
    const request = ++listRequest;
    try {
      const sessions = await api.list();
      if (request === listRequest) sidebar.render(withKnownCount(sessions));
    } catch (error) {
      if (request === listRequest) sidebar.setMessage(`Could not load sessions: ${error.message}`, { error: true });
    }
  };

  let shown = 0;
  /**
   * Shows `sessionId`'s stored messages (or an empty new chat for null),
   * attaching to its last answer if the server is still generating it
   * (unless `reattach` is false).
   */
  const showSession = async (sessionId, { reattach = true } = {}) => {
    const load = ++shown;
    await controller?.stopAndWait();
    if (load !== shown) return;
    if (controller) controller.sessionId = sessionId;
    sidebar.setCurrent(sessionId);
    ui.setStatus("");
    ui.popover.hide();
    ui.messages.dataset.sessionId = sessionId ?? "";
    known = { sessionId, count: 0 };
    if (!sessionId) {
      conversation.clear();
      ui.messages.dataset.load = "done";
      return;
    }
    ui.messages.dataset.load = "loading";
    ui.messages.setAttribute("aria-busy", "true");
    try {
      const messages = await api.messages(sessionId);
      if (load !== shown) return;
      if (known.sessionId === sessionId) known.count = Math.max(known.count, messages.length);
      const live = conversation.renderHistory(messages);
      ui.messages.dataset.load = "done";
      ui.scrollToEnd(true);
      // An answer still being generated (this page was reloaded during it):
      // attach to it and render it live.
      if (live && reattach && controller) controller.reattach(live.id);
    } catch (error) {
      if (load !== shown) return;
      const missing = error.status === 404;
      conversation.clear(
        missing
          ? "This session does not exist (it may have been deleted). Ask a question to start a new one."
          : `Could not load this session: ${error.message}`,
      );
      // A question asked now starts a new session rather than failing with 404.
      if (missing && controller) controller.sessionId = null;
      ui.messages.dataset.load = "error";
    } finally {
      // A reattached answer keeps the list busy until it ends (ui.setStreaming).
      if (load === shown && !controller?.streaming) ui.messages.setAttribute("aria-busy", "false");
    }
  };

  const startNewSession = () => {
    history.pushState(null, "", location.pathname + location.search);
    showSession(null).then(() => ui.question.focus());
  };

  const sidebar = new SessionsSidebar(document.getElementById("sessions"), {
    onNew: startNewSession,
    onExport: (sessionId, format) => {
      api.export(sessionId, format).then(saveFile, (error) => {
        sidebar.setMessage(`Could not export: ${error.message}`, { error: true });
      });
    },
    onDelete: async (sessionId) => {
      const current = controller?.sessionId === sessionId;
      if (current) await controller.stopAndWait();
      try {
        await api.remove(sessionId);
      } catch (error) {
        sidebar.setMessage(`Could not delete: ${error.message}`, { error: true });
        return;
      }
      if (current) startNewSession();
      await refreshSessions();
      // The pressed button is gone with its entry; keep the focus somewhere useful.
      if (!current && !document.activeElement?.closest("#sessions, #composer")) ui.question.focus();
    },
  });

  window.addEventListener("hashchange", () => {
    const sessionId = sessionFromHash(location.hash);
    if (sessionId !== (controller?.sessionId ?? null)) showSession(sessionId);
  });

  // --- composer and keyboard -----------------------------------------------
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
    const onBadge = event.target.closest?.(".cs-badge");
    if (ui.popover.open) ui.popover.hide();
    // Escape on a badge only dismisses its card; anywhere else it stops the answer.
    if (onBadge) return;
    if (controller?.streaming) {
      event.preventDefault();
      controller.stop();
    }
  });

  // --- start -----------------------------------------------------------------
  refreshSessions();
  try {
    const { library, AnswerView } = await loadLibrary();
    conversation.renderer = { AnswerView, splitAnswer: answerSplitter(library) };
    controller = new ChatController({
      library,
      conversation,
      ui,
      token,
      fault,
      sessions: api,
      hooks: {
        onSession: (sessionId) => {
          // The new session becomes this page's URL without a new history entry.
          history.replaceState(null, "", sessionHash(sessionId));
          ui.messages.dataset.sessionId = sessionId;
          sidebar.setCurrent(sessionId);
          refreshSessions();
        },
        onGone: () => showSession(controller.sessionId, { reattach: false }),
        onFinished: (result, stored) => {
          if (stored) {
            if (known.sessionId !== stored.sessionId) known = { sessionId: stored.sessionId, count: 0 };
            known.count += 2;
          }
          refreshSessions();
        },
      },
    });
    await showSession(sessionFromHash(location.hash));
    if (faultError) throw new Error(faultError);
    ui.ready = true;
    document.body.dataset.ready = "true";
  } catch (error) {
    document.body.dataset.ready = "error";
    ui.setStatus(controller ? error.message : `Could not load the cite-stream package from ${LIBRARY_URL}: ${error?.message ?? error}`);
  }
  ui.updateButtons();
  ui.question.focus();
}

main();
