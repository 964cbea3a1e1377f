#!/usr/bin/env node
// `cite-stream check <url> [--token T] [--question Q] [--json]`: runs the
// chat stream protocol's conformance checks against a live server and
// exits 1 if any fails.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runChecks } from "./checks.mjs";

const USAGE = `Usage: cite-stream check <url> [options]

Checks a server that implements the cite-stream chat protocol: event order
and shapes, ids and seq, the saved text, keep-alive, the JSON errors of bad
requests, stop after a disconnect, and (version 1.1) resume and confirmed stop.
<url> is the server's origin or its chat endpoint (…/api/chat).

Options:
  --token T            bearer token (also CITE_STREAM_TOKEN)
  --question Q         the question to ask (default: "${"Which customers are at risk of churning?"}")
  --protocol V         1, 1.1 or auto (default: auto, 1.1 when the resume route answers)
  --keep-alive-ms N    longest silence allowed on a stream (default: 15000)
  --timeout-ms N       longest a request may take, its whole stream included (default: 120000)
  --json               print the report as JSON
  -h, --help           this text

Exit codes: 0 every check passed or was skipped, 1 a check failed, 2 bad usage.`;

export async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        token: { type: "string" },
        question: { type: "string", default: "Which customers are at risk of churning?" },
        protocol: { type: "string", default: "auto" },
        "keep-alive-ms": { type: "string", default: "15000" },
        "timeout-ms": { type: "string", default: "120000" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    return usage(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const args = positionals[0] === "check" ? positionals.slice(1) : positionals;
  if (args.length !== 1) return usage(args.length === 0 ? "a server URL is needed" : `one URL expected, got ${args.length} arguments`);
  let url;
  try {
    url = new URL(args[0]);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    return usage(`not an http(s) URL: ${args[0]}`);
  }
  const keepAliveMs = Number(values["keep-alive-ms"]);
  if (!Number.isFinite(keepAliveMs) || keepAliveMs <= 0) return usage(`--keep-alive-ms must be a positive number, got ${values["keep-alive-ms"]}`);
  const timeoutMs = Number(values["timeout-ms"]);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) return usage(`--timeout-ms must be a positive number, got ${values["timeout-ms"]}`);
  if (!["1", "1.1", "auto"].includes(values.protocol)) return usage(`--protocol must be 1, 1.1 or auto, got ${values.protocol}`);

  const report = await runChecks({
    url: url.href,
    token: values.token ?? process.env.CITE_STREAM_TOKEN,
    question: values.question,
    protocol: values.protocol,
    keepAliveMs,
    timeoutMs,
  });
  const failed = report.checks.filter((c) => c.status === "fail").length;
  if (values.json) {
    console.log(JSON.stringify({ ...report, durationMs: Math.round(report.durationMs), failed }, null, 2));
  } else {
    console.log(`cite-stream check ${report.endpoint} (protocol ${report.protocol})`);
    const width = Math.max(...report.checks.map((c) => c.name.length));
    for (const check of report.checks) {
      const mark = { pass: "pass", fail: "FAIL", skip: "skip" }[check.status];
      console.log(`${mark}  ${check.name.padEnd(width)}  ${check.title}${check.detail ? `: ${check.detail}` : ""}`);
    }
    const counts = ["pass", "fail", "skip"].map((s) => `${report.checks.filter((c) => c.status === s).length} ${s === "pass" ? "passed" : s === "fail" ? "failed" : "skipped"}`);
    console.log(`${counts.join(", ")} in ${(report.durationMs / 1000).toFixed(1)} s`);
  }
  return failed > 0 ? 1 : 0;
}

function usage(message) {
  console.error(`cite-stream check: ${message}\n\n${USAGE}`);
  return 2;
}

// Run as a program (the package's `bin`, through npm's link, or `node
// js/check/cli.mjs`), not when imported.
const script = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (script === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`cite-stream check: ${error?.stack ?? error}`);
      process.exitCode = 2;
    },
  );
}
