// npm run test:kiosk: the client package's kiosk recorder, built, in the places it will run.
// Starts `npm run dev` on throwaway state (CORS open to a second origin), serves the example kiosk
// page (public/kiosk/, from npm run build:console) from that second origin, and drives it in
// Debian's Chromium through the DevTools protocol (playwright-core), with a profile on disk so a
// killed browser comes back to the same IndexedDB. Then a Node kiosk on the file adapter.
//   - offline: a start and 100 stamps, two reloads, back online: exactly those stamps, once, in order, at their times;
//   - the browser SIGKILLed in the middle of delivering, started again on its profile: nothing lost or doubled;
//   - the server SIGKILLed in the middle of delivering, restarted on its state: the same;
//   - the page's clock 2 hours behind, then 3 hours ahead: stamps at their true times within 1 s;
//   - a Node process on fileStorage SIGKILLed while recording and delivering, restarted: the same.
// Last line of output: "N passed, N failed". Exit code 0 only when nothing failed.
//
//   CHROMIUM=/usr/bin/chromium      browser to drive (default /usr/bin/chromium)
import { type ChildProcess, spawn } from "node:child_process";
import { openSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import type { KioskRecorder, PersonaRecorder } from "@persona-session/client";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { assert, CHROMIUM_ARGS, equal, freePort, log, results, sleep, stopOnSignal, test } from "./harness.ts";

/** What the example page puts on window (examples/kiosk-recorder/app.js), and the clock test's skew. */
interface KioskWindow {
  kiosk: { recorder: KioskRecorder; persona(id?: string): PersonaRecorder };
  __skew: number;
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const KEY = "sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function killGroup(child: ChildProcess | null, signal: NodeJS.Signals) {
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // gone already
  }
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));

// ---------------------------------------------------------------- the API (npm run dev)

let dev: ChildProcess | null = null;
let BASE = "";

async function startDev(port: number, state: string, logFile: string, kioskOrigin: string): Promise<void> {
  const out = openSync(logFile, "a");
  const args = ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", state, "--inspector-port", "0"];
  args.push("--var", `CORS_ORIGINS:${kioskOrigin}`, "--var", "RATE_LIMITS:off");
  dev = spawn("npm", args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  BASE = `http://127.0.0.1:${port}`;
  const child = dev;
  await until(
    "the dev server",
    async () => {
      if (child.exitCode !== null) throw new Error(`npm run dev exited with ${child.exitCode}; see ${logFile}`);
      return (await fetch(`${BASE}/healthz`)).ok;
    },
    120_000,
  );
}

async function stopDev(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  const child = dev;
  dev = null;
  if (!child) return;
  killGroup(child, signal);
  await Promise.race([exited(child), sleep(10_000)]);
  killGroup(child, "SIGKILL");
}

// biome-ignore lint/suspicious/noExplicitAny: the API's answers, read field by field and compared in each test
async function api(path: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

interface Held {
  session_id: string;
  ended: boolean;
  stamps: { status: string; timestamp: string }[];
}

/** Every session the API holds for the persona, oldest first. */
async function sessionsOf(persona: string): Promise<Held[]> {
  const list = await api(`/v1/persona/${persona}/sessions?limit=100`);
  if (list.status !== 200) throw new Error(`history of ${persona}: ${list.status}`);
  const ids: string[] = list.json.data.sessions.map((s: { session_id: string }) => s.session_id).reverse();
  const active = await api(`/v1/persona/${persona}/session`);
  if (active.status === 200) ids.push(active.json.data.session_id);
  const out: Held[] = [];
  for (const id of ids) {
    const s = (await api(`/v1/persona/${persona}/sessions/${id}`)).json.data;
    out.push({ session_id: s.session_id, ended: s.ended_at !== null, stamps: s.stamps });
  }
  return out;
}

// ---------------------------------------------------------------- the kiosk page's origin

const TYPES: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

function serveKiosk(port: number) {
  const dir = join(ROOT, "public");
  const server = createHttpServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = normalize(join(dir, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(join(dir, "kiosk"))) return void res.writeHead(404).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-cache" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise<typeof server>((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

// ---------------------------------------------------------------- the browser, on a profile on disk

let browserProcess: ChildProcess | null = null;

async function launch(profile: string): Promise<Browser> {
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank"], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
  });
  browserProcess = child;
  const ws = await new Promise<string>((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`chromium did not start: ${err}`)), 30_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`chromium exited with ${code}: ${err}`)));
  });
  child.stderr!.resume();
  return chromium.connectOverCDP(ws);
}

async function killBrowser(): Promise<void> {
  const child = browserProcess;
  browserProcess = null;
  if (!child) return;
  killGroup(child, "SIGKILL");
  await Promise.race([exited(child), sleep(5_000)]);
}

let KIOSK_URL = "";

/** The example page, loaded and controlled by its service worker (so it loads again offline). */
async function openKiosk(context: BrowserContext): Promise<Page> {
  const page = context.pages().find((p) => p.url().startsWith(KIOSK_URL.split("?")[0]!)) ?? (await context.newPage());
  page.on("pageerror", (err) => log(`    page error: ${err.message}`));
  await page.goto(KIOSK_URL);
  await page.waitForFunction(() => "kiosk" in window && navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  await page.evaluate(() => (window as unknown as KioskWindow).kiosk.recorder.ready());
  return page;
}

async function reload(page: Page) {
  await page.reload();
  await page.waitForFunction(() => "kiosk" in window, null, { timeout: 30_000 });
  await page.evaluate(() => (window as unknown as KioskWindow).kiosk.recorder.ready());
}

const pending = (page: Page) => page.evaluate(() => (window as unknown as KioskWindow).kiosk.recorder.status().pending as number);

/** The page's network through DevTools: off, on, or on with this much latency per request. */
const sessions = new WeakMap<Page, Awaited<ReturnType<BrowserContext["newCDPSession"]>>>();
async function network(page: Page, state: { offline: boolean; latency?: number }) {
  // One DevTools session per page: conditions set through another would still apply beside these.
  let cdp = sessions.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send("Network.enable");
    sessions.set(page, cdp);
  }
  await cdp.send("Network.emulateNetworkConditions", {
    offline: state.offline,
    latency: state.latency ?? 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
}

/** Records, in the page, `count` visits of one start, `stamps` stamps and an end each. */
function recordVisits(page: Page, personas: string[], stamps: number) {
  return page.evaluate(
    async ({ personas, stamps }) => {
      for (const id of personas) {
        const k = (window as unknown as KioskWindow).kiosk.persona(id);
        await k.start();
        await k.stamps(Array.from({ length: stamps }, (_, i) => ({ status: `S${i}` })));
        await k.end();
      }
    },
    { personas, stamps },
  );
}

async function expectVisits(personas: string[], stamps: number, what: string) {
  const want = ["ENTER", ...Array.from({ length: stamps }, (_, i) => `S${i}`)];
  for (const p of personas) {
    const held = await sessionsOf(p);
    equal(held.length, 1, `${what}: sessions of ${p}`);
    equal(held[0]!.ended, true, `${what}: ${p} ended`);
    equal(
      held[0]!.stamps.map((s) => s.status),
      want,
      `${what}: stamps of ${p}`,
    );
  }
}

const delivered = async (personas: string[]) => {
  let n = 0;
  for (const p of personas) {
    const h = await api(`/v1/persona/${p}/sessions?limit=1`);
    if (h.status === 200 && h.json.data.sessions.length > 0) n += 1;
  }
  return n;
};

// ---------------------------------------------------------------- the tests

async function run(work: string, devState: string, devLog: string, kioskOrigin: string, port: number) {
  const profile = join(work, "profile");
  let browser = await launch(profile);
  let context = browser.contexts()[0]!;
  const tag = Date.now().toString(36);

  await test("offline: a start and 100 stamps, two reloads, back online: one session, those stamps in order, at their times", async () => {
    const page = await openKiosk(context);
    const persona = `rec-offline-${tag}`;
    await context.setOffline(true);
    const times = await page.evaluate(async (id) => {
      const k = (window as unknown as KioskWindow).kiosk.persona(id);
      const at: number[] = [];
      at.push(Date.now());
      await k.start();
      for (let i = 0; i < 100; i++) {
        at.push(Date.now());
        await k.stamp(`S${i}`);
      }
      return at;
    }, persona);
    equal(await pending(page), 101, "pending after recording offline");
    await reload(page);
    await reload(page);
    equal(await pending(page), 101, "pending after two reloads offline");
    equal((await sessionsOf(persona)).length, 0, "sessions before coming back online");
    await context.setOffline(false);
    const held = await until("the session's 101 stamps", async () => {
      const s = await sessionsOf(persona);
      return s.length === 1 && s[0]!.stamps.length === 101 ? s : null;
    });
    equal(
      held[0]!.stamps.map((s) => s.status),
      ["ENTER", ...Array.from({ length: 100 }, (_, i) => `S${i}`)],
      "stamps",
    );
    held[0]!.stamps.forEach((s, i) => {
      const off = Math.abs(Date.parse(s.timestamp) - times[i]!);
      assert(off < 1000, `stamp ${i} at ${s.timestamp}, recorded at ${new Date(times[i]!).toISOString()}`);
    });
    await until("nothing pending", async () => (await pending(page)) === 0);
  });

  await test("a second tab on the same storage waits until the first is gone, then delivers what it queued", async () => {
    const first = await openKiosk(context);
    const second = await context.newPage();
    second.on("pageerror", (err) => log(`    page error: ${err.message}`));
    await second.goto(KIOSK_URL);
    await second.waitForFunction(() => "kiosk" in window, null, { timeout: 30_000 });
    const persona = `rec-tabs-${tag}`;
    const queued = second.evaluate(
      (id) =>
        (window as unknown as KioskWindow).kiosk
          .persona(id)
          .start()
          .then(() => "queued"),
      persona,
    );
    equal(
      await Promise.race([queued, sleep(1500).then(() => "waiting")]),
      "waiting",
      "the second tab's start while the first holds the queue",
    );
    await first.close();
    equal(await queued, "queued", "the second tab's start once the first is gone");
    await until("the second tab's session", async () => (await sessionsOf(persona)).length === 1);
  });

  await test("the browser SIGKILLed in the middle of delivering, started again on its profile: nothing lost, nothing doubled", async () => {
    const page = await openKiosk(context);
    const personas = Array.from({ length: 16 }, (_, i) => `rec-browser-kill-${tag}-${i}`);
    await network(page, { offline: true });
    await recordVisits(page, personas, 20);
    equal(await pending(page), 16 * 22, "pending before the kill");
    await network(page, { offline: false, latency: 400 });
    await until("a few visits delivered", async () => (await delivered(personas)) >= 2);
    await killBrowser();
    const atKill = await delivered(personas);
    assert(atKill < personas.length, `every visit was delivered before the kill (${atKill}): not a kill in the middle`);
    browser = await launch(profile);
    context = browser.contexts()[0]!;
    await openKiosk(context);
    await until("every visit delivered", async () => (await delivered(personas)) === personas.length, 90_000);
    await sleep(1000);
    await expectVisits(personas, 20, "after the browser's kill");
  });

  await test("the server SIGKILLed in the middle of delivering, restarted on its state: nothing lost, nothing doubled", async () => {
    const page = await openKiosk(context);
    const personas = Array.from({ length: 16 }, (_, i) => `rec-server-kill-${tag}-${i}`);
    await network(page, { offline: true });
    await recordVisits(page, personas, 20);
    await network(page, { offline: false, latency: 400 });
    await until("a few visits delivered", async () => (await delivered(personas)) >= 2);
    const atKill = await delivered(personas);
    await stopDev("SIGKILL");
    assert(atKill < personas.length, `every visit was delivered before the kill (${atKill}): not a kill in the middle`);
    await sleep(1000);
    await startDev(port, devState, devLog, kioskOrigin);
    // No nudge from the test: the recorder's own retries find the server back.
    await until("every visit delivered", async () => (await delivered(personas)) === personas.length, 120_000);
    await until("nothing pending", async () => (await pending(page)) === 0, 60_000);
    await expectVisits(personas, 20, "after the server's kill");
  });

  await test("the page's clock 2 hours behind, then 3 hours ahead while offline: stamps at their true times within 1 s", async () => {
    // A context of its own, its Date skewed before any page script runs (performance.now is left true).
    const skewed = await browser.newContext();
    await skewed.addInitScript(() => {
      const RealDate = Date;
      const w = window as unknown as { __skew: number; Date: DateConstructor };
      w.__skew = -2 * 3_600_000;
      class SkewedDate extends RealDate {
        constructor(...args: [] | [string | number | Date]) {
          if (args.length === 0) super(RealDate.now() + w.__skew);
          else super(args[0]);
        }
        static override now() {
          return RealDate.now() + w.__skew;
        }
      }
      w.Date = SkewedDate as DateConstructor;
    });
    const page = await openKiosk(skewed);
    const persona = `rec-clock-${tag}`;
    await skewed.setOffline(true);
    const t0 = Date.now();
    await page.evaluate(async (id) => {
      const k = (window as unknown as KioskWindow).kiosk.persona(id);
      await k.start();
      await k.stamp("CHAT");
    }, persona);
    const before = await page.evaluate(() => (window as unknown as KioskWindow).kiosk.recorder.status());
    equal(before.clock_synced, false, "synced before hearing from the API");
    await skewed.setOffline(false);
    await until("the first stamps", async () => (await sessionsOf(persona))[0]?.stamps.length === 2);
    await skewed.setOffline(true);
    await page.evaluate(() => {
      (window as unknown as KioskWindow).__skew = 3 * 3_600_000;
    });
    await sleep(500);
    const t1 = Date.now();
    await page.evaluate((id) => (window as unknown as KioskWindow).kiosk.persona(id).stamp("PAYMENT"), persona);
    await skewed.setOffline(false);
    const held = await until("the third stamp", async () => {
      const s = await sessionsOf(persona);
      return s[0]?.stamps.length === 3 ? s : null;
    });
    const at = held[0]!.stamps.map((s) => Date.parse(s.timestamp));
    for (const [i, want] of [t0, t0, t1].entries()) {
      assert(Math.abs(at[i]! - want) < 1000, `stamp ${i} at ${held[0]!.stamps[i]!.timestamp}, true time ${new Date(want).toISOString()}`);
    }
    const after = await page.evaluate(() => (window as unknown as KioskWindow).kiosk.recorder.status());
    equal(after.clock_synced, true, "synced after hearing from the API");
    assert(Math.abs((after.clock_offset_ms ?? 0) + 3 * 3_600_000) < 1000, `offset ${after.clock_offset_ms}: the device is 3 hours ahead`);
    await skewed.close();
  });

  await browser.close().catch(() => undefined);
  await killBrowser();

  await test("a Node kiosk on fileStorage SIGKILLed while recording and delivering, restarted: nothing lost, nothing doubled", async () => {
    const dir = join(work, "node-kiosk");
    const personas = Array.from({ length: 6 }, (_, i) => `rec-node-${tag}-${i}`);
    const child = (mode: string) =>
      spawn(process.execPath, [join(ROOT, "test/browser/kiosk-node.mjs"), mode, BASE, KEY, dir, ...personas], {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "inherit"],
      });
    const recorder = child("record");
    const acked: string[] = [];
    let out = "";
    recorder.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const lines = out.split("\n");
      out = lines.pop()!;
      acked.push(...lines.filter(Boolean));
    });
    await until(
      "some events queued, and some delivered",
      async () => acked.length >= 100 && ((await api(`/v1/persona/${personas[0]}/session`)).json?.data?.stamp_count ?? 0) > 2,
      60_000,
    );
    killGroup(recorder, "SIGKILL");
    await exited(recorder);
    const drain = child("drain");
    let status = "";
    drain.stdout!.on("data", (chunk: Buffer) => {
      status += chunk.toString();
    });
    await exited(drain);
    const final = JSON.parse(status.trim().split("\n").pop()!);
    equal([final.pending, final.dead_letters], [0, 0], "pending and dead letters after the restart");
    // Each persona's events were recorded in order (start, S0..S39, end); the kill may have cut
    // the recording short, so what the API holds is a prefix of that, holding every event acknowledged.
    const script = ["start", ...Array.from({ length: 40 }, (_, i) => `S${i}`), "end"];
    for (const p of personas) {
      const held = await sessionsOf(p);
      const mine = acked.filter((l) => l.startsWith(`${p} `)).map((l) => l.slice(p.length + 1));
      if (held.length === 0) {
        equal(mine, [], `${p}: acknowledged but not delivered`);
        continue;
      }
      equal(held.length, 1, `sessions of ${p}`);
      const got = ["start", ...held[0]!.stamps.slice(1).map((s) => s.status), ...(held[0]!.ended ? ["end"] : [])];
      equal(got, script.slice(0, got.length), `${p}: a prefix of what was recorded, in order, no doubles`);
      assert(got.length >= mine.length, `${p}: ${mine.length} acknowledged, ${got.length} delivered`);
    }
  });
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), "kiosk-recorder-"));
  const devState = join(work, "wrangler");
  const devLog = join(work, "dev.log");
  let server: Awaited<ReturnType<typeof serveKiosk>> | null = null;
  const stopAll = async () => {
    await killBrowser();
    await stopDev();
    server?.close();
  };
  stopOnSignal(stopAll);
  try {
    const [port, kioskPort] = [await freePort(), await freePort()];
    const kioskOrigin = `http://127.0.0.1:${kioskPort}`;
    server = await serveKiosk(kioskPort);
    await startDev(port, devState, devLog, kioskOrigin);
    KIOSK_URL = `${kioskOrigin}/kiosk/?api=${encodeURIComponent(BASE)}&key=${KEY}`;
    log(`kiosk recorder: API at ${BASE}, kiosk page at ${kioskOrigin}/kiosk/`);
    await run(work, devState, devLog, kioskOrigin, port);
  } catch (err) {
    results.failed += 1;
    log(`  FAIL setup: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await stopAll();
    if (results.failed > 0) log(`  (dev log: ${devLog})`);
    else await rm(work, { recursive: true, force: true });
  }
  log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed > 0 ? 1 : 0);
}

await main();
