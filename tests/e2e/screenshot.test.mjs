// A picture of the page mid-answer, for the README: a finished answer with a
// badge's card open, and a follow-up streaming in with its cursor. Written to
// docs/screenshot.png with UPDATE_SCREENSHOT=1, else to the temp directory.
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import {
  FOLLOW_UP,
  QUESTION,
  api,
  ask,
  askFromNode,
  assertNoPageErrors,
  chatUrl,
  currentSession,
  lastAnswer,
  launch,
  openChat,
  pageToken,
  rawText,
  settled,
  waitReady,
} from "./support.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../..");
const target =
  process.env.UPDATE_SCREENSHOT === "1"
    ? join(repo, "docs/screenshot.png")
    : join(tmpdir(), "cite-stream-e2e/screenshot.png");

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
  // exchange as the page's, to learn where the follow-up's fragments fall.
  const earlier = (async () => {
    for (const question of ["What did Zoë say about the works council?", "Who uses Salesforce?"]) {
      await askFromNode(question, { token });
    }
  })();
  const rehearsal = (async () => {
    const first = await askFromNode(QUESTION, { token });
    const followUp = await askFromNode(FOLLOW_UP, { token, sessionId: first.sessionId });
    return { sessionId: first.sessionId, followUp };
  })();

  const page = await openChat(browser);
  await ask(page, QUESTION);
  assert.equal(await settled(page), "done");
  const session = await currentSession(page);
  const { sessionId: rehearsed, followUp } = await rehearsal;
  await earlier;
  // Same question, corpus and history: same answer, cut into the same fragments.
  const { count: tokens, text: shown } = throughCitations(followUp.fragments, 1);

  // The same session, with the server going quiet right after the follow-up's first citation.
  assert.equal((await api(page, `/api/sessions/${rehearsed}`, { method: "DELETE" })).status, 204);
  await page.goto(chatUrl({ session, fault: { silenceAfterTokens: tokens, silenceMs: 5000 } }));
  await waitReady(page);
  await page.locator(".session").nth(2).waitFor();
  await ask(page, FOLLOW_UP);
  await page.waitForFunction(
    (expected) => {
      const answer = [...document.querySelectorAll(".answer")].at(-1);
      const raw = [...answer.querySelector(".answer-body").childNodes]
        .map((node) => (node.nodeType === Node.TEXT_NODE ? node.data : node.dataset.raw))
        .join("");
      return answer.dataset.state === "streaming" && raw === expected;
    },
    shown,
  );
  await page.locator(".answer").first().locator(".badge").nth(1).hover();
  await page.locator("#citation-popover").waitFor({ state: "visible" });
  await mkdir(dirname(target), { recursive: true });
  // Infinite animations are cancelled for the picture, so the cursor shows.
  await page.screenshot({ path: target, animations: "disabled" });
  assert.equal(await lastAnswer(page).getAttribute("data-state"), "streaming", "still mid-answer when taken");
  assert.equal(await rawText(lastAnswer(page)), shown);
  console.log(`screenshot: ${target}`);
  await page.locator("#stop").click();
  assert.equal(await settled(page), "stopped");
  assertNoPageErrors(page);
  await page.context().close();
});
