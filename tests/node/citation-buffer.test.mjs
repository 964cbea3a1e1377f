// CitationBuffer through the built package, in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CitationBuffer } from "cite-stream";

const text = (t) => ({ kind: "text", text: t });

test("text without a bracket is released in the same call", () => {
  const buffer = new CitationBuffer();
  assert.deepEqual(buffer.push("plain text, no brackets", 0), [text("plain text, no brackets")]);
  assert.equal(buffer.deadline, undefined);
});

test("a candidate is released as text the moment it fails the grammar", () => {
  const buffer = new CitationBuffer();
  assert.deepEqual(buffer.push("array[", 0), [text("array")]);
  assert.deepEqual(buffer.push("0", 0), []);
  assert.deepEqual(buffer.push("]", 0), [text("[0]")]);
  assert.deepEqual(buffer.push("[docs", 0), [text("[docs")]);
});

test("several citations in one bracket are one segment", () => {
  const buffer = new CitationBuffer();
  const out = ["[12:45, Sarah Johnson", "; 1:02:03, Zoë Müller]"].flatMap((t) => buffer.push(t, 0));
  assert.deepEqual(out, [
    {
      kind: "citation",
      text: "[12:45, Sarah Johnson; 1:02:03, Zoë Müller]",
      citations: [
        { timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson" },
        { timestamp: "1:02:03", seconds: 3723, speaker: "Zoë Müller" },
      ],
    },
  ]);
});

test("the deadline, poll and finish release a stalled candidate", () => {
  const buffer = new CitationBuffer({ timeoutMs: 500 });
  assert.deepEqual(buffer.push("see [12:4", 1000), [text("see ")]);
  assert.equal(buffer.deadline, 1500);
  assert.deepEqual(buffer.poll(1499), []);
  assert.deepEqual(buffer.poll(1500), [text("[12:4")]);
  assert.equal(buffer.deadline, undefined);
  buffer.push("[1:0", 2000);
  assert.deepEqual(buffer.finish(), [text("[1:0")]);
});

test("maxLength is counted in characters", () => {
  const buffer = new CitationBuffer({ maxLength: 11 }); // 11 characters, 17 bytes
  assert.equal(buffer.push("[1:00, 李小龙]", 0)[0].kind, "citation");
  const shorter = new CitationBuffer({ maxLength: 10 });
  assert.deepEqual(shorter.push("[1:00, 李小龙]", 0), [text("[1:00, 李小龙]")]);
});

test("the numeric pattern", () => {
  const buffer = new CitationBuffer({ pattern: "numeric" });
  assert.deepEqual(buffer.push("as shown [3-5] and [1, 2].", 0), [
    text("as shown "),
    { kind: "citation", text: "[3-5]", citations: [{ number: 3 }, { number: 4 }, { number: 5 }] },
    text(" and "),
    { kind: "citation", text: "[1, 2]", citations: [{ number: 1 }, { number: 2 }] },
    text("."),
  ]);
});

test("wrong options are TypeErrors", () => {
  assert.throws(() => new CitationBuffer({ pattern: "markdown" }), TypeError);
  assert.throws(() => new CitationBuffer({ maxLength: 0 }), TypeError);
  assert.throws(() => new CitationBuffer({ timeoutMs: -1 }), TypeError);
});
