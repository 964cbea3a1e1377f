// `cite-stream check` against the reference server (every check passes)
// and against small servers that each break one rule of the protocol
// (exactly that check fails), and the CLI's report, JSON and exit codes.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CHECKS, runChecks } from "../../js/check/checks.mjs";
import { TOKEN, fakeServer } from "./fake-server.mjs";

const CLI = fileURLToPath(new URL("../../js/check/cli.mjs", import.meta.url));
const run = promisify(execFile);
const SERVER = process.env.CITE_STREAM_SERVER;
const SERVER_TOKEN = process.env.CITE_STREAM_TOKEN;
const VERSION_11 = new Set(["resume", "resume-live", "confirmed-stop"]);
/** Small limits for the fake servers, whose answers take about 0.3 s (a broken one is silent for 1 s). */
const FAST = { keepAliveMs: 400, stopWaitMs: 500, question: "Who is at risk?" };

async function cli(args) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

const statuses = (report) => Object.fromEntries(report.checks.map((c) => [c.name, c.status]));

test("the reference server passes every check, version 1.1 included (CLI, --json)", async () => {
  assert.ok(SERVER && SERVER_TOKEN, "run under .ci/with-server, which sets CITE_STREAM_SERVER and CITE_STREAM_TOKEN");
  const { code, stdout } = await cli(["check", SERVER, "--token", SERVER_TOKEN, "--json"]);
  const report = JSON.parse(stdout);
  assert.equal(report.protocol, "1.1");
  assert.deepEqual(
    report.checks.filter((c) => c.status !== "pass"),
    [],
    "no check fails or is skipped",
  );
  assert.deepEqual(report.checks.map((c) => c.name), CHECKS.map(([name]) => name));
  assert.match(report.checks.find((c) => c.name === "ids").detail, /the Cite-Stream-Message-Id header names the same message$/);
  assert.equal(report.failed, 0);
  assert.equal(code, 0);
});

test("the readable report: a line per check, a summary, exit code 1 on a failure", async () => {
  const server = await fakeServer({ breaks: ["token-count"] });
  try {
    const { code, stdout } = await cli([server.url, "--token", TOKEN, "--keep-alive-ms", "400"]);
    assert.equal(code, 1);
    const lines = stdout.trim().split("\n");
    assert.match(lines[0], /^cite-stream check http:\/\/127\.0\.0\.1:\d+\/api\/chat \(protocol 1\)$/);
    assert.equal(lines.length, 1 + CHECKS.length + 1);
    assert.match(stdout, /^FAIL  done +done names the message and counts its tokens: done counts 16 tokens, the stream had 15$/m);
    assert.match(stdout, /^skip  resume +.*does not offer version 1\.1/m);
    assert.match(lines.at(-1), /^11 passed, 1 failed, 3 skipped in \d+\.\d s$/);
  } finally {
    await server.close();
  }
});

test("bad usage exits 2 with the usage text", async () => {
  for (const args of [[], ["check", "ftp://example.com"], ["check", "http://a", "http://b"], ["http://a", "--protocol", "2"], ["http://a", "--keep-alive-ms", "-1"], ["http://a", "--timeout-ms", "soon"]]) {
    const { code, stderr } = await cli(args);
    assert.equal(code, 2, args.join(" "));
    assert.match(stderr, /Usage: cite-stream check <url>/);
  }
});

for (const version of ["1", "1.1"]) {
  test(`a correct version ${version} server passes every check (1.1's are skipped for version 1)`, async () => {
    const server = await fakeServer({ version });
    try {
      const report = await runChecks({ url: server.url, token: TOKEN, ...FAST });
      assert.equal(report.protocol, version);
      for (const [name] of CHECKS) {
        const expected = version === "1" && VERSION_11.has(name) ? "skip" : "pass";
        assert.equal(statuses(report)[name], expected, `${name}: ${report.checks.find((c) => c.name === name).detail}`);
      }
    } finally {
      await server.close();
    }
  });
}

test("a question over 4,000 characters in a small body must be a 413 too", async () => {
  // The fake's only size limit is the 16 KiB body: the question limit is broken.
  const server = await fakeServer({ breaks: ["question-length"] });
  try {
    const report = await runChecks({ url: server.url, token: TOKEN, ...FAST });
    const failed = report.checks.filter((c) => c.status === "fail");
    assert.deepEqual(failed.map((c) => c.name), ["error-413"]);
    assert.match(failed[0].detail, /^a 4,001-character question: expected 413, got 200: "event: session/);
  } finally {
    await server.close();
  }
});

test("a stream that never ends fails within the timeout instead of hanging the checker", async () => {
  const server = await fakeServer({ version: "1.1", breaks: ["never-ends"] });
  try {
    const report = await runChecks({ url: server.url, token: TOKEN, ...FAST, timeoutMs: 1_000 });
    const response = report.checks.find((c) => c.name === "response");
    assert.equal(response.status, "fail");
    assert.match(response.detail, /^TimeoutError: /);
  } finally {
    await server.close();
  }
});

/** Each way of breaking the protocol, the check that must catch it, and what its detail says. */
const BROKEN = [
  ["content-type", "response", /Content-Type text\/event-stream, got "text\/plain"/, "1"],
  ["status-after-token", "order", /a status event after the first token, event 5/, "1"],
  ["citation-shape", "shapes", /citation 1: `seconds` is "765", expected a number/, "1"],
  ["repeated-seq", "ids", /token event 5 has seq 4 after 4/, "1"],
  ["token-count", "done", /done counts 16 tokens, the stream had 15/, "1"],
  ["saved-text", "saved-text", /saved text .* differs from the tokens'/, "1"],
  ["silence", "keep-alive", /^\d+ ms without a byte in the (whole|resumed) answer, over the 400 ms limit$/, "1"],
  ["no-stop", "stop", /went on after the disconnect and was saved whole/, "1"],
  ["error-400", "error-400", /body \{: expected 400, got 500/, "1"],
  ["error-401", "error-401", /no token: expected 401, got 200/, "1"],
  ["error-413", "error-413", /a 20,000-character question: expected 413, got 200/, "1"],
  ["error-415", "error-415", /expected 415, got 200/, "1"],
  ["resume-gap", "resume", /replayed event 3 is .*, expected/, "1.1"],
  ["message-id-header", "ids", /^the Cite-Stream-Message-Id header names "m_\d+x", the session event "m_\d+"$/, "1.1"],
  ["resume-not-live", "resume-live", /the answer did not go on$/, "1.1"],
  ["stop-not-idempotent", "confirmed-stop", /a second stop answered 409/, "1.1"],
  ["stop-goes-on", "confirmed-stop", /the stream went on after the stop: it sent \d+ characters more than the \d+ saved/, "1.1"],
  ["stop-changes-ended", "confirmed-stop", /^stopping an answer that ended answered stopped true, not the saved false$/, "1.1"],
];

for (const [breaks, check, detail, version] of BROKEN) {
  test(`a server that breaks ${breaks} fails exactly the ${check} check`, async () => {
    const server = await fakeServer({ version, breaks: [breaks] });
    try {
      const report = await runChecks({ url: server.url, token: TOKEN, ...FAST });
      const failed = report.checks.filter((c) => c.status === "fail");
      assert.deepEqual(failed.map((c) => c.name), [check], JSON.stringify(failed));
      assert.match(failed[0].detail, detail);
    } finally {
      await server.close();
    }
  });
}
