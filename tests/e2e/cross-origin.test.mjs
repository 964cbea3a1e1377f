// Another web site the user visits, in a real headless Chromium, trying to
// take the demo token or the history: from a page on another origin, and
// by DNS rebinding (its own host name pointed at the reference server's
// address). And the example page itself under its Content-Security-Policy.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import { QUESTION, SERVER, ask, assertNoPageErrors, launch, openChat, pageToken, settled } from "./support.mjs";

const REBIND_HOST = "rebind.test";

let browser;
let rebindingBrowser;
let attacker;

before(async () => {
  browser = await launch();
  // `rebind.test` resolves to 127.0.0.1, as an attacker's DNS would make it.
  rebindingBrowser = await launch([`--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`]);
  // The other site: an empty page on its own port (its own origin).
  attacker = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>another site</title>");
  });
  await new Promise((ok) => attacker.listen(0, "127.0.0.1", ok));
});

after(async () => {
  await browser?.close();
  await rebindingBrowser?.close();
  await new Promise((ok) => attacker?.close(ok) ?? ok());
});

test("a page on another origin can read neither the demo page's token nor the API", async () => {
  const token = await pageToken();
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
  const attempts = await page.evaluate(
    async ({ server, token }) => {
      const attempt = async (url, init) => {
        try {
          const response = await fetch(url, init);
          return { read: true, status: response.status, type: response.type, body: await response.text() };
        } catch (error) {
          return { read: false, error: String(error) };
        }
      };
      return {
        page: await attempt(`${server}/chat/`),
        pageNoCors: await attempt(`${server}/chat/`, { mode: "no-cors" }),
        // Even with the token (as if it had leaked), the browser hands nothing over.
        sessions: await attempt(`${server}/api/sessions`, { headers: { Authorization: `Bearer ${token}` } }),
        chat: await attempt(`${server}/api/chat`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ question: "budget" }),
        }),
        deleteAll: await attempt(`${server}/api/sessions/s_any`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } }),
      };
    },
    { server: SERVER, token },
  );
  // Without CORS headers the browser hands nothing over; even an opaque
  // no-cors response is withheld (Cross-Origin-Resource-Policy: same-origin).
  for (const name of ["page", "pageNoCors", "sessions", "chat", "deleteAll"]) {
    assert.equal(attempts[name].read, false, `${name}: ${JSON.stringify(attempts[name])}`);
    assert.match(attempts[name].error, /TypeError/, name);
  }
  await page.close();
});

test("the demo page can't be framed by another site", async () => {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
  const blocked = new Promise((ok) => {
    page.on("console", (message) => {
      if (/frame-ancestors/.test(message.text())) ok(message.text());
    });
  });
  await page.evaluate((src) => {
    const frame = document.createElement("iframe");
    frame.src = src;
    document.body.append(frame);
  }, `${SERVER}/chat/`);
  assert.match(await blocked, /Content Security Policy/);
  await page.close();
});

test("DNS rebinding: a host name this server does not serve gets 421 and no token", async () => {
  const token = await pageToken();
  const port = new URL(SERVER).port;
  const page = await rebindingBrowser.newPage();
  const response = await page.goto(`http://${REBIND_HOST}:${port}/chat/`);
  assert.equal(response.status(), 421);
  const html = await response.text();
  assert.ok(!html.includes(token), "the token is not on the rebound page");
  assert.equal(JSON.parse(html).error.code, "unknown_host");
  // Same-origin to the rebound name now, yet the API refuses it too.
  const api = await page.evaluate(async (token) => {
    const response = await fetch("/api/sessions", { headers: { Authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.json() };
  }, token);
  assert.deepEqual([api.status, api.body.error.code], [421, "unknown_host"]);
  await page.close();
});

test("the example page runs under its Content-Security-Policy with no violation", async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await openChat(browser, { context });
  const csp = (await page.request.get(`${SERVER}/chat/`)).headers()["content-security-policy"];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  await ask(page, QUESTION);
  assert.equal(await settled(page), "done");
  assert.ok((await page.locator(".answer .cs-badge").count()) > 0, "badges rendered");
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assertNoPageErrors(page);
  await context.close();
});
