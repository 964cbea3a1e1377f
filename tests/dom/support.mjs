// Shared helpers of the AnswerView browser tests (not a test file itself):
// a static server on 127.0.0.1, port 0, for the repository's js/ and this
// folder's page; headless system Chromium through playwright-core; headless
// system Firefox through geckodriver (playwright cannot drive a stock
// Firefox), with a small W3C WebDriver client over HTTP.
//
// Both browsers expose one method, `run(fn, arg)`: `fn` (a function, sent as
// its source) is called in the test page with `arg` (JSON), and what it
// returns (JSON, or a Promise of it) comes back. The page defines the globals
// `AnswerView` (js/dom.js) and `harness` (harness.js) before `fn` runs.
//
// Environment: CHROMIUM (default /usr/bin/chromium), FIREFOX (default
// /usr/bin/firefox-esr, else /usr/bin/firefox), GECKODRIVER (default
// ~/.cargo/bin/geckodriver, else geckodriver on PATH).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { homedir, tmpdir } from "node:os";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe } from "node:test";
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PAGE = "/tests/dom/page.html";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".cjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
};

/**
 * Serves files of the repository under `prefixes` (such as "/js/") on
 * 127.0.0.1, port 0; a path under a key of `routes` goes to its handler
 * (`(request, response, path)`) instead, whatever the method.
 */
export async function serveRepository(prefixes = ["/js/", "/tests/dom/"], routes = {}) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://x").pathname);
    const route = Object.keys(routes).find((prefix) => path.startsWith(prefix));
    if (route) {
      await routes[route](request, response, path);
      return;
    }
    const file = resolve(ROOT, `.${path}`);
    if (!prefixes.some((p) => path.startsWith(p)) || !file.startsWith(ROOT.replace(/\/$/, "") + sep)) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((ok) => {
        server.close(ok);
        server.closeAllConnections();
      }),
  };
}

/** The expression that calls `fn` with `arg` in the page once the page is ready. */
const call = (fn, arg) => `window.harnessReady.then(() => (${fn})(${JSON.stringify(arg ?? null)}))`;

/** Headless Chromium with the test page open. */
export async function openChromium(origin) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  await page.goto(origin + PAGE);
  return {
    name: "chromium",
    async run(fn, arg) {
      return page.evaluate(call(fn, arg));
    },
    close: () => browser.close(),
  };
}

// ---------------------------------------------------------------------------
// Firefox over W3C WebDriver

function firstExisting(candidates) {
  return candidates.find((path) => path && existsSync(path));
}

/** Starts geckodriver on a port the OS picks; resolves with its URL once it listens. */
function startGeckodriver() {
  const binary = firstExisting([process.env.GECKODRIVER, join(homedir(), ".cargo/bin/geckodriver")]) ?? "geckodriver";
  const child = spawn(binary, ["--port", "0", "--host", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = new Promise((ok, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /Listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) ok(`http://${match[1]}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`geckodriver exited (${code}) before listening:\n${output}`)));
  });
  return { child, url, output: () => output };
}

/** One WebDriver command; throws the driver's error (its `error` and `message`). */
async function command(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json();
  if (!response.ok || payload.value?.error) {
    throw new Error(`WebDriver ${method} ${path}: ${payload.value?.error}: ${payload.value?.message}`);
  }
  return payload.value;
}

/** Headless Firefox with the test page open. */
export async function openFirefox(origin) {
  const binary = firstExisting([process.env.FIREFOX, "/usr/bin/firefox-esr", "/usr/bin/firefox"]);
  if (!binary) throw new Error("no Firefox found: set FIREFOX, or install firefox-esr");
  const driver = startGeckodriver();
  const profileRoot = await mkdtemp(join(tmpdir(), "cite-stream-dom-firefox-"));
  let base;
  let session;
  const close = async () => {
    if (session) await command(base, "DELETE", `/session/${session}`).catch(() => {});
    if (driver.child.exitCode === null) {
      const exited = new Promise((ok) => driver.child.once("exit", ok));
      driver.child.kill("SIGTERM");
      await exited;
    }
    await rm(profileRoot, { recursive: true, force: true });
  };
  try {
    base = await driver.url;
    const created = await command(base, "POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "firefox",
          "moz:firefoxOptions": {
            binary,
            args: ["-headless"],
            prefs: {
              "app.update.enabled": false,
              "network.captive-portal-service.enabled": false,
              "datareporting.policy.dataSubmissionEnabled": false,
              "browser.safebrowsing.downloads.remote.enabled": false,
            },
          },
          timeouts: { script: 120_000, pageLoad: 60_000 },
        },
      },
    });
    session = created.sessionId;
    await command(base, "POST", `/session/${session}/url`, { url: origin + PAGE });
  } catch (error) {
    await close();
    error.message += `\ngeckodriver output:\n${driver.output()}`;
    throw error;
  }
  return {
    name: "firefox",
    async run(fn, arg) {
      // execute/async hands the script a callback as its last argument; a
      // rejection comes back as an object, rethrown here.
      const script = `const done = arguments[arguments.length - 1];
        ${call(fn, arg)}.then((value) => done({ value }), (error) => done({ error: String(error && error.stack || error) }));`;
      const result = await command(base, "POST", `/session/${session}/execute/async`, { script, args: [] });
      if (result && "error" in result) throw new Error(`in Firefox: ${result.error}`);
      return result?.value;
    },
    close,
  };
}

/** The browsers every DOM test runs in, by name. */
export const BROWSERS = { chromium: openChromium, firefox: openFirefox };

/**
 * A `describe` block per browser, the browser opened on `origin`'s test
 * page before its tests and closed after; `body(run, name)` declares the
 * tests, and `run(fn, arg)` calls `fn` in that browser's page.
 */
export function inEachBrowser(origin, body) {
  for (const [name, openBrowser] of Object.entries(BROWSERS)) {
    describe(name, () => {
      let browser;
      before(async () => {
        browser = await openBrowser(origin);
      });
      after(() => browser?.close());
      body((fn, arg) => browser.run(fn, arg), name);
    });
  }
}
