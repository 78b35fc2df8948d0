// npm run test:e2e: the session timeline console in headless Chromium (Debian's `chromium`,
// driven by playwright-core). Starts `npm run dev` on a free port with throwaway state in its own
// process group, seeds sessions through the API, drives /console/, and stops everything.
// Last line of output: "N passed, N failed". Exit code 0 only when nothing failed.
//
//   CHROMIUM=/usr/bin/chromium      browser to drive (default /usr/bin/chromium)
//   E2E_ARTIFACTS=dir               where screenshots and the dev log go (default: a new tmp dir)
//   E2E_UPDATE_DOCS=1               also write the laptop screenshot to docs/console.png
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { openSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WRITE_KEY = "sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
// A throwaway read-only key for the demo tenant: the console only ever needs to read.
const READ_KEY = `sk_${randomBytes(32).toString("base64url")}`;
const sha = (key: string) => createHash("sha256").update(key).digest("hex");
const SDK_KEYS = `demo:${sha(WRITE_KEY)},demo:${sha(READ_KEY)}:read`;
const LAPTOP = { width: 1366, height: 850 };
const KIOSK = { width: 1080, height: 1920 };

let passed = 0;
let failed = 0;
const log = (line: string) => process.stdout.write(`${line}\n`);

async function test(name: string, fn: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await fn();
    passed += 1;
    log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed += 1;
    log(`  FAIL ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function equal<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- dev server

let dev: ChildProcess | null = null;
let devExited: Promise<void> = Promise.resolve();

async function startDev(port: number, state: string, logFile: string): Promise<string> {
  const out = openSync(logFile, "a");
  dev = spawn(
    "npm",
    [
      "run",
      "dev",
      "--",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      join(state, "wrangler"),
      "--inspector-port",
      "0",
      "--var",
      `SDK_KEYS:${SDK_KEYS}`,
    ],
    { cwd: ROOT, detached: true, stdio: ["ignore", out, out], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  const child = dev;
  devExited = new Promise((resolve) => child.once("exit", () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited with ${child.exitCode}; see ${logFile}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) return base;
    } catch {
      // not up yet
    }
    await sleep(500);
  }
  throw new Error(`dev server did not come up in 120 s; see ${logFile}`);
}

/** Stops the whole process group (npm, wrangler, workerd): TERM, then KILL if it lingers. */
async function stopDev(): Promise<void> {
  const child = dev;
  dev = null;
  if (!child?.pid || child.exitCode !== null) return;
  const group = -child.pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(group, sig);
    } catch {
      // the group is gone already
    }
  };
  signal("SIGTERM");
  await Promise.race([devExited, sleep(10_000)]);
  await sleep(500); // wrangler and workerd got the same TERM; give them a moment
  signal("SIGKILL"); // whatever of the group is still there
}

// ---------------------------------------------------------------- API seeding

let BASE = "";

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${WRITE_KEY}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const base = (persona: string) => `/v1/persona/${persona}`;

type Step = { status: string; at: number; meta?: Record<string, unknown> };

/** One session through the API: start, stamps (minutes ago), optional end; times via occurred_at. */
async function visit(persona: string, startAt: number, steps: Step[], endAt: number | null): Promise<void> {
  const ref = Date.now(); // one reference, so durations come out exact
  const ago = (minutes: number) => new Date(ref - minutes * 60_000).toISOString();
  await api("POST", `${base(persona)}/session/start`, { occurred_at: ago(startAt) });
  if (steps.length) {
    await api("POST", `${base(persona)}/session/stamps`, {
      stamps: steps.map((s) => ({ status: s.status, occurred_at: ago(s.at), ...(s.meta ? { meta: s.meta } : {}) })),
    });
  }
  if (endAt !== null) await api("POST", `${base(persona)}/session/end`, { occurred_at: ago(endAt) });
}

// ---------------------------------------------------------------- page helpers

const seen = { thirdParty: [] as string[], cspViolations: [] as string[], pageErrors: [] as string[], sessionStatuses: [] as number[] };

function watch(page: Page, origin: string): void {
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) seen.thirdParty.push(url);
  });
  page.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) seen.cspViolations.push(msg.text());
  });
  page.on("pageerror", (err) => seen.pageErrors.push(err.message));
  page.on("response", (res) => {
    if (/\/v1\/persona\/[^/]+\/session$/.test(new URL(res.url()).pathname)) seen.sessionStatuses.push(res.status());
  });
}

async function connect(page: Page, key: string, persona: string): Promise<void> {
  await page.getByLabel("SDK key").fill(key);
  await page.getByLabel("Persona id").fill(persona);
  await page.getByRole("button", { name: "Show timeline" }).click();
}

const liveSegments = (page: Page) => page.locator("#live-view .seg");

async function segmentLabels(page: Page, scope: string): Promise<string[]> {
  return page.locator(`${scope} .seg`).evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.status ?? ""));
}

async function visibleText(page: Page, scope: string): Promise<string[]> {
  return page
    .locator(`${scope} .seg:not(.narrow) .seg-label`)
    .evaluateAll((nodes) => nodes.filter((n) => (n as HTMLElement).offsetWidth > 0).map((n) => n.textContent ?? ""));
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const artifacts = process.env.E2E_ARTIFACTS ?? (await mkdtemp(join(tmpdir(), "console-e2e-")));
  await mkdir(artifacts, { recursive: true });
  const state = await mkdtemp(join(tmpdir(), "console-e2e-state-"));
  const devLog = join(artifacts, "dev.log");
  log(`console e2e: artifacts in ${artifacts}`);

  let browser: Browser | null = null;
  const stopAll = async () => {
    await browser?.close().catch(() => {});
    browser = null;
    await stopDev();
    await rm(state, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stopAll().finally(() => {
        log(`${passed} passed, ${failed + 1} failed`);
        process.exit(1);
      });
    });
  }

  try {
    const port = await freePort();
    BASE = await startDev(port, state, devLog);
    log(`console e2e: dev server at ${BASE}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // playwright-core gives every launch a fresh temporary --user-data-dir of its own.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-proxy-server",
      ],
    });
    await run(browser, artifacts);
  } catch (err) {
    failed += 1;
    log(`  FAIL setup: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await stopAll();
  }
}

async function run(browser: Browser, artifacts: string): Promise<void> {
  const suffix = Date.now().toString(36);
  const persona = `e2e-kiosk-${suffix}`;
  const bigPersona = `e2e-many-${suffix}`;

  // 11 ended visits over the last ~100 minutes (more than one history page of 10), then the
  // active one: the seed's journey so far, ENTER → CHAT → SHOPPING → PAYMENT, times via occurred_at.
  await test("seed sessions through the API", async () => {
    for (let i = 0; i < 11; i++) {
      const t = 100 - i * 6;
      await visit(
        persona,
        t,
        [
          { status: "CHAT", at: t - 0.5 },
          { status: "SHOPPING", at: t - 1.5 },
          { status: "PAYMENT", at: t - 3 },
          { status: "COMPLETE", at: t - 3.5 },
        ],
        t - 4,
      );
    }
    await visit(
      persona,
      12,
      [
        { status: "CHAT", at: 10.5, meta: { kiosk: "K-12", language: "en" } },
        { status: "SHOPPING", at: 8, meta: { zone: "wine", basket_items: 3 } },
        { status: "PAYMENT", at: 3, meta: { method: "card" } },
      ],
      null,
    );
  });

  const context: BrowserContext = await browser.newContext({ viewport: LAPTOP, colorScheme: "light", locale: "en-GB", timezoneId: "UTC" });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, BASE);

  await test("the console loads with its CSP and labelled inputs", async () => {
    const res = await page.goto(`${BASE}/console/`);
    assert(res?.ok(), `GET /console/ gave ${res?.status()}`);
    const csp = res.headers()["content-security-policy"] ?? "";
    assert(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
    equal(await page.title(), "Session timeline console", "title");
    const unlabelled = await page
      .locator("input")
      .evaluateAll((inputs) => inputs.filter((i) => (i as HTMLInputElement).labels?.length === 0).length);
    equal(unlabelled, 0, "inputs without a label");
    equal(await page.locator("script:not([src])").count(), 0, "inline scripts");
  });

  await test("the active session draws its segments in order, with labels and durations", async () => {
    await connect(page, READ_KEY, persona);
    await liveSegments(page).nth(3).waitFor();
    equal(await segmentLabels(page, "#live-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT"], "segment order");
    equal(await visibleText(page, "#live-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT"], "visible labels");
    const durations = await page.locator("#live-view .seg-dur").allTextContents();
    equal(durations.slice(0, 3), ["1 min 30 s", "2 min 30 s", "5 min 00 s"], "durations of closed segments");
    const last = page.locator("#live-view .seg").last();
    assert(await last.evaluate((n) => n.classList.contains("open")), "the last segment is open (runs to now)");
    assert((await page.locator("#live-view .mark-enter").textContent())?.startsWith("Enter"), "Enter mark");
    assert((await page.locator("#live-view .mark-now").textContent())?.startsWith("now"), "now mark");
    assert(!page.url().includes(READ_KEY), "key not in the URL");
    const storage = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    assert(storage.session.includes(READ_KEY), "key kept in sessionStorage");
    equal([storage.local, storage.cookie], [0, ""], "nothing in localStorage or cookies");
  });

  const coloursIn = (scope: string) =>
    page
      .locator(`${scope} .seg`)
      .evaluateAll((nodes) =>
        Object.fromEntries(nodes.map((n) => [(n as HTMLElement).dataset.status, getComputedStyle(n).backgroundColor])),
      );
  let liveColours: Record<string, string> = {};
  await test("each label gets its own colour", async () => {
    liveColours = await coloursIn("#live-view");
    equal(new Set(Object.values(liveColours)).size, 4, "four labels, four colours");
  });

  await test("meta shows on hover and on click, and segments are reachable by keyboard", async () => {
    await page.locator('#live-view .seg[data-status="SHOPPING"]').hover();
    const hovered = await page.locator("#live-view .details").textContent();
    assert(hovered?.includes("SHOPPING") && hovered.includes('"zone": "wine"'), `details on hover: ${hovered}`);
    await page.locator('#live-view .seg[data-status="CHAT"]').click();
    await page.mouse.move(5, 5);
    const pinned = await page.locator("#live-view .details").textContent();
    assert(pinned?.includes("(pinned)") && pinned.includes('"kiosk": "K-12"'), `details pinned by click: ${pinned}`);
    // Keyboard: Tab from the persona field reaches the timeline; arrows move between segments.
    await page.getByLabel("Persona id").focus();
    let onSegment = false;
    for (let i = 0; i < 15 && !onSegment; i++) {
      await page.keyboard.press("Tab");
      onSegment = await page.evaluate(() => document.activeElement?.classList.contains("seg") ?? false);
    }
    assert(onSegment, "Tab reaches a timeline segment");
    await page.keyboard.press("End");
    await page.keyboard.press("ArrowLeft");
    equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.status), "SHOPPING", "focused after End, ArrowLeft");
    await page.keyboard.press("Enter");
    const byKey = await page.locator("#live-view .details").textContent();
    assert(byKey?.includes("(pinned)") && byKey.includes("basket_items"), `details pinned by Enter: ${byKey}`);
  });

  await test("dwell summary lists time per status", async () => {
    const rows = await page.locator("#live-view table.dwell tbody tr th").allTextContents();
    equal([...rows].sort(), ["CHAT", "ENTER", "PAYMENT", "SHOPPING"], "dwell rows");
    equal(rows[0], "SHOPPING", "longest status first");
  });

  await test("history lists ended sessions newest first, paged with the cursor", async () => {
    await page.locator("#history-list .history-item").nth(9).waitFor();
    equal(await page.locator("#history-list .history-item").count(), 10, "first page");
    const first = await page.locator("#history-list .history-item").first().textContent();
    assert(first?.includes("4 min 00 s") && first.includes("client") && first.includes("5 stamps"), `history entry: ${first}`);
    await page.getByRole("button", { name: "Load older sessions" }).click();
    await page.locator("#history-list .history-item").nth(10).waitFor();
    equal(await page.locator("#history-list .history-item").count(), 11, "after Load older");
    assert(await page.locator("#more").isHidden(), "no more pages");
  });

  await test("a new stamp appears after refresh, using a cheap 304 while nothing changed", async () => {
    await waitFor("a 304 poll", async () => seen.sessionStatuses.includes(304), 10_000);
    // Recorded a minute ago (occurred_at), so the new segment is wide enough to carry its label.
    const occurred_at = new Date(Date.now() - 60_000).toISOString();
    await api("POST", `${base(persona)}/session/stamp`, { status: "COMPLETE", occurred_at, meta: { order: "A-1001" } });
    await page.getByRole("button", { name: "Refresh" }).click();
    await waitFor("5 segments", async () => (await liveSegments(page).count()) === 5);
    equal(await segmentLabels(page, "#live-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"], "segment order");
    const shopping = page.locator('#live-view .seg[data-status="SHOPPING"]');
    if ((await shopping.getAttribute("aria-pressed")) !== "true") await shopping.click();
    await page.mouse.move(5, 5);
    await page.locator("#live-view .details").filter({ hasText: "(pinned)" }).waitFor();
    const shot = join(artifacts, "console-laptop.png");
    await page.screenshot({ path: shot });
    log(`  screenshot: ${shot}`);
    if (process.env.E2E_UPDATE_DOCS === "1") {
      // The README's picture: the form and the active session panel only, to keep the PNG small.
      const box = await page.locator("#live").boundingBox();
      assert(box, "no box for #live");
      await mkdir(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({
        path: join(ROOT, "docs/console.png"),
        clip: { x: 0, y: 0, width: LAPTOP.width, height: Math.ceil(box.y + box.height + 12) },
      });
      log("  wrote docs/console.png");
    }
  });

  await test("the page fits a kiosk-sized portrait screen without sideways scrolling", async () => {
    await page.setViewportSize(KIOSK);
    try {
      await sleep(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      equal(overflow, 0, "horizontal overflow (px)");
      equal(await visibleText(page, "#live-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"], "labels on the kiosk");
      await page.screenshot({ path: join(artifacts, "console-kiosk.png") });
    } finally {
      await page.setViewportSize(LAPTOP);
    }
  });

  await test("ending the session is picked up by polling and lands in history; clicking it draws it", async () => {
    await api("POST", `${base(persona)}/session/end`);
    await page.locator('#live-state[data-kind="empty"]').waitFor({ timeout: 12_000 });
    const state = await page.locator("#live-state").textContent();
    assert(state?.includes("No active session"), `live state: ${state}`);
    const first = page.locator("#history-list .history-item").first();
    // The list reloads its first page: the newest entry is now the ~12-minute visit just ended.
    await waitFor("history to list the ended session", async () => {
      const text = (await first.textContent()) ?? "";
      return text.includes("5 stamps") && text.includes("client") && !text.includes("4 min 00 s");
    });
    equal(await page.locator("#history-list .history-item").count(), 10, "history reloaded from its first page");
    await first.click();
    await page.locator("#past-view .seg").nth(4).waitFor();
    equal(await segmentLabels(page, "#past-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"], "past session segments");
    const exit = await page.locator("#past-view .mark-exit").textContent();
    assert(exit?.startsWith("Exit") && exit.includes("client"), `Exit mark: ${exit}`);
    equal(await page.locator("#past-view table.dwell tbody tr").count(), 5, "dwell rows of the past session");
    const pastColours = await coloursIn("#past-view");
    for (const [label, colour] of Object.entries(liveColours)) equal(pastColours[label], colour, `colour of ${label} (stable)`);
    await page.screenshot({ path: join(artifacts, "console-history.png"), fullPage: true });
  });

  await test("network errors show a clear state and recover", async () => {
    await page.route("**/v1/**", (route) => route.abort("internetdisconnected"));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('#live-state[data-kind="error"]').waitFor();
    assert((await page.locator("#live-state").textContent())?.includes("Cannot reach the API"), "network error text");
    await page.unroute("**/v1/**");
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('#live-state[data-kind="empty"]').waitFor();
  });

  // 1,000 stamps: ENTER plus 999 in ten batches, one second apart; no history for this persona.
  await test("1,000 stamps render, stay responsive, and empty history is stated", async () => {
    await api("POST", `${base(bigPersona)}/session/start`, { occurred_at: new Date(Date.now() - 1100_000).toISOString() });
    const t0 = Date.now() - 1099_000;
    const labels = ["BROWSE", "CHAT", "SHOPPING", "WAIT", "TRY_ON", "PAYMENT", "HELP", "SCAN"];
    for (let b = 0; b < 10; b++) {
      const items = Array.from({ length: b === 9 ? 99 : 100 }, (_, i) => {
        const n = b * 100 + i;
        return { status: labels[n % labels.length], occurred_at: new Date(t0 + n * 1000).toISOString(), meta: { n } };
      });
      await api("POST", `${base(bigPersona)}/session/stamps`, { stamps: items });
    }
    const started = Date.now();
    await connect(page, READ_KEY, bigPersona);
    await liveSegments(page).nth(999).waitFor();
    const drawMs = Date.now() - started;
    equal(await liveSegments(page).count(), 1000, "segments");
    assert(drawMs < 5000, `drawn in ${drawMs} ms`);
    await page.locator('#history-state[data-kind="empty"]').waitFor();
    assert((await page.locator("#history-state").textContent())?.includes("No ended sessions"), "empty history text");
    // Responsiveness: no long task over 200 ms while it ticks and polls, and keys answer fast.
    await page.evaluate(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__long.push(e.duration);
      }).observe({ type: "longtask", buffered: false });
    });
    seen.sessionStatuses.length = 0;
    await page.locator("#live-view .seg").first().focus();
    const keyStart = Date.now();
    await page.keyboard.press("End");
    await waitFor("End focuses the last segment", async () =>
      page.evaluate(() => (document.activeElement as HTMLElement).dataset.index === "999"),
    );
    const keyMs = Date.now() - keyStart;
    assert(keyMs < 1000, `End key took ${keyMs} ms`);
    await waitFor("a 304 poll of the 1,000-stamp session", async () => seen.sessionStatuses.includes(304), 10_000);
    await sleep(3000);
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    assert(
      long.every((d) => d < 200),
      `long tasks: ${long.join(", ")} ms`,
    );
    // Zoom widens the timeline inside its own scroller; the page itself never scrolls sideways.
    const zoomIn = page.locator("#live-view").getByRole("button", { name: "Zoom in" });
    for (let i = 0; i < 3; i++) await zoomIn.click();
    const widths = await page.evaluate(() => {
      const scroller = document.querySelector("#live-view .tl-scroll") as HTMLElement;
      return {
        ratio: scroller.scrollWidth / scroller.clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    assert(widths.ratio > 7 && widths.page === 0, `zoom x8: ${JSON.stringify(widths)}`);
    await page.locator("#live-view").getByRole("button", { name: "Fit" }).click();
    log(`  1,000 stamps: drawn in ${drawMs} ms, End key ${keyMs} ms, longest task ${Math.max(0, ...long).toFixed(0)} ms`);
    await page.screenshot({ path: join(artifacts, "console-1000-stamps.png") });
  });

  await test("no third-party requests, CSP violations or page errors", async () => {
    equal(seen.thirdParty, [], "third-party requests");
    equal(seen.cspViolations, [], "CSP violations");
    equal(seen.pageErrors, [], "page errors");
  });
  await context.close();

  await test("a wrong key shows the 401 state", async () => {
    const ctx = await browser.newContext({ viewport: LAPTOP });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    await p.goto(`${BASE}/console/`);
    await connect(p, "sk_wrong_0123456789abcdefghijklmnopqrstuvwxyzABCD", persona);
    const notice = p.locator('#notice[data-kind="unauthorized"]');
    await notice.waitFor();
    const text = await notice.textContent();
    assert(text?.includes("401 UNAUTHORIZED") && text.includes("read-only"), `401 notice: ${text}`);
    assert(await p.locator("#live-view").isHidden(), "no timeline drawn");
    equal(await p.evaluate(() => sessionStorage.length), 0, "refused key not kept");
    await p.screenshot({ path: join(artifacts, "console-401.png") });
    await ctx.close();
  });
}

await main();
log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
