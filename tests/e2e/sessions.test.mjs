// The example page's server-side history: Stop then reload, follow-up
// questions in context, and the sessions sidebar (new, switch, second tab,
// export, delete).
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import {
  FOLLOW_UP,
  QUESTION,
  askFromNode,
  api,
  ask,
  assertNoPageErrors,
  assertShows,
  badgeConversations,
  chatUrl,
  currentSession,
  lastAnswer,
  launch,
  openChat,
  settled,
  waitReady,
} from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** The conversation ids an answer's badges cite among `sources` (each badge resolved), sorted, without repeats. */
async function citedConversations(answer, sources) {
  const ids = await badgeConversations(answer, sources);
  assert.ok(ids.every(Boolean), `every badge is one of the sources: ${ids}`);
  return [...new Set(ids)].sort();
}

test("Stop mid-answer keeps the partial answer, counted in the sidebar at once, and after a reload it is still there, marked as stopped", async () => {
  // The server goes quiet after 15 tokens, so Stop lands mid-answer for sure.
  const page = await openChat(browser, { fault: { silenceAfterTokens: 15, silenceMs: 5000 } });
  await ask(page, QUESTION);
  await page.waitForFunction(() => {
    const answer = [...document.querySelectorAll(".answer")].at(-1);
    return answer.dataset.state === "streaming" && answer.querySelector(".answer-body").textContent.length >= 20;
  });
  // Escape stops, from the composer where the focus is.
  assert.equal(await page.evaluate(() => document.activeElement.id), "question");
  await page.keyboard.press("Escape");
  assert.equal(await settled(page), "stopped");
  const answer = lastAnswer(page);
  const partial = (await answer.locator(".answer-body").textContent()).trimEnd();
  assert.ok(partial.length >= 20, partial);
  assert.equal(await answer.locator(".answer-note").textContent(), "Stopped");
  assert.equal(await answer.locator(".answer-error").count(), 0);

  const session = await currentSession(page);
  assert.ok(session, page.url());
  // The server saves the stopped answer when it notices the closed
  // connection, which may be after the page reloaded the list; the sidebar
  // counts it anyway.
  await page.locator(`.session[data-session-id="${session}"] .session-meta`, { hasText: /\b2 messages$/ }).waitFor();
  await page.reload();
  await waitReady(page);
  assert.equal(await currentSession(page), session);
  assert.equal(await page.locator(".message-user").last().textContent(), QUESTION);
  const stored = lastAnswer(page);
  assert.equal(await stored.getAttribute("data-state"), "stopped");
  assert.equal(await stored.locator(".answer-note").textContent(), "Stopped");
  // The server saved what it generated: at least what was on screen.
  const reloaded = await stored.locator(".answer-body").textContent();
  assert.ok(reloaded.startsWith(partial), `${JSON.stringify(reloaded)} starts with ${JSON.stringify(partial)}`);
  assertNoPageErrors(page);
  await page.context().close();
});

test("a follow-up question in the same session is answered in the context of the first", async () => {
  const page = await openChat(browser);
  // The same words with no history before them, asked alongside, for comparison.
  const alone = askFromNode(FOLLOW_UP);

  await ask(page, QUESTION);
  assert.equal(await settled(page), "done");
  const session = await currentSession(page);
  const storedAnswer = async (index) => (await api(page, `/api/sessions/${session}/messages`)).body.messages[index];
  const first = await citedConversations(lastAnswer(page), (await storedAnswer(1)).citations);

  // The status line says what the follow-up searches.
  await page.evaluate(() => {
    window.__statusTexts = [];
    // Every text set, even when several are set within one task.
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) window.__statusTexts.push(node.textContent);
    }).observe(document.getElementById("status"), { childList: true });
  });
  await ask(page, FOLLOW_UP);
  assert.equal(await settled(page), "done");
  assert.equal(await currentSession(page), session, "the follow-up continues the session");
  const statuses = await page.evaluate(() => window.__statusTexts);
  assert.ok(
    statuses.some((s) => new RegExp(`^Searching the ${first.length} conversations? from the previous answer`).test(s)),
    String(statuses),
  );
  const followUp = lastAnswer(page);
  const followUpText = (await storedAnswer(3)).text;
  await assertShows(page, followUp, followUpText);
  const narrowed = await citedConversations(followUp, (await storedAnswer(3)).citations);
  assert.ok(narrowed.length > 0);
  assert.ok(narrowed.length < first.length, `${narrowed} narrows ${first}`);
  assert.ok(
    narrowed.every((id) => first.includes(id)),
    `the follow-up cites only conversations of the first answer: ${narrowed} within ${first}`,
  );
  const stored = await api(page, `/api/sessions/${session}/messages`);
  assert.deepEqual(
    stored.body.messages.map((m) => [m.role, m.role === "user" ? m.text : "…"]),
    [["user", QUESTION], ["assistant", "…"], ["user", FOLLOW_UP], ["assistant", "…"]],
  );

  const { text, citations } = await alone;
  const conversations = [...new Set(citations.map((c) => c.conversationId))];
  assert.notEqual(text, followUpText);
  assert.ok(
    conversations.some((id) => !first.includes(id)),
    `asked alone, it searches every conversation: ${conversations}`,
  );
  assertNoPageErrors(page);
  await page.context().close();
});

test("sidebar: new sessions, switching, a second tab, export as Markdown and JSON, delete", async () => {
  const page = await openChat(browser);
  const sidebarItem = (id) => page.locator(`.session[data-session-id="${id}"]`);
  const questionA = "What did Zoë say about the works council?";
  await ask(page, questionA);
  assert.equal(await settled(page), "done");
  const a = await currentSession(page);
  await sidebarItem(a).locator('.session-link[aria-current="page"]').waitFor();

  await page.locator("#new-session").click();
  await page.waitForFunction(() => location.hash === "" && document.querySelector(".messages-empty"));
  assert.equal(await page.locator(".session-current").count(), 0);
  await ask(page, "Who uses Salesforce?");
  assert.equal(await settled(page), "done");
  const b = await currentSession(page);
  assert.notEqual(a, b);
  await sidebarItem(b).locator('.session-link[aria-current="page"]').waitFor();
  // Newest first.
  const order = await page.locator(".session").evaluateAll((all) => all.map((s) => s.dataset.sessionId));
  assert.ok(order.indexOf(b) < order.indexOf(a), String(order));

  // Switch back to A: its stored messages load.
  await sidebarItem(a).locator(".session-link").click();
  await page.waitForFunction(
    (id) => document.getElementById("messages").dataset.sessionId === id && document.getElementById("messages").dataset.load === "done",
    a,
  );
  assert.equal(await currentSession(page), a);
  assert.deepEqual(await page.locator(".message-user").allTextContents(), [questionA]);
  assert.equal(await lastAnswer(page).getAttribute("data-state"), "done");
  assert.ok((await lastAnswer(page).locator('.cs-badge[data-state="resolved"]').count()) >= 1);
  const shownA = await page.locator("#messages").textContent();

  // A second tab on the same URL shows the same conversation.
  const tab = await page.context().newPage();
  await tab.goto(chatUrl({ session: a }));
  await waitReady(tab);
  assert.equal(await tab.locator("#messages").textContent(), shownA);
  await tab.close();

  // Export: the current session's actions download Markdown and JSON.
  const exported = async (format) => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      sidebarItem(a).locator(`button[data-action="${format}"]`).click(),
    ]);
    assert.ok(download.suggestedFilename().endsWith(`.${format}`), download.suggestedFilename());
    return readFile(await download.path(), "utf8");
  };
  const markdown = await exported("md");
  assert.ok(markdown.includes(questionA), markdown);
  const json = JSON.parse(await exported("json"));
  const messages = json.messages ?? json.session?.messages;
  assert.deepEqual(
    messages.map((m) => [m.role, m.role === "user" ? m.text : "…"]),
    [["user", questionA], ["assistant", "…"]],
  );

  // Delete B (not shown): gone from the list and from the server.
  await sidebarItem(b).hover();
  await sidebarItem(b).locator('button[data-action="delete"]').click();
  await sidebarItem(b).waitFor({ state: "detached" });
  assert.equal((await api(page, `/api/sessions/${b}/messages`)).status, 404);
  assert.equal(await currentSession(page), a);

  // Delete A (shown): the page becomes a new chat.
  await sidebarItem(a).locator('button[data-action="delete"]').click();
  await sidebarItem(a).waitFor({ state: "detached" });
  await page.waitForFunction(() => location.hash === "" && document.querySelector(".messages-empty"));
  const listed = await api(page, "/api/sessions");
  const ids = (Array.isArray(listed.body) ? listed.body : listed.body.sessions).map((s) => s.id);
  assert.ok(!ids.includes(a) && !ids.includes(b), String(ids));

  // A link to a deleted session says so, and a question then starts a new one.
  await page.goto(chatUrl({ session: a }));
  await page.waitForFunction(() => document.getElementById("messages").dataset.load === "error");
  assert.match(await page.textContent(".messages-empty"), /does not exist/);
  assertNoPageErrors(page);
  await page.context().close();
});
