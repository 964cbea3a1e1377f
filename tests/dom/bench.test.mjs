// The render bench (bench/render.mjs) runs: its peer half renders the
// answer in headless Chromium with marked and with markdown-it + morphdom,
// to the same structure; its cite-stream half either renders that same
// structure from the package's own Markdown segments or, while the built
// package's CitationBuffer does not take `markdown: true`, fails with the
// message that says so. Structural checks only: no figure is asserted.
//
//   bash .ci/build && node --test tests/dom/
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { CitationBuffer } from "cite-stream";

const BENCH = fileURLToPath(new URL("../../bench/render.mjs", import.meta.url));
const NEEDS_MARKDOWN = "needs CitationBuffer({markdown:true})";

/** Runs the bench on a short answer (one region); resolves with its exit code and output. */
function bench(...flags) {
  return new Promise((ok) => {
    execFile(process.execPath, [BENCH, "--tokens", "300", "--json", ...flags], { timeout: 300_000 }, (error, stdout, stderr) =>
      ok({ code: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const structure = ({ li, tr, pre, blockquote, strong }) => ({ li, tr, pre, blockquote, strong });

/** Whether the built package segments Markdown: the same probe the bench makes. */
function packageSegmentsMarkdown() {
  try {
    const buffer = new CitationBuffer({ markdown: true });
    return [...buffer.push("# Probe\n\n- item\n", 0), ...buffer.finish()].some((s) => s.kind === "open");
  } catch {
    return false;
  }
}

test("the peer half: marked and markdown-it + morphdom render the streamed answer to the same structure", async () => {
  const { code, stdout, stderr } = await bench("--peers-only");
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.ok(result.tokens >= 300, `${result.tokens} tokens`);
  assert.deepEqual(result.rows.map((r) => r.variant), ["marked", "markdown-it"]);
  for (const row of result.rows) {
    assert.equal(row.frames, result.frames, `${row.variant}: one time per frame`);
    assert.ok(row.total > 0 && row.first > 0 && row.last > 0, `${row.variant}: times measured`);
  }
  const [marked, markdownIt] = result.rows.map((r) => structure(r.final));
  assert.deepEqual(markdownIt, marked);
  // The answer's shape (bench/markdown-answer.mjs): lists, a table, a quote, code.
  assert.ok(marked.li > 5 && marked.tr > 3 && marked.pre >= 1 && marked.blockquote >= 1 && marked.strong > 5, JSON.stringify(marked));
  assert.equal(result.targets, undefined);
});

test("the cite-stream half renders the same structure from the package's Markdown segments, or says what it needs", async () => {
  const { code, stdout, stderr } = await bench();
  if (!packageSegmentsMarkdown()) {
    assert.equal(code, 1);
    assert.match(stderr, /^render bench: needs CitationBuffer\(\{markdown:true\}\)/m);
    assert.equal(stdout.trim(), "", "no figures without the real segments");
    return;
  }
  assert.equal(code, 0, stderr);
  const result = JSON.parse(stdout);
  assert.deepEqual(result.rows.map((r) => r.variant), ["cite-stream", "marked", "markdown-it"]);
  const [ours, , markdownIt] = result.rows.map((r) => structure(r.final));
  assert.deepEqual(ours, markdownIt);
  assert.ok(result.targets.vsMarked > 0 && result.targets.lastOverFirst > 0);
  assert.ok(!stderr.includes(NEEDS_MARKDOWN));
});
