// The kiosk recorder as a browser app would ship it: the client package's built entry, bundled
// with only the recorder's exports kept (esbuild, minified), gzipped. Fails above the budget
// (8 KB, issue 24), and refuses a bundle that reaches for a Node built-in.
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const BUDGET = 8 * 1024;
const result = await build({
  stdin: {
    contents: 'export { createKioskRecorder, indexedDbStorage, memoryStorage, QueueFullError } from "./client/dist/index.js";',
    resolveDir: process.cwd(),
    loader: "js",
  },
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
});
const code = result.outputFiles[0].contents;
const text = new TextDecoder().decode(code);
if (/\bnode:|require\(/.test(text)) {
  console.error("recorder bundle: it imports a Node built-in");
  process.exit(1);
}
const gz = gzipSync(code, { level: 9 }).length;
console.log(`recorder bundle: ${code.length} bytes minified, ${gz} bytes gzipped (budget ${BUDGET})`);
if (gz > BUDGET) process.exit(1);
