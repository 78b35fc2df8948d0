/** What the bench harness (run.mjs) and the profiler (profile.mjs) share: paths, commands, ports. */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
export const WRANGLER_PACKAGE_JSON = require.resolve("wrangler/package.json");
export const WRANGLER_BIN = join(dirname(WRANGLER_PACKAGE_JSON), "bin", "wrangler.js");

/** Runs a command in the repo; resolves with its output, rejects with the tail of it. */
export function run(cmd, argv, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: "0" }, ...opts });
    let out = "";
    child.stdout?.on("data", (d) => (out += d));
    child.stderr?.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${argv.join(" ")} exited ${code}\n${out.slice(-4000)}`)),
    );
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolvePromise(port));
    });
  });
}

/** Every analytics query the bench times (run.mjs) and its results must hold (check-results.mjs); each has a median budget of 500 ms. */
export const ANALYTICS_QUERIES = [
  "funnel",
  "dwell",
  "visits_day",
  "visits_hour",
  "funnel_by_store",
  "dwell_by_store",
  "visits_hour_tz_store",
  "visits_day_by_store",
  "funnel_one_store",
  "occupancy_hour",
  "occupancy_day_by_store",
];
