// A picture of the page mid-answer, for the README: a finished Markdown
// answer (a comparison table) with a badge's card open, and a second answer
// streaming in (a bullet list with bold names and citation badges) with its
// cursor. Written to docs/screenshot.png with UPDATE_SCREENSHOT=1, else to
// the temp directory.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import {
  api,
  ask,
  askFromNode,
  assertNoPageErrors,
  badgeStates,
  chatUrl,
  currentSession,
  inlineCitations,
  lastAnswer,
  launch,
  openChat,
  pageToken,
  settled,
  waitReady,
} from "./support.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const target =
  process.env.UPDATE_SCREENSHOT === "1"
    ? join(repo, "docs/screenshot.png")
    : join(tmpdir(), "cite-stream-e2e/screenshot.png");

/** Answered with a table. */
const COMPARE = "Compare Globex and Wayne Enterprises on pricing";
/** Answered with a bullet list of six prospects, bold names and two citations each, and a quote. */
const BUDGET = "Which prospects mentioned budget constraints?";
/** The picture is taken once the list shows this many citations. */
const SHOWN_CITATIONS = 5;

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/**
 * The fewest leading fragments whose text holds `citations` complete inline
 * citations and no open one: `{ count, text }`.
 */
function throughCitations(fragments, citations) {
  let text = "";
  for (const [index, fragment] of fragments.entries()) {
    text += fragment;
    const closed = (text.match(/\]/g) ?? []).length;
    if (closed >= citations && text.lastIndexOf("[") < text.lastIndexOf("]")) return { count: index + 1, text };
  }
  throw new Error(`fewer than ${citations} citations in ${fragments.join("")}`);
}

test("screenshot of the page mid-answer", async () => {
  const token = await pageToken();
  // Meanwhile, from Node: two earlier sessions for the sidebar, and the same
  // exchange as the page's, to learn where the second answer's fragments fall.
  const earlier = (async () => {
    for (const question of ["What did Zoë say about the works council?", "Who uses Salesforce?"]) {
      await askFromNode(question, { token });
    }
  })();
  const rehearsal = (async () => {
    const first = await askFromNode(COMPARE, { token });
    const second = await askFromNode(BUDGET, { token, sessionId: first.sessionId });
    return { sessionId: first.sessionId, second };
  })();

  // Tall enough for the table answer and three items of the list.
  const context = await browser.newContext({ viewport: { width: 1280, height: 1040 } });
  const page = await openChat(browser, { context });
  await ask(page, COMPARE);
  assert.equal(await settled(page), "done");
  assert.equal(await lastAnswer(page).locator(".answer-body table").count(), 1);
  const session = await currentSession(page);
  const { sessionId: rehearsed, second } = await rehearsal;
  await earlier;
  // Same question, corpus and history: same answer, cut into the same fragments.
  const { count: tokens, text: shown } = throughCitations(second.fragments, SHOWN_CITATIONS);
  const entries = inlineCitations(shown);

  // The same session, with the server going quiet right after the second answer's fifth citation.
  assert.equal((await api(page, `/api/sessions/${rehearsed}`, { method: "DELETE" })).status, 204);
  await page.goto(chatUrl({ session, fault: { silenceAfterTokens: tokens, silenceMs: 5000 } }));
  await waitReady(page);
  await page.locator(".session").nth(2).waitFor();
  await ask(page, BUDGET);
  await page.waitForFunction(
    (count) => {
      const answer = [...document.querySelectorAll(".answer")].at(-1);
      return answer.dataset.state === "streaming" && answer.querySelectorAll(".cs-badge").length === count;
    },
    entries.length,
  );
  await page.locator(".answer").first().locator(".cs-badge").nth(1).hover();
  await page.locator("#citation-popover").waitFor({ state: "visible" });
  await mkdir(dirname(target), { recursive: true });
  // Infinite animations are cancelled for the picture, so the cursor shows.
  await page.screenshot({ path: target, animations: "disabled" });
  const last = lastAnswer(page);
  assert.equal(await last.getAttribute("data-state"), "streaming", "still mid-answer when taken");
  assert.deepEqual((await badgeStates(last)).map((b) => b.entry), entries);
  assert.ok((await last.locator(".answer-body li strong").count()) >= 3, "list items with bold names");
  assert.equal(await last.locator(".cs-cursor").count(), 1, "the cursor shows");
  console.log(`screenshot: ${target}`);
  await page.locator("#stop").click();
  assert.equal(await settled(page), "stopped");
  assertNoPageErrors(page);
  await page.context().close();
});
