// npm run build:console: bundles console/src (TypeScript) with esbuild and copies console/static
// into public/console/, the Worker's static assets (wrangler.toml [assets]). Output is not committed.
import { cp, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}public/console`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await cp(`${root}console/static`, out, { recursive: true });
const result = await build({
  entryPoints: [`${root}console/src/main.ts`],
  outfile: `${out}/console.js`,
  bundle: true,
  format: "esm",
  target: ["es2022", "chrome111", "firefox115", "safari16"],
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`console: built public/console/ (${Object.keys(result.metafile.outputs).length} outputs, ${bytes} bytes)`);
