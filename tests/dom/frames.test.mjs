// AnswerView's two structural promises, in headless Chromium and Firefox,
// counted with a MutationObserver (never timed):
// - DOM writes happen only inside animation frames, at most one pass per
//   frame, however many segments arrive between frames;
// - the work per segment does not grow with the answer: the mutations a
//   segment causes, and the nodes they touch, are the same for the first
//   segments and the last, and nothing shown earlier is touched again.
//
//   node --test tests/dom/
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inEachBrowser, serveRepository } from "./support.mjs";

const server = await serveRepository();
after(() => server.close());

inEachBrowser(server.url, (run) => {
  test("writes only inside animation frames, one pass per frame, however many segments arrive in between", async () => {
    const got = await run(async () => {
      const { open, close, text, cite, stamp, container, watch, nextFrame, nextTask } = harness;
      // Every frame callback the view requests is tagged with its frame's
      // timestamp, and the mutations it makes are collected right after it.
      const element = container();
      const observer = watch(element);
      const passes = [];
      const native = window.requestAnimationFrame;
      window.requestAnimationFrame = (callback) =>
        native.call(window, (time) => {
          callback(time);
          passes.push({ time, mutations: observer.take().length });
        });
      let outside = 0;
      let pushes = 0;
      try {
        const view = new AnswerView(element);
        const item = (i) => [open("li"), open("strong"), text(`Prospect ${i}`), close("strong"), text(": said "), text("so "), cite(`[${i}:00, Speaker ${i}]`, [stamp(`${i}:00`, `Speaker ${i}`)]), close("li")];
        const segments = [open("ul"), ...Array.from({ length: 40 }, (_, i) => item(i + 1)).flat(), close("ul")];
        // Bursts of segments, each pushed from a task of its own, then a frame.
        for (let start = 0; start < segments.length; start += 7) {
          for (const segment of segments.slice(start, start + 7)) {
            await nextTask();
            view.push(segment);
            pushes += 1;
            outside += observer.take().length;
          }
          await nextFrame();
        }
        view.end();
        outside += observer.take().length;
        await nextFrame();
      } finally {
        window.requestAnimationFrame = native;
      }
      const perFrame = new Map();
      for (const pass of passes) perFrame.set(pass.time, (perFrame.get(pass.time) ?? 0) + 1);
      return {
        pushes,
        outside,
        passes: passes.length,
        framesWithTwoPasses: [...perFrame.values()].filter((n) => n > 1).length,
        passesThatWrote: passes.filter((p) => p.mutations > 0).length,
        items: element.querySelectorAll("li").length,
        badges: element.querySelectorAll("button").length,
        busy: element.getAttribute("aria-busy"),
      };
    });
    assert.equal(got.pushes, 322);
    assert.equal(got.outside, 0, "no DOM write outside a frame callback");
    assert.equal(got.framesWithTwoPasses, 0, "at most one pass per frame");
    // At least one pass per burst (46) and one for end(); a burst that
    // straddles a frame is shown in two.
    assert.ok(got.passes >= 47, `${got.passes} passes`);
    assert.ok(got.passesThatWrote >= 47, `${got.passesThatWrote} passes wrote`);
    assert.deepEqual([got.items, got.badges, got.busy], [40, 40, null]);
  });

  test("appending text costs one characterData change to the same text node, from the first segment to the 3,000th", async () => {
    const got = await run(async () => {
      const { open, text, container, watch } = harness;
      const element = container();
      const view = new AnswerView(element);
      view.push(open("p"));
      view.flush();
      const observer = watch(element);
      const perSegment = [];
      let node = null;
      let sameNode = true;
      for (let i = 0; i < 3000; i++) {
        view.push(text(`word${i} `));
        view.flush();
        const records = observer.take();
        // The first segment makes the text node; every later one appends to it.
        const shape = records.map((r) => `${r.type}:${r.type === "characterData" ? "text" : r.target.nodeName.toLowerCase()}:+${r.added.length}-${r.removed.length}`).join(",");
        perSegment.push(shape);
        if (i === 0) node = records[0].added[0];
        else sameNode &&= records.every((r) => r.target === node);
      }
      return {
        first: perSegment[0],
        later: [...new Set(perSegment.slice(1))],
        sameNode,
        nodes: element.querySelector("p").childNodes.length,
        length: element.querySelector("p").firstChild.length,
      };
    });
    assert.equal(got.first, "childList:p:+1-0");
    assert.deepEqual(got.later, ["characterData:text:+0-0"]);
    assert.equal(got.sameNode, true);
    // The text node and the cursor.
    assert.equal(got.nodes, 2);
    assert.equal(got.length, Array.from({ length: 3000 }, (_, i) => `word${i} `).join("").length);
  });

  test("a long Markdown answer: the nodes each item touches do not grow, and nothing shown earlier is touched again", async () => {
    const got = await run(async () => {
      const { open, close, text, cite, stamp, container, watch, wrap } = harness;
      const element = container();
      const view = new AnswerView(element);
      const observer = watch(element);
      const item = (i) => [
        open("li"),
        ...wrap("strong", [text(`Prospect ${i}`)]),
        text(": budget "),
        text("is tight "),
        cite(`[${i % 60}:00, Speaker ${i}]`, [stamp(`${i % 60}:00`, `Speaker ${i}`)]),
        text(" and "),
        ...wrap("em", [text("urgent")]),
        close("li"),
      ];
      const sequence = [...wrap("p", [text("Intro.")]), open("ul")];
      sequence.forEach((s) => view.push(s));
      view.flush();
      observer.take();
      const items = 600;
      const perItem = [];
      const cursor = element.querySelector(".cs-cursor");
      const old = new Set(element.querySelectorAll("*"));
      old.delete(element.querySelector("ul"));
      old.delete(cursor);
      let touchedOld = 0;
      let cursorMoves = 0;
      for (let i = 0; i < items; i++) {
        // Each segment of an item in a frame of its own (flush), as in the slowest stream.
        let mutations = 0;
        const touched = new Set();
        for (const segment of item(i)) {
          view.push(segment);
          view.flush();
          for (const r of observer.take()) {
            mutations += 1;
            // The cursor leaving the previous item is the one change allowed there.
            if (r.removed.length === 1 && r.removed[0] === cursor && r.added.length === 0) {
              if (old.has(r.target)) cursorMoves += 1;
              continue;
            }
            touched.add(r.target);
            r.added.forEach((n) => touched.add(n));
            r.removed.forEach((n) => touched.add(n));
          }
        }
        for (const node of touched) if (old.has(node)) touchedOld += 1;
        // What this item made is "shown earlier" for every later item.
        for (const li of [element.querySelector("ul").lastElementChild]) {
          old.add(li);
          li.querySelectorAll("*").forEach((n) => old.add(n));
          li.childNodes.forEach((n) => old.add(n));
        }
        old.delete(cursor);
        perItem.push({ mutations, touched: touched.size });
      }
      const tenth = items / 10;
      const max = (rows, key) => Math.max(...rows.map((r) => r[key]));
      return {
        first: { mutations: max(perItem.slice(0, tenth), "mutations"), touched: max(perItem.slice(0, tenth), "touched") },
        last: { mutations: max(perItem.slice(-tenth), "mutations"), touched: max(perItem.slice(-tenth), "touched") },
        distinct: [...new Set(perItem.map((r) => `${r.mutations}/${r.touched}`))],
        touchedOld,
        cursorMoves,
        items: element.querySelectorAll("li").length,
      };
    });
    assert.equal(got.items, 600);
    assert.deepEqual(got.last, got.first);
    assert.equal(got.distinct.length, 1, `per-item work varies: ${got.distinct.join(", ")}`);
    assert.equal(got.touchedOld, 0, "no node of an earlier item was touched");
    // Once per item when it opens, out of the previous one (the first
    // takes it from beside the list, in the container).
    assert.equal(got.cursorMoves, 599);
  });
});
