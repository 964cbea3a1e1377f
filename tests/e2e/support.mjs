// Shared helpers of the end-to-end tests: headless system Chromium driven by
// playwright-core, against the reference server at CITE_STREAM_SERVER
// (started by .ci/with-server with --test-mode). Not a test file itself.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";

export const SERVER = process.env.CITE_STREAM_SERVER;


/** A question whose answer (about 180 fragments) cites five passages, non-Latin names and an hour-long call included. */
export const QUESTION = "Which customers are at risk of churning?";
/** A follow-up that the reference model narrows to the previous answer's conversations. */
export const FOLLOW_UP = "Of those, which ones also expressed urgency?";

/** The inline citation entries of an answer text: `12:45, Sarah Johnson`, in order. */
export function inlineCitations(text) {
  return [...text.matchAll(/\[((?:\d{1,2}:)?\d{1,2}:\d{2}, [^\]]+)\]/g)].flatMap((m) => m[1].split("; "));
}

/** An inline citation, or the start of one, shown as plain text. */
export const PARTIAL_CITATION = /\[(?:\d|\s*$)/;

/** Headless system Chromium; `extraArgs` go after the usual flags. */
export async function launch(extraArgs = []) {
  assert.ok(SERVER, "run with CITE_STREAM_SERVER=http://127.0.0.1:PORT (.ci/with-server sets it)");
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/**
 * Opens the example page in a fresh browser context and waits until the
 * package is loaded and the session in `session` (if any) is rendered.
 * `fault` becomes the page's test-only ?fault= parameter. Script errors on
 * the page are collected in `page.errors`.
 */
export async function openChat(browser, { fault, session, context } = {}) {
  const ctx = context ?? (await browser.newContext({ viewport: { width: 1280, height: 860 } }));
  const page = await ctx.newPage();
  page.errors = [];
  page.on("pageerror", (error) => page.errors.push(error));
  await page.goto(chatUrl({ fault, session }));
  await waitReady(page);
  return page;
}

export function chatUrl({ fault, session } = {}) {
  const url = new URL("/chat/", SERVER);
  if (fault !== undefined) url.searchParams.set("fault", JSON.stringify(fault));
  if (session) url.hash = `session=${encodeURIComponent(session)}`;
  return url.href;
}

export async function waitReady(page) {
  await page.waitForFunction(() => document.body.dataset.ready !== "false");
  assert.equal(await page.evaluate(() => document.body.dataset.ready), "true", await page.textContent("#status"));
  await page.waitForFunction(() => document.getElementById("messages").dataset.load !== "loading");
}

/** Types `question` and sends it with Enter, as a user would. */
export async function ask(page, question) {
  await page.locator("#question").fill(question);
  await page.locator("#question").press("Enter");
}

/** The last answer on the page. */
export function lastAnswer(page) {
  return page.locator(".answer").last();
}

/** Waits until the last answer is no longer streaming; returns its state. */
export async function settled(page) {
  const state = await page.waitForFunction(() => {
    const answer = [...document.querySelectorAll(".answer")].at(-1);
    return answer && answer.dataset.state !== "streaming" && answer.dataset.state;
  });
  return state.jsonValue();
}

/**
 * Serialises an answer body's DOM as AnswerView built it (runs in the page):
 * elements as `<tag a="v">…</tag>` with their attributes sorted, adjacent
 * text nodes as one text. Left out by design: the cursor (`span.cs-cursor`,
 * there only while streaming) and the popover's own marks on the badge it
 * is open for (`aria-describedby`, and `data-title`, where it keeps the
 * badge's `title` meanwhile, which counts as the `title`).
 * `structure: true` also leaves out what the sources decide (the badges'
 * state, title and label) and compares text with whitespace runs collapsed
 * and trimmed at the start and end of each element, for comparing a
 * rendering with one of the same text without its sources.
 */
export function serialiseBody(body, { structure = false } = {}) {
  const skip = new Set(["aria-describedby", "data-title"]);
  if (structure) for (const name of ["data-state", "title", "aria-label"]) skip.add(name);
  const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const children = (element) => {
    const parts = [];
    let text = "";
    const flush = () => {
      if (text) parts.push({ text });
      text = "";
    };
    for (const node of element.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) text += node.data;
      else if (node.nodeType === Node.ELEMENT_NODE && !node.classList.contains("cs-cursor")) {
        flush();
        parts.push({ element: node });
      }
    }
    flush();
    return parts
      .map((part, index) => {
        if (part.element) return serialise(part.element);
        if (!structure) return escape(part.text);
        let text = part.text.replace(/\s+/g, " ");
        if (index === 0) text = text.trimStart();
        if (index === parts.length - 1) text = text.trimEnd();
        return escape(text);
      })
      .join("");
  };
  const serialise = (element) => {
    const attributes = [...element.attributes]
      .map((a) => [a.name, a.value])
      .concat(element.dataset.title !== undefined && !element.hasAttribute("title") ? [["title", element.dataset.title]] : [])
      .filter(([name]) => !skip.has(name))
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([name, value]) => ` ${name}="${escape(value)}"`)
      .join("");
    return `<${element.localName}${attributes}>${children(element)}</${element.localName}>`;
  };
  return children(body);
}

/** The last answer's body, serialised by serialiseBody. */
export function answerDom(answer, options) {
  return answer.locator(".answer-body").evaluate(serialiseBody, options);
}

/**
 * The structure (serialiseBody with `structure`) the package itself gives
 * `text`: a Markdown CitationBuffer fed the whole text, then finished, into
 * an AnswerView outside the page's own code.
 */
export async function structureOf(page, text) {
  const box = await page.evaluateHandle(async (text) => {
    const [{ CitationBuffer }, { AnswerView }] = await Promise.all([import("/pkg/index.js"), import("/pkg/dom.js")]);
    const buffer = new CitationBuffer({ markdown: true });
    const box = document.createElement("div");
    const view = new AnswerView(box, { cursor: false });
    for (const segment of [...buffer.push(text, 0), ...buffer.finish()]) view.push(segment);
    buffer.free?.();
    view.end();
    view.flush();
    return box;
  }, text);
  try {
    return await box.evaluate(serialiseBody, { structure: true });
  } finally {
    await box.dispose();
  }
}

/** Asserts that `answer` shows exactly what the package renders for `text`. */
export async function assertShows(page, answer, text, message) {
  assert.equal(await answerDom(answer, { structure: true }), await structureOf(page, text), message);
}

/** The badges of an answer: `{ entry: "12:45, Sarah Johnson", state }` each, in order. */
export function badgeStates(answer) {
  return answer
    .locator(".cs-badge")
    .evaluateAll((all) => all.map((b) => ({ entry: `${b.dataset.timestamp}, ${b.dataset.speaker}`, state: b.dataset.state })));
}

/** The source of `sources` with the entry's timestamp and speaker, as the library resolves it. */
export function sourceOfEntry(sources, entry) {
  return sources.find((c) => `${c.timestamp}, ${c.speaker}` === entry);
}

/**
 * The conversation ids an answer's badges stand for, in badge order:
 * asserts that every badge is resolved.
 */
export async function badgeConversations(answer, sources) {
  const badges = await badgeStates(answer);
  assert.ok(badges.length > 0, "the answer has badges");
  assert.deepEqual(
    badges.map((b) => b.state),
    badges.map(() => "resolved"),
    `every badge is resolved: ${JSON.stringify(badges)}`,
  );
  return badges.map((b) => sourceOfEntry(sources, b.entry)?.conversationId);
}

/** A JSON call to the server's API from the page, with the page's token. */
export function api(page, path, init = {}) {
  return page.evaluate(
    async ({ path, init }) => {
      const token = document.querySelector('meta[name="cite-stream-token"]').content;
      const response = await fetch(path, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
      const text = await response.text();
      let body = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (an export in Markdown)
      }
      return { status: response.status, body };
    },
    { path, init },
  );
}

/** The session id the page shows (from its URL hash). */
export async function currentSession(page) {
  const match = /#session=([^&]+)/.exec(page.url());
  return match ? decodeURIComponent(match[1]) : null;
}

export function assertNoPageErrors(page) {
  assert.deepEqual(page.errors.map(String), [], "script errors on the page");
}

/** The demo user's token, as the server writes it into the page. */
export async function pageToken() {
  const html = await (await fetch(new URL("/chat/", SERVER))).text();
  const token = /<meta name="cite-stream-token" content="([^"]*)">/.exec(html)?.[1];
  assert.ok(token, "the page carries a token");
  return token;
}

/**
 * Asks `question` from Node, without the page, and reads the whole stream
 * naively: `{ sessionId, fragments, text, citations }`.
 */
export async function askFromNode(question, { token, sessionId } = {}) {
  const response = await fetch(new URL("/api/chat", SERVER), {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token ?? (await pageToken())}` },
    body: JSON.stringify(sessionId ? { question, sessionId } : { question }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const result = { sessionId: undefined, fragments: [], text: "", citations: [] };
  for (const block of (await response.text()).split("\n\n")) {
    const lines = block.split("\n");
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.replace(/^data: ?/, "")).join("\n");
    if (lines.includes("event: session")) result.sessionId = JSON.parse(data).sessionId;
    if (lines.includes("event: token")) result.fragments.push(data);
    if (lines.includes("event: citations")) result.citations = JSON.parse(data).citations;
  }
  result.text = result.fragments.join("");
  return result;
}
