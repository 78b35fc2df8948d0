// npm run openapi -- <out.json>: writes the OpenAPI document the Worker serves at /openapi.json,
// without starting a server: the app is bundled with esbuild and asked for it in Node. The client
// package's types are generated from this file (client/scripts/generate.mjs).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error("usage: npm run openapi -- <out.json>");
  process.exit(2);
}
const bundle = `${root}.tmp/openapi/app.mjs`;
await build({
  entryPoints: [`${root}src/http/app.ts`],
  outfile: bundle,
  bundle: true,
  format: "esm",
  platform: "node",
  logLevel: "warning",
});
const { app } = await import(pathToFileURL(bundle).href);
const res = await app.request("/openapi.json");
if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
await mkdir(dirname(resolve(out)), { recursive: true });
await writeFile(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
console.log(`openapi: wrote ${out}`);
