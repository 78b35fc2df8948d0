#!/usr/bin/env node
/**
 * The Worker's request path alone, for A/B work on it: workerd CPU per stamp request through the
 * service's Hono app with the persona object replaced by a canned answer, next to a bare handler
 * (`floor`: read the body, call, answer). Run-to-run spread is a few µs, where the full bench's is
 * tens: use it to compare two trees' request paths, then confirm with `profile.mjs --split`.
 *
 *   npx node bench/route-cost.mjs                # this tree's src/
 *   npx node bench/route-cost.mjs --src /tmp/wt/other/src
 *   npx node bench/route-cost.mjs --objects      # the app with its real objects vs the baseline
 *
 * `--objects` runs the service's own fetch handler with its real bindings (persona objects in
 * SQLite, the queue) against the bench's baseline Worker and object, stamp after stamp on one
 * persona at a time (900 each), in the same workerd: the service / baseline CPU ratio of the hot
 * load without HTTP, the load generator or Miniflare's entry Worker in it.
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
const objects = args.includes("--objects");
const [first, second] = objects ? ["service", "baseline"] : ["app", "floor"];

const requireFromWrangler = createRequire(import.meta.resolve("wrangler"));
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(pathToFileURL(requireFromWrangler.resolve("miniflare")).href);

const dir = mkdtempSync(join(tmpdir(), "route-cost-"));
const bundle = join(dir, "entry.js");
execFileSync(
  join(ROOT, "node_modules/.bin/esbuild"),
  [
    join(ROOT, objects ? "bench/route-cost/objects.ts" : "bench/route-cost/entry.ts"),
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
const config = join(ROOT, "wrangler.toml");
const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(config, "utf8"))[1];
const vars = { SDK_KEYS: `bench:${createHash("sha256").update(KEY).digest("hex")}`, RATE_LIMITS: "off" };
const modules = [{ type: "ESModule", path: bundle, contents: readFileSync(bundle, "utf8") }];
let worker = { name: "route-cost", modulesRoot: dir, modules, compatibilityDate, bindings: vars };
if (objects) {
  // The Worker's own bindings (objects, queue, D1, limits), with the baseline's object beside them.
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(config);
  delete workerOptions.assets;
  worker = {
    ...workerOptions,
    ...worker,
    modulesRules: undefined,
    bindings: { ...workerOptions.bindings, ...vars },
    durableObjects: { ...workerOptions.durableObjects, BASE: { className: "BaselinePersona", useSQLite: true } },
  };
}
const mf = new Miniflare(
  convertV4MiniflareOptions({
    log: new Log(LogLevel.WARN),
    cf: false,
    telemetry: { enabled: false },
    handleStructuredLogs: () => {},
    workers: [worker],
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
  await microsPerRequest(first, 3000);
  await microsPerRequest(second, 3000);
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(await microsPerRequest(first, perRun));
    b.push(await microsPerRequest(second, perRun));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const show = (xs) => xs.map((x) => x.toFixed(0)).join(" ");
  console.log(`src ${src}`);
  console.log(`${first.padEnd(8)} ${median(a).toFixed(1)} µs/request (runs: ${show(a)})`);
  console.log(`${second.padEnd(8)} ${median(b).toFixed(1)} µs/request (runs: ${show(b)})`);
  console.log(
    `${first} - ${second} ${(median(a) - median(b)).toFixed(1)} µs/request; ${first} / ${second} ${(median(a) / median(b)).toFixed(2)}`,
  );
} finally {
  await mf.dispose();
  rmSync(dir, { recursive: true, force: true });
}
