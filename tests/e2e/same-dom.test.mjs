// Same answer, same DOM (issue 14, item 9): a Markdown answer rendered live
// by AnswerView is, node for node, the answer rendered from the history
// after a reload and after reopening the session from the sidebar. While it
// streams, no state of it shows raw Markdown markers or a half citation.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  PARTIAL_CITATION,
  QUESTION,
  answerDom,
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
  waitReady,
} from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/**
 * What of an answer body shows Markdown source instead of rendering it
 * (runs in the page): `**` in any text, or a line of a block's text that
 * starts with a list, table, quote or heading marker. Also a citation, or
 * the start of one, in the text outside the badges. Returns the findings.
 */
function rawMarkdownShown(body, partialSource) {
  const found = [];
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  let outside = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".cs-citation")) continue;
    outside += node.data;
    if (node.data.includes("**")) found.push(`** in ${JSON.stringify(node.data)}`);
  }
  if (new RegExp(partialSource).test(outside)) found.push(`half citation in ${JSON.stringify(outside)}`);
  // A block's own text, line by line: a line starting with `- `, `| `, `> ` or `#` is its source.
  const blocks = [body, ...body.querySelectorAll("p, li, td, th, h1, h2, h3, h4, h5, h6, blockquote")];
  for (const block of blocks) {
    let text = "";
    for (const node of block.childNodes) if (node.nodeType === Node.TEXT_NODE) text += node.data;
    for (const line of text.split("\n")) {
      if (/^\s*(?:[-*+] |\| |> |#{1,6} )/.test(line)) found.push(`marker line ${JSON.stringify(line)} in <${block.localName}>`);
    }
  }
  return found;
}

/**
 * Samples the last answer, while it streams, on every DOM mutation of
 * #messages and at every animation frame: `window.__samples` counts the
 * samples, `window.__rawShown` lists what rawMarkdownShown found.
 */
function sampleWhileStreaming(partialSource) {
  const check = window.__check;
  window.__samples = { mutations: 0, frames: 0 };
  window.__rawShown = [];
  const sample = (kind) => {
    const answer = [...document.querySelectorAll(".answer")].at(-1);
    if (!answer || answer.dataset.state !== "streaming") return;
    window.__samples[kind] += 1;
    for (const finding of check(answer.querySelector(".answer-body"), partialSource)) window.__rawShown.push(finding);
  };
  new MutationObserver(() => sample("mutations")).observe(document.getElementById("messages"), {
    childList: true,
    characterData: true,
    subtree: true,
  });
  const frame = () => {
    sample("frames");
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

const SHAPES = [
  {
    name: "a bullet list with bold names and a quote block",
    question: QUESTION,
    elements: { ul: 1, li: 2, strong: 2, blockquote: 1 },
  },
  {
    name: "a comparison table",
    question: "Compare Globex and Wayne Enterprises on pricing",
    elements: { table: 1, thead: 1, tbody: 1, th: 3, td: 6, strong: 2 },
  },
];

for (const shape of SHAPES) {
  test(`same answer, same DOM: ${shape.name}, live, after a reload and reopened from the sidebar`, async () => {
    const page = await openChat(browser);
    // The page's CSP forbids eval in its own scripts: the checker is defined
    // through the test's evaluation channel instead.
    await page.evaluate(`window.__check = ${rawMarkdownShown.toString()}`);
    await page.evaluate(sampleWhileStreaming, PARTIAL_CITATION.source);
    await ask(page, shape.question);
    assert.equal(await settled(page), "done");
    const answer = lastAnswer(page);

    // Seen while streaming: many states, none with Markdown source or a half citation.
    const samples = await page.evaluate(() => window.__samples);
    assert.ok(samples.mutations >= 20 && samples.frames >= 5, `only ${JSON.stringify(samples)} samples`);
    assert.deepEqual(await page.evaluate(() => window.__rawShown), [], "states showing raw Markdown or a half citation");

    // The answer has the expected shape, shows exactly the stored text, and its badges resolved.
    const session = await currentSession(page);
    const message = (await api(page, `/api/sessions/${session}/messages`)).body.messages.at(-1);
    assert.equal(message.role, "assistant");
    for (const [tag, count] of Object.entries(shape.elements)) {
      assert.equal(await answer.locator(`.answer-body ${tag}`).count(), count, `<${tag}> in ${message.text}`);
    }
    await assertShows(page, answer, message.text);
    const inline = inlineCitations(message.text);
    assert.ok(inline.length >= 3, message.text);
    assert.deepEqual(await badgeStates(answer), inline.map((entry) => ({ entry, state: "resolved" })));
    assert.equal(await answer.locator(".cs-cursor").count(), 0);
    const live = await answerDom(answer);

    // The checker has teeth: the same text shown naively trips it.
    const naive = await page.evaluate(
      ({ text, partialSource }) => {
        const box = document.createElement("div");
        box.append(text);
        return window.__check(box, partialSource);
      },
      { text: message.text, partialSource: PARTIAL_CITATION.source },
    );
    assert.ok(naive.some((f) => f.startsWith("**")), JSON.stringify(naive));
    assert.ok(naive.some((f) => f.startsWith("marker line")), JSON.stringify(naive));

    // After a reload, from the history: the same DOM.
    await page.reload();
    await waitReady(page);
    assert.equal(await currentSession(page), session);
    assert.equal(await lastAnswer(page).getAttribute("data-state"), "done");
    assert.equal(await answerDom(lastAnswer(page)), live, "after a reload");

    // Reopened from the sidebar after a new chat: the same DOM again.
    await page.locator("#new-session").click();
    await page.waitForFunction(() => location.hash === "" && document.querySelector(".messages-empty"));
    await page.locator(`.session[data-session-id="${session}"] .session-link`).click();
    await page.waitForFunction(
      (id) => document.getElementById("messages").dataset.sessionId === id && document.getElementById("messages").dataset.load === "done",
      session,
    );
    assert.equal(await answerDom(lastAnswer(page)), live, "reopened from the sidebar");
    assertNoPageErrors(page);
    await page.context().close();
  });
}
