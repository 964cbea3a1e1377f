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
 * The raw answer text behind an answer element: its text nodes, and each
 * citation group as the bracket text it was rendered from.
 */
export function rawText(answer) {
  return answer.locator(".answer-body").evaluate((body) =>
    [...body.childNodes]
      .map((node) => (node.nodeType === Node.TEXT_NODE ? node.data : (node.dataset?.raw ?? node.textContent)))
      .join(""),
  );
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
