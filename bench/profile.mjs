#!/usr/bin/env node
/**
 * Where does a stamp's time go? `node bench/profile.mjs [--no-assets] [--hot] [--amount N]
 * [--split] [--no-profile] [--baseline]` (run it through npx or an npm script so Node 24 is used).
 * --split serves the index plane in a second workerd process, as `npm run bench` does, and prints
 * that process's CPU per request too (the profile covers the service's process only).
 *
 * Builds the service like `npm run bench`, serves it in workerd with the V8 inspector on, loads it
 * with stamps (64 connections over 1,000 personas, or --hot: 16 connections on one persona), and
 * meanwhile records a CPU profile of every isolate workerd runs (the service, and Miniflare's
 * entry and asset Workers in front of it). Prints the workerd process's CPU per request, then
 * self time by module (from esbuild's `// path` markers in the bundle) and the hottest functions,
 * self and inclusive. A diagnostic, not part of the bench: the inspector itself costs some speed.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import autocannon from "autocannon";
import { freePort, ROOT, run, WRANGLER_BIN } from "./common.mjs";
import { groupCpuSeconds } from "./proc.mjs";

process.env.WRANGLER_SEND_METRICS = "false";
const { unstable_getMiniflareWorkerOptions } = await import("wrangler");

const args = process.argv.slice(2);
const HOT = args.includes("--hot");
const JOURNEY = args.includes("--journey");
const NO_ASSETS = args.includes("--no-assets");
const CONFIG = args.includes("--config") ? resolve(args[args.indexOf("--config") + 1]) : join(ROOT, "wrangler.toml");
const BASELINE = args.includes("--baseline");
const PROFILE = !args.includes("--no-profile");
// Journeys: whole sessions on every connection (32 connections x 6 requests).
const roundAmount = (n) => (JOURNEY ? Math.max(192, Math.round(n / 192) * 192) : n);
const AMOUNT = roundAmount(Number(args.includes("--amount") ? args[args.indexOf("--amount") + 1] : HOT ? 4800 : JOURNEY ? 5760 : 6400));
const work = mkdtempSync(join(os.tmpdir(), "persona-profile-"));
// The baseline has no index plane: --split only applies to the service.
const SPLIT = args.includes("--split") && !BASELINE;
let server;
let indexServer;
/** Every server process started, killed on exit (also one still starting). */
const children = [];
process.on("exit", () => {
  for (const s of children) {
    try {
      process.kill(-s.pid, "SIGKILL");
    } catch {}
  }
  rmSync(work, { recursive: true, force: true });
});

const config = BASELINE ? join(ROOT, "bench", "baseline", "wrangler.toml") : CONFIG;
const outdir = join(work, "build");
await run(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outdir, "--config", config]);
const opts = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions;
const key = `sk_bench_${randomBytes(32).toString("base64url")}`;
const port = await freePort();
const inspectorPort = await freePort();
const serveSpec = (extra) => ({
  config,
  bundleDir: outdir,
  port,
  inspectorPort: PROFILE ? inspectorPort : undefined,
  withoutAssets: NO_ASSETS,
  persistDir: join(work, "state"),
  bindings: BASELINE ? {} : { SDK_KEYS: `bench:${createHash("sha256").update(key).digest("hex")}`, RATE_LIMITS: "off" },
  compatibilityDate: opts.compatibilityDate,
  compatibilityFlags: opts.compatibilityFlags ?? [],
  logFile: join(work, "worker.log"),
  ...extra,
});
/** Starts bench/serve.mjs on `spec` in its own process group; resolves once it serves. */
async function serve(spec) {
  const child = spawn(process.execPath, [join(ROOT, "bench", "serve.mjs"), JSON.stringify(spec)], {
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await new Promise((res) => child.stdout.on("data", (d) => String(d).includes("ready") && res()));
  return child;
}
const registryDir = join(work, "registry");
if (SPLIT) {
  indexServer = await serve(
    serveSpec({
      port: await freePort(),
      inspectorPort: undefined,
      persistDir: join(work, "index-state"),
      logFile: join(work, "index.log"),
      split: { role: "index", registryDir },
    }),
  );
}
server = await serve(serveSpec(SPLIT ? { split: { role: "persona", registryDir } } : {}));

const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const personas = Array.from({ length: HOT ? Math.ceil((AMOUNT * 2) / 950) + 1 : 1000 }, (_, i) => `p${i}`);
if (!BASELINE && !JOURNEY) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < personas.length) {
        const p = personas[next++];
        const r = await fetch(`http://127.0.0.1:${port}/v1/persona/${p}/session/start`, {
          method: "POST",
          headers: { authorization: headers.authorization },
        });
        if (r.status !== 201) throw new Error(`start ${p}: ${r.status}`);
      }
    }),
  );
}
let i = 0;
const pathFor = () => `/v1/persona/${HOT ? personas[Math.floor(i++ / 950)] : personas[i++ % personas.length]}/session/stamp`;
// --journey: start, four stamps with meta, end, over 256 personas lent one session at a time.
const free = Array.from({ length: 256 }, (_, n) => `j${n}`);
const journeyRequests = () => [
  {
    method: "POST",
    headers: { authorization: headers.authorization },
    setupRequest: (r, ctx) => {
      ctx.persona = free.shift();
      return { ...r, path: `/v1/persona/${ctx.persona}/session/start` };
    },
  },
  ...["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"].map((status) => ({
    method: "POST",
    headers,
    body: JSON.stringify({ status, meta: { zone: "wine" } }),
    setupRequest: (r, ctx) => ({ ...r, path: `/v1/persona/${ctx.persona}/session/stamp` }),
  })),
  {
    method: "POST",
    headers: { authorization: headers.authorization },
    setupRequest: (r, ctx) => ({ ...r, path: `/v1/persona/${ctx.persona}/session/end` }),
    onResponse: (_s, _b, ctx) => free.push(ctx.persona),
  },
];
const TIMELINE = args.includes("--timeline");
let timeline = [];
// autocannon's own start/finish are only as fine as its 1 s tick: time to the last response here.
const stampLoad = async (amount) => {
  timeline = [];
  const t = performance.now();
  let last = t;
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: HOT ? 16 : JOURNEY ? 32 : 64,
    amount,
    requests: JOURNEY
      ? journeyRequests()
      : [{ method: "POST", headers, body: JSON.stringify({ status: "SHOPPING" }), setupRequest: (r) => ({ ...r, path: pathFor() }) }],
  });
  instance.on("response", (_c, _s, _b, ms) => {
    last = performance.now();
    if (TIMELINE) timeline.push([last - t, ms, i]);
  });
  const result = await instance;
  return { ...result, seconds: (last - t) / 1000 };
};
await stampLoad(roundAmount(Math.round(AMOUNT / 2))); // warm-up

// One CDP session per isolate workerd exposes.
const targets = PROFILE ? await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json() : [];
const sessions = await Promise.all(
  targets.map(
    (t) =>
      new Promise((res, rej) => {
        const ws = new WebSocket(t.webSocketDebuggerUrl);
        let id = 0;
        const pending = new Map();
        ws.onmessage = (m) => {
          const msg = JSON.parse(m.data);
          if (msg.id && pending.has(msg.id)) {
            pending.get(msg.id)(msg);
            pending.delete(msg.id);
          }
        };
        ws.onerror = rej;
        ws.onopen = () =>
          res({
            title: t.title ?? t.id,
            send: (method, params = {}) =>
              new Promise((r) => {
                pending.set(++id, r);
                ws.send(JSON.stringify({ id, method, params }));
              }),
            close: () => ws.close(),
          });
      }),
  ),
);
for (const s of sessions) {
  await s.send("Profiler.enable");
  await s.send("Profiler.setSamplingInterval", { interval: 250 });
  await s.send("Profiler.start");
}
const icpu0 = indexServer ? groupCpuSeconds(indexServer.pid) : 0;
const cpu0 = groupCpuSeconds(server.pid);
const names0 = groupCpuSeconds(server.pid, true);
const result = await stampLoad(AMOUNT);
const cpu1 = groupCpuSeconds(server.pid);
const icpu1 = indexServer ? groupCpuSeconds(indexServer.pid) : 0;
const names1 = groupCpuSeconds(server.pid, true);
const profiles = [];
for (const s of sessions) {
  const r = await s.send("Profiler.stop");
  profiles.push({ title: s.title, profile: r.result?.profile });
  s.close();
}
const seconds = result.seconds;
const done = result["2xx"] + result.non2xx;
console.log(
  `${BASELINE ? "baseline" : "service"}${NO_ASSETS ? " without [assets]" : ""}, ${HOT ? "stamp_hot" : JOURNEY ? "journey" : "stamp_spread"}: ` +
    `${done} requests, ${(done / seconds).toFixed(0)} rps, non2xx ${result.non2xx}, errors ${result.errors}; ` +
    `server process group CPU ${(((cpu1 - cpu0) * 1000) / done).toFixed(3)} ms/request${PROFILE ? " (profiler on)" : ""} (${Object.keys(
      names1,
    )
      .map((n) => `${n} ${((((names1[n] ?? 0) - (names0[n] ?? 0)) * 1000) / done).toFixed(3)}`)
      .join(", ")})${indexServer ? `; index process group CPU ${(((icpu1 - icpu0) * 1000) / done).toFixed(3)} ms/request` : ""}`,
);

if (TIMELINE) {
  // The slowest 1% of responses: when they came (ms into the run), how long they took, and how far
  // the request stream was (for --hot: position / 950 is the persona).
  const sorted = [...timeline].sort((a, b) => a[1] - b[1]);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))][1].toFixed(1);
  console.log(`latency p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)}`);
  const slow = sorted.slice(-Math.ceil(sorted.length / 100)).sort((a, b) => a[0] - b[0]);
  console.log(`slowest 1%: ${slow.map(([at, ms, n]) => `${at.toFixed(0)}:${ms.toFixed(0)}@${n}`).join(" ")}`);
}
// Module of a bundle line: the closest esbuild `// path` marker above it.
const bundle = readFileSync(join(outdir, "index.js"), "utf8").split("\n");
const markers = [];
bundle.forEach((line, n) => {
  const m = /^\/\/ ((?:node_modules|src|bench|\.\.)\/\S+)$/.exec(line);
  if (m) markers.push([n, m[1]]);
});
const moduleOf = (line) => {
  let lo = 0;
  let hi = markers.length - 1;
  let found = "(bundle)";
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (markers[mid][0] <= line) {
      found = markers[mid][1];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};
const bucketOf = (path) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? m[1] : path;
};

for (const { title, profile } of profiles) {
  if (!profile) continue;
  const total = profile.endTime - profile.startTime; // µs
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const perSample = total / Math.max(1, profile.samples.length);
  const label = (n) => {
    const f = n.callFrame;
    const where = f.url?.endsWith("index.js") && !BASELINE ? moduleOf(f.lineNumber) : f.url || "";
    return { fn: f.functionName || "(anonymous)", where };
  };
  const self = new Map();
  const buckets = new Map();
  const inclusive = new Map();
  for (const id of profile.samples) {
    const n = byId.get(id);
    const { fn, where } = label(n);
    const k = `${fn}  ${where}`;
    self.set(k, (self.get(k) ?? 0) + perSample);
    const b = where ? bucketOf(where) : fn.startsWith("(") ? fn : "(native/runtime)";
    buckets.set(b, (buckets.get(b) ?? 0) + perSample);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur));
      const key2 = `${l.fn}  ${l.where}`;
      if (!seen.has(key2)) {
        seen.add(key2);
        inclusive.set(key2, (inclusive.get(key2) ?? 0) + perSample);
      }
    }
  }
  const busy = total - (buckets.get("(idle)") ?? 0);
  const usPerReq = (x) => `${(x / done).toFixed(1)} µs/req`;
  console.log(`\n=== isolate ${title}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms (${usPerReq(busy)})`);
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log("-- self time by package / source file");
  for (const [k, v] of top(buckets, 18)) console.log(`${usPerReq(v).padStart(14)}  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log("-- hottest functions (self)");
  for (const [k, v] of top(self, 25)) console.log(`${usPerReq(v).padStart(14)}  ${k}`);
  console.log("-- inclusive (src/ functions)");
  for (const [k, v] of top(new Map([...inclusive].filter(([k]) => k.includes(" src/"))), 25))
    console.log(`${usPerReq(v).padStart(14)}  ${k}`);
}
try {
  process.kill(-server.pid, "SIGTERM");
} catch {}
await new Promise((r) => setTimeout(r, 500));
process.exit(0);
