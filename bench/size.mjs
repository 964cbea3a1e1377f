// What the package ships, gzip -9 (Node's zlib, level 9), each file
// compressed on its own and the results summed:
//   - every .wasm, .js and .mjs in the published folder pkg/ (the entries
//     of pkg-template/package.json `files`, folders walked), and
//   - what a browser downloads: the same without the Node entry node.js
//     and the conformance checker check.mjs (a Node program, the `bin`).
// Then eventsource-parser from node_modules for comparison: its published
// dist/ (.js files) and its main entry bundled and minified by esbuild.
//
//   node bench/size.mjs            (after `bash .ci/build`)
//   node bench/size.mjs --totals   the two sums only (what .ci/build prints)
// Environment: CITE_STREAM_PKG, another built package folder (default pkg/).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const pkg = process.env.CITE_STREAM_PKG ?? join(root, "pkg");
const SHIPPED = /\.(wasm|js|mjs)$/;

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const fmt = (n) => n.toLocaleString("en-US");

/** Every file under `path` (itself if it is a file). */
function walk(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => walk(join(path, name)));
}

const { files } = JSON.parse(readFileSync(join(root, "pkg-template/package.json"), "utf8"));
const shipped = files
  .flatMap((entry) => walk(join(pkg, entry)))
  .filter((file) => SHIPPED.test(file))
  .map((file) => {
    const bytes = readFileSync(file);
    return { name: relative(pkg, file), bytes: bytes.length, gzip: gzip(bytes) };
  });

const sum = (rows, key) => rows.reduce((total, row) => total + row[key], 0);
const NODE_ONLY = new Set(["node.js", "check.mjs"]);
const browser = shipped.filter((row) => !NODE_ONLY.has(row.name));

if (process.argv.includes("--totals")) {
  console.log(`everything shipped (.wasm/.js, gzip -9 each): ${fmt(sum(shipped, "gzip"))} bytes`);
  console.log(`what a browser downloads: ${fmt(sum(browser, "gzip"))} bytes`);
  process.exit(0);
}

console.log("\nWhat cite-stream ships (pkg/), gzip -9 per file");
console.log("| file | bytes | gzip |");
console.log("|---|---:|---:|");
for (const row of shipped) console.log(`| \`${row.name}\` | ${fmt(row.bytes)} | ${fmt(row.gzip)} |`);
console.log(`| every .wasm/.js/.mjs shipped | ${fmt(sum(shipped, "bytes"))} | ${fmt(sum(shipped, "gzip"))} |`);
console.log(`| what a browser downloads (all but \`node.js\` and \`check.mjs\`) | ${fmt(sum(browser, "bytes"))} | ${fmt(sum(browser, "gzip"))} |`);

// The peer, if installed.
const peerDir = join(root, "node_modules/eventsource-parser");
let peerFiles = [];
try {
  peerFiles = walk(join(peerDir, "dist")).filter((file) => SHIPPED.test(file));
} catch {
  console.log("\n(eventsource-parser is not in node_modules: `bash .ci/setup` installs it)");
}
if (peerFiles.length > 0) {
  const { version } = JSON.parse(readFileSync(join(peerDir, "package.json"), "utf8"));
  const dist = peerFiles.map((file) => {
    const bytes = readFileSync(file);
    return { bytes: bytes.length, gzip: gzip(bytes) };
  });
  console.log(`\neventsource-parser ${version} (node_modules), gzip -9`);
  console.log("| what | bytes | gzip |");
  console.log("|---|---:|---:|");
  console.log(`| dist/*.js as published (${dist.length} files, each) | ${fmt(sum(dist, "bytes"))} | ${fmt(sum(dist, "gzip"))} |`);
  try {
    const { build } = await import("esbuild");
    const out = await build({
      entryPoints: [join(peerDir, "dist/index.js")],
      bundle: true,
      minify: true,
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    const bytes = out.outputFiles[0].contents;
    console.log(`| main entry, esbuild bundled and minified | ${fmt(bytes.length)} | ${fmt(gzip(bytes))} |`);
  } catch (error) {
    console.log(`| main entry, esbuild bundled and minified | (esbuild failed: ${error.message}) | |`);
  }
}
