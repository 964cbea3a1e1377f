// Markdown-aware segments through the built package, in Node: the
// low-level CitationBuffer({ markdown: true }) against markdown-it (an
// outside oracle) on generated documents cut at random points, and
// streamChat({ markdown: true }) against the reference server, whose model
// writes Markdown answers, compared with markdown-it too.
import { test } from "node:test";
import assert from "node:assert/strict";
import MarkdownIt from "markdown-it";
import { CitationBuffer, streamChat } from "cite-stream";
import { referenceUrl, referenceHeaders } from "./harness.mjs";
import { mulberry32 as random } from "../random.mjs";

const md = new MarkdownIt({ html: false, linkify: true }).enable(["table", "strikethrough"]);

/** A tree as tokens: "<tag attrs>", "</tag>", text; text merged, `p` inside `li` unwrapped. */
function normalise(tokens) {
  const out = [];
  const stack = [];
  for (const token of tokens) {
    if (token.open) {
      const drop = token.open.startsWith("<p>") && stack.at(-1)?.name === "li";
      stack.push({ name: token.open.slice(1).split(/[ >]/)[0], drop });
      if (!drop) out.push(token.open);
    } else if (token.close) {
      if (!stack.pop()?.drop) out.push(`</${token.close}>`);
    } else if (token.text && token.text !== "\u0001") {
      if (typeof out.at(-1) === "string" && !out.at(-1).startsWith("<")) out[out.length - 1] += token.text;
      else out.push(token.text);
    }
  }
  // A text token that starts with "<" would read as a tag: mark texts.
  return out;
}

function openTag(tag, attrs = {}) {
  let s = `<${tag}`;
  if (attrs.href !== undefined) s += ` href=${attrs.href}`;
  if (attrs.start !== undefined) s += ` start=${attrs.start}`;
  if (attrs.lang !== undefined) s += ` lang=${attrs.lang}`;
  if (attrs.align !== undefined) s += ` align=${attrs.align}`;
  return s + ">";
}

function ours(segments) {
  return normalise(
    segments.map((s) =>
      s.kind === "open" ? { open: openTag(s.tag, s.attrs) } : s.kind === "close" ? { close: s.tag } : { text: "\u0001" + s.text },
    ),
  ).map(unmark);
}

const unmark = (t) => (t.startsWith("<") ? t : t.replaceAll("\u0001", ""));

function oracle(source) {
  const tokens = [];
  const walk = (list) => {
    for (const t of list) {
      const align = /text-align:(\w+)/.exec(t.attrGet?.("style") ?? "")?.[1];
      switch (t.type) {
        case "inline":
          walk(t.children);
          break;
        case "text":
        case "html_inline":
        case "html_block":
          tokens.push({ text: "\u0001" + t.content });
          break;
        case "softbreak":
          tokens.push({ text: "\u0001\n" });
          break;
        case "hardbreak":
          tokens.push({ open: "<br>" }, { close: "br" });
          break;
        case "hr":
          tokens.push({ open: "<hr>" }, { close: "hr" });
          break;
        case "code_inline":
          tokens.push({ open: "<code>" }, { text: "\u0001" + t.content }, { close: "code" });
          break;
        case "fence":
        case "code_block": {
          const lang = t.info?.trim().split(/\s+/)[0];
          tokens.push({ open: openTag("pre", lang ? { lang } : {}) }, { open: "<code>" });
          tokens.push({ text: "\u0001" + t.content }, { close: "code" }, { close: "pre" });
          break;
        }
        default: {
          const tag = t.tag === "s" ? "del" : t.tag;
          if (t.nesting === 1) {
            const attrs = {};
            if (tag === "a") attrs.href = t.attrGet("href");
            if (tag === "ol" && t.attrGet("start") !== null && t.attrGet("start") !== "1") attrs.start = t.attrGet("start");
            if (align) attrs.align = align;
            tokens.push({ open: openTag(tag, attrs) });
          } else if (t.nesting === -1) {
            tokens.push({ close: tag });
          }
        }
      }
    }
  };
  walk(md.parse(source, {}));
  return normalise(tokens).map(unmark);
}

/** Segments of `source` pushed in the pieces `cuts` make. */
function segmented(source, cuts) {
  const buffer = new CitationBuffer({ markdown: true });
  const out = [];
  let at = 0;
  for (const cut of [...cuts, source.length]) {
    out.push(...buffer.push(source.slice(at, cut), 0));
    at = cut;
  }
  out.push(...buffer.finish());
  assert.equal(out.map((s) => s.raw).join(""), source, "the raw texts join to the source");
  return out;
}

function documentFrom(rand) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const words = () =>
    Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
      pick(["Acme", "pricing", "the", "renewal", "Q3", "snake_case_name", "2024", "it's", "50%", "Zoë", "café", "&amp;", "\\*", "AT&T"]),
    ).join(" ");
  const inline = () =>
    pick([
      words, words, words,
      () => `**${words()}**`,
      () => `*${words()}*`,
      () => `~~${words()}~~`,
      () => "`code_x`",
      () => `[${words()}](https://example.com/${pick(["a", "b_c", "d/e"])})`,
      () => pick(["[12:45, Sarah Johnson]", "[1:02:03, Zoë; 14:02, Mark Lee]"]),
      () => `**${words()} [12:45, Sarah Johnson]**`,
      () => `see https://example.com/${pick(["x", "y.z"])} now`,
    ])();
  const sentence = () => Array.from({ length: 1 + Math.floor(rand() * 4) }, inline).join(" ") + pick(["", ".", ":"]);
  const block = () =>
    pick([
      sentence, sentence,
      () => `${"#".repeat(1 + Math.floor(rand() * 3))} ${sentence()}`,
      () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => `- ${sentence()}`).join(rand() < 0.3 ? "\n\n" : "\n"),
      () => Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => `${i + 1}. ${sentence()}`).join("\n"),
      () => `> ${sentence()}\n> ${sentence()}`,
      () => "```js\nconst x = `y`;\n```",
      () => "---",
      () => {
        const cells = Array.from({ length: 2 + Math.floor(rand() * 2) }, inline);
        const delim = cells.map((_, i) => [":---", "---:", ":---:", "---"][i % 4]).join("|");
        return `| ${cells.join(" | ")} |\n|${delim}|\n| ${cells.map((c) => c + " 1").join(" | ")} |`;
      },
    ])();
  return Array.from({ length: 1 + Math.floor(rand() * 5) }, block).join("\n\n") + (rand() < 0.5 ? "\n" : "");
}

test("low-level CitationBuffer({ markdown: true }) gives the tree API.md describes", () => {
  const buffer = new CitationBuffer({ markdown: true });
  const out = [...buffer.push("- **Acme** [12:45, Sa", 0), ...buffer.push("rah Johnson]\n", 5), ...buffer.finish()];
  assert.deepEqual(out[0], { kind: "open", tag: "ul", raw: "- " });
  assert.deepEqual(out[1], { kind: "open", tag: "li", raw: "" });
  const citation = out.find((s) => s.kind === "citation");
  assert.deepEqual(citation, {
    kind: "citation",
    text: "[12:45, Sarah Johnson]",
    raw: "[12:45, Sarah Johnson]",
    citations: [{ timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson" }],
  });
  assert.deepEqual(
    segmented("| a | b |\n|:-|-:|\n| 1 | 2 |", []).filter((s) => s.kind === "open" && s.attrs).map((s) => s.attrs),
    [{ align: "left" }, { align: "right" }, { align: "left" }, { align: "right" }],
  );
  assert.deepEqual(segmented("3. x", [])[0], { kind: "open", tag: "ol", raw: "3. ", attrs: { start: 3 } });
  assert.deepEqual(segmented("[a](b)", [])[1], { kind: "open", tag: "a", raw: "[", attrs: { href: "b" } });
  assert.throws(() => new CitationBuffer({ markdown: "yes" }), TypeError);
});

test("generated documents match markdown-it at random cuts", () => {
  const rand = random(20261203);
  let documents = 0;
  for (let i = 0; i < 300; i++) {
    const source = documentFrom(rand);
    const expected = oracle(source);
    assert.deepEqual(ours(segmented(source, [])), expected, `whole: ${JSON.stringify(source)}`);
    const cuts = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * (source.length + 1))).sort((a, b) => a - b);
    assert.deepEqual(ours(segmented(source, cuts)), expected, `cuts ${cuts}: ${JSON.stringify(source)}`);
    documents++;
  }
  assert.equal(documents, 300);
});

const QUESTIONS = [
  "Which customers are at risk of churning?",
  "Which prospects mentioned budget constraints?",
  "Compare Globex and Wayne Enterprises on pricing",
  "What are the next steps with Hooli?",
];

test("the reference model's answers, streamed with markdown: true, match markdown-it", async () => {
  for (const question of QUESTIONS) {
    const delivered = [];
    const chat = streamChat({
      url: referenceUrl(),
      headers: referenceHeaders(),
      body: { question },
      markdown: true,
      onSegment: (segment) => delivered.push(segment),
    });
    const result = await chat.finished;
    assert.equal(result.status, "done", question);
    assert.deepEqual(result.segments, delivered, "finished.segments are the delivered segments");
    assert.equal(delivered.map((s) => s.raw).join(""), result.text, "raw joins to the answer text");
    assert.ok(delivered.some((s) => s.kind === "open" && s.tag !== "p"), `${question}: the answer has Markdown structure`);
    assert.ok(delivered.some((s) => s.kind === "citation"), `${question}: citations are recognised`);
    assert.deepEqual(ours(delivered), oracle(result.text), question);
  }
});
