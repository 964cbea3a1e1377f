// The example page across lost connections and reloads: a stream cut by
// the server (fault injection) at random points, or while Chromium is
// offline, resumes where it was and ends with exactly the saved text, from
// one POST; a page reloaded during an answer attaches to it again and
// finishes it; a stopped answer stays stopped after a reload, and the page
// sends nothing when it becomes visible again.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  QUESTION,
  SERVER,
  api,
  ask,
  askFromNode,
  assertNoPageErrors,
  assertShows,
  currentSession,
  lastAnswer,
  launch,
  openChat,
  pageToken,
  settled,
  waitReady,
} from "./support.mjs";
import { mulberry32 as random } from "../random.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

const SEED = Number(process.env.CITE_STREAM_SEED ?? Date.now() % 1_000_000);

/** A fresh context whose requests to /api/* are logged as `METHOD /path`, failed ones included. */
async function loggedContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.requests = [];
  context.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/api/")) context.requests.push(`${request.method()} ${url.pathname}`);
  });
  return context;
}

const chatPosts = (context) => context.requests.filter((r) => r === "POST /api/chat").length;
const resumes = (context, messageId) => context.requests.filter((r) => r === `GET /api/chat/${messageId}/stream`).length;

/** The shown session's last stored message. */
async function savedAnswer(page) {
  const session = await currentSession(page);
  assert.ok(session, "the page names its session");
  const { status, body } = await api(page, `/api/sessions/${encodeURIComponent(session)}/messages`);
  assert.equal(status, 200);
  const saved = body.messages.at(-1);
  assert.equal(saved.role, "assistant");
  return saved;
}

/** Waits until the last answer shows at least `length` characters. */
async function waitShown(page, length) {
  await page.waitForFunction(
    (length) => ([...document.querySelectorAll(".answer-body")].at(-1)?.textContent.length ?? 0) >= length,
    length,
  );
}

/** An answer long enough (the model's, three times) that no reload or drop outlasts it. */
async function longAnswerText() {
  const { text } = await askFromNode(QUESTION);
  return [text, text, text].join("\n\n");
}

// Chromium drops what a body has received but the page has not read yet
// when its connection fails: a drop soon after the `session` event can
// lose it. So the first drop is at 0, right after the response head, where
// only the response's `cite-stream-message-id` header names the answer.
test("drops by the server before any event and at 19 random points of an answer: each resumes where it was, one POST, the exact saved text", async () => {
  const draw = random(SEED);
  // The answer's events: session, status, ~180 tokens, citations, done.
  const { fragments } = await askFromNode(QUESTION);
  const last = fragments.length + 2;
  const seqs = new Set([0]);
  while (seqs.size < 20) seqs.add(1 + Math.floor(draw() * (last - 1)));
  const dropAtSeqs = [...seqs].sort((a, b) => a - b);

  const context = await loggedContext();
  const page = await openChat(browser, { context, fault: { dropAtSeqs } });
  await ask(page, QUESTION);
  assert.equal(await settled(page), "done", `seed ${SEED}, drops after seqs ${dropAtSeqs}`);
  const answer = lastAnswer(page);
  const saved = await savedAnswer(page);
  assert.equal(saved.stopped, false);
  await assertShows(page, answer, saved.text, `seed ${SEED}: the answer shows exactly the saved text`);
  assert.equal(chatPosts(context), 1, "the question was POSTed once");
  assert.equal(resumes(context, saved.id), 20, "one resume per drop");
  assert.ok(Number(await answer.getAttribute("data-reconnects")) >= 1, "onReconnect reached the page");
  assertNoPageErrors(page);
  await context.close();
});

/** Drops the connection reading answer `id` now, from outside the browser (the test-mode drop endpoint). */
async function dropReader(id) {
  const response = await fetch(`${SERVER}/api/_test/answers/${encodeURIComponent(id)}/drop`, {
    method: "POST",
    headers: { Authorization: `Bearer ${await pageToken()}` },
  });
  assert.equal(response.status, 204, "a connection was reading the answer");
}

// Chromium's offline mode (playwright's setOffline) does not cut a response
// already streaming: its bytes keep arriving. So the test goes offline
// first and then has the server drop the connection (the test-mode drop
// endpoint, called from Node); the library's resume attempts fail as they
// would on a dead network until the browser is back online.
test("drops while Chromium is offline, three times: the resume attempts fail until it is back online, then the answer finishes exactly, one POST", async () => {
  const answerText = await longAnswerText();
  const context = await loggedContext();
  const page = await openChat(browser, { context, fault: { answerText } });
  const status = () => page.textContent("#status");
  await ask(page, QUESTION);
  await waitShown(page, 1);
  const { id } = await savedAnswer(page);
  const attempts = [];
  for (let drop = 0; drop < 3; drop++) {
    await context.setOffline(true);
    await dropReader(id);
    // Attempt 1 fails offline and attempt 2 is announced.
    await page.waitForFunction(() => /reconnecting \(attempt [2-9]\)/.test(document.getElementById("status").textContent));
    attempts.push(Number(/attempt (\d+)/.exec(await status())[1]));
    await context.setOffline(false);
    // Back online: the notice goes with the first segment of the resumed
    // stream, which is then attached for the next drop.
    await page.waitForFunction(() => document.getElementById("status").textContent === "");
  }
  assert.equal(await settled(page), "done");
  const saved = await savedAnswer(page);
  assert.equal(saved.stopped, false);
  assert.equal(saved.text, answerText, "the whole answer was generated and saved");
  await assertShows(page, lastAnswer(page), saved.text, "the answer shows exactly the saved text");
  assert.equal(chatPosts(context), 1, "the question was POSTed once");
  assert.ok(attempts.every((n) => n >= 2), `each drop took more than one attempt: ${attempts}`);
  assert.ok(resumes(context, saved.id) >= 2 * 3, "the failed attempts were GETs of the resume route too");
  assertNoPageErrors(page);
  await context.close();
});

test("reload during an answer: the page attaches to it again, finishes it and shows exactly the saved text, from one POST", async () => {
  const answerText = await longAnswerText();
  const context = await loggedContext();
  const page = await openChat(browser, { context, fault: { answerText } });
  await ask(page, QUESTION);
  await waitShown(page, 200);
  const session = await currentSession(page);
  await page.reload();
  await waitReady(page);
  assert.equal(await currentSession(page), session);
  assert.equal(await settled(page), "done");
  const saved = await savedAnswer(page);
  assert.equal(saved.text, answerText, "the server kept generating after the reload");
  assert.equal(await page.locator(".answer").count(), 1, "the answer is shown once");
  await assertShows(page, lastAnswer(page), saved.text, "the reattached answer shows exactly the saved text");
  assert.equal(chatPosts(context), 1, "the question was POSTed once");
  assert.equal(resumes(context, saved.id), 1, "one GET attached to the answer");
  assert.equal(await page.getAttribute("#messages", "aria-busy"), "false");
  assertNoPageErrors(page);
  await context.close();
});

test("stopped, then reloaded: the answer stays stopped with the saved text, nothing resumes it, and becoming visible sends nothing", async () => {
  const answerText = await longAnswerText();
  const context = await loggedContext();
  const page = await openChat(browser, { context, fault: { answerText } });
  await ask(page, QUESTION);
  await waitShown(page, 200);
  await page.locator("#stop").click();
  assert.equal(await settled(page), "stopped");
  const saved = await savedAnswer(page);
  assert.equal(saved.stopped, true);
  assert.ok(saved.text.length > 0 && answerText.startsWith(saved.text), "a prefix of the answer was saved");
  assert.ok(context.requests.includes(`POST /api/chat/${saved.id}/stop`), "Stop told the server");

  await page.reload();
  await waitReady(page);
  assert.equal(await settled(page), "stopped");
  assert.equal(await page.locator(".answer").count(), 1);
  await assertShows(page, lastAnswer(page), saved.text, "the stopped answer after the reload");

  // Hidden and visible again, as when the user switches tabs and back.
  const before = context.requests.length;
  const other = await context.newPage();
  await other.bringToFront();
  await page.bringToFront();
  await other.close();
  await page.evaluate(() => {
    for (const state of ["hidden", "visible"]) {
      Object.defineProperty(document, "visibilityState", { value: state, configurable: true });
      Object.defineProperty(document, "hidden", { value: state === "hidden", configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
      window.dispatchEvent(new Event(state === "hidden" ? "blur" : "focus"));
    }
  });
  // A request of the test's own, after the events: anything the page sent
  // in response to them comes before it.
  await api(page, "/api/sessions");
  assert.deepEqual(context.requests.slice(before), ["GET /api/sessions"], "the page sent nothing on its own");
  assert.equal(resumes(context, saved.id), 0, "the stopped answer was never resumed");
  assert.equal(chatPosts(context), 1);
  assertNoPageErrors(page);
  await context.close();
});
