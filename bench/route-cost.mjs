#!/usr/bin/env node
/**
 * The Worker's request path alone, for A/B work on it: workerd CPU per stamp request through the
 * service's Hono app with the persona object replaced by a canned answer, next to a bare handler
 * (`floor`: read the body, call, answer). Run-to-run spread is a few µs, where the full bench's is
 * tens: use it to compare two trees' request paths, then confirm with `profile.mjs --split`.
 *
 *   npx node bench/route-cost.mjs                # this tree's src/
 *   npx node bench/route-cost.mjs --src /tmp/wt/other/src
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./common.mjs";
import { groupCpuSeconds } from "./proc.mjs";

const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const src = resolve(arg("--src", join(ROOT, "src")));
const perRun = Number(arg("--requests", 10_000));
const runs = Number(arg("--runs", 5));

const requireFromWrangler = createRequire(import.meta.resolve("wrangler"));
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(pathToFileURL(requireFromWrangler.resolve("miniflare")).href);

const dir = mkdtempSync(join(tmpdir(), "route-cost-"));
const bundle = join(dir, "entry.js");
execFileSync(
  join(ROOT, "node_modules/.bin/esbuild"),
  [
    join(ROOT, "bench/route-cost/entry.ts"),
    "--bundle",
    "--format=esm",
    "--platform=neutral",
    "--conditions=workerd,worker,browser",
    "--main-fields=module,main",
    "--external:cloudflare:*",
    `--alias:service=${src}`,
    `--outfile=${bundle}`,
    "--log-level=error",
  ],
  { stdio: "inherit" },
);

const KEY = "route-cost-key";
const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))[1];
const mf = new Miniflare(
  convertV4MiniflareOptions({
    log: new Log(LogLevel.WARN),
    cf: false,
    telemetry: { enabled: false },
    handleStructuredLogs: () => {},
    workers: [
      {
        name: "route-cost",
        modulesRoot: dir,
        modules: [{ type: "ESModule", path: bundle, contents: readFileSync(bundle, "utf8") }],
        compatibilityDate,
        bindings: { SDK_KEYS: `bench:${createHash("sha256").update(KEY).digest("hex")}`, RATE_LIMITS: "off" },
      },
    ],
  }),
);

// workerd runs in this process's group; its CPU is what the loop costs.
const pgid = Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ")[2]);
const workerdSeconds = () => groupCpuSeconds(pgid, true)?.workerd ?? 0;
async function microsPerRequest(target, n) {
  const before = workerdSeconds();
  const res = await mf.dispatchFetch(`http://localhost/?target=${target}&n=${n}&key=${KEY}`);
  const text = await res.text();
  if (text !== "ok") throw new Error(`${target}: ${text}`);
  return ((workerdSeconds() - before) / n) * 1e6;
}

try {
  await microsPerRequest("app", 3000);
  await microsPerRequest("floor", 3000);
  const app = [];
  const floor = [];
  for (let i = 0; i < runs; i++) {
    app.push(await microsPerRequest("app", perRun));
    floor.push(await microsPerRequest("floor", perRun));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const show = (xs) => xs.map((x) => x.toFixed(0)).join(" ");
  console.log(`src ${src}`);
  console.log(`app   ${median(app).toFixed(1)} µs/request (runs: ${show(app)})`);
  console.log(`floor ${median(floor).toFixed(1)} µs/request (runs: ${show(floor)})`);
  console.log(`app - floor ${(median(app) - median(floor)).toFixed(1)} µs/request`);
} finally {
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
}
