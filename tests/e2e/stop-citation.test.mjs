// The example page stopped while a citation is half received: the half
// citation is never shown, live or after a reload, while the stored answer
// keeps exactly what was generated; the note says "Stopped", and the badges
// of the complete citations before it resolve to their sources.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  PARTIAL_CITATION,
  QUESTION,
  api,
  ask,
  assertNoPageErrors,
  assertShows,
  badgeStates,
  currentSession,
  inlineCitations,
  lastAnswer,
  launch,
  openChat,
  settled,
  sourceOfEntry,
  waitReady,
} from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** Which inline citation the server pauses in: the ones before it arrive whole. */
const PAUSED_CITATION = 3;
/** Long enough that only Stop ends the pause. */
const PAUSE_MS = 60_000;

/**
 * Init script, run in every document of the context (so also after a
 * reload), before the page's own scripts:
 * - `window.__chatStream`: the event-stream text of `POST /api/chat` as the
 *   library reads it. A chunk is recorded when it is handed to the library's
 *   reader, which takes it in the same task, so once a chunk is seen here
 *   the library has it.
 * - `window.__streamedText()`: the answer text of its whole `token` events.
 * - `window.__halfShown`: every state of #messages (on each DOM mutation)
 *   in which an answer's text outside its citation badges shows the start
 *   of a citation; `window.__states` counts the states looked at.
 */
function instrument(partialSource) {
  const partial = new RegExp(partialSource);
  window.__chatStream = "";
  window.__halfShown = [];
  window.__states = 0;
  const originalFetch = window.fetch;
  window.fetch = async (input, init) => {
    const response = await originalFetch(input, init);
    const url = new URL(typeof input === "string" ? input : input.url, location.href);
    if (url.pathname !== "/api/chat" || !response.body) return response;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const body = new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        window.__chatStream += decoder.decode(value, { stream: true });
        controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  // The answer text carried by the `token` events read so far (the text
  // after the last blank line is not a whole event yet).
  window.__streamedText = () =>
    window.__chatStream
      .split("\n\n")
      .slice(0, -1)
      .map((block) => block.split("\n"))
      .filter((lines) => lines.includes("event: token"))
      .map((lines) =>
        lines
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.replace(/^data: ?/, ""))
          .join("\n"),
      )
      .join("");
  const snapshot = () => {
    window.__states += 1;
    for (const body of document.querySelectorAll("#messages .answer-body")) {
      const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      let text = "";
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.parentElement.closest(".cs-citation")) text += node.data;
      }
      if (partial.test(text)) window.__halfShown.push(text);
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(snapshot).observe(document.getElementById("messages"), {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

/**
 * Waits until the library has read the answer up to a citation left open
 * after `complete` whole ones; returns the text streamed so far.
 */
async function waitInsideCitation(page, complete) {
  const handle = await page.waitForFunction((complete) => {
    const text = window.__streamedText();
    const whole = text.match(/\[(?:\d{1,2}:)?\d{1,2}:\d{2}, [^\]]+\]/g) ?? [];
    return whole.length === complete && /\[[^\]]*$/.test(text) && text;
  }, complete);
  return handle.jsonValue();
}

async function newContext() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await context.addInitScript(instrument, PARTIAL_CITATION.source);
  return context;
}

/** The answer's text as shown, outside its citation badges (runs in the page). */
function textOutsideBadges(body) {
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  let text = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest(".cs-citation")) text += node.data;
  }
  return text;
}

function shownText(answer) {
  return answer.locator(".answer-body").evaluate(textOutsideBadges);
}

/** Hovers every badge of `answer` in turn; asserts its card shows the matching source of `sources`. */
async function assertCardsShowSources(page, answer, sources) {
  const popover = page.locator("#citation-popover");
  const badges = answer.locator(".cs-badge");
  const count = await badges.count();
  assert.ok(count >= 1, "the answer has badges");
  for (let index = 0; index < count; index++) {
    const badge = badges.nth(index);
    const [timestamp, speaker] = [await badge.getAttribute("data-timestamp"), await badge.getAttribute("data-speaker")];
    const source = sourceOfEntry(sources, `${timestamp}, ${speaker}`);
    assert.ok(source, `${timestamp}, ${speaker} is among the saved sources ${JSON.stringify(sources)}`);
    await badge.hover();
    await page.waitForFunction(
      ([id, badge]) => badge.getAttribute("aria-describedby") === "citation-popover" && document.getElementById("citation-popover").dataset.sourceId === id,
      [source.id, await badge.elementHandle()],
    );
    await popover.waitFor({ state: "visible" });
    assert.equal(await popover.locator(".popover-title").textContent(), source.conversationTitle);
    assert.equal(await popover.locator(".popover-meta").textContent(), `${source.timestamp} · ${source.speaker}`);
    assert.equal(await popover.locator(".popover-quote").textContent(), `“${source.quote}”`);
    assert.doesNotMatch(await popover.textContent(), /not received/);
  }
}

test("Stop inside a citation: no half citation live or after a reload, the stored text keeps it, and the badges before it resolve", async () => {
  const context = await newContext();
  const fault = { pauseInCitationMs: PAUSE_MS, pauseInCitationNumber: PAUSED_CITATION };
  const page = await openChat(browser, { fault, context });
  await ask(page, QUESTION);
  const streamed = await waitInsideCitation(page, PAUSED_CITATION - 1);
  const open = streamed.lastIndexOf("[");
  const [kept, half] = [streamed.slice(0, open), streamed.slice(open)];
  assert.ok(kept.length > 0 && half.length > 0, JSON.stringify(streamed));
  // While paused, the library holds the half citation: nothing of it is shown.
  const answer = lastAnswer(page);
  assert.equal(await answer.getAttribute("data-state"), "streaming");
  await assertShows(page, answer, kept);

  // The page's history reads wait until the card of a stopped answer whose
  // sources are still loading has been looked at.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  const historyReads = /\/api\/sessions\/[^/]+\/messages$/;
  const hold = async (route) => {
    await held;
    await route.continue();
  };
  await page.route(historyReads, hold);

  await page.locator("#stop").click();
  assert.equal(await settled(page), "stopped");
  assert.equal(await answer.locator(".answer-note").textContent(), "Stopped");
  assert.equal(await answer.locator(".answer-error").count(), 0);
  assert.equal(await answer.getAttribute("data-sources"), "loading");
  const popover = page.locator("#citation-popover");
  await answer.locator(".cs-badge").first().hover();
  await popover.waitFor({ state: "visible" });
  assert.equal(
    await popover.locator("p.popover-meta").textContent(),
    "The answer was stopped: loading the sources saved with it…",
  );
  release();
  await assertShows(page, answer, kept, "the stopped answer shows what came before the half citation");
  assert.equal(await answer.getAttribute("data-unfinished-citation"), half);
  assert.doesNotMatch(await shownText(answer), PARTIAL_CITATION);
  const entries = inlineCitations(kept);
  assert.ok(entries.length >= PAUSED_CITATION - 1, JSON.stringify(kept));
  assert.deepEqual(
    (await badgeStates(answer)).map((b) => b.entry),
    entries,
  );

  // Stored exactly as generated, the half citation included, with the
  // sources of the citations its text completed.
  const session = await currentSession(page);
  assert.ok(session, page.url());
  await page.waitForFunction(() => [...document.querySelectorAll(".answer")].at(-1).dataset.sources !== "loading");
  assert.equal(await answer.getAttribute("data-sources"), "saved");
  await page.unroute(historyReads, hold);
  const stored = await api(page, `/api/sessions/${session}/messages`);
  assert.equal(stored.status, 200, JSON.stringify(stored.body));
  const message = stored.body.messages.at(-1);
  assert.equal(message.role, "assistant");
  assert.equal(message.stopped, true);
  assert.equal(message.text, streamed);
  assert.equal(message.id, await answer.getAttribute("data-message-id"));

  // Live, the badges resolve from the saved answer.
  await page.waitForFunction(
    () => [...document.querySelectorAll(".answer")].at(-1).querySelector('.cs-badge[data-state="pending"]') === null,
  );
  assert.deepEqual(
    await badgeStates(answer),
    entries.map((entry) => ({ entry, state: "resolved" })),
  );
  await assertCardsShowSources(page, answer, message.citations);
  const liveStates = await page.evaluate(() => window.__states);
  assert.ok(liveStates >= 10, `only ${liveStates} states recorded`);
  assert.deepEqual(await page.evaluate(() => window.__halfShown), [], "states showing a half citation");
  assertNoPageErrors(page);

  // After a reload: the same, from the history.
  await page.reload();
  await waitReady(page);
  assert.equal(await currentSession(page), session);
  const reloaded = lastAnswer(page);
  assert.equal(await reloaded.getAttribute("data-state"), "stopped");
  assert.equal(await reloaded.locator(".answer-note").textContent(), "Stopped");
  await assertShows(page, reloaded, kept);
  assert.equal(await reloaded.getAttribute("data-unfinished-citation"), half);
  assert.doesNotMatch(await shownText(reloaded), PARTIAL_CITATION);
  assert.deepEqual(
    await badgeStates(reloaded),
    entries.map((entry) => ({ entry, state: "resolved" })),
  );
  await assertCardsShowSources(page, reloaded, message.citations);
  assert.ok((await page.evaluate(() => window.__states)) >= 1, "the history rendering was observed");
  assert.deepEqual(await page.evaluate(() => window.__halfShown), [], "states showing a half citation after the reload");
  // Rendering did not touch what is stored.
  const again = await api(page, `/api/sessions/${session}/messages`);
  assert.equal(again.body.messages.at(-1).text, streamed);
  assertNoPageErrors(page);
  await context.close();
});

test("a half citation shown as text after the library's timeout is taken off when the answer is stopped, and stays off after a reload", async () => {
  const context = await newContext();
  const fault = { pauseInCitationMs: PAUSE_MS, pauseInCitationNumber: PAUSED_CITATION };
  const page = await openChat(browser, { fault, context });
  await ask(page, QUESTION);
  const streamed = await waitInsideCitation(page, PAUSED_CITATION - 1);
  const open = streamed.lastIndexOf("[");
  const [kept, half] = [streamed.slice(0, open), streamed.slice(open)];
  const answer = lastAnswer(page);
  // The library gives up holding a citation that does not close in time and
  // releases it as text.
  await page.waitForFunction((half) => {
    const body = [...document.querySelectorAll(".answer")].at(-1).querySelector(".answer-body");
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.closest(".cs-citation")) text += node.data;
    }
    return text.endsWith(half);
  }, half);
  assert.equal(await answer.getAttribute("data-state"), "streaming");

  // Escape stops, from the composer where the focus is.
  assert.equal(await page.evaluate(() => document.activeElement.id), "question");
  await page.keyboard.press("Escape");
  assert.equal(await settled(page), "stopped");
  assert.equal(await answer.locator(".answer-note").textContent(), "Stopped");
  await assertShows(page, answer, kept);
  assert.equal(await answer.getAttribute("data-unfinished-citation"), half);
  assert.doesNotMatch(await shownText(answer), PARTIAL_CITATION);

  const session = await currentSession(page);
  await page.waitForFunction(() => [...document.querySelectorAll(".answer")].at(-1).dataset.sources !== "loading");
  const message = (await api(page, `/api/sessions/${session}/messages`)).body.messages.at(-1);
  assert.equal(message.stopped, true);
  assert.equal(message.text, streamed);

  await page.reload();
  await waitReady(page);
  const reloaded = lastAnswer(page);
  assert.equal(await reloaded.getAttribute("data-state"), "stopped");
  assert.equal(await reloaded.locator(".answer-note").textContent(), "Stopped");
  await assertShows(page, reloaded, kept);
  assert.doesNotMatch(await shownText(reloaded), PARTIAL_CITATION);
  assert.deepEqual(await page.evaluate(() => window.__halfShown), [], "states showing a half citation after the reload");
  assertNoPageErrors(page);
  await context.close();
});
