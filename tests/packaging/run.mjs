#!/usr/bin/env node
// Packaging test: the npm tarball of pkg/, installed the way users install
// it, works where the README promises it works.
//
//   bash .ci/build && cargo build -p server-mock
//   bash .ci/with-server --token-delay-ms 5 -- node tests/packaging/run.mjs
//
// 1. `npm pack` of pkg/: the tarball holds exactly what package.json `files`
//    promises (+ package.json, and README/LICENSE, which npm always ships),
//    every path package.json and the shipped modules refer to is in it.
// 2. Node 20: a fresh folder installs the tarball; an ESM script imports
//    "cite-stream" (the "node" entry) and streams an answer; the package's
//    bin (`npx cite-stream check`) passes against the reference server.
// 3. Vite: a fresh app (package.json, index.html, main.js written here, no
//    create-vite) installs vite and the tarball, `vite build`s, and the built
//    dist/ is served by a small static server and loaded in headless Chromium
//    (playwright-core with /usr/bin/chromium: no browser download).
// 4. The same app under the Vite dev server (dependency pre-bundling).
// 5. The installed package as a plain <script type="module">, no bundler.
// In Node, "cite-stream/dom" imports (it touches no DOM at import time); in
// each browser check the page also renders the answer with its AnswerView.
//
// Needs CITE_STREAM_SERVER=http://127.0.0.1:PORT (the reference server,
// which answers CORS) and CITE_STREAM_TOKEN (its demo user's bearer token;
// .ci/with-server sets both), the npm registry or a warm npm cache, Chromium.
// Environment: VITE_VERSION (default below), CITE_STREAM_PKG (default pkg/),
// CHROMIUM (default /usr/bin/chromium), KEEP_TMP=1 keeps the temporary
// folders.
// The last line is "N passed, N failed"; the exit status is 1 on a failure.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join, posix, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PKG_DIR = resolve(process.env.CITE_STREAM_PKG ?? join(ROOT, "pkg"));
const SERVER = process.env.CITE_STREAM_SERVER?.replace(/\/+$/, "");
const TOKEN = process.env.CITE_STREAM_TOKEN ?? "";
// Vite 8 needs Node ^20.19 || >=22.12, which this machine's Node 20 meets.
const VITE_VERSION = process.env.VITE_VERSION ?? "8.3.8";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const KEEP_TMP = process.env.KEEP_TMP === "1";
const QUESTION = "Which prospects mentioned budget constraints?";
// The public value exports (js/index.d.ts); every entry point must have them all.
const EXPORTS = [
  "CitationBuffer", "EventStreamParser", "StreamError", "createSegmenter", "init", "resolveCitations", "resumeChat", "streamChat",
];
// The renderer's (js/dom.d.ts), from "cite-stream/dom".
const DOM_EXPORTS = ["AnswerView"];
// A warm npm cache installs without asking the registry.
const NPM_INSTALL = ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"];
const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
];
const PAGE_TIMEOUT_MS = 30_000;
const NAMES = {
  node: "Node: the installed tarball streams an answer",
  checker: "npx cite-stream check: the installed bin passes against the reference server",
  build: "Vite build of an app importing the tarball",
  built: "Vite build in Chromium: the built app streams an answer",
  dev: "Vite dev server in Chromium: the app streams an answer",
  plain: "plain <script type=module> in Chromium: the installed package streams an answer",
};

// ---------------------------------------------------------------------------
// Reporting

let passed = 0;
let failed = 0;
const log = (line = "") => process.stdout.write(`${line}\n`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs one named check; its result (a string) is printed as a note. */
async function check(name, fn) {
  const start = performance.now();
  try {
    const note = await fn();
    passed++;
    log(`ok - ${name} (${seconds(performance.now() - start)})${note ? `\n     ${String(note).replaceAll("\n", "\n     ")}` : ""}`);
    return true;
  } catch (error) {
    failed++;
    const raw = error?.stack && !(error instanceof CheckError) ? error.stack : String(error?.message ?? error);
    const message = raw.replace(/\x1b\[[0-9;]*m/g, "");
    log(`not ok - ${name} (${seconds(performance.now() - start)})\n     ${message.replaceAll("\n", "\n     ")}`);
    return false;
  }
}

function skip(name, why) {
  failed++;
  log(`not ok - ${name} (skipped: ${why})`);
}

class CheckError extends Error {}
function assert(condition, message) {
  if (!condition) throw new CheckError(typeof message === "function" ? message() : message);
}

// ---------------------------------------------------------------------------
// Processes

/** Runs a command to completion; rejects with its output when it fails. */
function run(command, args, { cwd, env, timeoutMs = 300_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolvePromise({ stdout, stderr });
      const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-40).join("\n");
      reject(new CheckError(`\`${command} ${args.join(" ")}\` in ${cwd} failed (${signal ?? `exit ${code}`}):\n${tail}`));
    });
  });
}

// ---------------------------------------------------------------------------
// Static file server for dist/ and the plain-module page

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

/** Serves `mounts` ({ "/prefix/": directory }) on 127.0.0.1, port 0. */
async function serveStatic(mounts) {
  const server = createServer(async (request, response) => {
    try {
      const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
      const prefix = Object.keys(mounts).filter((p) => path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
      if (!prefix || (request.method !== "GET" && request.method !== "HEAD")) throw Object.assign(new Error(), { status: 404 });
      const base = mounts[prefix];
      let file = resolve(base, `.${posix.sep}${path.slice(prefix.length)}`);
      if (file !== base && !file.startsWith(base + sep)) throw Object.assign(new Error(), { status: 403 });
      if ((await stat(file)).isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      response.writeHead(200, {
        "content-type": MIME[extname(file)] ?? "application/octet-stream",
        "content-length": body.length,
        "cache-control": "no-store",
      });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch (error) {
      response.writeHead(error.status ?? 404, { "content-type": "text/plain" });
      response.end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((ok) => server.close(ok)) };
}

// ---------------------------------------------------------------------------
// The browser

let browserPromise = null;
function browser() {
  browserPromise ??= (async () => {
    const require = createRequire(join(ROOT, "package.json"));
    const { chromium } = require("playwright-core");
    return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  })();
  return browserPromise;
}

/**
 * Loads a page that streams one answer and reports it on <body>: waits for
 * `data-status`, collects console errors, page errors, failed requests and
 * HTTP errors, and the responses of .wasm files.
 */
async function loadChatPage(url) {
  const context = await (await browser()).newContext();
  const page = await context.newPage();
  const problems = [];
  const warnings = [];
  const aborted = [];
  const wasm = [];
  // The first problem ends the wait (a little later, to collect what follows).
  let giveUp;
  const failedEarly = new Promise((_, reject) => {
    giveUp = () => setTimeout(() => reject(new CheckError(`the page failed:\n${problems.join("\n")}`)), 200);
  });
  failedEarly.catch(() => {});
  const problem = (line) => {
    problems.push(line);
    giveUp();
  };
  page.on("console", (message) => {
    const where = message.location()?.url ? ` (${message.location().url})` : "";
    if (message.type() === "error") problem(`console.error: ${message.text()}${where}`);
    if (message.type() === "warning") warnings.push(`console.warn: ${message.text()}${where}`);
  });
  page.on("pageerror", (error) => {
    problem(`uncaught: ${error.stack || error.message || `${error.name} (no message)`}`);
  });
  page.on("requestfailed", (request) => {
    const line = `${request.method()} ${request.url()}: ${request.failure()?.errorText}`;
    // The client cancels the response body once `done` has arrived (it
    // ignores anything after it), which Chromium reports as an aborted
    // request: nothing the page logs. Any other failure is a problem.
    if (request.failure()?.errorText === "net::ERR_ABORTED") aborted.push(line);
    else problem(`request failed: ${line}`);
  });
  page.on("response", async (response) => {
    if (response.status() >= 400) problem(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    if (new URL(response.url()).pathname.endsWith(".wasm")) {
      wasm.push({ url: response.url(), status: response.status(), type: (await response.allHeaders())["content-type"] });
    }
  });
  try {
    await page.goto(url, { waitUntil: "domcontentloaded", timeout: PAGE_TIMEOUT_MS });
    await Promise.race([
      page.waitForSelector("body[data-status]", { state: "attached", timeout: PAGE_TIMEOUT_MS }),
      failedEarly,
    ]);
    const report = await page.evaluate(() => ({
      status: document.body.dataset.status,
      citations: Number(document.body.dataset.citations),
      consistent: document.body.dataset.consistent,
      error: document.body.dataset.error,
      view: JSON.parse(document.body.dataset.view ?? "null"),
      text: document.querySelector("#answer")?.textContent ?? "",
    }));
    // A moment for late console messages.
    await page.waitForTimeout(100);
    return { ...report, problems, warnings, aborted, wasm };
  } catch (error) {
    if (error instanceof CheckError) throw error;
    throw new CheckError(`${error.message}${problems.length ? `\n${problems.join("\n")}` : ""}`);
  } finally {
    await context.close();
  }
}

/** The assertions every browser page must meet. */
function assertChatPage(report, { wasmFrom } = {}) {
  assert(report.problems.length === 0, () => `the page logged errors:\n${report.problems.join("\n")}`);
  assert(report.status === "done", () => `status ${JSON.stringify(report.status)}, error ${report.error}`);
  assert(report.text.length > 0, "the answer text is empty");
  assert(report.citations >= 2, `${report.citations} citation segments, expected at least 2`);
  assert(report.consistent === "true", "the joined segment texts differ from result.text");
  assert(report.view, "the page did not render the answer with AnswerView");
  assert(report.view.groups === report.citations, `AnswerView shows ${report.view.groups} citation groups for ${report.citations} citation segments`);
  assert(report.view.resolved > 0, "AnswerView marked no badge resolved after onCitations");
  assert(report.view.consistent, "AnswerView's text and badges differ from result.text");
  assert(!report.view.busy, "aria-busy is still set after end()");
  assert(report.wasm.length >= 1, "no .wasm file was requested");
  for (const w of report.wasm) {
    assert(w.status === 200 || w.status === 304, `${w.url}: HTTP ${w.status}`);
    assert(w.type?.startsWith("application/wasm"), `${w.url} served as ${w.type}`);
    if (wasmFrom) assert(w.url.startsWith(wasmFrom), `the wasm came from ${w.url}, expected under ${wasmFrom}`);
  }
  const notes = [
    `status done, ${report.text.length} characters, ${report.citations} citation segments; AnswerView: ${report.view.groups} badge groups, ${report.view.resolved} badges resolved`,
    `wasm: ${report.wasm.map((w) => `${new URL(w.url).pathname} (${w.type})`).join(", ")}`,
  ];
  if (report.aborted.length) notes.push(`aborted by the page (not failures): ${report.aborted.join("; ")}`);
  if (report.warnings.length) notes.push(`warnings (not failures):\n${report.warnings.join("\n")}`);
  return notes.join("\n");
}

// ---------------------------------------------------------------------------
// The apps written into the temporary folders

/** The streaming code shared by the Vite app and the plain page; `domFrom` is where `cite-stream/dom` is. */
const chatScript = (importFrom, domFrom, serverExpression, tokenExpression) => `import { streamChat } from ${JSON.stringify(importFrom)};
import { AnswerView } from ${JSON.stringify(domFrom)};

const server = ${serverExpression};
const token = ${tokenExpression};
const answer = document.querySelector("#answer");
const rendered = document.querySelector("#rendered");
const view = new AnswerView(rendered);
const texts = [];
let citations = 0;
const chat = streamChat({
  url: \`\${server}/api/chat\`,
  headers: { Authorization: \`Bearer \${token}\` },
  body: { question: ${JSON.stringify(QUESTION)} },
  onSegment(segment) {
    texts.push(segment.text);
    if (segment.kind === "citation") citations += 1;
    view.push(segment);
  },
  onCitations: (sources, resolution) => view.citations(sources, resolution),
});
// No top-level await here: the app must not need more of the bundler than
// the package does.
chat.finished.then((result) => {
  answer.textContent = texts.join("");
  view.end();
  view.flush();
  // The view shows every citation segment as a badge group, and the rest as the text.
  const groups = [...rendered.querySelectorAll(".cs-citation")];
  const shown = [...rendered.childNodes].map((node) => (node.nodeType === 3 ? node.data : node.dataset.raw)).join("");
  document.body.dataset.view = JSON.stringify({
    groups: groups.length,
    resolved: rendered.querySelectorAll('button.cs-badge[data-state="resolved"]').length,
    consistent: shown === result.text,
    busy: rendered.hasAttribute("aria-busy"),
  });
  document.body.dataset.citations = String(citations);
  document.body.dataset.consistent = String(texts.join("") === result.text);
  if (result.error) document.body.dataset.error = \`\${result.error.code}: \${result.error.message}\`;
  document.body.dataset.status = result.status;
});
`;

const chatPage = (script) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>cite-stream packaging test</title>
    <link rel="icon" href="data:,">
  </head>
  <body>
    <main id="answer"></main>
    <div id="rendered"></div>
    ${script}
  </body>
</html>
`;

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

// ---------------------------------------------------------------------------
// The checks

/** `files` entries are plain paths or folders here; a glob needs this test updated. */
function promisedBy(entry, path) {
  const clean = entry.replace(/^\.\//, "").replace(/\/+$/, "");
  assert(!/[*?{}[\]!]/.test(clean), `package.json files entry ${entry}: globs are not handled by this test`);
  return path === clean || path.startsWith(`${clean}/`);
}

/** Every string target of package.json's exports, main, module, types. */
function manifestTargets(manifest) {
  const targets = new Set();
  const walk = (value) => {
    if (typeof value === "string") targets.add(value);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  for (const field of ["main", "module", "types", "typings", "browser"]) if (typeof manifest[field] === "string") targets.add(manifest[field]);
  return [...targets].map((t) => posix.normalize(t.replace(/^\.\//, "")));
}

/** Relative module and `new URL(…, import.meta.url)` references in a JS file. */
function relativeReferences(source) {
  const found = new Set();
  const patterns = [
    /\b(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\s*['"](\.{1,2}\/[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g,
    /new URL\(\s*['"]([^'":]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of source.matchAll(pattern)) found.add(match[1]);
  return [...found];
}

async function main() {
  const started = performance.now();
  if (!SERVER) {
    skip("setup", "CITE_STREAM_SERVER is not set: run under `bash .ci/with-server -- node tests/packaging/run.mjs`");
    return;
  }
  const pkgManifest = await readFile(join(PKG_DIR, "package.json"), "utf8").then(JSON.parse, () => null);
  if (!pkgManifest) {
    skip("setup", "pkg/package.json is missing: run `bash .ci/build` first");
    return;
  }
  log(`# cite-stream ${pkgManifest.version} from ${PKG_DIR}; reference server ${SERVER}; vite ${VITE_VERSION}`);

  const tmp = await mkdtemp(join(tmpdir(), "cite-stream-packaging-"));
  const cleanups = [];
  const onSignal = async () => {
    await Promise.allSettled(cleanups.map((c) => c()));
    if (!KEEP_TMP) await rm(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    // 1. The tarball.
    let tarball;
    let tarballFiles;
    await check("npm pack: the tarball holds exactly the promised files", async () => {
      const destination = join(tmp, "pack");
      await mkdir(destination);
      const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", destination, "--loglevel=error"], { cwd: PKG_DIR });
      const [info] = JSON.parse(stdout.slice(stdout.indexOf("[")));
      tarball = join(destination, info.filename);
      tarballFiles = info.files.map((f) => f.path).sort();
      const alwaysShipped = (path) => path === "package.json" || /^(readme|licen[cs]e|copying)(\.[^/]*)?$/i.test(path);
      assert(Array.isArray(pkgManifest.files), 'package.json has no "files" list: npm would pack the whole folder');
      const promised = pkgManifest.files;
      const stray = tarballFiles.filter((path) => !alwaysShipped(path) && !promised.some((entry) => promisedBy(entry, path)));
      assert(stray.length === 0, `files not promised by package.json "files": ${stray.join(", ")}`);
      const missing = promised.filter((entry) => !tarballFiles.some((path) => promisedBy(entry, path)));
      assert(missing.length === 0, `promised by "files" but not in the tarball: ${missing.join(", ")}`);
      const unreachable = manifestTargets(pkgManifest).filter((target) => !tarballFiles.includes(target));
      assert(unreachable.length === 0, `package.json refers to files the tarball lacks: ${unreachable.join(", ")}`);
      for (const entry of Array.isArray(pkgManifest.sideEffects) ? pkgManifest.sideEffects : []) {
        assert(tarballFiles.includes(posix.normalize(entry.replace(/^\.\//, ""))), `sideEffects entry ${entry} is not in the tarball`);
      }
      for (const file of tarballFiles.filter((path) => path.endsWith(".js"))) {
        const source = await readFile(join(PKG_DIR, file), "utf8");
        for (const reference of relativeReferences(source)) {
          const target = posix.normalize(posix.join(posix.dirname(file), reference));
          assert(tarballFiles.includes(target), `${file} refers to ${reference}, which the tarball lacks`);
        }
      }
      // The renderer is plain JS over segments: it must not pull in the wasm module.
      if (tarballFiles.includes("dom.js")) {
        const dom = await readFile(join(PKG_DIR, "dom.js"), "utf8");
        const imports = [...relativeReferences(dom), ...(/\bimport\s*\(|\bfrom\s*["']/.test(dom) ? ["an import"] : [])];
        assert(imports.length === 0, `dom.js imports ${imports.join(", ")}; it must stand alone`);
      }
      const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
      return [
        `${info.filename}: ${kB(info.size)} packed, ${kB(info.unpackedSize)} unpacked, ${info.entryCount} files`,
        ...info.files.map((f) => `  ${f.path.padEnd(Math.max(...tarballFiles.map((p) => p.length)))} ${String(f.size).padStart(8)} B`),
      ].join("\n");
    });
    // A wrong file list still leaves a tarball worth trying everywhere.
    if (!tarball) {
      for (const name of [NAMES.node, NAMES.checker, NAMES.build, NAMES.built, NAMES.dev, NAMES.plain]) skip(name, "no tarball");
      return;
    }

    // 2 and 3: both fresh folders install at the same time.
    const nodeApp = join(tmp, "node-app");
    const viteApp = join(tmp, "vite-app");
    await mkdir(nodeApp);
    await mkdir(viteApp);
    const tarballSpec = `file:${tarball}`;
    await writeFile(join(nodeApp, "package.json"), json({
      name: "cite-stream-node-check", private: true, type: "module", dependencies: { "cite-stream": tarballSpec },
    }));
    await writeFile(join(viteApp, "package.json"), json({
      name: "cite-stream-vite-check", private: true, type: "module",
      scripts: { dev: "vite", build: "vite build" },
      dependencies: { "cite-stream": tarballSpec },
      devDependencies: { vite: VITE_VERSION },
    }));
    const installStart = performance.now();
    const installs = [nodeApp, viteApp].map((dir) => run("npm", NPM_INSTALL, { cwd: dir }).then(
      () => performance.now() - installStart,
    ));
    installs.forEach((p) => p.catch(() => {}));

    // 2. Node.
    const nodeOk = await check(NAMES.node, async () => {
      const took = await installs[0];
      await writeFile(join(nodeApp, "check.mjs"), `import * as all from "cite-stream";
import * as dom from "cite-stream/dom";
import { streamChat } from "cite-stream";

const segments = [];
const chat = streamChat({
  url: process.env.CITE_STREAM_SERVER + "/api/chat",
  headers: { Authorization: "Bearer " + process.env.CITE_STREAM_TOKEN },
  body: { question: ${JSON.stringify(QUESTION)} },
  onSegment: (segment) => segments.push(segment),
});
const result = await chat.finished;
console.log(JSON.stringify({
  entry: import.meta.resolve("cite-stream"),
  exports: Object.keys(all).sort(),
  domEntry: import.meta.resolve("cite-stream/dom"),
  domExports: Object.keys(dom).sort(),
  status: result.status,
  error: result.error ? result.error.code + ": " + result.error.message : null,
  length: result.text.length,
  consistent: segments.map((s) => s.text).join("") === result.text,
  citations: segments.filter((s) => s.kind === "citation").length,
}));
`);
      const { stdout } = await run(process.execPath, ["check.mjs"], { cwd: nodeApp, env: { CITE_STREAM_SERVER: SERVER, CITE_STREAM_TOKEN: TOKEN }, timeoutMs: 60_000 });
      const report = JSON.parse(stdout.trim().split("\n").at(-1));
      assert(report.entry.endsWith("/node_modules/cite-stream/node.js"), `Node resolved ${report.entry}, expected the "node" entry node.js`);
      assert(JSON.stringify(report.exports) === JSON.stringify(EXPORTS), `exports ${report.exports.join(", ")}; expected ${EXPORTS.join(", ")}`);
      assert(report.domEntry.endsWith("/node_modules/cite-stream/dom.js"), `Node resolved cite-stream/dom to ${report.domEntry}`);
      assert(JSON.stringify(report.domExports) === JSON.stringify(DOM_EXPORTS), `cite-stream/dom exports ${report.domExports.join(", ")}; expected ${DOM_EXPORTS.join(", ")}`);
      assert(report.status === "done", `status ${report.status}, error ${report.error}`);
      assert(report.length > 0, "the answer text is empty");
      assert(report.consistent, "the joined segment texts differ from result.text");
      assert(report.citations >= 2, `${report.citations} citation segments, expected at least 2`);
      return `npm install ${seconds(took)}; entry node.js, cite-stream/dom dom.js; status done, ${report.length} characters, ${report.citations} citation segments`;
    });

    // The conformance checker, as a backend team runs it: the installed bin.
    await check(NAMES.checker, async () => {
      await installs[0];
      const { stdout } = await run("npx", ["--no-install", "cite-stream", "check", SERVER, "--token", TOKEN, "--json"], {
        cwd: nodeApp,
        timeoutMs: 60_000,
      });
      const report = JSON.parse(stdout);
      const notPassed = report.checks.filter((c) => c.status !== "pass");
      assert(notPassed.length === 0, () => `checks not passed: ${JSON.stringify(notPassed)}`);
      return `${report.checks.length} checks passed (protocol ${report.protocol}) in ${seconds(report.durationMs)}`;
    });

    // 3. Vite build.
    const server = await serveStatic({ "/": join(viteApp, "dist"), "/plain/": join(tmp, "plain") });
    cleanups.push(server.close);
    await writeFile(join(viteApp, "index.html"), chatPage(`<script type="module" src="/main.js"></script>`));
    await writeFile(join(viteApp, "main.js"), chatScript("cite-stream", "cite-stream/dom", "import.meta.env.VITE_CITE_STREAM_SERVER", "import.meta.env.VITE_CITE_STREAM_TOKEN"));
    const viteEnv = { VITE_CITE_STREAM_SERVER: SERVER, VITE_CITE_STREAM_TOKEN: TOKEN, NO_COLOR: "1" };
    const built = await check(NAMES.build, async () => {
      const took = await installs[1];
      const installed = await readFile(join(viteApp, "node_modules/vite/package.json"), "utf8").then(JSON.parse);
      const { stdout, stderr } = await run(process.execPath, ["node_modules/vite/bin/vite.js", "build"], { cwd: viteApp, env: viteEnv, timeoutMs: 120_000 });
      const output = `${stdout}\n${stderr}`;
      const warnings = output.split("\n").filter((line) => /warn|error|\[plugin/i.test(line));
      const assets = await readdir(join(viteApp, "dist/assets"));
      const wasmFiles = assets.filter((name) => name.endsWith(".wasm"));
      assert(wasmFiles.length === 1, `dist/assets has ${wasmFiles.length} .wasm files (${wasmFiles.join(", ")}), expected 1`);
      const [emitted, original] = await Promise.all([readFile(join(viteApp, "dist/assets", wasmFiles[0])), readFile(join(PKG_DIR, "cite_stream_bg.wasm"))]);
      assert(emitted.equals(original), "the emitted .wasm differs from pkg/cite_stream_bg.wasm");
      const js = assets.filter((name) => name.endsWith(".js"));
      for (const name of js) {
        const source = await readFile(join(viteApp, "dist/assets", name), "utf8");
        assert(!source.includes("node:fs"), `dist/assets/${name} contains the Node entry (node:fs)`);
      }
      const sizes = await Promise.all(assets.map(async (name) => `  ${name.padEnd(32)} ${String((await stat(join(viteApp, "dist/assets", name))).size).padStart(8)} B`));
      return [
        `vite ${installed.version}; npm install ${seconds(took)}`,
        ...sizes,
        ...(warnings.length ? ["build warnings (not failures):", ...warnings] : []),
      ].join("\n");
    });

    if (built) {
      await check(NAMES.built, async () => {
        const report = await loadChatPage(`${server.url}/`);
        return assertChatPage(report, { wasmFrom: `${server.url}/assets/` });
      });
    } else {
      skip(NAMES.built, "the build failed");
    }

    // 4. The Vite dev server: dependency pre-bundling moves the package's
    // modules, which is where `new URL("…wasm", import.meta.url)` can break.
    if (built || (await installs[1].then(() => true, () => false))) {
      await check(NAMES.dev, async () => {
        // Vite before 8 takes port 0 for "the default port": pick a free one.
        const free = createServer();
        await new Promise((ok) => free.listen(0, "127.0.0.1", ok));
        const freePort = free.address().port;
        await new Promise((ok) => free.close(ok));
        await writeFile(join(viteApp, "dev.mjs"), `import { createServer } from "vite";
const server = await createServer({ server: { host: "127.0.0.1", port: ${freePort}, strictPort: true }, clearScreen: false, logLevel: "warn" });
await server.listen();
console.log("PORT " + server.httpServer.address().port);
`);
        const child = spawn(process.execPath, ["dev.mjs"], { cwd: viteApp, env: { ...process.env, ...viteEnv }, stdio: ["ignore", "pipe", "pipe"] });
        const exited = new Promise((ok) => child.once("exit", ok));
        const stop = async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await Promise.race([exited, new Promise((ok) => setTimeout(ok, 5000).unref())]);
        };
        cleanups.push(stop);
        let output = "";
        try {
          const port = await new Promise((ok, reject) => {
            const timer = setTimeout(() => reject(new CheckError(`the dev server did not start:\n${output}`)), 30_000);
            const onData = (chunk) => {
              output += chunk;
              const match = /PORT (\d+)/.exec(output);
              if (match) {
                clearTimeout(timer);
                ok(Number(match[1]));
              }
            };
            child.stdout.on("data", onData);
            child.stderr.on("data", onData);
            child.on("exit", (code) => reject(new CheckError(`the dev server exited (${code}):\n${output}`)));
          });
          const report = await loadChatPage(`http://127.0.0.1:${port}/`);
          const serverLog = output.replace(/PORT \d+\n?/, "").trim();
          const note = assertChatPage(report);
          return serverLog ? `${note}\ndev server output:\n${serverLog}` : note;
        } catch (error) {
          const serverLog = output.replace(/PORT \d+\n?/, "").trim();
          if (serverLog) error.message += `\ndev server output:\n${serverLog}`;
          throw error;
        } finally {
          await stop();
        }
      });
    } else {
      skip(NAMES.dev, "vite did not install");
    }

    // 5. The installed package as a plain module script, no bundler.
    if (nodeOk || (await installs[0].then(() => true, () => false))) {
      await check(NAMES.plain, async () => {
        const plain = join(tmp, "plain");
        await mkdir(plain);
        // The package folder as npm installed it, served next to the page.
        await run("cp", ["-R", join(nodeApp, "node_modules/cite-stream"), join(plain, "cite-stream")]);
        await writeFile(join(plain, "index.html"), chatPage(`<script type="module">\n${chatScript("./cite-stream/index.js", "./cite-stream/dom.js", JSON.stringify(SERVER), JSON.stringify(TOKEN))}</script>`));
        const report = await loadChatPage(`${server.url}/plain/`);
        return assertChatPage(report, { wasmFrom: `${server.url}/plain/cite-stream/` });
      });
    } else {
      skip(NAMES.plain, "the tarball did not install");
    }
  } finally {
    if (browserPromise) await browserPromise.then((b) => b.close(), () => {});
    await Promise.allSettled(cleanups.map((c) => c()));
    if (KEEP_TMP) log(`# kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
    log(`# total ${seconds(performance.now() - started)}`);
  }
}

try {
  await main();
} catch (error) {
  failed++;
  log(`not ok - unexpected failure\n     ${error?.stack ?? error}`);
}
log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
