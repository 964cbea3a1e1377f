// The reference server's history routes, called with the page's bearer token.
// Every failure becomes an Error whose message is the server's own, when it
// sent one (`{"error": {"code", "message"}}`), with `status` and `code` set.

export class SessionsApi {
  constructor(token) {
    this.token = token;
  }

  headers(extra = {}) {
    return this.token ? { ...extra, Authorization: `Bearer ${this.token}` } : extra;
  }

  async request(path, init = {}) {
    const response = await fetch(path, { ...init, headers: this.headers(init.headers) });
    if (!response.ok) throw await httpError(response);
    return response;
  }

  /** The caller's sessions, newest first: `{ id, title, createdAt, updatedAt, messageCount }`. */
  async list() {
    const response = await this.request("/api/sessions", { headers: { Accept: "application/json" } });
    const body = await response.json();
    const sessions = Array.isArray(body) ? body : body?.sessions;
    return Array.isArray(sessions) ? sessions : [];
  }

  /** The messages of one session, in order. */
  async messages(sessionId) {
    const path = `/api/sessions/${encodeURIComponent(sessionId)}/messages`;
    const response = await this.request(path, { headers: { Accept: "application/json" } });
    const body = await response.json();
    return Array.isArray(body?.messages) ? body.messages : [];
  }

  async remove(sessionId) {
    await this.request(`/api/sessions/${encodeURIComponent(sessionId)}`, { method: "DELETE" });
  }

  /** The export file of one session: `{ blob, filename }`, format `md` or `json`. */
  async export(sessionId, format) {
    const path = `/api/sessions/${encodeURIComponent(sessionId)}/export?format=${encodeURIComponent(format)}`;
    const response = await this.request(path);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const named = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
    return { blob, filename: named || `${sessionId}.${format}` };
  }
}

async function httpError(response) {
  let code;
  let message = `${response.status} ${response.statusText}`.trim();
  try {
    const body = await response.json();
    if (body?.error?.message) message = body.error.message;
    code = body?.error?.code;
  } catch {
    // Not JSON: keep the status line.
  }
  const error = new Error(message);
  error.status = response.status;
  error.code = code;
  return error;
}
