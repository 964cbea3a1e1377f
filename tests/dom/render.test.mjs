// AnswerView (js/dom.js) in headless Chromium and Firefox: the DOM built
// from hand-written segment sequences that follow API.md, safe links,
// citation badges and their resolution, the cursor and aria-busy lifecycle,
// clear(), flat segments, and recovery from malformed sequences.
//
//   node --test tests/dom/
//
// Each test's body runs in the page (see support.mjs: `browser.run`); the
// assertions run here, on what it returns.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { inEachBrowser, serveRepository } from "./support.mjs";

const server = await serveRepository();
after(() => server.close());

inEachBrowser(server.url, (run) => {
  test("blocks and inline elements, each tag of the subset", async () => {
    const html = await run(async () => {
      const { open, close, text, wrap, render } = harness;
      const element = await render([
        ...wrap("h1", [text("Title", "# Title")]),
        ...wrap("h2", [text("Two")]),
        ...wrap("h3", [text("Three")]),
        ...wrap("h4", [text("Four")]),
        ...wrap("h5", [text("Five")]),
        ...wrap("h6", [text("Six")]),
        open("p", undefined, ""),
        text("plain "),
        ...wrap("strong", [text("bold "), ...wrap("em", [text("both")])]),
        text(" and "),
        ...wrap("del", [text("gone")]),
        text(", "),
        ...wrap("code", [text("x < y && z")]),
        open("br", undefined, "  \n"),
        close("br"),
        text("next line"),
        close("p", "\n\n"),
        open("hr", undefined, "---\n"),
        close("hr"),
        ...wrap("blockquote", [...wrap("p", [text("quoted")]), ...wrap("blockquote", [...wrap("p", [text("deeper")])])]),
      ]);
      return harness.html(element);
    });
    assert.equal(
      html,
      "<h1>Title</h1><h2>Two</h2><h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6>" +
        "<p>plain <strong>bold <em>both</em></strong> and <del>gone</del>, <code>x &lt; y &amp;&amp; z</code><br>next line</p>" +
        "<hr><blockquote><p>quoted</p><blockquote><p>deeper</p></blockquote></blockquote>",
    );
  });

  test("nested lists: tight and loose items, an ordered list's start", async () => {
    const html = await run(async () => {
      const { text, wrap, render } = harness;
      const element = await render([
        ...wrap("ul", [
          ...wrap("li", [
            text("first"),
            ...wrap("ol", [...wrap("li", [text("three")]), ...wrap("li", [text("four")])], { start: 3 }),
          ]),
          ...wrap("li", [...wrap("p", [text("loose")]), ...wrap("ul", [...wrap("li", [...wrap("ul", [...wrap("li", [text("deep")])])])])]),
        ]),
        ...wrap("ol", [...wrap("li", [text("one")])]),
        ...wrap("ol", [...wrap("li", [text("zero")])], { start: 0 }),
      ]);
      return harness.html(element);
    });
    assert.equal(
      html,
      '<ul><li>first<ol start="3"><li>three</li><li>four</li></ol></li>' +
        "<li><p>loose</p><ul><li><ul><li>deep</li></ul></li></ul></li></ul>" +
        '<ol><li>one</li></ol><ol start="0"><li>zero</li></ol>',
    );
  });

  test("a table with its columns' alignments", async () => {
    const got = await run(async () => {
      const { text, wrap, render } = harness;
      const aligns = ["left", "center", "right", undefined];
      const cell = (tag, value, align) => wrap(tag, [text(value)], align ? { align } : undefined);
      const element = await render([
        ...wrap("table", [
          ...wrap("thead", [...wrap("tr", aligns.flatMap((align, i) => cell("th", `h${i}`, align)))]),
          ...wrap("tbody", [
            ...wrap("tr", aligns.flatMap((align, i) => cell("td", `a${i}`, align))),
            ...wrap("tr", aligns.flatMap((align, i) => cell("td", `b${i}`, align))),
          ]),
        ]),
        // Not an alignment: ignored.
        ...wrap("table", [...wrap("tbody", [...wrap("tr", cell("td", "x", "justify; color: red"))])]),
      ]);
      const [table, other] = element.querySelectorAll("table");
      return {
        shape: [...table.rows].map((row) => [...row.cells].map((c) => `${c.tagName.toLowerCase()}:${c.textContent}:${c.style.textAlign}`)),
        sections: [...table.children].map((c) => c.tagName.toLowerCase()),
        computed: [...table.rows[1].cells].map((c) => getComputedStyle(c).textAlign),
        other: other.innerHTML,
      };
    });
    assert.deepEqual(got.shape, [
      ["th:h0:left", "th:h1:center", "th:h2:right", "th:h3:"],
      ["td:a0:left", "td:a1:center", "td:a2:right", "td:a3:"],
      ["td:b0:left", "td:b1:center", "td:b2:right", "td:b3:"],
    ]);
    assert.deepEqual(got.sections, ["thead", "tbody"]);
    assert.deepEqual(got.computed.slice(0, 3), ["left", "center", "right"]);
    assert.equal(got.other, "<tbody><tr><td>x</td></tr></tbody>");
  });

  test("code blocks keep their language as a class on code", async () => {
    const html = await run(async () => {
      const { open, close, text, wrap, render } = harness;
      const element = await render([
        open("pre", { lang: "rust" }, "```rust\n"),
        open("code"),
        text("fn main() {\n    println!(\"<hi>\");\n}\n"),
        close("code"),
        close("pre", "```\n"),
        // No language: no class.
        ...wrap("pre", [...wrap("code", [text("plain\n")])]),
        // Text straight in pre still lands in its code.
        ...wrap("pre", [text("direct\n")], { lang: "js" }),
        // Only the first word, only class-safe characters.
        ...wrap("pre", [...wrap("code", [text("x")])], { lang: 'c++" onclick="alert(1) extra' }),
      ]);
      return harness.html(element);
    });
    assert.equal(
      html,
      '<pre><code class="language-rust">fn main() {\n    println!("&lt;hi&gt;");\n}\n</code></pre>' +
        "<pre><code>plain\n</code></pre>" +
        '<pre><code class="language-js">direct\n</code></pre>' +
        '<pre><code class="language-c++">x</code></pre>',
    );
  });

  test("links: href only for http, https, mailto and relative URLs; always rel=noopener noreferrer", async () => {
    const hrefs = [
      "https://example.com/a?b=1#c",
      "http://example.com",
      "mailto:sales@example.com",
      "/docs/intro",
      "docs/intro",
      "#section",
      "?q=1",
      "//cdn.example.com/x",
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      " javascript:alert(1)",
      "java\tscript:alert(1)",
      "\u0001javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "vbscript:msgbox(1)",
      "file:///etc/passwd",
      "http://[not a host",
    ];
    const got = await run(async (hrefs) => {
      const { text, wrap, render } = harness;
      const element = await render([
        ...wrap("p", hrefs.flatMap((href) => wrap("a", [text("<img src=x onerror=alert(1)>")], { href }))),
        ...wrap("p", wrap("a", [text("no attrs")])),
      ]);
      return [...element.querySelectorAll("a")].map((a) => ({
        href: a.getAttribute("href"),
        rel: a.getAttribute("rel"),
        elements: a.children.length,
        text: a.textContent,
      }));
    }, hrefs);
    const safe = hrefs.slice(0, 8);
    assert.equal(got.length, hrefs.length + 1);
    got.forEach((link, i) => {
      const href = hrefs[i];
      assert.equal(link.href, i < safe.length ? href : null, `href ${JSON.stringify(href)}`);
      assert.equal(link.rel, "noopener noreferrer");
    });
    assert.ok(got.slice(0, hrefs.length).every((link) => link.elements === 0 && link.text === "<img src=x onerror=alert(1)>"));
    assert.equal(got.at(-1).href, null);
  });

  test("text is text: markup in text segments never becomes elements", async () => {
    const got = await run(async () => {
      const { text, flatText, wrap, render } = harness;
      const element = await render([
        ...wrap("p", [text("<script>window.hacked = 1</script><b>not bold</b>", "&lt;...")]),
        flatText("<img src=x onerror=window.hacked=2>"),
      ]);
      return { elements: element.querySelectorAll("*").length, text: element.textContent, hacked: window.hacked ?? null };
    });
    assert.deepEqual(got, {
      elements: 1,
      text: "<script>window.hacked = 1</script><b>not bold</b><img src=x onerror=window.hacked=2>",
      hacked: null,
    });
  });

  test("citation badges: focusable buttons with accessible names, in every inline context", async () => {
    const got = await run(async () => {
      const { text, cite, stamp, wrap, render } = harness;
      const element = await render([
        ...wrap("ul", [
          ...wrap("li", [
            ...wrap("strong", [text("Acme")]),
            text(": budget is tight "),
            cite("[12:45, Sarah Johnson]", [stamp("12:45", "Sarah Johnson")]),
          ]),
          ...wrap("li", [...wrap("em", [text("see "), cite("[14:02, Mark Lee; 3:05, 李明]", [stamp("14:02", "Mark Lee"), stamp("3:05", "李明")])])]),
        ]),
        ...wrap("table", [...wrap("tbody", [...wrap("tr", [...wrap("td", [cite("[3-5]", [{ number: 3 }, { number: 4 }, { number: 5 }])])])])]),
      ]);
      const buttons = [...element.querySelectorAll("button")];
      buttons[0].focus();
      const focused = document.activeElement === buttons[0];
      return {
        focused,
        groups: [...element.querySelectorAll(".cs-citation")].map((g) => ({ raw: g.dataset.raw, parent: g.parentElement.tagName.toLowerCase() })),
        buttons: buttons.map((b) => ({
          type: b.getAttribute("type"),
          name: b.getAttribute("aria-label"),
          label: b.textContent,
          state: b.dataset.state,
          tabIndex: b.tabIndex,
          data: { ...b.dataset },
        })),
      };
    });
    assert.equal(got.focused, true);
    assert.deepEqual(got.groups, [
      { raw: "[12:45, Sarah Johnson]", parent: "li" },
      { raw: "[14:02, Mark Lee; 3:05, 李明]", parent: "em" },
      { raw: "[3-5]", parent: "td" },
    ]);
    assert.deepEqual(
      got.buttons.map((b) => [b.type, b.name, b.label, b.state, b.tabIndex]),
      [
        ["button", "Source: Sarah Johnson at 12:45", "12:45 · Sarah Johnson", "pending", 0],
        ["button", "Source: Mark Lee at 14:02", "14:02 · Mark Lee", "pending", 0],
        ["button", "Source: 李明 at 3:05", "3:05 · 李明", "pending", 0],
        ["button", "Source 3", "3", "pending", 0],
        ["button", "Source 4", "4", "pending", 0],
        ["button", "Source 5", "5", "pending", 0],
      ],
    );
    assert.deepEqual(got.buttons[0].data, { state: "pending", timestamp: "12:45", speaker: "Sarah Johnson", seconds: "765" });
    assert.deepEqual(got.buttons[3].data, { state: "pending", number: "3" });
  });

  test("citations(): resolved badges get their source as title, unbacked ones say so", async () => {
    const got = await run(async () => {
      const { text, cite, stamp, wrap, container, nextFrame } = harness;
      const sources = [
        { id: "s1", conversationId: "c1", conversationTitle: "Acme renewal call", timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson", quote: "We have to cut the budget." },
        { id: "s2", conversationId: "c2", conversationTitle: "Globex intro", timestamp: "14:02", seconds: 842, speaker: "Mark Lee", quote: "Q3 at the earliest." },
      ];
      const segments = [
        ...wrap("p", [
          cite("[12:45, Sarah Johnson]", [stamp("12:45", "Sarah Johnson")]),
          text(" "),
          cite("[9:99, Nobody]", [stamp("9:99", "Nobody")]),
          text(" "),
          cite("[14:02, Mark Lee; 1:00, Ghost; 12:45, Sarah Johnson]", [stamp("14:02", "Mark Lee"), stamp("1:00", "Ghost"), stamp("12:45", "Sarah Johnson")]),
        ]),
      ];
      // What onCitations hands over for these segments (src/core/citation/resolve.rs).
      const resolution = {
        matches: [[sources[0]], [], [sources[1], sources[0]]],
        unbacked: [
          { segmentIndex: 1, ...stamp("9:99", "Nobody") },
          { segmentIndex: 2, ...stamp("1:00", "Ghost") },
        ],
      };
      const element = container();
      const view = new AnswerView(element);
      // Resolution before the last segment is even pushed, and before any frame.
      segments.slice(0, -2).forEach((s) => view.push(s));
      view.citations(sources, resolution);
      segments.slice(-2).forEach((s) => view.push(s));
      view.end();
      await nextFrame();
      const describe = () => ({
        groups: [...element.querySelectorAll(".cs-citation")].map((g) => g.dataset.state),
        buttons: [...element.querySelectorAll("button")].map((b) => ({ state: b.dataset.state, name: b.getAttribute("aria-label"), title: b.title })),
      });
      // Numeric citations match the n-th source.
      const numeric = container();
      const other = new AnswerView(numeric);
      other.push(cite("[1-3]", [{ number: 1 }, { number: 2 }, { number: 3 }]));
      other.end();
      other.flush();
      const before = [...numeric.querySelectorAll("button")].map((b) => b.dataset.state);
      other.citations(sources, { matches: [[sources[0], sources[1]]], unbacked: [{ segmentIndex: 0, number: 3 }] });
      const pending = [...numeric.querySelectorAll("button")].map((b) => b.dataset.state);
      await nextFrame();
      return {
        ...describe(),
        numeric: { before, pending, after: [...numeric.querySelectorAll("button")].map((b) => [b.dataset.state, b.title]) },
      };
    });
    assert.deepEqual(got.groups, ["resolved", "unbacked", "partial"]);
    assert.deepEqual(got.buttons, [
      { state: "resolved", name: "Source: Sarah Johnson at 12:45", title: "Sarah Johnson at 12:45, Acme renewal call\n“We have to cut the budget.”" },
      { state: "unbacked", name: "Source: Nobody at 9:99 (no source found)", title: "No source found for this citation" },
      { state: "resolved", name: "Source: Mark Lee at 14:02", title: "Mark Lee at 14:02, Globex intro\n“Q3 at the earliest.”" },
      { state: "unbacked", name: "Source: Ghost at 1:00 (no source found)", title: "No source found for this citation" },
      { state: "resolved", name: "Source: Sarah Johnson at 12:45", title: "Sarah Johnson at 12:45, Acme renewal call\n“We have to cut the budget.”" },
    ]);
    assert.deepEqual(got.numeric.before, ["pending", "pending", "pending"]);
    // citations() writes at the next frame, like everything else.
    assert.deepEqual(got.numeric.pending, ["pending", "pending", "pending"]);
    assert.deepEqual(got.numeric.after, [
      ["resolved", "Sarah Johnson at 12:45, Acme renewal call\n“We have to cut the budget.”"],
      ["resolved", "Mark Lee at 14:02, Globex intro\n“Q3 at the earliest.”"],
      ["unbacked", "No source found for this citation"],
    ]);
  });

  test("a custom citation element replaces the badge and gets data-state; a throwing one falls back", async () => {
    const got = await run(async () => {
      const { text, cite, stamp, wrap, container, nextFrame } = harness;
      const calls = [];
      const element = container();
      const view = new AnswerView(element, {
        citation(segment, entries) {
          calls.push({ text: segment.text, entries });
          if (entries[0].speaker === "Boom") throw new Error("badge failed");
          const sup = document.createElement("sup");
          sup.textContent = String(calls.length);
          return sup;
        },
      });
      window.pageErrors.length = 0;
      for (const s of wrap("p", [
        text("a"),
        cite("[12:45, Sarah Johnson]", [stamp("12:45", "Sarah Johnson")]),
        cite("[1:00, Boom]", [stamp("1:00", "Boom")]),
      ])) view.push(s);
      view.citations([], { matches: [[], []], unbacked: [{ segmentIndex: 0, ...stamp("12:45", "Sarah Johnson") }, { segmentIndex: 1, ...stamp("1:00", "Boom") }] });
      view.end();
      await nextFrame();
      // The reported error is thrown from a microtask after the pass.
      await harness.nextTask();
      return { html: element.innerHTML, calls, errors: [...window.pageErrors] };
    });
    assert.equal(
      got.html,
      '<p>a<sup data-state="unbacked">1</sup><span class="cs-citation" data-raw="[1:00, Boom]" data-state="unbacked">' +
        '<button type="button" class="cs-badge" data-state="unbacked" aria-label="Source: Boom at 1:00 (no source found)" data-timestamp="1:00" data-speaker="Boom" data-seconds="60" title="No source found for this citation">1:00 · Boom</button></span></p>',
    );
    assert.deepEqual(got.calls, [
      { text: "[12:45, Sarah Johnson]", entries: [{ timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson" }] },
      { text: "[1:00, Boom]", entries: [{ timestamp: "1:00", seconds: 60, speaker: "Boom" }] },
    ]);
    assert.equal(got.errors.length, 1);
    assert.match(got.errors[0], /badge failed/);
  });

  test("cursor and aria-busy: nothing before the first frame, at the insertion point while streaming, gone after end()", async () => {
    const got = await run(async () => {
      const { open, close, text, container, nextFrame } = harness;
      const element = container();
      const view = new AnswerView(element);
      const where = () => {
        const cursors = element.querySelectorAll(".cs-cursor");
        const cursor = cursors[0];
        return {
          busy: element.getAttribute("aria-busy"),
          cursors: cursors.length,
          parent: cursor ? (cursor.parentElement === element ? "container" : cursor.parentElement.tagName.toLowerCase()) : null,
          last: cursor ? cursor.nextSibling === null : null,
          hidden: cursor?.getAttribute("aria-hidden") ?? null,
        };
      };
      const steps = {};
      steps.constructed = where();
      await nextFrame();
      steps.firstFrame = where();
      const step = async (name, segments) => {
        segments.forEach((s) => view.push(s));
        steps[`${name}:sync`] = where();
        await nextFrame();
        steps[name] = where();
      };
      await step("paragraph", [open("p"), text("Hello ")]);
      await step("strong", [open("strong"), text("world")]);
      await step("closed", [close("strong"), text("!")]);
      await step("list", [close("p"), open("ul")]);
      await step("item", [open("li"), text("one")]);
      await step("table", [close("li"), close("ul"), open("table"), open("thead"), open("tr")]);
      await step("cell", [open("th"), text("h")]);
      await step("code", [close("th"), close("tr"), close("thead"), close("table"), open("pre", { lang: "js" }), open("code"), text("x")]);
      view.end();
      steps["end:sync"] = where();
      await nextFrame();
      steps.ended = where();
      view.push(text(" late"));
      await nextFrame();
      steps.afterEnd = where();
      const text_ = element.textContent;
      // cursor: false: aria-busy still, never a cursor.
      const plain = container();
      const quiet = new AnswerView(plain, { cursor: false });
      quiet.push(open("p"));
      quiet.push(text("x"));
      await nextFrame();
      const quietStreaming = { busy: plain.getAttribute("aria-busy"), cursors: plain.querySelectorAll(".cs-cursor").length };
      quiet.end();
      await nextFrame();
      const list = container();
      const listView = new AnswerView(list);
      listView.push(open("ul"));
      await nextFrame();
      const cursor = list.querySelector(".cs-cursor");
      const firstList = { parent: cursor.parentElement === list ? "container" : cursor.parentElement.tagName.toLowerCase(), previous: cursor.previousElementSibling?.tagName.toLowerCase() };
      return { steps, text: text_, quietStreaming, quietEnded: plain.getAttribute("aria-busy"), firstList };
    });
    const s = got.steps;
    assert.deepEqual(s.constructed, { busy: null, cursors: 0, parent: null, last: null, hidden: null });
    assert.deepEqual(s.firstFrame, { busy: "true", cursors: 1, parent: "container", last: true, hidden: "true" });
    assert.deepEqual(s["paragraph:sync"], s.firstFrame, "nothing changes before the frame");
    assert.equal(s.paragraph.parent, "p");
    assert.equal(s.strong.parent, "strong");
    assert.equal(s.closed.parent, "p");
    // Between list items or table cells it stays where it was; inside an item or a cell once one opens.
    assert.equal(s.list.parent, "p");
    assert.equal(s.item.parent, "li");
    assert.equal(s.table.parent, "li");
    assert.equal(s.cell.parent, "th");
    assert.equal(s.code.parent, "code");
    // A first pass that opens a list: nowhere to stay, so beside it.
    assert.deepEqual(got.firstList, { parent: "container", previous: "ul" });
    for (const key of ["paragraph", "strong", "closed", "list", "item", "table", "cell", "code"]) {
      assert.deepEqual({ busy: s[key].busy, cursors: s[key].cursors, last: s[key].last }, { busy: "true", cursors: 1, last: true }, key);
    }
    assert.deepEqual(s["end:sync"], s.code);
    assert.deepEqual(s.ended, { busy: null, cursors: 0, parent: null, last: null, hidden: null });
    assert.deepEqual(s.afterEnd, s.ended);
    assert.equal(got.text, "Hello world!onehx late");
    assert.deepEqual(got.quietStreaming, { busy: "true", cursors: 0 });
    assert.equal(got.quietEnded, null);
  });

  test("clear() empties the container at the next frame and starts a new answer", async () => {
    const got = await run(async () => {
      const { text, cite, stamp, wrap, container, nextFrame } = harness;
      const element = container();
      const view = new AnswerView(element);
      wrap("p", [text("old "), cite("[1:00, Old]", [stamp("1:00", "Old")])]).forEach((s) => view.push(s));
      view.end();
      await nextFrame();
      const before = element.innerHTML;
      view.clear();
      const sync = element.innerHTML;
      // Pushed after clear(), before the frame: this is the new answer.
      wrap("p", [text("new "), cite("[2:00, New]", [stamp("2:00", "New")])]).forEach((s) => view.push(s));
      await nextFrame();
      const streaming = { html: element.innerHTML, busy: element.getAttribute("aria-busy") };
      // The new answer's first citation segment is index 0 again.
      view.citations([{ id: "n", conversationId: "c", conversationTitle: "T", timestamp: "2:00", seconds: 120, speaker: "New", quote: "q" }], {
        matches: [[{ id: "n", conversationId: "c", conversationTitle: "T", timestamp: "2:00", seconds: 120, speaker: "New", quote: "q" }]],
        unbacked: [],
      });
      view.end();
      await nextFrame();
      // clear() also drops what was pushed but not yet shown.
      view.clear();
      view.push(text("never shown"));
      view.clear();
      view.end();
      await nextFrame();
      return { before, sync, streaming, emptied: element.innerHTML, busy: element.getAttribute("aria-busy") };
    });
    assert.match(got.before, /^<p>old <span class="cs-citation"/);
    assert.equal(got.sync, got.before);
    assert.equal(got.streaming.busy, "true");
    assert.match(got.streaming.html, /^<p>new <span class="cs-citation" data-raw="\[2:00, New\]">.*<\/span><\/p><span class="cs-cursor" aria-hidden="true"><\/span>$/);
    assert.doesNotMatch(got.streaming.html, /old/);
    assert.equal(got.emptied, "");
    assert.equal(got.busy, null);
  });

  test("clear() then a new answer: citations resolve against the new badges", async () => {
    const got = await run(async () => {
      const { cite, stamp, container, nextFrame } = harness;
      const element = container();
      const view = new AnswerView(element, { cursor: false });
      view.push(cite("[1:00, Old]", [stamp("1:00", "Old")]));
      view.end();
      await nextFrame();
      view.clear();
      view.push(cite("[2:00, New]", [stamp("2:00", "New")]));
      const source = { id: "n", conversationId: "c", conversationTitle: "T", timestamp: "2:00", seconds: 120, speaker: "New", quote: "q" };
      view.citations([source], { matches: [[source]], unbacked: [] });
      view.end();
      await nextFrame();
      return [...element.querySelectorAll("button")].map((b) => [b.textContent, b.dataset.state, b.title]);
    });
    assert.deepEqual(got, [["2:00 · New", "resolved", "New at 2:00, T\n“q”"]]);
  });

  test("flat segments (markdown: false) go straight into the container, text runs in one text node", async () => {
    const got = await run(async () => {
      const { flatText, flatCite, stamp, render } = harness;
      const element = await render([
        flatText("Acme said "),
        flatText("budget is tight "),
        flatCite("[12:45, Sarah Johnson]", [stamp("12:45", "Sarah Johnson")]),
        flatText(".\n\nGlobex "),
        flatText("waits."),
      ]);
      return {
        nodes: [...element.childNodes].map((n) => (n.nodeType === Node.TEXT_NODE ? `text:${n.data}` : `${n.tagName.toLowerCase()}.${n.className}`)),
        raw: [...element.childNodes].map((n) => (n.nodeType === Node.TEXT_NODE ? n.data : n.dataset.raw)).join(""),
      };
    });
    assert.deepEqual(got.nodes, ["text:Acme said budget is tight ", "span.cs-citation", "text:.\n\nGlobex waits."]);
    assert.equal(got.raw, "Acme said budget is tight [12:45, Sarah Johnson].\n\nGlobex waits.");
  });

  test("the same segments give the same DOM, node for node, in one frame or one frame per segment", async () => {
    const got = await run(async () => {
      const { open, close, text, cite, stamp, wrap, container, nextFrame } = harness;
      const segments = [
        ...wrap("h2", [text("Budget")]),
        ...wrap("p", [text("Two "), text("prospects "), ...wrap("strong", [text("said "), text("so")]), text(" "), cite("[12:45, Sarah Johnson]", [stamp("12:45", "Sarah Johnson")]), text("."), text(" More.")]),
        ...wrap("ul", [...wrap("li", [text("a"), text("b")]), ...wrap("li", [text("c")])]),
        ...wrap("pre", [...wrap("code", [text("x\n"), text("y\n")])], { lang: "sh" }),
        open("hr"),
        close("hr"),
        text("tail "),
        text("end"),
      ];
      const sources = [{ id: "s", conversationId: "c", conversationTitle: "T", timestamp: "12:45", seconds: 765, speaker: "Sarah Johnson", quote: "q" }];
      const resolution = { matches: [[sources[0]]], unbacked: [] };
      // Node by node: text nodes as their data, so a split text node shows.
      const shape = (node) =>
        node.nodeType === Node.TEXT_NODE ? JSON.stringify(node.data) : `${node.outerHTML.slice(0, node.outerHTML.indexOf(">") + 1)}[${[...node.childNodes].map(shape).join(",")}]`;
      // From history: everything at once.
      const whole = container();
      const once = new AnswerView(whole);
      segments.forEach((s) => once.push(s));
      once.citations(sources, resolution);
      once.end();
      await nextFrame();
      // Live: a frame per segment.
      const live = container();
      const view = new AnswerView(live);
      for (const segment of segments) {
        view.push(segment);
        await nextFrame();
      }
      view.citations(sources, resolution);
      view.end();
      await nextFrame();
      return { whole: shape(whole), live: shape(live) };
    });
    assert.equal(got.live, got.whole);
    assert.match(got.whole, /<p>\["Two prospects ",<strong>\["said so"\]," ",/);
  });

  test("malformed sequences never throw and never corrupt the DOM", async () => {
    const got = await run(async () => {
      const { open, close, text, wrap, render, depth } = harness;
      const cases = {
        // A close for an element that is not open is ignored.
        strayClose: [open("p"), open("strong"), text("a"), close("em"), text("b"), close("strong"), close("p"), close("li"), close("p")],
        // A close of an outer element closes those opened inside it.
        missingClose: [open("p"), open("em"), text("x"), close("p"), open("p"), text("y"), close("p")],
        // Unknown tags are transparent; their close pops only them.
        unknownTag: [open("p"), open("script"), text("alert(1)"), close("script"), text("!"), close("p"), open("img", { src: "x" }), close("img")],
        // Void elements are not containers; a stray close of one is ignored.
        voids: [open("p"), text("a"), open("br"), text("b"), close("br"), close("br"), close("p"), open("hr"), close("hr"), close("hr")],
        // Not segments, or kinds this version does not know.
        junk: [null, 7, "text", { kind: "sparkle", text: "?" }, { kind: "text" }, { kind: "text", text: 5 }, open(), open("p", "not an object"), text("ok"), close()],
        // Attributes of the wrong type are ignored.
        badAttrs: [...wrap("ol", [...wrap("li", [text("x")])], { start: "7\" onclick=\"x" }), ...wrap("ol", [...wrap("li", [text("y")])], { start: -2 }), ...wrap("ol", [...wrap("li", [text("z")])], { start: 2.5 })],
      };
      const out = {};
      for (const [name, segments] of Object.entries(cases)) out[name] = harness.html(await render(segments));
      // 500 nested block quotes: the DOM stays shallow, the text still shows.
      const deep = await render([...Array(500).fill(open("blockquote")), text("bottom"), ...Array(500).fill(close("blockquote")), open("p"), text("after"), close("p")]);
      out.deep = { depth: depth(deep), text: deep.textContent, last: deep.lastElementChild.outerHTML };
      return out;
    });
    assert.equal(got.strayClose, "<p><strong>ab</strong></p>");
    assert.equal(got.missingClose, "<p><em>x</em></p><p>y</p>");
    assert.equal(got.unknownTag, "<p>alert(1)!</p>");
    assert.equal(got.voids, "<p>a<br>b</p><hr>");
    assert.equal(got.junk, "<p>ok</p>");
    assert.equal(got.badAttrs, "<ol><li>x</li></ol><ol><li>y</li></ol><ol><li>z</li></ol>");
    assert.equal(got.deep.depth, 64);
    assert.equal(got.deep.text, "bottomafter");
    assert.equal(got.deep.last, "<p>after</p>");
  });
});
