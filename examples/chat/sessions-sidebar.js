// The sessions sidebar: the caller's sessions as links (`#session=<id>`, so
// they open in a new tab too), a New chat button, and per session Markdown
// and JSON export and Delete. Knows nothing about the network: app.js passes
// the data in and receives the actions.

import { el } from "./conversation-view.js";

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** `#session=<id>` for a session id. */
export function sessionHash(sessionId) {
  return `#session=${encodeURIComponent(sessionId)}`;
}

/** The session id in a `#session=<id>` hash, or null. */
export function sessionFromHash(hash) {
  const match = /^#session=(.+)$/.exec(hash);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function formatDate(value) {
  if (value === undefined || value === null) return "";
  const date = new Date(typeof value === "number" && value < 1e12 ? value * 1000 : value);
  return Number.isNaN(date.getTime()) ? "" : dateFormat.format(date);
}

export class SessionsSidebar {
  /** `actions`: `{ onNew(), onExport(id, format), onDelete(id, title) }`. */
  constructor(root, actions) {
    this.list = root.querySelector("#session-list");
    this.message = root.querySelector("#sessions-message");
    this.currentId = null;
    this.sessions = [];
    root.querySelector("#new-session").addEventListener("click", () => actions.onNew());
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest?.("button[data-action]");
      if (!button) return;
      const item = button.closest(".session");
      const id = item?.dataset.sessionId;
      if (!id) return;
      if (button.dataset.action === "delete") actions.onDelete(id, item.dataset.title);
      else actions.onExport(id, button.dataset.action);
    });
  }

  /** Shows `sessions` (newest first), marking `currentId`'s entry as current. */
  render(sessions) {
    this.sessions = sessions;
    const items = sessions.map((session) => this.renderItem(session));
    this.list.replaceChildren(...items);
    this.setMessage(sessions.length === 0 ? "No sessions yet." : "");
    this.markCurrent();
  }

  renderItem(session) {
    const title = String(session.title ?? "").trim() || "Untitled session";
    const item = el("li", "session");
    item.dataset.sessionId = session.id;
    item.dataset.title = title;

    const link = el("a", "session-link");
    link.href = sessionHash(session.id);
    link.append(el("span", "session-title", title));
    const count = Number(session.messageCount);
    const meta = [formatDate(session.updatedAt ?? session.createdAt)];
    if (Number.isFinite(count)) meta.push(`${count} message${count === 1 ? "" : "s"}`);
    link.append(el("span", "session-meta", meta.filter(Boolean).join(" · ")));

    const actions = el("div", "session-actions");
    for (const [action, label, name] of [
      ["md", "Markdown", `Export “${title}” as Markdown`],
      ["json", "JSON", `Export “${title}” as JSON`],
      ["delete", "Delete", `Delete “${title}”`],
    ]) {
      const button = el("button", `session-action session-action-${action}`, label);
      button.type = "button";
      button.dataset.action = action;
      button.setAttribute("aria-label", name);
      actions.append(button);
    }
    item.append(link, actions);
    return item;
  }

  setCurrent(sessionId) {
    this.currentId = sessionId;
    this.markCurrent();
  }

  markCurrent() {
    for (const item of this.list.children) {
      const current = item.dataset.sessionId === this.currentId;
      item.classList.toggle("session-current", current);
      const link = item.querySelector(".session-link");
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  setMessage(text, { error = false } = {}) {
    this.message.textContent = text;
    this.message.classList.toggle("sessions-error", error);
  }
}
