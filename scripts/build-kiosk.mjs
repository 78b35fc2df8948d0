// Part of npm run build:console: the example kiosk page (examples/kiosk-recorder/) into
// public/kiosk/, served by `npm run dev` at /kiosk/, with recorder.js bundled from the built client
// package (client/dist: npm ci's prepare step, or npm run build:client). Output is not committed.
import { cp, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}public/kiosk`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await cp(`${root}examples/kiosk-recorder`, out, { recursive: true });
await build({
  stdin: {
    contents: 'export { createKioskRecorder, indexedDbStorage, memoryStorage, QueueFullError } from "./client/dist/index.js";',
    resolveDir: root,
    loader: "js",
  },
  outfile: `${out}/recorder.js`,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  logLevel: "warning",
});
console.log("kiosk: built public/kiosk/ (the example kiosk page)");
