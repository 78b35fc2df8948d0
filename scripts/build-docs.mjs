// Part of npm run build:console: the API reference page (/docs/) into public/docs/, the Worker's
// static assets. Copies api-reference/ (index.html, docs.js) and Redoc's standalone bundle, which
// ships inside the pinned devDependency @redocly/cli (the redoc package itself is not installed).
// Output is not committed.
import { access, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}public/docs`;
const bundle = `${root}node_modules/@redocly/cli/lib/chunks/redoc.standalone.js`;

try {
  await access(bundle);
} catch {
  console.error(
    `build-docs: Redoc's bundle is missing: ${bundle}\n` +
      "  It comes with the devDependency @redocly/cli (package.json pins the version): run npm ci.\n" +
      "  If @redocly/cli was upgraded and moved the file, update the path in scripts/build-docs.mjs.",
  );
  process.exit(1);
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await cp(`${root}api-reference`, out, { recursive: true });
// One change to the bundle: its sidebar's "API docs by Redocly" attribution loads Redocly's logo from
// cdn.redoc.ly, which no option turns off. The page makes no third-party request (its CSP would block
// it, and report a violation), so the attribution shows a same-origin wordmark instead
// (api-reference/redocly-logo.svg). Each URL must be found exactly once: fail if Redoc changed.
let code = await readFile(bundle, "utf8");
for (const url of ["https://cdn.redoc.ly/redoc/logo-mini-full.svg", "https://cdn.redoc.ly/redoc/logo-mini.svg"]) {
  const count = code.split(url).length - 1;
  if (count !== 1) {
    console.error(`build-docs: expected ${url} once in ${bundle}, found it ${count} times; update scripts/build-docs.mjs`);
    process.exit(1);
  }
  code = code.replace(url, "./redocly-logo.svg");
}
if (/https:\/\/cdn\.redoc\.ly\//.test(code)) {
  console.error(`build-docs: ${bundle} still refers to cdn.redoc.ly after the logo's URLs were replaced`);
  process.exit(1);
}
await writeFile(`${out}/redoc.standalone.js`, code);
console.log(`docs: built public/docs/ (index.html, docs.js, redocly-logo.svg, redoc.standalone.js ${Buffer.byteLength(code)} bytes)`);
