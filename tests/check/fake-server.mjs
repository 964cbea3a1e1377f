// A small server of the chat stream protocol for the checker's tests, over
// real sockets on a port the OS picks: correct by default (version 1, or
// 1.1 with `version: "1.1"`), and broken in exactly one way by `breaks`.
// Not a test file itself.
import http from "node:http";

export const TOKEN = "fake-token";
const FRAGMENTS = ["Acme ", "is at ", "risk ", "[12:45", ", Sarah", " Johnson]", ".\n\n", "- budget ", "**frozen**", " until Q3", "\n- ", "a new ", "vendor ", "[3:02, Ana", " Lima]"];
const CITATIONS = [
  { id: "c1", conversationId: "c_acme", conversationTitle: "Acme call", timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson", quote: "No budget until Q3." },
  { id: "c2", conversationId: "c_acme", conversationTitle: "Acme call", timestamp: "3:02", seconds: 182, speaker: "Ana Lima", quote: "We are looking at vendors." },
];
// Slow enough that a disconnect after the first token is noticed long
// before the answer could end.
const TOKEN_MS = 20;

/**
 * Starts the server; resolves to `{ url, close() }`. `breaks`: a set of
 * names, each making the server wrong in one way (see the `broken(...)`
 * uses below): "content-type", "status-after-token", "citation-shape",
 * "repeated-seq", "token-count", "saved-text", "silence", "error-400",
 * "error-401", "error-413", "error-415", "no-stop", "resume-gap",
 * "stop-not-idempotent", "stop-goes-on", "stop-changes-ended", "question-length",
 * "never-ends", "resume-not-live", "message-id-header".
 */
export async function fakeServer({ version = "1", breaks = [] } = {}) {
  const broken = (name) => breaks.includes(name);
  const sessions = new Map();
  const answers = new Map();
  let next = 0;

  const json = (res, status, body) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const error = (res, status, code) => json(res, status, { error: { code, message: code.replaceAll("_", " ") } });
  const authorised = (req) => req.headers.authorization === `Bearer ${TOKEN}` || (broken("error-401") && req.method === "POST");
  const frame = (event) => {
    const lines = event.data.split("\n").map((line) => `data: ${line}\n`).join("");
    return `event: ${event.type}\nid: ${event.id}\n${lines}\n`;
  };

  const chat = (req, res, raw) => {
    if (!broken("error-415") && !/^application\/json\b/.test(req.headers["content-type"] ?? "")) return error(res, 415, "unsupported_media_type");
    if (!broken("error-413") && raw.length > 16_384) return error(res, 413, "body_too_large");
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return broken("error-400") ? error(res, 500, "internal") : error(res, 400, "malformed_json");
    }
    if (typeof body?.question !== "string" || body.question === "") return error(res, 400, "missing_question");
    if (!broken("error-413") && !broken("question-length") && body.question.length > 4_000) return error(res, 413, "question_too_long");
    const sessionId = `s_${++next}`;
    const messageId = `m_${next}`;
    const message = { id: messageId, role: "assistant", text: "", citations: [], stopped: true, createdAt: new Date().toISOString() };
    if (version === "1.1") message.streaming = true;
    sessions.set(sessionId, [{ id: `q_${next}`, role: "user", text: body.question, citations: [], stopped: false, createdAt: message.createdAt }, message]);
    // `res`: the attached reader; `paused`: (1.1) its reader went away;
    // `frozen`: stopped, but (broken "stop-goes-on") still streaming what
    // is no longer saved.
    const answer = { message, log: [], ended: false, completed: false, paused: false, frozen: false, timer: null, res: null };
    answers.set(messageId, answer);

    let seq = 0;
    const plan = [
      { type: "session", data: JSON.stringify({ sessionId, messageId }) },
      { type: "status", data: JSON.stringify({ message: "Searching 2 conversations..." }) },
      ...FRAGMENTS.map((data) => ({ type: "token", data })),
      { type: "citations", data: JSON.stringify({ citations: broken("citation-shape") ? CITATIONS.map((c) => ({ ...c, seconds: String(c.seconds) })) : CITATIONS }) },
      { type: "done", data: JSON.stringify({ messageId, processingMs: 12, tokenCount: FRAGMENTS.length + (broken("token-count") ? 1 : 0) }) },
    ];
    if (broken("status-after-token")) plan.splice(4, 0, { type: "status", data: JSON.stringify({ message: "Still thinking" }) });
    const head = { "Content-Type": broken("content-type") ? "text/plain" : "text/event-stream", "Cache-Control": "no-cache" };
    if (version === "1.1") head["Cite-Stream-Message-Id"] = broken("message-id-header") ? `${messageId}x` : messageId;
    res.writeHead(200, head);
    let sent = 0;
    const step = () => {
      const event = plan[sent++];
      if (!(broken("repeated-seq") && event.type === "token" && sent === 5)) seq++;
      event.id = `${messageId}:${seq}`;
      answer.log.push(event);
      if (event.type === "token" && !answer.frozen) message.text += event.data;
      if (event.type === "done" && !answer.frozen) {
        const text = broken("saved-text") ? message.text.slice(0, -1) : message.text;
        Object.assign(message, { text, citations: CITATIONS, stopped: false });
        delete message.streaming;
        answer.ended = true;
        answer.completed = true;
      }
      const reader = answer.res;
      if (!reader.destroyed) reader.write(frame(event));
      if (sent === plan.length) return reader.destroyed || broken("never-ends") || reader.end();
      const pause = broken("silence") && sent === 6 ? 1_000 : event.type === "token" ? TOKEN_MS : 0;
      answer.timer = setTimeout(step, pause);
    };
    answer.step = step;
    answer.attach = (reader) => {
      answer.res = reader;
      reader.on("close", () => {
        if (answer.res === reader) dropped();
      });
    };
    answer.attach(res);
    step();
    const dropped = () => {
      if (answer.ended) return;
      if (broken("no-stop")) {
        // Goes on generating for nobody and saves the whole answer.
        while (sent < plan.length) {
          clearTimeout(answer.timer);
          step();
        }
        return;
      }
      clearTimeout(answer.timer);
      // Version 1 saves at once; 1.1 keeps the answer paused for a resume.
      if (version === "1") answer.ended = true;
      else answer.paused = true;
    };
  };

  const resume = (req, res, answer) => {
    const last = /:(\d+)$/.exec(req.headers["last-event-id"] ?? "");
    const after = last ? Number(last[1]) : 0;
    let events = [answer.log[0], ...answer.log.filter((e) => Number(e.id.split(":")[1]) > after && e.type !== "session")];
    if (broken("resume-gap") && answer.completed) events = events.filter((_, i) => i !== 2);
    res.writeHead(200, { "Content-Type": "text/event-stream" });
    if (answer.ended || broken("resume-not-live")) return res.end(events.map(frame).join(""));
    // Takes over from the reader attached, if any, and goes on live.
    const previous = answer.res;
    res.write(events.map(frame).join(""));
    answer.attach(res);
    if (!previous.destroyed) previous.end();
    if (answer.paused) {
      answer.paused = false;
      answer.step();
    }
  };

  const stop = (res, answer) => {
    if (answer.stoppedOnce && broken("stop-not-idempotent")) return error(res, 409, "already_stopped");
    if (answer.completed && broken("stop-changes-ended")) answer.message.stopped = true;
    if (!answer.ended && broken("stop-goes-on")) {
      answer.frozen = true;
    } else {
      clearTimeout(answer.timer);
      // The attached reader's stream ends cleanly, with no further event.
      if (!answer.ended && !answer.res.destroyed) answer.res.end();
    }
    answer.ended = true;
    answer.stoppedOnce = true;
    delete answer.message.streaming;
    const { id, text, citations, stopped } = answer.message;
    json(res, 200, { message: { id, text, citations, stopped } });
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const path = new URL(req.url, "http://x").pathname;
      if (!authorised(req)) return error(res, 401, req.headers.authorization ? "invalid_token" : "missing_token");
      if (req.method === "POST" && path === "/api/chat") return chat(req, res, Buffer.concat(chunks).toString());
      const messages = /^\/api\/sessions\/([^/]+)\/messages$/.exec(path);
      if (req.method === "GET" && messages) {
        const list = sessions.get(decodeURIComponent(messages[1]));
        return list ? json(res, 200, { messages: list }) : error(res, 404, "session_not_found");
      }
      const route = /^\/api\/chat\/([^/]+)\/(stream|stop)$/.exec(path);
      const answer = route && version === "1.1" ? answers.get(decodeURIComponent(route[1])) : undefined;
      if (answer && req.method === "GET" && route[2] === "stream") return resume(req, res, answer);
      if (answer && req.method === "POST" && route[2] === "stop") return stop(res, answer);
      error(res, 404, "not_found");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
