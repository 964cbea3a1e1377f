// Follow-ups that point back at an earlier answer by position: "Tell me more
// about the second one", then, after a reload (so only the server's stored
// history can carry the list), "What about the first one?". The stored
// citations say which conversation each answer drew on.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  api,
  ask,
  assertNoPageErrors,
  assertShows,
  badgeConversations as badgeConversationIds,
  currentSession,
  inlineCitations,
  lastAnswer,
  launch,
  openChat,
  settled,
  waitReady,
} from "./support.mjs";

const BUDGET = "Which prospects mentioned budget constraints?";
const SECOND = "Tell me more about the second one";
const FIRST = "What about the first one?";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** Conversation ids in the order an answer's citations first name them. */
function conversationsInOrder(citations) {
  return [...new Set(citations.map((c) => c.conversationId))];
}

/** The session's stored messages, in order. */
async function storedMessages(page, session) {
  const { status, body } = await api(page, `/api/sessions/${session}/messages`);
  assert.equal(status, 200);
  return body.messages;
}

/**
 * Checks a stored answer about one conversation of `listed`: it cites that
 * conversation only, every inline citation is one of its citations, and its
 * lead sentence names it by position and title.
 */
function assertAbout(message, conversationId, { ordinal, title }) {
  assert.equal(message.role, "assistant");
  assert.ok(message.citations.length > 0, message.text);
  assert.deepEqual(conversationsInOrder(message.citations), [conversationId], message.text);
  const listed = new Set(message.citations.map((c) => `${c.timestamp}, ${c.speaker}`));
  const inline = inlineCitations(message.text);
  assert.ok(inline.length > 0, message.text);
  assert.deepEqual(new Set(inline), listed, "every inline citation is a stored citation and back");
  assert.ok(message.text.startsWith(`The ${ordinal} one, `), message.text);
  assert.ok(message.text.split("\n")[0].endsWith(`in the ${title}.`), message.text);
}

/** The conversation ids the badges of the page's last answer stand for, among `sources` (each badge resolved). */
async function badgeConversations(page, sources) {
  const ids = await badgeConversationIds(lastAnswer(page), sources);
  assert.ok(ids.every(Boolean), `every badge is one of the sources: ${ids}`);
  return [...new Set(ids)];
}

test("the second one, then after a reload the first one, cite only the conversations the budget answer named there", async () => {
  const page = await openChat(browser);
  await ask(page, BUDGET);
  assert.equal(await settled(page), "done");
  const session = await currentSession(page);
  assert.ok(session, page.url());

  await page.evaluate(() => {
    window.__statusTexts = [];
    new MutationObserver((records) => {
      for (const record of records) for (const node of record.addedNodes) window.__statusTexts.push(node.textContent);
    }).observe(document.getElementById("status"), { childList: true });
  });
  await ask(page, SECOND);
  assert.equal(await settled(page), "done");
  assert.equal(await currentSession(page), session, "the follow-up continues the session");
  const statuses = await page.evaluate(() => window.__statusTexts);
  assert.ok(
    statuses.some((s) => s.startsWith("Searching the 1 conversation from the previous answer")),
    String(statuses),
  );

  const [, budget, , second] = await storedMessages(page, session);
  const listed = conversationsInOrder(budget.citations);
  assert.ok(listed.length >= 3, `the budget answer names several conversations: ${listed}`);
  // The order is the order the answer's text cites them in.
  const byInline = inlineCitations(budget.text).map(
    (entry) => budget.citations.find((c) => `${c.timestamp}, ${c.speaker}` === entry).conversationId,
  );
  assert.deepEqual([...new Set(byInline)], listed);
  const titleOf = (id) => budget.citations.find((c) => c.conversationId === id).conversationTitle;
  assertAbout(second, listed[1], { ordinal: "second", title: titleOf(listed[1]) });
  assert.deepEqual(await badgeConversations(page, second.citations), [listed[1]]);
  await assertShows(page, lastAnswer(page), second.text);

  // After a reload the page holds nothing but what the server stored.
  await page.reload();
  await waitReady(page);
  assert.equal(await currentSession(page), session);
  await ask(page, FIRST);
  assert.equal(await settled(page), "done");
  const messages = await storedMessages(page, session);
  assert.deepEqual(
    messages.filter((m) => m.role === "user").map((m) => m.text),
    [BUDGET, SECOND, FIRST],
  );
  const first = messages.at(-1);
  assertAbout(first, listed[0], { ordinal: "first", title: titleOf(listed[0]) });
  assert.deepEqual(await badgeConversations(page, first.citations), [listed[0]]);
  assert.notEqual(listed[0], listed[1]);
  assertNoPageErrors(page);
  await page.context().close();
});

test("a position with no earlier answer says so in one sentence and cites nothing", async () => {
  const page = await openChat(browser);
  await ask(page, SECOND);
  assert.equal(await settled(page), "done");
  const answer = lastAnswer(page);
  await assertShows(page, answer, "There is no earlier answer in this session for “the second one” to refer to.");
  assert.equal(await answer.locator(".answer-body").textContent(), "There is no earlier answer in this session for “the second one” to refer to.");
  assert.equal(await answer.locator(".cs-badge").count(), 0);
  const [, stored] = await storedMessages(page, await currentSession(page));
  assert.deepEqual(stored.citations, []);
  assertNoPageErrors(page);
  await page.context().close();
});
