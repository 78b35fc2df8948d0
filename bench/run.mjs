#!/usr/bin/env node
/**
 * `npm run bench [-- --quick] [-- --out FILE] [-- --rounds N] [-- --stamps-only] [-- --analytics-only] [-- --scale [--scale-sizes N,M]] [-- --one-process] [-- --stalls]`
 *
 * Builds the service and the baseline Worker (bench/baseline/) with `wrangler deploy --dry-run`,
 * serves each in workerd (bench/serve.mjs, one process group each, free ports on 127.0.0.1),
 * drives both with autocannon from this process with the same request stream, alternating
 * service and baseline rounds after a warm-up, and reports medians and ratios. Then it measures
 * the storage cost (billed SQL rows, database bytes) through the bench-only probe build
 * (bench/storage/) and the deployable bundle's gzipped size. Writes a table to stdout and the
 * full results to bench/results.json (or --out). See bench/README.md.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import autocannon from "autocannon";
import { ANALYTICS_QUERIES, freePort, ROOT, run, WRANGLER_BIN, WRANGLER_PACKAGE_JSON } from "./common.mjs";
import { groupCpuSeconds } from "./proc.mjs";

process.env.WRANGLER_SEND_METRICS = "false";
const { unstable_getMiniflareWorkerOptions } = await import("wrangler");

// ---------------------------------------------------------------------------------------------
// Options and plan

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
if (flag("--help") || flag("-h")) {
  console.log(
    "usage: npm run bench [-- --quick] [-- --out FILE] [-- --rounds N] [-- --stamps-only] [-- --analytics-only] [-- --scale [--scale-sizes N,M]] [-- --one-process] [-- --stalls]",
  );
  process.exit(0);
}
const QUICK = flag("--quick");
const ONE_PROCESS = flag("--one-process");
/** Diagnostic: per round, when the slow responses came (stalls that hold every connection at once). */
const STALLS = flag("--stalls");
const OUT = resolve(option("--out") ?? join(ROOT, "bench", flag("--scale") ? "scale-results.json" : "results.json"));
const ROUNDS = Number(option("--rounds") ?? (QUICK ? 1 : 5));
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("--rounds must be a whole number >= 1");

/** Fixed request counts (never durations): per connection, so every connection does the same work. */
const PLAN = QUICK
  ? {
      spread: { connections: 64, personas: 1000, perConnection: 20, warmupPerConnection: 16 },
      hot: { connections: 16, perConnection: 60, warmupPerConnection: 20 },
      journey: { connections: 32, personas: 256, sessionsPerConnection: 3, warmupSessionsPerConnection: 8 },
      growth: { stamps: 990, warmupStamps: 50 },
    }
  : {
      spread: { connections: 64, personas: 1000, perConnection: 100, warmupPerConnection: 40 },
      hot: { connections: 16, perConnection: 300, warmupPerConnection: 100 },
      journey: { connections: 32, personas: 256, sessionsPerConnection: 12, warmupSessionsPerConnection: 8 },
      growth: { stamps: 990, warmupStamps: 200 },
    };
/** A hot persona takes this many stamps before the stream moves on (ENTER + 950 < the 1,000 limit). */
const HOT_STAMPS_PER_PERSONA = 950;
const STAMP_LIMIT_MARGIN = 960;

const BENCH_KEY = `sk_bench_${randomBytes(32).toString("base64url")}`;
const BENCH_TENANT = "bench";
const SDK_KEYS = `${BENCH_TENANT}:${createHash("sha256").update(BENCH_KEY).digest("hex")}`;
// The tenant registry: an admin key for set-up, and a tenant whose write key (made through the
// admin API before timing) stamps in stamp_spread_registry_key.
const BENCH_ADMIN_KEY = `adm_bench_${randomBytes(32).toString("base64url")}`;
const ADMIN_KEYS = createHash("sha256").update(BENCH_ADMIN_KEY).digest("hex");
const REGISTRY_TENANT = "bench-registry";
const RUN = randomBytes(3).toString("hex");

const work = mkdtempSync(join(os.tmpdir(), "persona-bench-"));
const servers = new Set();
const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)}s`;
const say = (msg) => process.stderr.write(`[bench ${elapsed()}] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Processes

/** Builds a Worker exactly as `wrangler deploy` would upload it, into its own directory. */
async function build(name, config) {
  const outdir = join(work, `build-${name}`);
  const out = await run(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outdir, "--config", config]);
  const reported = /gzip:\s*([\d.]+)\s*KiB/.exec(out);
  return { outdir, reportedGzipKiB: reported ? Number(reported[1]) : null };
}

function bundleSize(outdir) {
  let raw = 0;
  let gzip = 0;
  for (const file of readdirSync(outdir)) {
    if (![".js", ".mjs", ".wasm", ".bin", ".txt"].includes(extname(file))) continue; // not maps, not README
    const bytes = readFileSync(join(outdir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return { raw, gzip };
}

/** Starts bench/serve.mjs in its own process group; resolves with its port once it serves. */
async function serve(name, config, outdir, bindings, compat, extra = {}) {
  const port = await freePort();
  const dir = join(work, `serve-${name}`);
  mkdirSync(dir, { recursive: true });
  const spec = {
    config,
    bundleDir: outdir,
    port,
    persistDir: join(dir, "state"),
    bindings,
    compatibilityDate: compat.date,
    compatibilityFlags: compat.flags,
    logFile: join(dir, "worker.log"),
    ...extra,
  };
  const child = spawn(process.execPath, [join(ROOT, "bench", "serve.mjs"), JSON.stringify(spec)], {
    cwd: ROOT,
    detached: true, // own process group: stopping it stops workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  const server = { name, port, child, dir, stderr: "" };
  servers.add(server);
  child.stderr.on("data", (d) => (server.stderr = (server.stderr + d).slice(-8000)));
  await new Promise((resolvePromise, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s\n${server.stderr}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes('"ready"')) {
        clearTimeout(timer);
        resolvePromise();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before serving\n${server.stderr}`));
    });
  });
  child.removeAllListeners("exit");
  return server;
}

async function stop(server) {
  if (!servers.delete(server)) return;
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 5000);
  await exited;
  clearTimeout(timer);
  // Miniflare's workerd child is in the same group; make sure nothing of the group lingers.
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {}
}

function killAllNow() {
  for (const { child } of servers) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  servers.clear();
}
process.on("exit", () => {
  killAllNow();
  if (!flag("--keep-work")) rmSync(work, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    killAllNow();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (set-up and the storage probe; the timed load is autocannon's)

const AUTH = { authorization: `Bearer ${BENCH_KEY}` };
const JSON_HEADERS = { ...AUTH, "content-type": "application/json" };
const bearer = (key) => ({ authorization: `Bearer ${key}` });

async function call(port, method, path, { body, headers = {} } = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: body === undefined ? { ...AUTH, ...headers } : { ...JSON_HEADERS, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {}
  return { status: res.status, json, text };
}

async function expect(status, port, method, path, opts) {
  const res = await call(port, method, path, opts);
  if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  return res.json;
}

async function inParallel(items, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

const personaPath = (persona, action) => `/v1/persona/${persona}/session/${action}`;
const startAll = (port, personas, auth = AUTH) =>
  inParallel(personas, 64, (p) => expect(201, port, "POST", personaPath(p, "start"), { headers: auth }));

// ---------------------------------------------------------------------------------------------
// Load

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const round2 = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Responses slower than twice the median, grouped when they came within 30 ms of each other:
 * "at ms into the round + how many x the slowest ms". A group as large as the connection count is
 * the server (or the machine) holding every request at once.
 */
function stalls(timeline, p50) {
  const groups = [];
  for (const [at, ms] of timeline) {
    if (ms <= 2 * p50) continue;
    const last = groups.at(-1);
    if (last && at - last.end < 30) {
      last.end = at;
      last.n++;
      last.max = Math.max(last.max, ms);
    } else groups.push({ start: at, end: at, n: 1, max: ms });
  }
  return `p50 ${round2(p50)} ms; ${groups.map((g) => `${g.start.toFixed(0)}+${g.n}x${g.max.toFixed(0)}`).join(" ") || "none"}`;
}

/**
 * One autocannon run. `requests` is autocannon's request list (its setupRequest picks the path);
 * latency is taken from every response (autocannon's own histogram has 1 ms resolution).
 */
async function load(target, { connections, amount, requests }) {
  const latencies = [];
  const timeline = [];
  const statuses = {};
  let socketErrors = 0;
  const cpuBefore = groupCpuSeconds(target.child.pid);
  const indexCpuBefore = target.index ? groupCpuSeconds(target.index.child.pid) : null;
  const started = performance.now();
  let lastResponse = started;
  const instance = autocannon({
    url: `http://127.0.0.1:${target.port}`,
    connections,
    amount,
    requests,
    timeout: 30,
    excludeErrorStats: false,
  });
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    lastResponse = performance.now();
    latencies.push(responseTime);
    if (STALLS) timeline.push([performance.now() - started, responseTime]);
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  instance.on("reqError", () => socketErrors++);
  const result = await instance;
  // Not result.finish - result.start: autocannon only notices the end on its 1-second tick.
  const seconds = (lastResponse - started) / 1000;
  const cpuAfter = groupCpuSeconds(target.child.pid);
  const indexCpuAfter = target.index ? groupCpuSeconds(target.index.child.pid) : null;
  latencies.sort((a, b) => a - b);
  if (STALLS) say(`${target.role} stalls: ${stalls(timeline, percentile(latencies, 0.5))}`);
  const non2xx = Object.entries(statuses).reduce((n, [code, count]) => (code.startsWith("2") ? n : n + count), 0);
  return {
    requests: latencies.length,
    seconds: round2(seconds),
    rps: round2(latencies.length / seconds),
    p50_ms: round2(percentile(latencies, 0.5)),
    p99_ms: round2(percentile(latencies, 0.99)),
    // CPU of the server's whole process group (workerd + its Node parent) per response.
    server_cpu_ms: cpuBefore === null ? null : round2(((cpuAfter - cpuBefore) * 1000) / latencies.length),
    // The service's index plane, in its own process (see serveService): its CPU per response too.
    ...(indexCpuBefore === null ? {} : { index_cpu_ms: round2(((indexCpuAfter - indexCpuBefore) * 1000) / latencies.length) }),
    // autocannon counts socket errors and timeouts in `errors`.
    errors: non2xx + Math.max(socketErrors, result.errors),
    statuses,
  };
}

const stampRequest = (pathFor, body, auth = AUTH) => [
  {
    method: "POST",
    headers: { ...JSON_HEADERS, ...auth },
    body: JSON.stringify(body),
    setupRequest: (req) => ({ ...req, path: pathFor() }),
  },
];

/**
 * Runs `makeRound(target, index)` for the service and the baseline: one warm-up each, then
 * `ROUNDS` rounds alternating which goes first (ABBA), so drift and noise hit both alike.
 */
async function alternate(name, targets, makeRound) {
  const rounds = { service: [], baseline: [] };
  for (const target of targets) await makeRound(target, "warmup");
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const res = await makeRound(target, r);
      rounds[target.role].push(res);
      say(`${name} round ${r + 1}/${ROUNDS} ${target.role}: ${res.rps ?? res.ratio} ${res.rps !== undefined ? "rps" : ""}`);
    }
  }
  return rounds;
}

function summarize(rounds, extra = () => ({})) {
  const pick = (rs, k) => median(rs.map((r) => r[k]));
  const figures = (rs) => ({
    rps: round2(pick(rs, "rps")),
    p50_ms: round2(pick(rs, "p50_ms")),
    p99_ms: round2(pick(rs, "p99_ms")),
    server_cpu_ms: round2(pick(rs, "server_cpu_ms")),
  });
  const service = figures(rounds.service);
  if (rounds.service.some((r) => r.index_cpu_ms !== undefined)) service.index_cpu_ms = round2(pick(rounds.service, "index_cpu_ms"));
  const baseline = figures(rounds.baseline);
  const pairs = rounds.service.map((s, i) => ({
    rps_ratio: round2(s.rps / rounds.baseline[i].rps),
    p99_ratio: round2(s.p99_ms / rounds.baseline[i].p99_ms),
    server_cpu_ratio:
      s.server_cpu_ms && rounds.baseline[i].server_cpu_ms ? round2(s.server_cpu_ms / rounds.baseline[i].server_cpu_ms) : null,
  }));
  // The ratios are paired: each round's service and baseline runs are back to back, so their
  // ratio compares the two under the same machine conditions, and the median over rounds drops
  // a round a stall or a slow spell hit. A ratio of the two medians can take one target's median
  // from a fast round and the other's from a slow one (bench/README.md, Method); it is kept beside.
  const pairedMedian = (k) => (pairs.every((p) => p[k] !== null) ? round2(median(pairs.map((p) => p[k]))) : null);
  return {
    ...service,
    errors: rounds.service.reduce((n, r) => n + r.errors, 0),
    ...extra(rounds.service),
    baseline: { ...baseline, errors: rounds.baseline.reduce((n, r) => n + r.errors, 0), ...extra(rounds.baseline) },
    rps_ratio: pairedMedian("rps_ratio"),
    p99_ratio: pairedMedian("p99_ratio"),
    server_cpu_ratio: pairedMedian("server_cpu_ratio"),
    ratio_of_medians: {
      rps: round2(service.rps / baseline.rps),
      p99: round2(service.p99_ms / baseline.p99_ms),
      server_cpu: service.server_cpu_ms && baseline.server_cpu_ms ? round2(service.server_cpu_ms / baseline.server_cpu_ms) : null,
    },
    per_round_ratios: pairs,
    rounds: { service: rounds.service, baseline: rounds.baseline },
  };
}

/**
 * index_lag_ms: while a load runs, one marker stamp at a time (a fresh label each) on a persona
 * of its own, then GET /v1/sessions/active?status=<label> every 25 ms until the index shows it.
 * The lag is from the stamp's 2xx answer to the first answer that shows it.
 */
function lagSampler(target) {
  const samples = [];
  let running = true;
  const done = (async () => {
    const persona = `lag-${RUN}-${randomBytes(3).toString("hex")}`;
    await expect(201, target.port, "POST", personaPath(persona, "start"));
    for (let n = 0; running && n < 900; n++) {
      const label = `LAG_${n}`;
      await expect(201, target.port, "POST", personaPath(persona, "stamp"), { body: { status: label } });
      const answered = performance.now();
      for (;;) {
        const res = await expect(200, target.port, "GET", `/v1/sessions/active?status=${label}&limit=1`);
        if (res.data.sessions.length > 0) break;
        if (performance.now() - answered > 30_000) throw new Error(`index lag: ${label} not visible after 30 s`);
        await new Promise((r) => setTimeout(r, 25));
      }
      samples.push(performance.now() - answered);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return samples;
    },
  };
}

// --- stamp_spread: 64 connections, round-robin over 1,000 personas that each have a session.
// `auth` picks the stamping key: the SDK_KEYS one, or (stamp_spread_registry_key) a registry key.
async function stampSpread(service, baseline, name = "stamp_spread", auth = AUTH) {
  const { connections, personas: n, perConnection, warmupPerConnection } = PLAN.spread;
  let pool = null;
  const lags = [];
  const rounds = await alternate(name, [service, baseline], async (target, r) => {
    const amount = connections * (r === "warmup" ? warmupPerConnection : perConnection);
    const perPersona = Math.ceil(amount / n) + 1;
    // Both targets of a round get the same personas; before any session would near the stamp
    // limit, the next round moves to a fresh set (started here, untimed).
    if (!pool || pool.round !== r) {
      if (!pool || pool.used + perPersona > STAMP_LIMIT_MARGIN) {
        const id = pool ? pool.id + 1 : 0;
        const personas = Array.from({ length: n }, (_, i) => `${name}-${RUN}-${id}-${i}`);
        say(`${name}: starting ${n} sessions (set-up)`);
        await startAll(service.port, personas, auth);
        pool = { id, personas, used: 1 }; // ENTER
      }
      pool.used += perPersona;
      pool.round = r;
    }
    let i = 0;
    const sampler = target.role === "service" && r !== "warmup" ? lagSampler(target) : null;
    const res = await load(target, {
      connections,
      amount,
      requests: stampRequest(() => personaPath(pool.personas[i++ % n], "stamp"), { status: "SHOPPING" }, auth),
    });
    if (sampler) lags.push(...(await sampler.stop()));
    return res;
  });
  lags.sort((a, b) => a - b);
  return {
    ...summarize(rounds),
    index_lag_ms: {
      p50: round2(percentile(lags, 0.5)),
      p99: round2(percentile(lags, 0.99)),
      max: round2(lags.at(-1)),
      samples: lags.length,
    },
  };
}

/** Applies the tenant registry's D1 migrations to a state directory, as `npm run dev` does for its own. */
async function migrateRegistry(config, persistTo) {
  await run(process.execPath, [WRANGLER_BIN, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "--config", config], {
    env: { ...process.env, CI: "true", FORCE_COLOR: "0" },
  });
}

/** A registry tenant and a write key for it, made through the service's own admin API. */
async function registryKey(port) {
  const headers = bearer(BENCH_ADMIN_KEY);
  await expect(201, port, "POST", "/admin/v1/tenants", { body: { tenant_id: REGISTRY_TENANT, name: "bench" }, headers });
  const created = await expect(201, port, "POST", `/admin/v1/tenants/${REGISTRY_TENANT}/keys`, {
    body: { scope: "write", label: "bench" },
    headers,
  });
  return created.data.key;
}

// --- stamp_hot: 16 connections, every stamp for one persona; the next persona after 950 stamps.
async function stampHot(service, baseline) {
  const { connections, perConnection, warmupPerConnection } = PLAN.hot;
  const rounds = await alternate("stamp_hot", [service, baseline], async (target, r) => {
    const amount = connections * (r === "warmup" ? warmupPerConnection : perConnection);
    // Fresh personas per round, started before timing; both targets get the same names.
    const count = Math.ceil(amount / HOT_STAMPS_PER_PERSONA) + 1;
    const personas = Array.from({ length: count }, (_, i) => `hot-${RUN}-${r}-${i}`);
    if (target.role === "service") await inParallel(personas, 1, (p) => expect(201, service.port, "POST", personaPath(p, "start")));
    let i = 0;
    return load(target, {
      connections,
      amount,
      requests: stampRequest(() => personaPath(personas[Math.floor(i++ / HOT_STAMPS_PER_PERSONA)], "stamp"), { status: "SHOPPING" }),
    });
  });
  return summarize(rounds);
}

// --- journey: start, four stamps with meta, end; each connection walks whole sessions.
async function journey(service, baseline) {
  const { connections, personas: n, sessionsPerConnection, warmupSessionsPerConnection } = PLAN.journey;
  const personas = Array.from({ length: n }, (_, i) => `journey-${RUN}-${i}`);
  const steps = [
    ["CHAT", { lang: "en" }],
    ["SHOPPING", { zone: "wine" }],
    ["PAYMENT", { method: "card", amount_cents: 4599 }],
    ["COMPLETE", { receipt: "r-1029" }],
  ];
  const rounds = await alternate("journey", [service, baseline], async (target, r) => {
    const sessions = connections * (r === "warmup" ? warmupSessionsPerConnection : sessionsPerConnection);
    // A persona is lent to one connection from its start until its end answers, so two sessions
    // never overlap on one persona; it is reused by a later session (objects stay warm).
    const free = [...personas];
    const requests = [
      {
        method: "POST",
        headers: AUTH,
        setupRequest: (req, context) => {
          context.persona = free.shift();
          return { ...req, path: personaPath(context.persona, "start") };
        },
      },
      ...steps.map(([status, meta]) => ({
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify({ status, meta }),
        setupRequest: (req, context) => ({ ...req, path: personaPath(context.persona, "stamp") }),
      })),
      {
        method: "POST",
        headers: AUTH,
        setupRequest: (req, context) => ({ ...req, path: personaPath(context.persona, "end") }),
        onResponse: (_status, _body, context) => free.push(context.persona),
      },
    ];
    const res = await load(target, { connections, amount: sessions * requests.length, requests });
    return { ...res, sessions, sessions_per_s: round2(sessions / res.seconds) };
  });
  const summary = summarize(rounds, (rs) => ({ sessions_per_s: round2(median(rs.map((x) => x.sessions_per_s))) }));
  return {
    sessions_per_s: summary.sessions_per_s,
    sessions_per_s_ratio: round2(summary.sessions_per_s / summary.baseline.sessions_per_s),
    ...summary,
  };
}

// --- growth: one session, 990 sequential stamps; mean of the last 100 over the first 100.
async function growth(service, baseline) {
  const { stamps, warmupStamps } = PLAN.growth;
  let errors = 0;
  const session = async (target, count, persona) => {
    if (target.role === "service") await expect(201, target.port, "POST", personaPath(persona, "start"));
    const times = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const res = await call(target.port, "POST", personaPath(persona, "stamp"), { body: { status: `STEP_${i % 7}` } });
      times.push(performance.now() - t);
      if (res.status < 200 || res.status > 299) errors += target.role === "service" ? 1 : 0;
    }
    return times;
  };
  const rounds = await alternate("growth", [service, baseline], async (target, r) => {
    const persona = `growth-${RUN}-${r}`;
    if (r === "warmup") {
      await session(target, warmupStamps, persona);
      return {};
    }
    const times = await session(target, stamps, persona);
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first100 = mean(times.slice(0, 100));
    const last100 = mean(times.slice(-100));
    const sorted = (xs) => [...xs].sort((a, b) => a - b);
    return {
      first100_ms: round2(first100),
      last100_ms: round2(last100),
      ratio: round2(last100 / first100),
      // Medians are less sensitive to a single stall than the means the budget uses.
      median_ratio: round2(percentile(sorted(times.slice(-100)), 0.5) / percentile(sorted(times.slice(0, 100)), 0.5)),
    };
  });
  const pick = (rs, k) => round2(median(rs.map((x) => x[k])));
  return {
    first100_ms: pick(rounds.service, "first100_ms"),
    last100_ms: pick(rounds.service, "last100_ms"),
    ratio: pick(rounds.service, "ratio"),
    median_ratio: pick(rounds.service, "median_ratio"),
    stamps,
    errors,
    baseline: {
      first100_ms: pick(rounds.baseline, "first100_ms"),
      last100_ms: pick(rounds.baseline, "last100_ms"),
      ratio: pick(rounds.baseline, "ratio"),
    },
    rounds,
  };
}

// ---------------------------------------------------------------------------------------------
// Storage cost, through the probe build (bench/storage/)

async function storage(probe) {
  const port = probe.port;
  const counts = async (persona, tenant = BENCH_TENANT) => {
    const res = await call(port, "GET", `/__probe/${tenant}/${persona}`);
    if (res.status !== 200) throw new Error(`storage probe: ${res.status} ${res.text.slice(0, 200)}`);
    return res.json;
  };
  /**
   * Billed rows of one API request, as the object's own counters saw them. It starts once the
   * object has sent earlier changes to the index: a change within 100 ms of the object's last
   * send goes when that time is up, reading the new stamps, and could otherwise land inside this
   * request's window. (A request's own send after a quiet spell runs in it and is counted.)
   */
  const measure = async (persona, status, method, path, opts, tenant = BENCH_TENANT) => {
    await new Promise((r) => setTimeout(r, 300));
    const before = await counts(persona, tenant);
    await expect(status, port, method, path, opts);
    const after = await counts(persona, tenant);
    return { rows_read: after.rows_read - before.rows_read, rows_written: after.rows_written - before.rows_written };
  };
  const runAlarm = async (persona) => {
    const res = await call(port, "POST", `/__probe/${BENCH_TENANT}/${persona}/alarm`);
    if (res.status !== 200) throw new Error(`storage probe alarm: ${res.status} ${res.text.slice(0, 200)}`);
  };
  const waitIndexed = async (persona, stampCount) => {
    for (let i = 0; i < 200; i++) {
      const res = await expect(200, port, "GET", `/v1/sessions?persona_id=${persona}`);
      if (res.data.sessions[0]?.stamp_count === stampCount) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`storage probe: ${persona} not indexed with ${stampCount} stamps`);
  };
  const per = (list) => ({
    rows_read: round2(list.reduce((n, x) => n + x.rows_read, 0) / list.length),
    rows_written: round2(list.reduce((n, x) => n + x.rows_written, 0) / list.length),
    max_rows_read: Math.max(...list.map((x) => x.rows_read)),
    max_rows_written: Math.max(...list.map((x) => x.rows_written)),
  });
  const stampBody = (i) => ({ status: "SHOPPING", meta: { zone: "wine", aisle: i % 40 } });
  const out = {};

  // A brand-new object's first start: everything since the object started (schema creation too).
  const fresh = `storage-${RUN}-new`;
  await expect(201, port, "POST", personaPath(fresh, "start"));
  const freshCounts = await counts(fresh);
  out.start_new_object = { rows_read: freshCounts.rows_read, rows_written: freshCounts.rows_written };

  // Waking an object writes nothing (its schema comes with its first write, so a read stores
  // nothing). An object whose schema exists and that holds no session: one started and erased.
  const p = `storage-${RUN}-a`;
  const wake = await counts(p);
  if (wake.rows_written !== 0) throw new Error(`storage probe: waking an object wrote ${wake.rows_written} rows`);
  await expect(201, port, "POST", personaPath(p, "start"));
  await expect(204, port, "DELETE", `/v1/persona/${p}`);
  out.start_first_session = await measure(p, 201, "POST", personaPath(p, "start"));
  // The schema's part of a brand-new object's first start, by difference.
  out.schema_create = {
    rows_read: out.start_new_object.rows_read - out.start_first_session.rows_read,
    rows_written: out.start_new_object.rows_written - out.start_first_session.rows_written,
  };
  if (out.start_first_session.rows_written === 0) {
    throw new Error("storage probe: a start wrote no rows — does bench/storage/index.ts address the object the routes use?");
  }
  const stamps = [];
  for (let i = 0; i < 4; i++) stamps.push(await measure(p, 201, "POST", personaPath(p, "stamp"), { body: stampBody(i) }));
  out.stamp = per(stamps);
  out.get = { ...(await measure(p, 200, "GET", `/v1/persona/${p}/session`)), session_stamps: 5 };
  out.end = { ...(await measure(p, 200, "POST", personaPath(p, "end"))), session_stamps: 5 };
  out.start = { ...(await measure(p, 201, "POST", personaPath(p, "start"))), previous_sessions: 1 };

  // Stamps with an Idempotency-Key (each a new key), and a replay of one.
  const keyed = [];
  for (let i = 0; i < 4; i++) {
    keyed.push(
      await measure(p, 201, "POST", personaPath(p, "stamp"), { body: stampBody(i), headers: { "idempotency-key": `bench-${RUN}-${i}` } }),
    );
  }
  out.stamp_idempotent = per(keyed);
  out.stamp_replay = await measure(p, 201, "POST", personaPath(p, "stamp"), {
    body: stampBody(0),
    headers: { "idempotency-key": `bench-${RUN}-0` },
  });

  // A kiosk key bound to a store (a registry tenant with one registered store): its start records
  // the store and kiosk on the session's own row, and the store check reads the per-isolate cache,
  // so a start and a stamp cost what they cost without a store.
  {
    const tenant = `bench-stores-${RUN}`
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, "-")
      .slice(0, 64);
    const headers = bearer(BENCH_ADMIN_KEY);
    await expect(201, port, "POST", "/admin/v1/tenants", { body: { tenant_id: tenant }, headers });
    await expect(201, port, "PUT", `/admin/v1/tenants/${tenant}/stores/store-1`, {
      body: { name: "Bench store", time_zone: "UTC" },
      headers,
    });
    const bound = bearer(
      (await expect(201, port, "POST", `/admin/v1/tenants/${tenant}/keys`, { body: { scope: "write", store_id: "store-1" }, headers })).data
        .key,
    );
    const sp = `storage-${RUN}-store`;
    await expect(201, port, "POST", personaPath(sp, "start"), { headers: bound });
    await expect(204, port, "DELETE", `/v1/persona/${sp}`, { headers: bound });
    const first = await measure(sp, 201, "POST", personaPath(sp, "start"), { headers: bound, body: { kiosk_id: "kiosk-1" } }, tenant);
    const boundStamps = [];
    for (let i = 0; i < 4; i++) {
      boundStamps.push(await measure(sp, 201, "POST", personaPath(sp, "stamp"), { body: stampBody(i), headers: bound }, tenant));
    }
    await expect(200, port, "POST", personaPath(sp, "end"), { headers: bound });
    const again = await measure(sp, 201, "POST", personaPath(sp, "start"), { headers: bound, body: { kiosk_id: "kiosk-1" } }, tenant);
    const session = await expect(200, port, "GET", `/v1/persona/${sp}/session`, { headers: bound });
    if (session.data.store_id !== "store-1")
      throw new Error(`storage probe: a bound key's start is in ${session.data.store_id}, not store-1`);
    out.start_store_bound = {
      rows_read: Math.max(first.rows_read, again.rows_read),
      rows_written: Math.max(first.rows_written, again.rows_written),
    };
    out.stamp_store_bound = per(boundStamps);
  }

  // The index pipeline's cost in the persona object: a stamp is sent without a write; the alarm's
  // check (about 10 s after a change) writes the watermark once per check, however many stamps it
  // confirms. The worst case is one stamp per check: measured here, with the check run at once,
  // as it runs when due (the probe makes the send 10 s old first, so the check is not put off).
  const ix = `storage-${RUN}-index`;
  await expect(201, port, "POST", personaPath(ix, "start"));
  await waitIndexed(ix, 1);
  await runAlarm(ix);
  const beforeLone = await counts(ix);
  await expect(201, port, "POST", personaPath(ix, "stamp"), { body: stampBody(1) });
  await waitIndexed(ix, 2);
  const beforeCheck = await counts(ix);
  await runAlarm(ix);
  const afterCheck = await counts(ix);
  const diff = (a, b) => ({ rows_read: b.rows_read - a.rows_read, rows_written: b.rows_written - a.rows_written });
  out.stamp_with_index_check = diff(beforeLone, afterCheck);
  out.index_check = diff(beforeCheck, afterCheck);

  // Growth of a session: bytes per stamp from databaseSize, and rows per stamp late in a session.
  const g = `storage-${RUN}-growth`;
  await expect(201, port, "POST", personaPath(g, "start"));
  const early = [];
  for (let i = 0; i < 4; i++) early.push(await measure(g, 201, "POST", personaPath(g, "stamp"), { body: stampBody(i) }));
  const sizeBefore = (await counts(g)).db_bytes;
  const batches = 9;
  for (let b = 0; b < batches; b++) {
    const items = Array.from({ length: 100 }, (_, i) => stampBody(b * 100 + i));
    await expect(201, port, "POST", personaPath(g, "stamps"), { body: { stamps: items } });
  }
  const sizeAfter = (await counts(g)).db_bytes;
  out.bytes_per_stamp = round2((sizeAfter - sizeBefore) / (batches * 100));
  out.bytes_per_stamp_method = `databaseSize delta over ${batches * 100} stamps of ${JSON.stringify(stampBody(7))}`;
  const late = [];
  for (let i = 0; i < 4; i++) late.push(await measure(g, 201, "POST", personaPath(g, "stamp"), { body: stampBody(i) }));
  out.stamp_early_in_session = { ...per(early), at_stamp: 2 };
  out.stamp_late_in_session = { ...per(late), at_stamp: 5 + batches * 100 };
  out.stamp_rows_read_grow = per(late).max_rows_read > per(early).max_rows_read;
  out.get_late_in_session = { ...(await measure(g, 200, "GET", `/v1/persona/${g}/session`)), session_stamps: 9 + batches * 100 };
  return out;
}

// ---------------------------------------------------------------------------------------------
// Analytics over a seeded tenant, through the probe build (the same app and index objects)

const DAY_MS = 86_400_000;

/** The seeded tenant's range: 30 days ending a day ago. */
function seedRange() {
  const to = Date.now() - DAY_MS;
  return { from: to - 30 * DAY_MS, to };
}

/** 2,000 stores in 40 zones (the seed puts session k in store k mod 2,000), registered by the operators' API. */
async function registerStores(port) {
  const zones = Intl.supportedValuesOf("timeZone")
    .filter((z) => z.includes("/"))
    .slice(0, 40);
  const stores = Array.from({ length: 2000 }, (_, i) => ({
    store_id: `store-${i}`,
    name: `Store ${i}`,
    time_zone: zones[i % zones.length],
    tags: [`region:${i % 12}`],
    capacity: 50,
  }));
  for (let i = 0; i < stores.length; i += 1000) {
    await expect(200, port, "PUT", `/admin/v1/tenants/${BENCH_TENANT}/stores`, {
      body: { stores: stores.slice(i, i + 1000) },
      headers: bearer(BENCH_ADMIN_KEY),
    });
  }
}

/** Sessions first..first+count-1 of the synthetic history, straight into the index's write path. */
async function seedSessions(port, first, count, { from, to }) {
  for (let at = first; at < first + count; at += 5_000) {
    await expect(200, port, "POST", "/__probe/seed-index", {
      body: { tenant: BENCH_TENANT, first: at, count: Math.min(5_000, first + count - at), from, to },
    });
  }
}

/**
 * Times each query `runs` times after one warm-up run, each run a distinct query: its own `to`,
 * 1 ms later than the last one's, past every seeded session (the analytics cache is keyed by the
 * validated arguments, so an extra parameter would not miss it). RANGE in a path is replaced per run.
 */
async function timeQueries(port, queries, runs, { from, to }) {
  const rangeOf = (i) => `from=${new Date(from).toISOString()}&to=${new Date(to + i).toISOString()}`;
  const out = {};
  const answers = {};
  for (const [name, path] of Object.entries(queries)) {
    const times = [];
    for (let i = 0; i < runs + 1; i++) {
      const t0 = performance.now();
      const res = await expect(200, port, "GET", path.replace("RANGE", rangeOf(i)));
      if (i > 0) times.push(performance.now() - t0); // the first run warms the shards up
      answers[name] = res.data;
    }
    times.sort((a, b) => a - b);
    out[name] = {
      median_ms: round2(percentile(times, 0.5)),
      p95_ms: round2(percentile(times, 0.95)),
      p99_ms: round2(percentile(times, 0.99)),
    };
  }
  return { out, answers };
}

const STEPS4 = "step=CHAT&step=SHOPPING&step=PAYMENT&step=COMPLETE";

async function analytics(probe) {
  const port = probe.port;
  const sessions = QUICK ? 20_000 : 100_000;
  const span = seedRange();
  const t = performance.now();
  await registerStores(port);
  // The bench tenant's own key reads it; the seed goes straight to the index's write path.
  await seedSessions(port, 0, sessions, span);
  const seedSeconds = round2((performance.now() - t) / 1000);
  say(`analytics: seeded ${sessions} ended sessions in ${seedSeconds} s`);
  const queries = {
    funnel: `/v1/analytics/funnel?${STEPS4}&RANGE`,
    dwell: `/v1/analytics/dwell?RANGE`,
    visits_day: `/v1/analytics/visits?interval=day&tz=Europe/Paris&RANGE`,
    visits_hour: `/v1/analytics/visits?interval=hour&tz=Europe/Paris&RANGE`,
    // By store: 2,000 stores (the 100 largest and the rest), one store, each store's own zone.
    funnel_by_store: `/v1/analytics/funnel?${STEPS4}&group_by=store&RANGE`,
    dwell_by_store: `/v1/analytics/dwell?group_by=store&RANGE`,
    visits_hour_tz_store: `/v1/analytics/visits?interval=hour&tz=store&RANGE`,
    visits_day_by_store: `/v1/analytics/visits?interval=day&tz=store&group_by=store&RANGE`,
    funnel_one_store: `/v1/analytics/funnel?${STEPS4}&store_id=store-7&RANGE`,
    occupancy_hour: `/v1/analytics/occupancy?interval=hour&RANGE`,
    // The console's Stores comparison: each store's peak over the range, one grouped request.
    occupancy_day_by_store: `/v1/analytics/occupancy?interval=day&group_by=store&RANGE`,
  };
  const runs = QUICK ? 5 : 15;
  const { out: timed, answers } = await timeQueries(port, queries, runs, span);
  const out = { sessions, range_days: 30, seed_seconds: seedSeconds, runs, ...timed };
  out.funnel.first_step_sessions = answers.funnel.steps[0].sessions;
  out.visits_day.sessions = answers.visits_day.buckets.reduce((n, b) => n + b.sessions, 0);
  out.funnel_by_store.groups = answers.funnel_by_store.groups.length;
  out.visits_hour_tz_store.sessions = answers.visits_hour_tz_store.buckets.reduce((n, b) => n + b.sessions, 0);
  if (out.visits_day.sessions !== sessions)
    throw new Error(`analytics: visits counted ${out.visits_day.sessions} of ${sessions} seeded sessions`);
  if (out.visits_hour_tz_store.sessions !== sessions)
    throw new Error(`analytics: visits in each store's zone counted ${out.visits_hour_tz_store.sessions} of ${sessions} seeded sessions`);
  if (out.funnel_by_store.groups !== 101)
    throw new Error(`analytics: funnel by store gave ${out.funnel_by_store.groups} groups, not 100 + the rest`);
  return out;
}

/**
 * `--scale` (issue 23): the same seed at 100,000 sessions, then grown to 1,000,000 over the same
 * 30 days and 2,000 stores; each query timed at both sizes, with the growth (the ratio of the
 * medians). A query that fails at a million (an error answer) is recorded as such, not retried.
 */
async function scaleAnalytics(probe) {
  const port = probe.port;
  const span = seedRange();
  // `--scale-sizes 2000,10000`: CI's small run of the same path (timings not checked), or one size
  // for an A/B of the cost per session.
  const sizes = (option("--scale-sizes") ?? "100000,1000000").split(",").map(Number);
  if (sizes.some((n, i) => !Number.isSafeInteger(n) || n <= 0 || (i > 0 && n <= sizes[i - 1]))) {
    throw new Error("--scale-sizes wants ascending session counts, such as 100000,1000000");
  }
  const runs = sizes[sizes.length - 1] < 100_000 ? 3 : 9;
  const queries = {
    funnel: `/v1/analytics/funnel?${STEPS4}&RANGE`,
    funnel_within: `/v1/analytics/funnel?${STEPS4}&within_seconds=1800&RANGE`,
    dwell: `/v1/analytics/dwell?RANGE`,
    visits_hour_tz_store: `/v1/analytics/visits?interval=hour&tz=store&RANGE`,
    occupancy_hour: `/v1/analytics/occupancy?interval=hour&RANGE`,
    funnel_by_store: `/v1/analytics/funnel?${STEPS4}&group_by=store&RANGE`,
    funnel_within_by_store: `/v1/analytics/funnel?${STEPS4}&within_seconds=1800&group_by=store&RANGE`,
    dwell_by_store: `/v1/analytics/dwell?group_by=store&RANGE`,
    visits_hour_tz_store_by_store: `/v1/analytics/visits?interval=hour&tz=store&group_by=store&RANGE`,
    occupancy_day_by_store: `/v1/analytics/occupancy?interval=day&group_by=store&RANGE`,
    funnel_one_store: `/v1/analytics/funnel?${STEPS4}&store_id=store-7&RANGE`,
  };
  await registerStores(port);
  const out = { range_days: 30, stores: 2000, runs, sizes, seed_seconds: {}, queries: {} };
  let seeded = 0;
  for (const size of sizes) {
    const t = performance.now();
    await seedSessions(port, seeded, size - seeded, span);
    seeded = size;
    out.seed_seconds[size] = round2((performance.now() - t) / 1000);
    say(`scale: ${size} sessions seeded (${out.seed_seconds[size]} s for this part); timing ${Object.keys(queries).length} queries`);
    for (const [name, path] of Object.entries(queries)) {
      let figures;
      try {
        // Each size asks with its own `to` (1 s later, past every session): the API caches an
        // answer for 5 s by its arguments, and a small seed can finish within 5 s of the last size's queries.
        const asked = { ...span, to: span.to + sizes.indexOf(size) * 1000 };
        const { out: timed, answers } = await timeQueries(port, { [name]: path }, runs, asked);
        figures = timed[name];
        if (name === "visits_hour_tz_store") {
          const counted = answers[name].buckets.reduce((n, b) => n + b.sessions, 0);
          if (counted !== size) throw new Error(`visits counted ${counted} of ${size} sessions`);
        }
      } catch (e) {
        figures = { error: String(e.message ?? e).slice(0, 300) };
      }
      out.queries[name] = { ...out.queries[name], [size]: figures };
      say(`  ${name} at ${size}: ${figures.error ?? `median ${figures.median_ms} ms, p95 ${figures.p95_ms} ms`}`);
    }
  }
  for (const q of Object.values(out.queries)) {
    const [small, large] = [sizes[0], sizes[sizes.length - 1]].map((n) => q[n]);
    q.growth = small?.median_ms && large?.median_ms ? round2(large.median_ms / small.median_ms) : null;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Report

function budget(results) {
  const s = results.scenarios;
  const st = results.storage;
  const item = (value, limit, ok) => ({ value, limit, ok: value !== null && value !== undefined && ok });
  return {
    stamp_spread_rps_ratio: item(s.stamp_spread.rps_ratio, ">= 0.85", s.stamp_spread.rps_ratio >= 0.85),
    stamp_spread_p99_ratio: item(s.stamp_spread.p99_ratio, "<= 1.3", s.stamp_spread.p99_ratio <= 1.3),
    // A registry key costs what an SDK_KEYS key costs: the same ratio, within run-to-run noise.
    registry_key_rps_ratio_gap: item(
      round2(Math.abs(s.stamp_spread_registry_key.rps_ratio - s.stamp_spread.rps_ratio)),
      "<= 0.05",
      Math.abs(s.stamp_spread_registry_key.rps_ratio - s.stamp_spread.rps_ratio) <= 0.05,
    ),
    stamp_hot_rps_ratio: item(s.stamp_hot.rps_ratio, ">= 0.85", s.stamp_hot.rps_ratio >= 0.85),
    stamp_hot_p99_ratio: item(s.stamp_hot.p99_ratio, "<= 1.3", s.stamp_hot.p99_ratio <= 1.3),
    growth_ratio: item(results.growth.ratio, "<= 1.15", results.growth.ratio <= 1.15),
    index_lag_p99_ms: item(s.stamp_spread.index_lag_ms.p99, "<= 5000", s.stamp_spread.index_lag_ms.p99 <= 5000),
    rows_written_per_stamp_with_index_check: item(
      st.stamp_with_index_check.rows_written,
      "<= 2",
      st.stamp_with_index_check.rows_written <= 2,
    ),
    rows_written_per_stamp: item(st.stamp.max_rows_written, "<= 2", st.stamp.max_rows_written <= 2),
    rows_written_per_stamp_with_key: item(st.stamp_idempotent.max_rows_written, "<= 3", st.stamp_idempotent.max_rows_written <= 3),
    rows_written_per_start: item(
      Math.max(st.start.rows_written, st.start_first_session.rows_written),
      "<= 4",
      Math.max(st.start.rows_written, st.start_first_session.rows_written) <= 4,
    ),
    rows_written_per_start_store_bound: item(st.start_store_bound.rows_written, "<= 4", st.start_store_bound.rows_written <= 4),
    rows_written_per_stamp_store_bound: item(st.stamp_store_bound.max_rows_written, "<= 2", st.stamp_store_bound.max_rows_written <= 2),
    stamp_rows_read_constant: item(!st.stamp_rows_read_grow, "true", !st.stamp_rows_read_grow),
    ...Object.fromEntries(
      ANALYTICS_QUERIES.map((q) => [
        `analytics_${q}_median_ms`,
        item(results.analytics[q].median_ms, "< 500", results.analytics[q].median_ms < 500),
      ]),
    ),
    zero_errors: item(results.errors, "0", results.errors === 0),
  };
}

function table(results) {
  const s = results.scenarios;
  const pad = (x, n) => String(x ?? "-").padStart(n);
  const lines = [];
  lines.push(
    `persona-session-api bench (${results.mode}, ${results.rounds} round${results.rounds > 1 ? "s" : ""} + warm-up, medians) — ${results.date}`,
    `machine: ${results.machine.cpus} cores (${results.machine.cpu_model}), ${results.machine.memory_gib} GiB, node ${results.machine.node}, wrangler ${results.machine.wrangler}; load avg before ${results.machine.loadavg_before.join(" ")}`,
    "",
    "service vs baseline; cpu = server process CPU ms per request; ratios: median over rounds of each round's service / baseline",
    `${"scenario".padEnd(26)}${pad("rps", 8)}${pad("p50", 7)}${pad("p99", 7)}${pad("cpu", 6)}  |${pad("base rps", 9)}${pad("p50", 7)}${pad("p99", 7)}${pad("cpu", 6)}  |${pad("rps ratio", 10)}${pad("p99 ratio", 10)}${pad("cpu ratio", 10)}${pad("errors", 7)}`,
  );
  const rows = [
    ...["stamp_spread", "stamp_spread_registry_key", "stamp_hot", "journey"].map((n) => [n, s[n]]),
    ...Object.entries(results.supplementary),
  ];
  for (const [name, x] of rows) {
    lines.push(
      `${name.padEnd(26)}${pad(x.rps, 8)}${pad(x.p50_ms, 7)}${pad(x.p99_ms, 7)}${pad(x.server_cpu_ms, 6)}  |${pad(x.baseline.rps, 9)}${pad(x.baseline.p50_ms, 7)}${pad(x.baseline.p99_ms, 7)}${pad(x.baseline.server_cpu_ms, 6)}  |${pad(x.rps_ratio, 10)}${pad(x.p99_ratio, 10)}${pad(x.server_cpu_ratio, 10)}${pad(x.errors, 7)}`,
    );
  }
  lines.push(
    `ratios of the two medians instead (rps / p99 / cpu): ${rows.map(([name, x]) => `${name} ${x.ratio_of_medians.rps} / ${x.ratio_of_medians.p99} / ${x.ratio_of_medians.server_cpu ?? "-"}`).join(", ")}`,
  );
  const j = s.journey;
  const g = results.growth;
  const st = results.storage;
  const rw = (x) => `${x.rows_read}/${x.rows_written}`;
  const indexCpu = rows.filter(([, x]) => x.index_cpu_ms !== undefined).map(([name, x]) => `${name} ${x.index_cpu_ms}`);
  if (indexCpu.length > 0) lines.push(`index process (queue consumer, TenantIndex) cpu ms per request: ${indexCpu.join(", ")}`);
  lines.push(
    `index_lag_ms under stamp_spread: p50 ${s.stamp_spread.index_lag_ms.p50}, p99 ${s.stamp_spread.index_lag_ms.p99}, max ${s.stamp_spread.index_lag_ms.max} (${s.stamp_spread.index_lag_ms.samples} samples)`,
    `journey: ${j.sessions_per_s} sessions/s (baseline, same requests as single inserts: ${j.baseline.sessions_per_s}/s)`,
    `growth: first 100 ${g.first100_ms} ms, last 100 ${g.last100_ms} ms, ratio ${g.ratio} (median-based ${g.median_ratio}; baseline ratio ${g.baseline.ratio})`,
    `storage rows read/written: start ${rw(st.start)} (first session ${rw(st.start_first_session)}, brand-new object ${rw(st.start_new_object)}), ` +
      `stamp ${rw(st.stamp)}, stamp with key ${rw(st.stamp_idempotent)} (replay ${rw(st.stamp_replay)}), end ${rw(st.end)}, get ${rw(st.get)} (5-stamp session)`,
    `storage: a lone stamp plus the alarm's index check that confirms it: ${rw(st.stamp_with_index_check)} (the check alone ${rw(st.index_check)})`,
    `storage: stamp at #${st.stamp_late_in_session.at_stamp} ${rw(st.stamp_late_in_session)} vs #2 ${rw(st.stamp_early_in_session)}; ${st.bytes_per_stamp} bytes/stamp`,
    `analytics over ${results.analytics.sessions} ended sessions, ${results.analytics.range_days}-day range (median / p99 ms of ${results.analytics.runs} runs): ` +
      ANALYTICS_QUERIES.map((q) => `${q} ${results.analytics[q].median_ms} / ${results.analytics[q].p99_ms}`).join(", "),
    `bundle: ${results.bundle.gzip_bytes} bytes gzipped (${results.bundle.raw_bytes} raw)`,
    `errors (service, all scenarios): ${results.errors}`,
    "",
    "budget:",
  );
  for (const [name, b] of Object.entries(results.budget)) lines.push(`  ${b.ok ? "ok  " : "MISS"} ${name} = ${b.value} (${b.limit})`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const machine = {
    cpus: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model ?? "unknown",
    memory_gib: round2(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    wrangler: JSON.parse(readFileSync(WRANGLER_PACKAGE_JSON, "utf8")).version,
    loadavg_before: os.loadavg().map(round2),
  };
  let commit = null;
  try {
    commit = (await run("git", ["rev-parse", "--short", "HEAD"])).trim();
  } catch {}

  if (pkg.scripts?.["build:console"]) {
    say("npm run build:console (the Worker's [assets] come from it)");
    await run("npm", ["run", "build:console"]);
  }
  say("building service, baseline and storage probe (wrangler deploy --dry-run)");
  const rootConfig = join(ROOT, "wrangler.toml");
  const baselineConfig = join(ROOT, "bench", "baseline", "wrangler.toml");
  const probeConfig = join(ROOT, "bench", "storage", "wrangler.toml");
  const [svcBuild, baseBuild, probeBuild] = await Promise.all([
    build("service", rootConfig),
    build("baseline", baselineConfig),
    build("probe", probeConfig),
  ]);
  const bundle = bundleSize(svcBuild.outdir);
  const rootOptions = unstable_getMiniflareWorkerOptions(rootConfig).workerOptions;
  // Everything runs with the service's compatibility date and flags, whatever the bench configs say.
  const compat = { date: rootOptions.compatibilityDate, flags: rootOptions.compatibilityFlags ?? [] };
  const serviceVars = { SDK_KEYS, ADMIN_KEYS, RATE_LIMITS: "off" };
  /** The probe build, its registry migrated first (the storage probe makes a registry tenant; the analytics seed registers stores). */
  const serveProbe = async () => {
    const probeState = join(work, "serve-probe-registry");
    await migrateRegistry(probeConfig, probeState);
    return serve("probe", probeConfig, probeBuild.outdir, serviceVars, compat, { persistDir: join(probeState, "v3") });
  };

  // The API Worker is compared without the [assets] layer: see bench/README.md ("Static assets").
  // Its cost is measured on its own, after the scenarios, in full runs.
  const hasAssets = Boolean(rootOptions.assets);
  // The service's registry (D1): migrated with wrangler into the state the service is served from
  // (wrangler keeps Miniflare's state under <persist-to>/v3).
  const svcState = join(work, "serve-service", "state");
  say("applying the registry's D1 migrations (wrangler d1 migrations apply --local)");
  await migrateRegistry(rootConfig, svcState);
  // The index plane (INDEX_QUEUE's consumer and the TenantIndex shards) runs in a workerd process
  // of its own, reached through Miniflare's dev registry, as Cloudflare runs the queue's consumer
  // and other objects apart from the persona's (bench/README.md, "Topology"). --one-process keeps
  // everything in the service's process, for comparison.
  const registryDir = join(work, "dev-registry");
  const split = (role) => (ONE_PROCESS ? {} : { split: { role, registryDir } });
  const index = ONE_PROCESS
    ? null
    : await serve("index", rootConfig, svcBuild.outdir, serviceVars, compat, {
        withoutAssets: true,
        persistDir: join(work, "serve-index", "state"),
        ...split("index"),
      });
  say("starting service and baseline");
  const [svc, base] = await Promise.all([
    serve("service", rootConfig, svcBuild.outdir, serviceVars, compat, {
      withoutAssets: true,
      persistDir: join(svcState, "v3"),
      ...split("persona"),
    }),
    serve("baseline", baselineConfig, baseBuild.outdir, {}, compat),
  ]);
  svc.role = "service";
  svc.index = index;
  base.role = "baseline";
  // The keys work (404 NO_ACTIVE_SESSION, not 401) before anything is timed.
  await expect(404, svc.port, "GET", `/v1/persona/check-${RUN}/session`);
  const registryAuth = bearer(await registryKey(svc.port));
  await expect(404, svc.port, "GET", `/v1/persona/check-${RUN}/session`, { headers: registryAuth });
  if (flag("--scale")) {
    // Issue 23's measurement: the seeded tenant at 100,000 and 1,000,000 sessions, written to --out.
    await Promise.all([svc, base, index].filter(Boolean).map(stop));
    const probe = await serveProbe();
    try {
      const scale = await scaleAnalytics(probe);
      const text = `${JSON.stringify({ commit, at: new Date().toISOString(), scale }, null, 2)}\n`;
      writeFileSync(OUT, text);
      console.log(text);
    } finally {
      await stop(probe);
    }
    return;
  }
  if (flag("--analytics-only")) {
    // For A/B experiments on the analytics queries: the seeded tenant alone, printed, nothing written.
    await Promise.all([svc, base, index].filter(Boolean).map(stop));
    const probe = await serveProbe();
    try {
      console.log(JSON.stringify(await analytics(probe), null, 2));
    } finally {
      await stop(probe);
    }
    return;
  }
  const scenarios = {};
  const supplementary = {};
  let growthResult;
  const running = [svc, base, ...(index ? [index] : [])];
  try {
    scenarios.stamp_spread = await stampSpread(svc, base);
    // The same stream, stamped with a key from the tenant registry (D1, cached per isolate).
    scenarios.stamp_spread_registry_key = await stampSpread(svc, base, "stamp_spread_registry_key", registryAuth);
    scenarios.stamp_hot = await stampHot(svc, base);
    if (flag("--stamps-only")) {
      // For A/B experiments: the two stamp scenarios, printed, nothing written.
      for (const [name, x] of Object.entries(scenarios)) {
        console.log(
          `${name}: rps ${x.rps} (ratio ${x.rps_ratio}; of medians ${x.ratio_of_medians.rps}), p99 ratio ${x.p99_ratio}, cpu ${x.server_cpu_ms} ms (ratio ${x.server_cpu_ratio})` +
            (x.index_cpu_ms === undefined ? "" : `, index process cpu ${x.index_cpu_ms} ms`),
        );
      }
      console.log(`index_lag_ms: ${JSON.stringify(scenarios.stamp_spread.index_lag_ms)}`);
      return;
    }
    scenarios.journey = await journey(svc, base);
    growthResult = await growth(svc, base);
    if (hasAssets && !QUICK) {
      await stop(svc);
      say("starting the service with its [assets] layer");
      const svcAssets = await serve("service-assets", rootConfig, svcBuild.outdir, serviceVars, compat, {
        persistDir: join(svcState, "v3"),
        ...split("persona"),
      });
      svcAssets.role = "service";
      svcAssets.index = index;
      running.push(svcAssets);
      supplementary.stamp_spread_with_assets = await stampSpread(svcAssets, base, "stamp_spread_with_assets");
    }
  } catch (e) {
    for (const s of running) process.stderr.write(`--- ${s.name} stderr tail ---\n${s.stderr}\n`);
    throw e;
  } finally {
    await Promise.all(running.map(stop));
  }

  say("storage probe");
  const probe = await serveProbe();
  let storageResult;
  let analyticsResult;
  try {
    storageResult = await storage(probe);
    say("analytics over a seeded tenant");
    analyticsResult = await analytics(probe);
  } finally {
    await stop(probe);
  }

  const errors = [...Object.values(scenarios), ...Object.values(supplementary)].reduce((n, x) => n + x.errors, 0) + growthResult.errors;
  const results = {
    mode: QUICK ? "quick" : "full",
    rounds: ROUNDS,
    date: new Date().toISOString(),
    commit,
    machine: { ...machine, loadavg_after: os.loadavg().map(round2) },
    method: {
      server: "workerd via Miniflare's API (bench/serve.mjs), request logging off, persisted state in a temp dir",
      topology: ONE_PROCESS
        ? "one process: the index plane (queue consumer, TenantIndex) shares the service's workerd"
        : "the index plane (queue consumer, TenantIndex) in a second workerd process, through Miniflare's dev registry",
      load: "autocannon in the harness process, fixed request counts per connection, same request stream for both targets",
      plan: PLAN,
      rate_limits: "RATE_LIMITS=off",
      keys: "stamp_spread_registry_key stamps with a registry key (made through the admin API before timing; AUTH_CACHE_SECONDS from wrangler.toml); every other scenario with an SDK_KEYS key",
      assets: hasAssets
        ? "scenarios run the API Worker without the [assets] layer; supplementary.stamp_spread_with_assets (full runs) has it"
        : "no [assets]",
    },
    errors,
    scenarios,
    supplementary,
    growth: growthResult,
    storage: storageResult,
    analytics: analyticsResult,
    bundle: { gzip_bytes: bundle.gzip, raw_bytes: bundle.raw, wrangler_reported_gzip_kib: svcBuild.reportedGzipKiB },
    duration_s: round2((performance.now() - t0) / 1000),
  };
  results.budget = budget(results);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  console.log(table(results));
  console.log(`\nwrote ${OUT} in ${results.duration_s} s`);
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  killAllNow();
  process.exit(1);
});
