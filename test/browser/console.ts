// npm run test:e2e: the session timeline console in headless Chromium (Debian's `chromium`,
// driven by playwright-core). Starts `npm run dev` on a free port with throwaway state in its own
// process group, seeds sessions through the API, drives /console/, and stops everything.
// Last line of output: "N passed, N failed". Exit code 0 only when nothing failed.
//
//   CHROMIUM=/usr/bin/chromium      browser to drive (default /usr/bin/chromium)
//   E2E_ARTIFACTS=dir               where screenshots and the dev log go (default: a new tmp dir)
//   E2E_UPDATE_DOCS=1               also write the laptop screenshots to docs/console-live.png (the live
//                                   view), docs/console-dashboard.png (the dashboard), docs/console-stores.png
//                                   (the Stores page) and docs/console.png (a persona timeline)
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { openSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Dwell, Funnel, Occupancy, Visits } from "@persona-session/client";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { assert, CHROMIUM_ARGS, equal, freePort, log, results, sleep, stopOnSignal, test } from "./harness.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const WRITE_KEY = "sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
// The operators' key of .dev.vars.example: the demo tenant's stores are registered through the admin API
// (a tenant of SDK_KEYS has no admin-scoped key of its own).
const ADMIN_KEY = "adm_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF";
// A throwaway read-only key for the demo tenant: the console only ever needs to read.
const READ_KEY = `sk_${randomBytes(32).toString("base64url")}`;
const sha = (key: string) => createHash("sha256").update(key).digest("hex");
const SDK_KEYS = `demo:${sha(WRITE_KEY)},demo:${sha(READ_KEY)}:read`;
const LAPTOP = { width: 1366, height: 850 };
const KIOSK = { width: 1080, height: 1920 };

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

async function api(method: string, path: string, body?: unknown, key = WRITE_KEY): Promise<unknown> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
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

/** The persona view's way in: the key, the Persona view (from the nav), the persona id, "Show timeline". */
async function connect(page: Page, key: string, persona: string): Promise<void> {
  await page.getByLabel("SDK key").fill(key);
  if (!(await page.getByLabel("Persona id").isVisible())) await nav(page, "Persona").click();
  await page.getByLabel("Persona id").fill(persona);
  await page.getByRole("button", { name: "Show timeline" }).click();
}

const liveSegments = (page: Page) => page.locator("#current-view .seg");

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

// ---------------------------------------------------------------- live view helpers

interface ActiveRow {
  persona_id: string;
  session_id: string;
  started_at: string;
  status: string;
  status_since: string;
  stamp_count: number;
}

/** Every active session by the API's own answer (all pages), read with the read-only key. */
async function apiActive(): Promise<{ rows: ActiveRow[]; counts: Record<string, number>; total: number }> {
  const rows: ActiveRow[] = [];
  let cursor: string | null = null;
  let first: { counts_by_status: Record<string, number>; total_active: number } | null = null;
  do {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${BASE}/v1/sessions/active?${query}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
    if (!res.ok) throw new Error(`GET /v1/sessions/active: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      data: { sessions: ActiveRow[]; counts_by_status: Record<string, number>; total_active: number; next_cursor: string | null };
    };
    first ??= body.data;
    rows.push(...body.data.sessions);
    cursor = body.data.next_cursor;
  } while (cursor !== null);
  return { rows, counts: first?.counts_by_status ?? {}, total: first?.total_active ?? 0 };
}

const nav = (page: Page, name: string) => page.getByRole("navigation", { name: "Views" }).getByRole("link", { name, exact: true });

interface UiRow {
  persona: string;
  status: string;
  inStatus: string;
  running: string;
  stamps: string;
}

async function liveRows(page: Page): Promise<UiRow[]> {
  return page.locator("#live-rows tr").evaluateAll((trs) =>
    trs.map((tr) => {
      const text = (selector: string) => tr.querySelector(selector)?.textContent ?? "";
      return {
        persona: text("th"),
        status: text(".status-pill"),
        inStatus: text(".in-status"),
        running: text(".running"),
        stamps: text(".stamps"),
      };
    }),
  );
}

async function liveChips(page: Page): Promise<Record<string, number>> {
  return page
    .locator("#live-chips .chip[data-status]")
    .evaluateAll((chips) =>
      Object.fromEntries(chips.map((c) => [(c as HTMLElement).dataset.status, Number(c.querySelector(".chip-count")?.textContent)])),
    );
}

/** "42 s", "4 min 05 s", "2 h 05 min" → seconds. */
function seconds(text: string): number {
  const part = (unit: string) => Number(new RegExp(`(\\d+) ${unit}\\b`).exec(text)?.[1] ?? 0);
  return part("d") * 86_400 + part("h") * 3600 + part("min") * 60 + part("s");
}

/**
 * An expected duration (seconds) that the API gives within 1 %: its medians and p90s come from
 * histograms (docs/index-and-analytics.md, "Within 1%"); counts, sums and conversions stay exact.
 */
const about = (n: number) => ({ about: n });

function matches(actual: unknown, expected: unknown): boolean {
  if (typeof expected === "object" && expected !== null && "about" in expected) {
    const e = (expected as { about: number }).about;
    if (typeof actual === "number") return Math.abs(actual - e) <= e / 100 + 1e-6;
    // As the page writes it: whole seconds, cut down.
    if (typeof actual === "string") return /\d/.test(actual) && Math.abs(seconds(actual) - e) <= e / 100 + 1;
    return false;
  }
  if (Array.isArray(expected))
    return Array.isArray(actual) && actual.length === expected.length && expected.every((x, i) => matches(actual[i], x));
  if (typeof expected === "object" && expected !== null) {
    const a = actual as Record<string, unknown>;
    return (
      typeof actual === "object" &&
      actual !== null &&
      JSON.stringify(Object.keys(a)) === JSON.stringify(Object.keys(expected)) &&
      Object.entries(expected).every(([k, x]) => matches(a[k], x))
    );
  }
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** `equal`, with the figures marked about() compared within 1 %. */
function close(actual: unknown, expected: unknown, what: string): void {
  if (!matches(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** The first page's rows as the API orders them, in the shape the table shows. */
const asUi = (rows: ActiveRow[]) => rows.map((r) => [r.persona_id, r.status, String(r.stamp_count)]);
const fromUi = (rows: UiRow[]) => rows.map((r) => [r.persona, r.status, r.stamps]);

// ---------------------------------------------------------------- dashboard helpers

// The API's answers, as the typed client (generated from the served OpenAPI document) has them.
type FunnelStep = Funnel["steps"][number];
type DwellStatus = Dwell["statuses"][number];
type VisitsBucket = Visits["buckets"][number];
type OccupancyStore = Occupancy["stores"][number];

/** The zone's date of an instant, YYYY-MM-DD. */
const zoneDate = (instant: number, tz: string) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(instant);
const plusDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
// Kolkata is UTC+05:30 all year (no daylight saving): its midnights can be written down.
const KOLKATA = "Asia/Kolkata";
const kolkata = (date: string, hm = "00:00") => Date.parse(`${date}T${hm}:00+05:30`);

/**
 * Analytics requests of this run (the pages' and the checks' own), by time. The API allows 30 per
 * tenant per 10 s, in windows aligned to the clock; the checks here ask as much as the page does,
 * so before a burst the run waits for the next window rather than push the page into a 429 (the
 * page's 429 handling is tested with a simulated one).
 */
const analyticsLedger: number[] = [];
const WINDOW_MS = 10_000;

async function budget(requests: number): Promise<void> {
  const window = Math.floor(Date.now() / WINDOW_MS);
  const used = analyticsLedger.filter((t) => Math.floor(t / WINDOW_MS) === window).length;
  if (used + requests > 26) await sleep((window + 1) * WINDOW_MS - Date.now() + 200);
}

/** An analytics answer by the API itself, with the console's read-only key; waits out a 429 (30 requests / 10 s per tenant). */
async function analytics<T>(
  route: "funnel" | "dwell" | "visits" | "occupancy",
  params: Record<string, string | readonly string[]>,
): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) for (const v of typeof value === "string" ? [value] : value) query.append(name, v);
  for (let attempt = 0; ; attempt++) {
    analyticsLedger.push(Date.now());
    const res = await fetch(`${BASE}/v1/analytics/${route}?${query}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
    if (res.status === 429 && attempt < 3) {
      await sleep(Number(res.headers.get("Retry-After") ?? "10") * 1000);
      continue;
    }
    if (!res.ok) throw new Error(`GET /v1/analytics/${route}?${query}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { data: T }).data;
  }
}

interface FigureRow {
  head: string;
  /** The header cell's title (a bucket's local start). */
  title: string;
  texts: string[];
  /** Each cell's figure as the API gave it (data-value), "null" for none. */
  values: string[];
}

/** A figures table as shown: row header, cell texts and the API figure each cell carries. */
async function figureRows(page: Page, tbody: string): Promise<FigureRow[]> {
  return page.locator(`${tbody} tr`).evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll("td")] as HTMLElement[];
      return {
        head: tr.querySelector("th")?.textContent ?? "",
        title: (tr.querySelector("th") as HTMLElement | null)?.title ?? "",
        texts: cells.map((c) => c.textContent ?? ""),
        values: cells.map((c) => c.dataset.value ?? ""),
      };
    }),
  );
}

const v = (n: number | null) => (n === null ? "null" : String(n));
const funnelValues = (steps: FunnelStep[]) =>
  steps.map((s) => [
    s.status,
    ...[s.sessions, s.conversion_from_previous, s.conversion_from_first, s.median_seconds_from_previous, s.p90_seconds_from_previous].map(
      v,
    ),
  ]);
const dwellValues = (statuses: DwellStatus[]) =>
  statuses.map((s) => [s.status, ...[s.visits, s.median_seconds, s.p90_seconds, s.total_seconds].map(v)]);
const visitsValues = (buckets: VisitsBucket[]) => buckets.map((b) => [b.start, v(b.sessions), v(b.median_duration_seconds)]);
const shownValues = (rows: FigureRow[]) => rows.map((r) => [r.head, ...r.values]);
const shownBuckets = (rows: FigureRow[]) => rows.map((r) => [r.title, ...r.values]);
const shownTexts = (rows: FigureRow[]) => rows.map((r) => [r.head, ...r.texts]);

/** The dashboard's three tables hold exactly the API's answers for the same question (asked here with the same key). */
async function dashboardMatchesApi(
  page: Page,
  q: { from: number; to: number; tz: string; interval: "hour" | "day"; steps: readonly string[]; store?: string },
  parts: readonly ("funnel" | "dwell" | "visits")[] = ["funnel", "dwell", "visits"],
): Promise<{ funnel: FunnelStep[]; dwell: DwellStatus[]; visits: VisitsBucket[] }> {
  const range = {
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    ...(q.store === undefined ? {} : { store_id: q.store }),
  };
  await budget(parts.length);
  const [funnel, dwell, visits] = await Promise.all([
    parts.includes("funnel") ? analytics<{ steps: FunnelStep[] }>("funnel", { ...range, step: q.steps }) : { steps: [] },
    parts.includes("dwell") ? analytics<{ statuses: DwellStatus[] }>("dwell", range) : { statuses: [] },
    parts.includes("visits")
      ? analytics<{ buckets: VisitsBucket[] }>("visits", { ...range, interval: q.interval, tz: q.tz })
      : { buckets: [] as VisitsBucket[] },
  ]);
  if (parts.includes("funnel"))
    equal(shownValues(await figureRows(page, "#funnel-rows")), funnelValues(funnel.steps), "funnel: shown = the API's");
  if (parts.includes("dwell"))
    equal(shownValues(await figureRows(page, "#dwell-rows")), dwellValues(dwell.statuses), "time in status: shown = the API's");
  if (parts.includes("visits"))
    equal(shownBuckets(await figureRows(page, "#visits-rows")), visitsValues(visits.buckets), "visits: shown = the API's");
  return { funnel: funnel.steps, dwell: dwell.statuses, visits: visits.buckets };
}

/** Waits until the funnel table lists these steps (and the page is not loading). */
async function funnelShows(page: Page, steps: readonly string[], timeout = 20_000): Promise<void> {
  await waitFor(
    `the funnel of ${steps.join(" → ")}`,
    async () =>
      (await page.locator("#dash-body:not([aria-busy])").count()) === 1 &&
      JSON.stringify((await figureRows(page, "#funnel-rows")).map((r) => r.head)) === JSON.stringify(steps),
    timeout,
  );
}

/** Canvas pixels that are drawn (not transparent): the chart is really there. */
const inkedPixels = (page: Page, canvas: string) =>
  page.locator(canvas).evaluate((c) => {
    const canvasEl = c as HTMLCanvasElement;
    const data = canvasEl.getContext("2d")?.getImageData(0, 0, canvasEl.width, canvasEl.height).data ?? new Uint8ClampedArray();
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });

const fragment = (page: Page) => decodeURIComponent(new URL(page.url()).hash);

// ---------------------------------------------------------------- Stores page helpers

/** Every store of GET /v1/occupancy (all pages), read with the read-only key. */
async function apiOccupancy(): Promise<{ stores: OccupancyStore[]; total: number; noStore: number }> {
  const stores: OccupancyStore[] = [];
  let cursor: string | null = null;
  let first: { total_active: number; no_store_active: number } | null = null;
  do {
    const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${BASE}/v1/occupancy?${query}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
    if (!res.ok) throw new Error(`GET /v1/occupancy: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      data: { stores: OccupancyStore[]; total_active: number; no_store_active: number; next_cursor: string | null };
    };
    first ??= body.data;
    stores.push(...body.data.stores);
    cursor = body.data.next_cursor;
  } while (cursor !== null);
  return { stores, total: first?.total_active ?? 0, noStore: first?.no_store_active ?? 0 };
}

interface TableRow {
  /** The row's key: a board row's store id, a comparison row's id (store:<id>, other, none). */
  key: string;
  head: string;
  texts: string[];
  values: string[];
}

/** The Stores page's tables as shown: each row's key, header, cell texts and the API figures (data-value). */
async function storeRows(page: Page, tbody: "#board-rows" | "#compare-rows"): Promise<TableRow[]> {
  return page.locator(`${tbody} tr`).evaluateAll((trs) =>
    trs.map((tr) => {
      const cells = [...tr.querySelectorAll("td")] as HTMLElement[];
      const data = (tr as HTMLElement).dataset;
      return {
        key: data.store ?? data.row ?? "",
        head: tr.querySelector("th")?.textContent ?? "",
        texts: cells.map((c) => c.textContent ?? ""),
        values: cells.map((c) => c.dataset.value ?? ""),
      };
    }),
  );
}

/** Which column a table is sorted by, and which way, as aria-sort says. */
const sortedBy = (page: Page, table: string) =>
  page
    .locator(`${table} th[aria-sort]`)
    .evaluateAll((ths) => ths.map((th) => [(th as HTMLElement).dataset.sort, th.getAttribute("aria-sort")]));

/** Clicks a sortable column's header and waits for the table to say it is sorted so. */
async function sortBy(page: Page, table: string, column: string, direction: "ascending" | "descending"): Promise<void> {
  for (let i = 0; i < 2; i++) {
    if (JSON.stringify(await sortedBy(page, table)) === JSON.stringify([[column, direction]])) return;
    await page.locator(`${table} th[data-sort="${column}"] button`).click();
  }
  equal(await sortedBy(page, table), [[column, direction]], `${table} sorted by ${column}`);
}

/** A file the page offers for download: its suggested name and text (UTF-8, its byte order mark kept). */
async function downloaded(page: Page, button: string): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: await readFile(path, "utf8") };
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
  stopOnSignal(stopAll);

  try {
    const port = await freePort();
    BASE = await startDev(port, state, devLog);
    log(`console e2e: dev server at ${BASE}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // playwright-core gives every launch a fresh temporary --user-data-dir of its own.
      args: CHROMIUM_ARGS,
    });
    await run(browser, artifacts);
  } catch (err) {
    results.failed += 1;
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
    // The start page is the live view; it asks for a key before anything else.
    equal(await page.title(), "Live · Session timeline console", "title");
    assert(await page.locator("#view-live").isVisible(), "the live view is the start page");
    assert(await page.locator("#view-persona").isHidden(), "the persona view is hidden");
    equal(await nav(page, "Live").getAttribute("aria-current"), "page", "nav marks Live as current");
    const state = await page.locator("#live-state").textContent();
    assert(state?.includes("Enter an SDK key"), `live state without a key: ${state}`);
    equal(await page.evaluate(() => document.activeElement?.id), "key", "focus starts in the key field");
    const unlabelled = await page
      .locator("input")
      .evaluateAll((inputs) => inputs.filter((i) => (i as HTMLInputElement).labels?.length === 0).length);
    equal(unlabelled, 0, "inputs without a label");
    equal(await page.locator("script:not([src])").count(), 0, "inline scripts");
  });

  // ------------------------------------------------------------ the live view (the start page)

  // 28 active sessions in five statuses (more than one page of 25), started 70 to 16 minutes ago,
  // and 4 ended ones that must not be listed. With the persona above (active, 12 minutes) 29 are active.
  const JOURNEY = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
  const LIVE_STATUSES = ["SHOPPING", "CHAT", "PAYMENT", "SHOPPING", "ENTER", "CHAT", "SHOPPING", "COMPLETE"];
  const activeSeeds = Array.from({ length: 28 }, (_, i) => {
    const status = LIVE_STATUSES[i % LIVE_STATUSES.length]!;
    return {
      persona: randomUUID(),
      status,
      startAt: 70 - 2 * i,
      stamps: status === "ENTER" ? [] : JOURNEY.slice(0, JOURNEY.indexOf(status) + 1),
    };
  });
  const endedSeeds = Array.from({ length: 4 }, () => randomUUID());
  const expectedActive = new Map<string, string>([
    ...activeSeeds.map((a) => [a.persona, a.status] as [string, string]),
    [persona, "PAYMENT"],
  ]);
  /** Counts per status, keys in order (as the API gives them), so `equal` compares like with like. */
  const tally = (statuses: Iterable<string>) => {
    const counts: Record<string, number> = {};
    for (const st of statuses) counts[st] = (counts[st] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
  };

  await test("seed the live view: active sessions in five statuses, some ended, and wait for the index", async () => {
    for (const seed of activeSeeds) {
      // Stamps one minute apart from the start: the current status began (stamps) minutes after it.
      await visit(
        seed.persona,
        seed.startAt,
        seed.stamps.map((status, k) => ({ status, at: seed.startAt - (k + 1) })),
        null,
      );
    }
    for (const [i, ended] of endedSeeds.entries()) await visit(ended, 50 - i, [{ status: "CHAT", at: 49 - i }], 40 - i);
    // The index follows writes through a queue (about 1 to 2 s): wait until the API itself lists them all.
    const started = Date.now();
    await waitFor(
      "the index to list every seeded active session",
      async () => {
        const now = await apiActive();
        return now.total === expectedActive.size && now.rows.every((r) => expectedActive.get(r.persona_id) === r.status);
      },
      30_000,
    );
    log(`  index caught up ${Date.now() - started} ms after the last write`);
  });

  let pillColours: Record<string, string> = {};
  await test("the live view lists exactly the active sessions, with statuses, counts and paging (read-only key)", async () => {
    await page.getByLabel("SDK key").fill(READ_KEY);
    await page.getByRole("button", { name: "Use key" }).click();
    await waitFor("a full first page", async () => (await page.locator("#live-rows tr").count()) === 25);
    const api = await apiActive();
    equal(api.total, 29, "active sessions by the API");
    equal(api.counts, tally(expectedActive.values()), "the API's counts match what was seeded");
    const first = await liveRows(page);
    equal(fromUi(first), asUi(api.rows.slice(0, 25)), "page 1: persona, status and stamps, in the API's order");
    equal(await page.locator("#live-total").textContent(), "29", "total active");
    equal(await liveChips(page), api.counts, "counts by status");
    equal(await page.locator('#live-chips .chip[aria-pressed="true"]').textContent(), "All29", "the All chip is pressed");
    equal(await page.locator("#live-range").textContent(), "1–25 of 29", "page range");
    // Longest-running first: the first row started 70 minutes ago, in status for 70 - (stamps) minutes.
    const top = first[0]!;
    const seed = activeSeeds[0]!;
    equal(top.persona, seed.persona, "the longest-running session first");
    const running = seconds(top.running);
    const inStatus = seconds(top.inStatus);
    assert(Math.abs(running - 70 * 60) < 60, `running for ${top.running}`);
    assert(Math.abs(inStatus - (70 - seed.stamps.length) * 60) < 60, `in status for ${top.inStatus}`);
    const enterOnly = first.find((r) => r.status === "ENTER");
    assert(enterOnly && enterOnly.inStatus === enterOnly.running, `ENTER only: in status = running (${JSON.stringify(enterOnly)})`);
    equal(
      await page.locator("#live-table thead th").allTextContents(),
      ["Persona", "Current status", "In this status for", "Session running for", "Started", "Stamps"],
      "column headers",
    );
    equal(await page.locator("#live-rows th[scope=row] a").count(), 25, "each row is headed by its persona's link");

    await page.getByRole("button", { name: "Next page" }).click();
    await waitFor("page 2", async () => (await page.locator("#live-range").textContent()) === "26–29 of 29");
    equal(fromUi(await liveRows(page)), asUi(api.rows.slice(25)), "page 2");
    assert(await page.getByRole("button", { name: "Next page" }).isDisabled(), "no page 3");
    await page.getByRole("button", { name: "Previous page" }).click();
    await waitFor("page 1 again", async () => (await page.locator("#live-range").textContent()) === "1–25 of 29");

    const shown = new Set([...first.map((r) => r.persona), ...api.rows.slice(25).map((r) => r.persona_id)]);
    equal([...shown].sort(), [...expectedActive.keys()].sort(), "exactly the active personas");
    for (const ended of endedSeeds) assert(!shown.has(ended), `ended session of ${ended} not listed`);
    pillColours = await page
      .locator("#live-rows .status-pill")
      .evaluateAll((pills) => Object.fromEntries(pills.map((p) => [p.textContent, getComputedStyle(p).backgroundColor])));
    assert(!(await page.evaluate(() => sessionStorage.length === 0)), "key kept in sessionStorage");
    assert(!page.url().includes(READ_KEY), "key not in the URL");
  });

  await test("durations tick every second without a request", async () => {
    const requests: string[] = [];
    const onRequest = (req: { url(): string }) => {
      if (req.url().includes("/v1/")) requests.push(req.url());
    };
    await page.getByRole("button", { name: "Pause updates" }).click();
    await sleep(300); // a request already on its way may land
    page.on("request", onRequest);
    try {
      // The last row on the page started 22 minutes ago: its times still show seconds.
      // Over 3.2 s at least three ticks land, so the shown seconds grow by 2 or more whatever the timer's jitter.
      const before = (await liveRows(page))[24]!;
      await sleep(3200);
      const after = (await liveRows(page))[24]!;
      equal(after.persona, before.persona, "same row");
      assert(seconds(after.running) - seconds(before.running) >= 2, `running: ${before.running} → ${after.running}`);
      assert(seconds(after.inStatus) - seconds(before.inStatus) >= 2, `in status: ${before.inStatus} → ${after.inStatus}`);
      equal(requests, [], "requests while paused");
      assert((await page.locator("#live-updated").textContent())?.startsWith("Index updated"), "index time shown");
    } finally {
      page.off("request", onRequest);
      await page.getByRole("button", { name: "Resume updates" }).click();
    }
  });

  await test("a count filters by status, the fragment keeps the filter, and All clears it", async () => {
    const counts = await liveChips(page);
    await page.getByRole("button", { name: `CHAT: ${counts.CHAT}` }).click();
    await waitFor("only CHAT rows", async () => {
      const rows = await liveRows(page);
      return rows.length === counts.CHAT && rows.every((r) => r.status === "CHAT");
    });
    equal(new URL(page.url()).hash, "#live&status=CHAT", "fragment");
    equal(await page.title(), "Live: CHAT · Session timeline console", "title");
    assert((await page.locator("#live-caption").textContent())?.includes("CHAT"), "caption names the filter");
    equal(await page.locator("#live-total").textContent(), "29", "the total stays the whole tenant's");
    // A bookmark of a status nobody is in: the empty state, with the filter's chip at 0 to clear it.
    await page.goto(`${BASE}/console/#live&status=NOBODY_HERE`);
    await page.locator('#live-state[data-kind="empty"]').waitFor();
    const empty = await page.locator("#live-state").textContent();
    assert(empty?.includes("No active session is in status NOBODY_HERE"), `empty state: ${empty}`);
    assert(await page.locator("#live-table").isHidden(), "no table when nobody is in the status");
    equal(await page.locator('#live-chips .chip[aria-pressed="true"]').getAttribute("aria-label"), "NOBODY_HERE: 0", "filter chip");
    await page.getByRole("button", { name: "All statuses: 29" }).click();
    await waitFor("all rows back", async () => (await page.locator("#live-rows tr").count()) === 25);
    equal(new URL(page.url()).hash, "#live", "fragment without a filter");
  });

  await test("the live view refreshes on its own: a new status, a new session and an ended one appear without reload", async () => {
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const moved = activeSeeds[0]!.persona; // SHOPPING → WAIT
    const leaving = activeSeeds[1]!.persona; // ends
    const arriving = randomUUID();
    const written = Date.now();
    await api("POST", `${base(moved)}/session/stamp`, { status: "WAIT", meta: { desk: 2 } });
    await api("POST", `${base(leaving)}/session/end`);
    await api("POST", `${base(arriving)}/session/start`);
    await api("POST", `${base(arriving)}/session/stamp`, { status: "WAIT" });
    expectedActive.set(moved, "WAIT");
    expectedActive.delete(leaving);
    expectedActive.set(arriving, "WAIT");
    // Index lag (1 to 2 s) plus the 4 s poll: allow 15 s on a busy machine.
    await waitFor(
      "the page to show the changes",
      async () => {
        const rows = await liveRows(page);
        const chips = await liveChips(page);
        return rows.find((r) => r.persona === moved)?.status === "WAIT" && !rows.some((r) => r.persona === leaving) && chips.WAIT === 2;
      },
      15_000,
    );
    log(`  live view showed the changes ${Date.now() - written} ms after the writes`);
    const row = (await liveRows(page)).find((r) => r.persona === moved)!;
    assert(seconds(row.inStatus) < 30, `in WAIT for ${row.inStatus}`);
    const api2 = await apiActive();
    equal(api2.counts, tally(expectedActive.values()), "the API's counts after the changes");
    await waitFor("counts to match the API", async () => JSON.stringify(await liveChips(page)) === JSON.stringify(api2.counts));
    equal(fromUi(await liveRows(page)), asUi(api2.rows.slice(0, 25)), "page 1 after the changes");
    // Screen readers hear the total only when it changes (the end and the start may land in two batches).
    const said = (await page.locator("#live-announce").textContent()) ?? "";
    assert(/^29 active sessions( \(was 28\))?\.$/.test(said), `announced: ${said}`);
    assert(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true), "no reload");
    assert(await page.locator("#live-state").isHidden(), "no state line while all is well");

    await page.screenshot({ path: join(artifacts, "console-live.png") });
    if (process.env.E2E_UPDATE_DOCS === "1") {
      await mkdir(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "docs/console-live.png") });
      log("  wrote docs/console-live.png");
    }
  });

  await test("a hidden tab does not poll; showing it again polls at once", async () => {
    const requests: number[] = [];
    const onRequest = (req: { url(): string }) => {
      if (req.url().includes("/v1/sessions/active")) requests.push(Date.now());
    };
    await page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await sleep(300);
    page.on("request", onRequest);
    try {
      await sleep(5000); // longer than the 4 s poll
      equal(requests.length, 0, "requests while hidden");
      const shownAt = Date.now();
      await page.evaluate(() => {
        delete (document as unknown as { hidden?: boolean }).hidden; // back to the prototype's getter
        document.dispatchEvent(new Event("visibilitychange"));
      });
      await waitFor("a request once shown", async () => requests.length > 0, 2000);
      assert(requests[0]! - shownAt < 1000, `first request ${requests[0]! - shownAt} ms after showing`);
    } finally {
      page.off("request", onRequest);
    }
  });

  await test("network errors keep the rows, say so, and recover", async () => {
    await page.route("**/v1/sessions/active**", (route) => route.abort("internetdisconnected"));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('#live-state[data-kind="error"]').waitFor();
    const text = await page.locator("#live-state").textContent();
    assert(
      text?.includes("Cannot reach the API") && text.includes("Showing what was received") && text.includes("Retrying in"),
      text ?? "",
    );
    equal(await page.locator("#live-rows tr").count(), 25, "rows kept");
    await page.unroute("**/v1/sessions/active**");
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator("#live-state").waitFor({ state: "hidden" });
  });

  await test("the live view fits a kiosk-sized portrait screen without sideways scrolling", async () => {
    await page.setViewportSize(KIOSK);
    try {
      await sleep(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      equal(overflow, 0, "horizontal overflow (px)");
      await page.screenshot({ path: join(artifacts, "console-live-kiosk.png") });
    } finally {
      await page.setViewportSize(LAPTOP);
    }
  });

  await test("keyboard: Tab reaches a persona with a visible focus; Enter opens its timeline; Live and Back return", async () => {
    const target = activeSeeds[2]!; // PAYMENT, third row of page 1
    await page.getByLabel("SDK key").focus();
    let focused = "";
    for (let i = 0; i < 40 && focused !== target.persona; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() =>
        document.activeElement?.classList.contains("persona-link") ? (document.activeElement.textContent ?? "") : "",
      );
    }
    equal(focused, target.persona, "Tab reaches the persona's link");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert(outline !== "none", `focused link has an outline (${outline})`);
    await page.keyboard.press("Enter");
    await page.locator("#current-view .seg").nth(target.stamps.length).waitFor();
    equal(new URL(page.url()).hash, `#persona=${target.persona}`, "persona in the fragment");
    equal(await segmentLabels(page, "#current-view"), ["ENTER", ...target.stamps], "its timeline");
    equal(await page.getByLabel("Persona id").inputValue(), target.persona, "persona field");
    equal(await page.evaluate(() => document.activeElement?.id), "current", "focus moves to the timeline panel");
    assert(await page.locator("#view-live").isHidden(), "live view hidden");
    equal(await nav(page, "Persona").getAttribute("aria-current"), "page", "nav marks Persona as current");
    // Back in history returns to the live view; forward to the timeline; the nav's Live link too.
    await page.goBack();
    await page.locator("#live-rows tr").first().waitFor();
    assert(await page.locator("#view-persona").isHidden(), "persona view hidden after Back");
    await page.goForward();
    await page.locator("#current-view .seg").first().waitFor();
    await nav(page, "Live").focus();
    await page.keyboard.press("Enter");
    await page.locator("#live-rows tr").first().waitFor();
    equal(new URL(page.url()).hash, "#live", "fragment of the live view");
    // Colours: a status has the same colour in the live table as on the timeline.
    const segColour = await page.evaluate((status) => {
      const seg = document.querySelector(`#current-view .seg[data-status="${status}"]`);
      return seg ? getComputedStyle(seg).backgroundColor : null;
    }, "PAYMENT");
    equal(segColour, pillColours.PAYMENT, "PAYMENT colour in both views");
  });

  await test("the active session draws its segments in order, with labels and durations", async () => {
    await connect(page, READ_KEY, persona);
    await liveSegments(page).nth(3).waitFor();
    equal(await segmentLabels(page, "#current-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT"], "segment order");
    equal(await visibleText(page, "#current-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT"], "visible labels");
    const durations = await page.locator("#current-view .seg-dur").allTextContents();
    equal(durations.slice(0, 3), ["1 min 30 s", "2 min 30 s", "5 min 00 s"], "durations of closed segments");
    const last = page.locator("#current-view .seg").last();
    assert(await last.evaluate((n) => n.classList.contains("open")), "the last segment is open (runs to now)");
    assert((await page.locator("#current-view .mark-enter").textContent())?.startsWith("Enter"), "Enter mark");
    assert((await page.locator("#current-view .mark-now").textContent())?.startsWith("now"), "now mark");
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
  let currentColours: Record<string, string> = {};
  await test("each label gets its own colour", async () => {
    currentColours = await coloursIn("#current-view");
    equal(new Set(Object.values(currentColours)).size, 4, "four labels, four colours");
  });

  await test("meta shows on hover and on click, and segments are reachable by keyboard", async () => {
    await page.locator('#current-view .seg[data-status="SHOPPING"]').hover();
    const hovered = await page.locator("#current-view .details").textContent();
    assert(hovered?.includes("SHOPPING") && hovered.includes('"zone": "wine"'), `details on hover: ${hovered}`);
    await page.locator('#current-view .seg[data-status="CHAT"]').click();
    await page.mouse.move(5, 5);
    const pinned = await page.locator("#current-view .details").textContent();
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
    const byKey = await page.locator("#current-view .details").textContent();
    assert(byKey?.includes("(pinned)") && byKey.includes("basket_items"), `details pinned by Enter: ${byKey}`);
  });

  await test("dwell summary lists time per status", async () => {
    const rows = await page.locator("#current-view table.dwell tbody tr th").allTextContents();
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
    equal(await segmentLabels(page, "#current-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"], "segment order");
    const shopping = page.locator('#current-view .seg[data-status="SHOPPING"]');
    if ((await shopping.getAttribute("aria-pressed")) !== "true") await shopping.click();
    await page.mouse.move(5, 5);
    await page.locator("#current-view .details").filter({ hasText: "(pinned)" }).waitFor();
    const shot = join(artifacts, "console-laptop.png");
    await page.screenshot({ path: shot });
    log(`  screenshot: ${shot}`);
    if (process.env.E2E_UPDATE_DOCS === "1") {
      // docs/console.md's picture: the form and the active session panel only, to keep the PNG small.
      const box = await page.locator("#current").boundingBox();
      assert(box, "no box for #current");
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
      equal(await visibleText(page, "#current-view"), ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"], "labels on the kiosk");
      await page.screenshot({ path: join(artifacts, "console-kiosk.png") });
    } finally {
      await page.setViewportSize(LAPTOP);
    }
  });

  await test("ending the session is picked up by polling and lands in history; clicking it draws it", async () => {
    await api("POST", `${base(persona)}/session/end`);
    await page.locator('#current-state[data-kind="empty"]').waitFor({ timeout: 12_000 });
    const state = await page.locator("#current-state").textContent();
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
    for (const [label, colour] of Object.entries(currentColours)) equal(pastColours[label], colour, `colour of ${label} (stable)`);
    await page.screenshot({ path: join(artifacts, "console-history.png"), fullPage: true });
  });

  await test("network errors show a clear state and recover", async () => {
    await page.route("**/v1/**", (route) => route.abort("internetdisconnected"));
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('#current-state[data-kind="error"]').waitFor();
    assert((await page.locator("#current-state").textContent())?.includes("Cannot reach the API"), "network error text");
    await page.unroute("**/v1/**");
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator('#current-state[data-kind="empty"]').waitFor();
  });

  // 1,000 stamps: ENTER plus 999 in ten batches, one second apart; no history for this persona.
  await test("1,000 stamps render, stay responsive, and empty history is stated", async () => {
    await api("POST", `${base(bigPersona)}/session/start`, { occurred_at: new Date(Date.now() - 1100_000).toISOString() });
    const t0 = Date.now() - 1099_000;
    const labels = ["BROWSE", "CHAT", "SHOPPING", "WAIT", "TRY_ON", "PAYMENT", "WAIT", "SCAN"];
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
    await page.locator("#current-view .seg").first().focus();
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
    const zoomIn = page.locator("#current-view").getByRole("button", { name: "Zoom in" });
    for (let i = 0; i < 3; i++) await zoomIn.click();
    const widths = await page.evaluate(() => {
      const scroller = document.querySelector("#current-view .tl-scroll") as HTMLElement;
      return {
        ratio: scroller.scrollWidth / scroller.clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      };
    });
    assert(widths.ratio > 7 && widths.page === 0, `zoom x8: ${JSON.stringify(widths)}`);
    await page.locator("#current-view").getByRole("button", { name: "Fit" }).click();
    log(`  1,000 stamps: drawn in ${drawMs} ms, End key ${keyMs} ms, longest task ${Math.max(0, ...long).toFixed(0)} ms`);
    await page.screenshot({ path: join(artifacts, "console-1000-stamps.png") });
  });

  // ------------------------------------------------------------ the dashboard

  // Five ended visits on two past days in Kolkata (UTC+05:30, no daylight saving), three and two days
  // ago there, away from every other seed (those are all within the last two hours). Minutes from each start:
  //   A  day 1 10:00  CHAT 1, SHOPPING 3, PAYMENT 6, COMPLETE 7, end 8
  //   B  day 1 10:30  CHAT 2, SHOPPING 4, PAYMENT 8, end 10
  //   C  day 1 11:15  CHAT 1, SHOPPING 5, end 6
  //   D  day 1 14:05  CHAT 3, end 4
  //   E  day 2 09:00  (ENTER only), end 1
  const DAY1 = zoneDate(Date.now() - 3 * 86_400_000, KOLKATA);
  const DAY2 = plusDays(DAY1, 1);
  const DASH_VISITS: [string, string, [string, number][], number][] = [
    [
      DAY1,
      "10:00",
      [
        ["CHAT", 1],
        ["SHOPPING", 3],
        ["PAYMENT", 6],
        ["COMPLETE", 7],
      ],
      8,
    ],
    [
      DAY1,
      "10:30",
      [
        ["CHAT", 2],
        ["SHOPPING", 4],
        ["PAYMENT", 8],
      ],
      10,
    ],
    [
      DAY1,
      "11:15",
      [
        ["CHAT", 1],
        ["SHOPPING", 5],
      ],
      6,
    ],
    [DAY1, "14:05", [["CHAT", 3]], 4],
    [DAY2, "09:00", [], 1],
  ];
  const twoDays = { from: kolkata(DAY1), to: kolkata(plusDays(DAY2, 1)), tz: KOLKATA };
  const DEFAULT_STEPS = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
  const dashRequests: string[] = [];
  let dash429 = 0;
  page.on("request", (req) => {
    if (!req.url().includes("/v1/analytics/")) return;
    dashRequests.push(req.url());
    analyticsLedger.push(Date.now());
  });
  page.on("response", (res) => {
    if (res.url().includes("/v1/analytics/") && res.status() === 429 && res.headers()["x-request-id"] !== undefined) dash429 += 1;
  });

  await test("seed the dashboard: five visits with drop-offs on two past days, and wait for the index", async () => {
    for (const [i, [date, hm, steps, endMin]] of DASH_VISITS.entries()) {
      const p = `e2e-dash-${suffix}-${i}`;
      const at = (min: number) => new Date(kolkata(date, hm) + min * 60_000).toISOString();
      await api("POST", `${base(p)}/session/start`, { occurred_at: at(0) });
      if (steps.length)
        await api("POST", `${base(p)}/session/stamps`, { stamps: steps.map(([status, m]) => ({ status, occurred_at: at(m) })) });
      await api("POST", `${base(p)}/session/end`, { occurred_at: at(endMin) });
    }
    const query = new URLSearchParams({ from: new Date(twoDays.from).toISOString(), to: new Date(twoDays.to).toISOString(), limit: "100" });
    await waitFor(
      "the index to hold the five ended visits",
      async () => {
        const res = await fetch(`${BASE}/v1/sessions?${query}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
        const body = (await res.json()) as { data: { sessions: { ended_at: string | null; stamp_count: number }[] } };
        const sessions = body.data.sessions;
        return (
          sessions.length === 5 && sessions.every((x) => x.ended_at !== null) && sessions.reduce((n, x) => n + x.stamp_count, 0) === 15
        );
      },
      30_000,
    );
  });

  await test("the dashboard shows the funnel, time in status and visits the API answers, as computed by hand (read-only key)", async () => {
    await budget(3);
    await page.goto(`${BASE}/console/#dashboard&from=${DAY1}&to=${DAY2}&tz=Asia%2FKolkata`);
    await funnelShows(page, DEFAULT_STEPS);
    equal(await page.title(), "Dashboard · Session timeline console", "title");
    equal(await nav(page, "Dashboard").getAttribute("aria-current"), "page", "nav marks Dashboard as current");
    assert(await page.locator("#view-live").isHidden(), "live view hidden");
    equal(await page.getByLabel("From", { exact: true }).inputValue(), DAY1, "From");
    equal(await page.getByLabel("To (included)").inputValue(), DAY2, "To");
    equal(await page.getByLabel("Time zone", { exact: true }).inputValue(), KOLKATA, "time zone");
    assert(await page.getByLabel("Hour", { exact: true }).isChecked(), "two days are counted per hour by default");
    assert((await page.locator("#dash-summary").textContent())?.includes("2 days · Asia/Kolkata · visits per hour"), "summary");
    assert((await page.locator("#dash-updated").textContent())?.startsWith("Index updated"), "as_of shown");
    assert(await page.locator("#dash-state").isHidden(), "no state line while all is well");
    // The default steps: the journey order of the most common path (all five are one session each:
    // the longest), ENTER left out.
    equal(
      await page.locator("#funnel-steps .step").evaluateAll((li) => li.map((n) => (n as HTMLElement).dataset.status)),
      DEFAULT_STEPS,
      "steps",
    );
    assert((await page.locator("#funnel-steps-note").textContent())?.includes("most common path"), "the steps say they are the default");

    const answers = await dashboardMatchesApi(page, { ...twoDays, interval: "hour", steps: DEFAULT_STEPS });
    // The API's own figures are the hand-computed ones...
    close(
      answers.funnel.map((x) => [
        x.status,
        x.sessions,
        x.conversion_from_previous,
        x.conversion_from_first,
        x.median_seconds_from_previous,
        x.p90_seconds_from_previous,
      ]),
      [
        ["CHAT", 4, 1, 1, null, null],
        ["SHOPPING", 3, 0.75, 0.75, about(120), about(240)],
        ["PAYMENT", 2, 2 / 3, 0.5, about(180), about(240)],
        ["COMPLETE", 1, 0.5, 0.25, about(60), about(60)],
      ],
      "the API's funnel",
    );
    close(
      answers.dwell.map((x) => [x.status, x.visits, x.median_seconds, x.p90_seconds, x.total_seconds]),
      [
        ["ENTER", 5, about(60), about(180), 480],
        ["CHAT", 4, about(120), about(240), 540],
        ["SHOPPING", 3, about(180), about(240), 480],
        ["PAYMENT", 2, about(60), about(120), 180],
        ["COMPLETE", 1, about(60), about(60), 60],
      ],
      "the API's time in status",
    );
    const busy = Object.fromEntries(
      answers.visits.filter((b) => b.sessions > 0).map((b) => [b.start, [b.sessions, b.median_duration_seconds]]),
    );
    close(
      busy,
      {
        [`${DAY1}T10:00:00+05:30`]: [2, about(480)],
        [`${DAY1}T11:00:00+05:30`]: [1, about(360)],
        [`${DAY1}T14:00:00+05:30`]: [1, about(240)],
        [`${DAY2}T09:00:00+05:30`]: [1, about(60)],
      },
      "the API's busy hours",
    );
    equal(answers.visits.length, 48, "every hour of the two days");
    // ...and the page writes them as a person reads them.
    close(
      shownTexts(await figureRows(page, "#funnel-rows")),
      [
        ["CHAT", "4", "100 %", "100 %", "–", "–"],
        ["SHOPPING", "3", "75 %", "75 %", about(120), about(240)],
        ["PAYMENT", "2", "66.7 %", "50 %", about(180), about(240)],
        ["COMPLETE", "1", "50 %", "25 %", about(60), about(60)],
      ],
      "funnel as shown",
    );
    close(
      shownTexts(await figureRows(page, "#dwell-rows")),
      [
        ["ENTER", "5", about(60), about(180), "8 min 00 s"],
        ["CHAT", "4", about(120), about(240), "9 min 00 s"],
        ["SHOPPING", "3", about(180), about(240), "8 min 00 s"],
        ["PAYMENT", "2", about(60), about(120), "3 min 00 s"],
        ["COMPLETE", "1", about(60), about(60), "1 min 00 s"],
      ],
      "time in status as shown",
    );
    const hours = await figureRows(page, "#visits-rows");
    close(
      hours.filter((r) => r.texts[0] !== "0").map((r) => [r.head.slice(-5), ...r.texts]),
      [
        ["10:00", "2", about(480)],
        ["11:00", "1", about(360)],
        ["14:00", "1", about(240)],
        ["09:00", "1", about(60)],
      ],
      "busy hours as shown",
    );
    equal(hours[0]?.texts, ["0", "–"], "an empty hour");
    equal(await page.locator("#visits-note").textContent(), "5 sessions started · per hour · Asia/Kolkata", "visits note");
    // The charts are drawn, and say what they show.
    equal(
      await page.locator("#funnel-chart").getAttribute("aria-label"),
      "Funnel bar chart: CHAT 4 sessions; SHOPPING 3 (75 % of previous, 75 % of first); PAYMENT 2 (66.7 % of previous, 50 % of first); COMPLETE 1 (50 % of previous, 25 % of first).",
      "funnel chart's label",
    );
    const dwellLabel = (await page.locator("#dwell-chart").getAttribute("aria-label")) ?? "";
    const chat = /CHAT median ([^,]+), p90 ([^,]+), 4 visits/.exec(dwellLabel);
    close(chat?.slice(1), [about(120), about(240)], `time in status chart's label (${dwellLabel})`);
    assert((await page.locator("#visits-chart").getAttribute("aria-label"))?.includes("5 sessions in 48 buckets"), "visits chart's label");
    for (const canvas of ["#funnel-chart", "#dwell-chart", "#visits-chart"])
      assert((await inkedPixels(page, canvas)) > 5000, `${canvas} is drawn`);
    // Each chart's table is there to read: the details open.
    await page.getByText("Time in each status as a table").click();
    assert(await page.locator("#dwell-table").isVisible(), "time in status table opens");
    await page.getByText("Time in each status as a table").click();

    await page.screenshot({ path: join(artifacts, "console-dashboard.png"), fullPage: true });
    if (process.env.E2E_UPDATE_DOCS === "1") {
      // docs/console.md's picture: the whole dashboard, down to the visits chart (page coordinates, whatever the scroll).
      const bottom = await page.evaluate(
        () => (document.querySelector("#dash-visits")?.getBoundingClientRect().bottom ?? 0) + window.scrollY,
      );
      assert(bottom > 0, "no #dash-visits");
      await mkdir(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({
        path: join(ROOT, "docs/console-dashboard.png"),
        fullPage: true,
        clip: { x: 0, y: 0, width: LAPTOP.width, height: Math.ceil(bottom + 12) },
      });
      log("  wrote docs/console-dashboard.png");
    }
  });

  await test("changing the funnel's steps updates the funnel and the fragment (and asks only for the funnel)", async () => {
    const chartLabel = () => page.locator("#funnel-chart").getAttribute("aria-label");
    const before = await chartLabel();
    await budget(8); // the step changes below ask for the funnel 7 times, the check once
    dashRequests.length = 0;
    await page.getByRole("button", { name: "Remove COMPLETE" }).click();
    await funnelShows(page, ["CHAT", "SHOPPING", "PAYMENT"]);
    assert(fragment(page).endsWith("&step=CHAT&step=SHOPPING&step=PAYMENT"), `fragment: ${fragment(page)}`);
    assert((await page.locator("#funnel-steps-note").textContent())?.includes("chosen"), "the steps say they are chosen");
    assert(await page.getByRole("button", { name: "Default steps" }).isEnabled(), "the default can be brought back");
    equal(dashRequests.length, 1, "a step change asks only for the funnel");
    equal(dashRequests[0]?.includes("/v1/analytics/funnel?"), true, "the request is the funnel");

    await page.getByRole("button", { name: "Move SHOPPING up" }).click();
    await funnelShows(page, ["SHOPPING", "CHAT", "PAYMENT"]);
    assert(fragment(page).endsWith("&step=SHOPPING&step=CHAT&step=PAYMENT"), `fragment: ${fragment(page)}`);
    // Nobody chatted after shopping: no one to convert at PAYMENT, written as "–".
    equal(
      shownTexts(await figureRows(page, "#funnel-rows")),
      [
        ["SHOPPING", "3", "100 %", "100 %", "–", "–"],
        ["CHAT", "0", "0 %", "0 %", "–", "–"],
        ["PAYMENT", "0", "–", "0 %", "–", "–"],
      ],
      "funnel after moving SHOPPING up",
    );
    assert((await chartLabel()) !== before, "the chart changed with the steps");
    await dashboardMatchesApi(page, { ...twoDays, interval: "hour", steps: ["SHOPPING", "CHAT", "PAYMENT"] }, ["funnel"]);

    // Add a step by typing it (the field offers the range's labels), then back to the default steps.
    await page.getByLabel("Add a step").fill("COMPLETE");
    await page.getByLabel("Add a step").press("Enter");
    await funnelShows(page, ["SHOPPING", "CHAT", "PAYMENT", "COMPLETE"]);
    equal(
      await page.locator("#dash-labels option").evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value)),
      ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"],
      "labels offered",
    );
    await page.getByRole("button", { name: "Default steps" }).click();
    await funnelShows(page, DEFAULT_STEPS);
    equal(fragment(page), `#dashboard&from=${DAY1}&to=${DAY2}&tz=${KOLKATA}`, "fragment without steps");
    equal(await chartLabel(), before, "the default funnel again");
    // At two steps, none can be removed.
    for (const step of ["COMPLETE", "PAYMENT"]) await page.getByRole("button", { name: `Remove ${step}` }).click();
    await funnelShows(page, ["CHAT", "SHOPPING"]);
    assert(await page.getByRole("button", { name: "Remove CHAT" }).isDisabled(), "no funnel of one step");
    await page.getByRole("button", { name: "Default steps" }).click();
    await funnelShows(page, DEFAULT_STEPS);
  });

  await test("changing the interval and the range updates the charts and the fragment", async () => {
    const visitsLabel = () => page.locator("#visits-chart").getAttribute("aria-label");
    const hourly = await visitsLabel();
    await budget(1);
    dashRequests.length = 0;
    await page.getByLabel("Day", { exact: true }).check();
    await waitFor("two day buckets", async () => (await page.locator("#visits-rows tr").count()) === 2);
    await funnelShows(page, DEFAULT_STEPS);
    equal(fragment(page), `#dashboard&from=${DAY1}&to=${DAY2}&tz=${KOLKATA}&interval=day`, "fragment with the interval");
    const days = await figureRows(page, "#visits-rows");
    close(
      days.map((r) => [r.title, ...r.texts]),
      [
        [`${DAY1}T00:00:00+05:30`, "4", about(360)],
        [`${DAY2}T00:00:00+05:30`, "1", about(60)],
      ],
      "visits per day",
    );
    assert(days[0]?.head.includes(String(Number(DAY1.slice(8)))), `day label: ${days[0]?.head}`);
    assert((await visitsLabel()) !== hourly, "the visits chart changed");
    equal(
      dashRequests.map((u) => new URL(u).pathname),
      ["/v1/analytics/visits"],
      "an interval change asks only for the visits",
    );
    await dashboardMatchesApi(page, { ...twoDays, interval: "day", steps: DEFAULT_STEPS }, ["visits"]);

    // One day earlier: three days, the first empty.
    const DAY0 = plusDays(DAY1, -1);
    await budget(3);
    await page.getByLabel("From", { exact: true }).fill(DAY0);
    await waitFor("three day buckets", async () => (await page.locator("#visits-rows tr").count()) === 3);
    await funnelShows(page, DEFAULT_STEPS);
    equal(fragment(page), `#dashboard&from=${DAY0}&to=${DAY2}&tz=${KOLKATA}&interval=day`, "fragment with the new range");
    equal((await figureRows(page, "#visits-rows"))[0]?.texts, ["0", "–"], "the empty first day");
    await dashboardMatchesApi(page, { from: kolkata(DAY0), to: twoDays.to, tz: KOLKATA, interval: "day", steps: DEFAULT_STEPS });

    // Over 93 days: a clear message, the field marked, and nothing asked.
    dashRequests.length = 0;
    await page.getByLabel("From", { exact: true }).fill(plusDays(DAY2, -100));
    await page.locator("#dash-range-error").waitFor();
    const error = (await page.locator("#dash-range-error").textContent()) ?? "";
    assert(error.includes("101 days") && error.includes("at most 93 days"), `range error: ${error}`);
    equal(await page.getByLabel("To (included)").getAttribute("aria-invalid"), "true", "To is marked");
    assert(await page.locator("#dash-body").isHidden(), "no figures of another range");
    await sleep(1000);
    equal(dashRequests, [], "requests for a range the API would refuse");
    await budget(3);
    await page.getByLabel("From", { exact: true }).fill(DAY1);
    await waitFor("two day buckets again", async () => (await page.locator("#visits-rows tr").count()) === 2);
    assert(await page.locator("#dash-range-error").isHidden(), "the message goes with the fix");
  });

  await test("a preset runs from local midnight in the chosen zone; its figures are the API's", async () => {
    await budget(3);
    await page.getByRole("button", { name: "Last 7 days" }).click();
    const today = zoneDate(Date.now(), KOLKATA);
    await waitFor("the preset's days", async () => (await page.getByLabel("From", { exact: true }).inputValue()) === plusDays(today, -6));
    equal(await page.getByLabel("To (included)").inputValue(), today, "To is today in Kolkata");
    equal(await page.getByRole("button", { name: "Last 7 days" }).getAttribute("aria-pressed"), "true", "the preset is pressed");
    equal(fragment(page), `#dashboard&range=7d&tz=${KOLKATA}&interval=day`, "fragment with the preset");
    await waitFor("seven day buckets", async () => (await page.locator("#visits-rows tr").count()) === 7);
    await waitFor("the page to settle", async () => (await page.locator("#dash-body:not([aria-busy])").count()) === 1);
    // Every seed of this run is in these 7 days: whatever the default steps are now, the page shows what the API answers.
    const steps = (await figureRows(page, "#funnel-rows")).map((r) => r.head);
    const answers = await dashboardMatchesApi(page, {
      from: kolkata(plusDays(today, -6)),
      to: kolkata(plusDays(today, 1)),
      tz: KOLKATA,
      interval: "day",
      steps,
    });
    const sessions = Object.fromEntries(answers.visits.map((b) => [b.start.slice(0, 10), b.sessions]));
    equal([sessions[DAY1], sessions[DAY2]], [4, 1], "the seeded days within the 7");
    assert((sessions[today] ?? 0) + (sessions[plusDays(today, -1)] ?? 0) > 30, "the live view's sessions are today's (or yesterday's)");
    // The nav's Dashboard link comes back to these choices.
    await nav(page, "Live").click();
    await page.locator("#live-rows tr").first().waitFor();
    await budget(3);
    await nav(page, "Dashboard").click();
    await waitFor("the dashboard again", async () => (await page.locator("#visits-rows tr").count()) === 7);
    equal(fragment(page), `#dashboard&range=7d&tz=${KOLKATA}&interval=day`, "the nav keeps the dashboard's choices");
  });

  await test("429: the dashboard says so, waits the Retry-After, keeps its figures and recovers; no polling in between", async () => {
    await funnelShows(
      page,
      (await figureRows(page, "#funnel-rows")).map((r) => r.head),
    );
    let refused = 0;
    await page.route("**/v1/analytics/**", (route) => {
      refused += 1;
      return route.fulfill({
        status: 429,
        headers: { "Content-Type": "application/json", "Retry-After": "3" },
        body: JSON.stringify({ success: false, error: { code: "RATE_LIMITED", message: "Too many requests.", request_id: "e2e-429" } }),
      });
    });
    try {
      await budget(6); // three refused here, three asked after the Retry-After
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator('#dash-state[data-kind="busy"]').filter({ hasText: "429" }).waitFor();
      const text = (await page.locator("#dash-state").textContent()) ?? "";
      assert(
        text.includes("429 RATE_LIMITED") && text.includes("Retrying in 3 s") && text.includes("Showing the figures received at"),
        text,
      );
      assert(await page.locator("#dash-body").isVisible(), "figures kept");
      const asked = refused;
      await sleep(2000);
      equal(refused, asked, "requests before the Retry-After is over");
    } finally {
      // A failed check must not leave every later analytics request refused.
      await page.unroute("**/v1/analytics/**");
    }
    await page.locator("#dash-state").waitFor({ state: "hidden", timeout: 10_000 });
    // Then quiet: the next refresh is a minute away.
    dashRequests.length = 0;
    await sleep(5000);
    equal(dashRequests, [], "requests in 5 s after an answer");
    // The server's own 429s (the per-tenant limit), if this run's own checks pushed it over: the page waited them out.
    log(`  the API answered the dashboard 429 ${dash429} time(s) in this run`);
  });

  // ------------------------------------------------------------ stores: the Stores page and the picker

  // Three stores, registered through the operators' API, with sessions started in the last hour:
  //   Alpha (capacity 6)  A1 ended after 10 min (CHAT, SHOPPING, PAYMENT); A2 in SHOPPING, A3 in CHAT, A4 ENTER only: 3 active
  //   Beta  (capacity 3)  B1 in CHAT, B2 in PAYMENT: 2 active
  //   Gamma (no capacity) G1 ended after 5 min (CHAT): nobody now
  // Every other session of this run named no store: the comparison's "No store" row.
  const ALPHA = "e2e-alpha";
  const BETA = "e2e-beta";
  const GAMMA = "e2e-gamma";
  const STORE_NAMES: Record<string, string> = { [ALPHA]: "Alpha, Lyon", [BETA]: 'Beta "the small one"', [GAMMA]: "Gamma" };
  const STORE_VISITS: { store: string; start: number; steps: [string, number][]; end: number | null }[] = [
    {
      store: ALPHA,
      start: 50,
      steps: [
        ["CHAT", 49],
        ["SHOPPING", 47],
        ["PAYMENT", 45],
      ],
      end: 40,
    },
    {
      store: ALPHA,
      start: 30,
      steps: [
        ["CHAT", 29],
        ["SHOPPING", 28],
      ],
      end: null,
    },
    { store: ALPHA, start: 25, steps: [["CHAT", 24]], end: null },
    { store: ALPHA, start: 20, steps: [], end: null },
    { store: BETA, start: 35, steps: [["CHAT", 34]], end: null },
    {
      store: BETA,
      start: 33,
      steps: [
        ["CHAT", 32],
        ["PAYMENT", 31],
      ],
      end: null,
    },
    { store: GAMMA, start: 15, steps: [["CHAT", 14]], end: 10 },
  ];
  const storePersonas = STORE_VISITS.map((_, i) => `e2e-store-${suffix}-${i}`);
  const activeIn = (store: string) => storePersonas.filter((_, i) => STORE_VISITS[i]!.store === store && STORE_VISITS[i]!.end === null);
  const label = (id: string) => `${STORE_NAMES[id]} (${id})`;

  await test("seed the stores: three registered through the operators' API, sessions started in them, and wait for the index", async () => {
    await api(
      "PUT",
      "/admin/v1/tenants/demo/stores",
      {
        stores: [
          { store_id: ALPHA, name: STORE_NAMES[ALPHA], time_zone: "Europe/Paris", capacity: 6 },
          { store_id: BETA, name: STORE_NAMES[BETA], time_zone: "Europe/Paris", capacity: 3 },
          { store_id: GAMMA, name: STORE_NAMES[GAMMA], time_zone: "America/New_York" },
        ],
      },
      ADMIN_KEY,
    );
    const ref = Date.now();
    const ago = (minutes: number) => new Date(ref - minutes * 60_000).toISOString();
    for (const [i, v] of STORE_VISITS.entries()) {
      const p = storePersonas[i]!;
      await api("POST", `${base(p)}/session/start`, { occurred_at: ago(v.start), store_id: v.store, kiosk_id: "kiosk-1" });
      if (v.steps.length)
        await api("POST", `${base(p)}/session/stamps`, { stamps: v.steps.map(([status, m]) => ({ status, occurred_at: ago(m) })) });
      if (v.end !== null) await api("POST", `${base(p)}/session/end`, { occurred_at: ago(v.end) });
    }
    await waitFor(
      "the index to count the stores' active sessions",
      async () => {
        const now = await apiOccupancy();
        const active = Object.fromEntries(now.stores.map((st) => [st.store_id, st.active]));
        return active[ALPHA] === 3 && active[BETA] === 2 && active[GAMMA] === 0;
      },
      30_000,
    );
    // And the ended ones (the analytics read the month shards, which get the ends in their own batches).
    const query = new URLSearchParams({ from: ago(60), to: new Date(ref + 60_000).toISOString(), limit: "100" });
    await waitFor(
      "the index to hold the stores' ended sessions",
      async () => {
        const res = await fetch(`${BASE}/v1/sessions?${query}`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
        const body = (await res.json()) as { data: { sessions: { store_id: string | null; ended_at: string | null }[] } };
        const inStores = body.data.sessions.filter((x) => x.store_id !== null);
        return inStores.length === 7 && inStores.filter((x) => x.ended_at !== null).length === 2;
      },
      30_000,
    );
  });

  // The comparison's range: the last 7 days in UTC (the browser's zone here), so a run just after midnight still has every seed.
  const week = (() => {
    const today = zoneDate(Date.now(), "UTC");
    return { from: Date.parse(`${plusDays(today, -6)}T00:00:00Z`), to: Date.parse(`${plusDays(today, 1)}T00:00:00Z`), today };
  })();
  const weekRange = { from: new Date(week.from).toISOString(), to: new Date(week.to).toISOString() };
  let comparisonSteps: string[] = [];

  await test("the Stores page: the live occupancy board lists every store as the API does, bars coloured by status", async () => {
    await budget(4); // paths, then visits, occupancy and funnel by store
    dashRequests.length = 0; // the Stores page's own, from here
    await nav(page, "Stores").click();
    await page.locator("#view-stores").waitFor();
    equal(await page.title(), "Stores · Session timeline console", "title");
    equal(await nav(page, "Stores").getAttribute("aria-current"), "page", "nav marks Stores as current");
    await waitFor("the board's rows", async () => (await page.locator("#board-rows tr").count()) === 3);
    const api = await apiOccupancy();
    const board = await storeRows(page, "#board-rows");
    // The API's order (busiest first, then by id), with its figures in the cells.
    equal(
      board.map((r) => [r.key, ...r.values.slice(0, 3)]),
      api.stores.map((st) => [st.store_id, String(st.active), v(st.capacity), v(st.utilization)]),
      "board = the API's stores, in its order",
    );
    equal(
      board.map((r) => [r.head, ...r.texts.slice(0, 3)]),
      [
        [label(ALPHA), "3", "6", "50 %"],
        [label(BETA), "2", "3", "66.7 %"],
        [label(GAMMA), "0", "—", "—"],
      ],
      "board as shown, computed by hand (a store with nobody in it included)",
    );
    equal(await page.locator("#board-total").textContent(), String(api.total), "active sessions in stores");
    assert((await page.locator("#board-extra").textContent())?.includes(`${api.noStore} named no store`), "sessions in no store");
    equal(
      await page.locator("#board-table thead th").allTextContents(),
      ["Store", "Active", "Capacity", "Utilization", "By current status"],
      "column headers",
    );
    equal(await sortedBy(page, "#board-table"), [["active", "descending"]], "sorted as the API answers: busiest first");
    // Each bar: a part per status with its count, in the live view's colours, and the capacity's mark.
    const bars = await page.locator("#board-rows tr").evaluateAll((trs) =>
      trs.map((tr) => ({
        store: (tr as HTMLElement).dataset.store,
        parts: [...tr.querySelectorAll(".bar-part")].map((p) => [
          (p as HTMLElement).dataset.status,
          Number((p as HTMLElement).dataset.count),
          getComputedStyle(p).backgroundColor,
        ]),
        mark: tr.querySelector(".cap-mark") !== null,
        label: tr.querySelector(".occ-bar")?.getAttribute("aria-label"),
      })),
    );
    equal(
      bars.map((b) => [b.store, b.parts.map(([st, n]) => [st, n]), b.mark]),
      api.stores.map((st) => [
        st.store_id,
        Object.entries(st.by_status)
          .filter(([, n]) => n > 0)
          .sort(([a], [b]) => (a < b ? -1 : 1)),
        st.capacity !== null,
      ]),
      "bars = the API's counts by status",
    );
    for (const [status, , colour] of bars.flatMap((b) => b.parts)) {
      if (pillColours[status as string]) equal(colour, pillColours[status as string], `${status}'s colour as in the live view`);
    }
    equal(bars[0]?.label, `${label(ALPHA)}: CHAT 1, ENTER 1, SHOPPING 1, of a capacity of 6`, "a bar says what it shows");
  });

  await test("the Stores page compares the stores over the range as the API answers, as computed by hand", async () => {
    await budget(4); // the same again, should the chosen preset (the default's days) be asked again
    await page.getByRole("button", { name: "Last 7 days" }).click();
    await waitFor("the comparison's fragment", async () => new URL(page.url()).hash === "#stores&range=7d");
    await waitFor(
      "the comparison",
      async () =>
        (await page.locator("#compare-body:not([aria-busy])").count()) === 1 && (await page.locator("#compare-rows tr").count()) === 4,
      30_000,
    );
    // Each load of the comparison asks four answers whatever the number of stores, the peaks among them
    // in one grouped occupancy request by day (none per store).
    const asked = dashRequests.map((u) => new URL(u));
    const loads = asked.filter((u) => u.pathname === "/v1/analytics/occupancy");
    assert(loads.length >= 1, "the comparison asked for the occupancy");
    equal(
      asked.map((u) => u.pathname).sort(),
      ["/v1/analytics/funnel", "/v1/analytics/occupancy", "/v1/analytics/paths", "/v1/analytics/visits"].flatMap((path) =>
        loads.map(() => path),
      ),
      "four requests per load",
    );
    for (const u of loads) {
      equal(
        [u.searchParams.get("group_by"), u.searchParams.get("interval"), u.searchParams.get("tz"), u.searchParams.has("store_id")],
        ["store", "day", "UTC", false],
        "the occupancy of every store at once, by day",
      );
    }
    equal(await page.getByLabel("First day").inputValue(), plusDays(week.today, -6), "first day");
    equal(await page.getByLabel("Last day (included)").inputValue(), week.today, "last day");
    equal(await page.getByLabel("Days in time zone").inputValue(), "UTC", "the browser's zone");
    const rows = await storeRows(page, "#compare-rows");
    equal(
      rows.map((r) => r.key),
      [`store:${ALPHA}`, `store:${BETA}`, `store:${GAMMA}`, "none"],
      "the stores by sessions, then no store",
    );
    // The funnel's steps: the default (as the dashboard's), named in full by the note under the table.
    const notes = (await page.locator("#compare-notes").textContent()) ?? "";
    const named = /reached (.+?), the share that went on through (.+?) \(GET/.exec(notes);
    assert(named, `the steps in the note: ${notes}`);
    const steps = [named[1]!, ...named[2]!.split(", then ")];
    comparisonSteps = [steps[0]!, steps.at(-1)!];
    equal(
      await page.locator("#compare-conversion").textContent(),
      `Conversion ${steps[0]} → ${steps.at(-1)}`,
      "the column names its steps",
    );

    // The API's own answers for the same question, with the same key.
    await budget(3);
    type Group<T> = { key: string | null; other: boolean } & T;
    const byDay = { ...weekRange, interval: "day", tz: "UTC", group_by: "store" };
    const [visits, funnel, occupancy] = await Promise.all([
      analytics<{ groups: Group<{ sessions: number; median_duration_seconds: number | null }>[] }>("visits", byDay),
      analytics<{ groups: Group<{ steps: FunnelStep[] }>[] }>("funnel", { ...weekRange, step: steps, group_by: "store" }),
      analytics<{ groups: Group<{ buckets: { peak: number | null }[] }>[] }>("occupancy", byDay),
    ]);
    const group = <T>(list: Group<T>[], key: string | null) => list.find((g) => g.key === key && !g.other);
    // A group's peak over the range: the largest of its days' peaks (a day after now has none).
    const peakOf = (g: { buckets: { peak: number | null }[] } | undefined) => {
      const peaks = (g?.buckets ?? []).map((b) => b.peak).filter((p): p is number => p !== null);
      return peaks.length ? Math.max(...peaks) : null;
    };
    // Sessions and the median visit: the visits group's own, over the whole range.
    const expected = (key: string | null) => [
      v(group(visits.groups, key)!.sessions),
      v(group(funnel.groups, key)?.steps.at(-1)?.conversion_from_first ?? null),
      v(group(visits.groups, key)!.median_duration_seconds),
      v(peakOf(group(occupancy.groups, key))),
    ];
    equal(
      rows.map((r) => r.values.slice(0, 4)),
      [expected(ALPHA), expected(BETA), expected(GAMMA), expected(null)],
      "sessions, conversion, median visit and peak = the API's answers",
    );
    // ...and what the seed makes of them: sessions, the ended visits' 10 and 5 minutes (the API's medians are
    // within 1 %), the most present at once.
    const near = (value: string, seconds: number) => Math.abs(Number(value) - seconds) <= seconds / 100;
    assert(near(rows[0]!.values[2]!, 600) && near(rows[2]!.values[2]!, 300), `median visits: ${rows.map((r) => r.values[2]).join(", ")}`);
    equal(
      rows.slice(0, 3).map((r) => [r.head, r.texts[0], r.texts[3]]),
      [
        [label(ALPHA), "4", "3"],
        [label(BETA), "2", "2"],
        [label(GAMMA), "1", "1"],
      ],
      "sessions and peaks as shown, computed by hand",
    );
    equal(rows[1]!.texts[2], "–", "no visit of Beta's ended: no median");
    equal(rows[3]!.head, "No store", "no store: its row, last");
    assert(Number(rows[3]!.values[0]) > 30, `no store's sessions: the rest of this run (${rows[3]!.values[0]})`);
    // No store has a peak of its own now: the most sessions without a store present at once, a number, as shown.
    const noStorePeak = Number(rows[3]!.values[3]);
    assert(Number.isInteger(noStorePeak) && noStorePeak >= 1, `no store's peak: ${rows[3]!.values[3]}`);
    equal(rows[3]!.texts[3], String(noStorePeak), "no store's peak as shown");
    assert(!/one request per store/.test(notes), "the notes name no per-store requests");
    assert(notes.includes("group_by=store&interval=day: the largest of the group's daily peaks"), `the peak's note: ${notes}`);
    equal(await sortedBy(page, "#compare-table"), [["sessions", "descending"]], "sorted by sessions");
    // A store's name leads to its dashboard for the same days.
    equal(
      await page.locator(`#compare-rows tr[data-row="store:${ALPHA}"] a`).getAttribute("href"),
      `#dashboard&store=${ALPHA}&range=7d`,
      "the store's dashboard link",
    );

    await page.screenshot({ path: join(artifacts, "console-stores.png"), fullPage: true });
    if (process.env.E2E_UPDATE_DOCS === "1") {
      // The README's picture: both tables, down to the comparison's notes (page coordinates, whatever the scroll).
      const bottom = await page.evaluate(
        () => (document.querySelector("#compare-body")?.getBoundingClientRect().bottom ?? 0) + window.scrollY,
      );
      assert(bottom > 0, "no #compare-body");
      await mkdir(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({
        path: join(ROOT, "docs/console-stores.png"),
        fullPage: true,
        clip: { x: 0, y: 0, width: LAPTOP.width, height: Math.ceil(bottom + 16) },
      });
      log("  wrote docs/console-stores.png");
    }
  });

  await test("both tables sort by a column's header (aria-sort, numbers by value, no value last)", async () => {
    await sortBy(page, "#board-table", "capacity", "descending");
    equal(
      (await storeRows(page, "#board-rows")).map((r) => r.key),
      [ALPHA, BETA, GAMMA],
      "by capacity, largest first (no capacity last)",
    );
    await sortBy(page, "#board-table", "capacity", "ascending");
    equal(
      (await storeRows(page, "#board-rows")).map((r) => r.key),
      [BETA, ALPHA, GAMMA],
      "by capacity, smallest first (still last)",
    );
    await sortBy(page, "#board-table", "store", "descending");
    equal(
      (await storeRows(page, "#board-rows")).map((r) => r.key),
      [GAMMA, BETA, ALPHA],
      "by name, Z to A",
    );
    assert((await page.locator("#board-caption").textContent())?.includes("by store, Z to A"), "the caption says how");
    await sortBy(page, "#board-table", "utilization", "descending");
    equal(
      (await storeRows(page, "#board-rows")).map((r) => r.key),
      [BETA, ALPHA, GAMMA],
      "by utilization",
    );

    await sortBy(page, "#compare-table", "median", "ascending");
    equal(
      (await storeRows(page, "#compare-rows")).map((r) => r.key),
      ["store:e2e-gamma", "store:e2e-alpha", "store:e2e-beta", "none"],
      "by median visit, shortest first; none last; no store always at the end",
    );
    await sortBy(page, "#compare-table", "peak", "descending");
    equal(
      (await storeRows(page, "#compare-rows")).map((r) => r.key),
      ["store:e2e-alpha", "store:e2e-beta", "store:e2e-gamma", "none"],
      "by peak occupancy",
    );
    // The sort buttons are reachable and named by their column.
    await page.locator('#compare-table th[data-sort="sessions"] button').focus();
    await page.keyboard.press("Enter");
    equal(await sortedBy(page, "#compare-table"), [["sessions", "descending"]], "Enter on a header sorts");
  });

  await test("each table downloads as CSV: named by its moment or range, quoted as RFC 4180, rows as shown", async () => {
    const board = await downloaded(page, "Download the occupancy board as CSV");
    assert(/^stores-occupancy-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/.test(board.name), `board file: ${board.name}`);
    assert(board.text.startsWith("\ufeff"), "a byte order mark, so spreadsheets read UTF-8");
    const lines = board.text.slice(1).split("\r\n");
    equal(lines[0], "store_id,name,active,capacity,utilization,status:CHAT,status:ENTER,status:PAYMENT,status:SHOPPING", "board header");
    // As shown: sorted by utilization, the quoted names (a comma, quotes doubled).
    equal(
      lines.slice(1),
      [`${BETA},"Beta ""the small one""",2,3,0.6667,1,0,1,0`, `${ALPHA},"Alpha, Lyon",3,6,0.5,1,1,0,1`, `${GAMMA},Gamma,0,,,0,0,0,0`, ""],
      "board rows",
    );
    const comparison = await downloaded(page, "Download the store comparison as CSV");
    equal(comparison.name, `stores-comparison-${plusDays(week.today, -6)}-${week.today}.csv`, "comparison file");
    const rows = comparison.text.slice(1).split("\r\n");
    equal(
      rows[0],
      "row,store_id,name,stores,sessions,conversion,conversion_steps,median_visit_seconds,peak_occupancy",
      "comparison header",
    );
    const shown = await storeRows(page, "#compare-rows");
    const steps = comparisonSteps.join(">");
    equal(
      rows[1],
      `store,${ALPHA},"Alpha, Lyon",1,4,${shown[0]!.values[1] === "null" ? "" : shown[0]!.values[1]},${steps},${shown[0]!.values[2]},3`,
      "Alpha's row",
    );
    equal(rows[4]?.split(",").slice(0, 3), ["none", "", "No store"], "no store's row, last");
    equal(rows[4]?.split(",").at(-1), shown[3]!.values[3], "no store's peak, as shown");
  });

  await test("the store picker: the live view shows only that store's sessions, kept in the fragment", async () => {
    await nav(page, "Live").click();
    await page.locator("#live-rows tr").first().waitFor();
    const picker = page.locator("#view-live").getByLabel("Store", { exact: true });
    await waitFor("the picker's stores", async () => (await picker.locator("option").count()) === 4);
    equal(
      await picker.locator("option").allTextContents(),
      ["All stores", label(ALPHA), label(BETA), label(GAMMA)],
      "the picker lists every store, by name",
    );
    await picker.selectOption(ALPHA);
    await waitFor("only Alpha's sessions", async () => {
      const rows = await liveRows(page);
      return JSON.stringify(rows.map((r) => r.persona).sort()) === JSON.stringify(activeIn(ALPHA).sort());
    });
    equal(new URL(page.url()).hash, `#live&store=${ALPHA}`, "fragment");
    equal(await page.title(), `Live in ${ALPHA} · Session timeline console`, "title");
    equal(await page.locator("#live-total").textContent(), "3", "Alpha's total");
    const res = await fetch(`${BASE}/v1/sessions/active?store_id=${ALPHA}&limit=100`, { headers: { Authorization: `Bearer ${READ_KEY}` } });
    const api = ((await res.json()) as { data: { sessions: ActiveRow[]; counts_by_status: Record<string, number> } }).data;
    equal(fromUi(await liveRows(page)), asUi(api.sessions), "rows = the API's for the store");
    equal(await liveChips(page), api.counts_by_status, "chips = the store's counts");
    assert((await page.locator("#live-caption").textContent())?.includes(label(ALPHA)), "the caption names the store");
    // A status filter within the store, then the store kept when the filter is cleared.
    await page.getByRole("button", { name: "CHAT: 1" }).click();
    await waitFor("Alpha's CHAT", async () => (await liveRows(page)).length === 1);
    equal(new URL(page.url()).hash, `#live&store=${ALPHA}&status=CHAT`, "fragment with both");
    await page.reload();
    await waitFor("the bookmark reopens it", async () => (await liveRows(page)).map((r) => r.status).join() === "CHAT");
    equal(
      await page.locator("#view-live").getByLabel("Store", { exact: true }).inputValue(),
      ALPHA,
      "the picker shows the bookmark's store",
    );
    // Every store again: the status filter stays, All clears it.
    await page.locator("#view-live").getByLabel("Store", { exact: true }).selectOption("");
    await waitFor("CHAT in every store", async () => Number(await page.locator("#live-total").textContent()) > 30);
    equal(new URL(page.url()).hash, "#live&status=CHAT", "fragment without a store");
    assert(
      (await liveRows(page)).every((r) => r.status === "CHAT"),
      "still only CHAT",
    );
    await page.locator("#live-chips .chip-all").click();
    await waitFor("everyone again", async () => (await page.locator("#live-rows tr").count()) === 25);
    equal(new URL(page.url()).hash, "#live", "fragment without a filter");
  });

  await test("the store picker: the dashboard asks every figure for that store only, kept in the fragment", async () => {
    await budget(8); // the page's four, then the check's three
    await page.goto(`${BASE}/console/#dashboard&range=7d&tz=UTC`);
    // The summary changes as the load starts, and the body is busy until it is drawn.
    await waitFor(
      "the tenant's week in UTC",
      async () =>
        ((await page.locator("#dash-summary").textContent()) ?? "").includes("· UTC ·") &&
        (await page.locator("#dash-body:not([aria-busy])").count()) === 1,
    );
    dashRequests.length = 0;
    const picker = page.locator("#view-dashboard").getByLabel("Store", { exact: true });
    await waitFor("the picker's stores", async () => (await picker.locator("option").count()) === 4);
    await picker.selectOption(ALPHA);
    // Alpha's most common path is its longest (each has one session): CHAT, SHOPPING, PAYMENT.
    await waitFor("Alpha's figures", async () => {
      const days = await figureRows(page, "#visits-rows");
      return days.reduce((n, r) => n + Number(r.values[0]), 0) === 4;
    });
    await funnelShows(page, ["CHAT", "SHOPPING", "PAYMENT"]);
    equal(fragment(page), `#dashboard&store=${ALPHA}&range=7d&tz=UTC`, "fragment");
    equal(await page.title(), `Dashboard: ${ALPHA} · Session timeline console`, "title");
    assert((await page.locator("#dash-summary").textContent())?.startsWith(label(ALPHA)), "the summary names the store");
    const asked = dashRequests.map((u) => new URL(u));
    equal(
      asked.map((u) => u.pathname).sort(),
      ["/v1/analytics/dwell", "/v1/analytics/funnel", "/v1/analytics/paths", "/v1/analytics/visits"],
      "a store change asks every answer again",
    );
    for (const u of asked) equal(u.searchParams.getAll("store_id"), [ALPHA], `${u.pathname} for the store`);
    const answers = await dashboardMatchesApi(page, {
      from: week.from,
      to: week.to,
      tz: "UTC",
      interval: "day",
      steps: ["CHAT", "SHOPPING", "PAYMENT"],
      store: ALPHA,
    });
    equal(
      answers.funnel.map((x) => [x.status, x.sessions]),
      [
        ["CHAT", 3],
        ["SHOPPING", 2],
        ["PAYMENT", 1],
      ],
      "Alpha's funnel, by hand",
    );
    equal(
      answers.visits.reduce((n, b) => n + b.sessions, 0),
      4,
      "Alpha's four sessions",
    );
    // All stores again: the tenant's figures, no store filter.
    await budget(4);
    dashRequests.length = 0;
    await picker.selectOption("");
    await waitFor("the tenant's visits", async () => {
      const days = await figureRows(page, "#visits-rows");
      return days.reduce((n, r) => n + Number(r.values[0]), 0) > 30;
    });
    equal(fragment(page), "#dashboard&range=7d&tz=UTC", "fragment without a store");
    assert(
      dashRequests.every((u) => !new URL(u).searchParams.has("store_id")),
      "no store filter",
    );
  });

  await test("the Stores page fits a kiosk-sized portrait screen without sideways scrolling", async () => {
    await budget(4);
    await nav(page, "Stores").click();
    await page.locator("#board-rows tr").first().waitFor();
    await page.setViewportSize(KIOSK);
    try {
      await sleep(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      equal(overflow, 0, "horizontal overflow (px)");
      await page.screenshot({ path: join(artifacts, "console-stores-kiosk.png"), fullPage: true });
    } finally {
      await page.setViewportSize(LAPTOP);
    }
  });

  await test("no third-party requests, CSP violations or page errors", async () => {
    equal(seen.thirdParty, [], "third-party requests");
    equal(seen.cspViolations, [], "CSP violations");
    equal(seen.pageErrors, [], "page errors");
  });
  await context.close();

  // The API reference (/docs): Redoc renders the served /openapi.json with a curl sample per operation.
  await test("/docs renders every operation of /openapi.json, each with a curl sample, under its CSP", async () => {
    const before = { thirdParty: seen.thirdParty.length, csp: seen.cspViolations.length, errors: seen.pageErrors.length };
    const ctx = await browser.newContext({ viewport: LAPTOP });
    const p = await ctx.newPage();
    p.setDefaultTimeout(20_000);
    watch(p, BASE);
    const res = await p.goto(`${BASE}/docs`);
    assert(res?.ok(), `GET /docs gave ${res?.status()}`);
    equal(new URL(p.url()).pathname, "/docs/", "where /docs leads");
    const csp = res.headers()["content-security-policy"] ?? "";
    assert(csp.includes("default-src 'none'") && csp.includes("script-src 'self'") && csp.includes("connect-src 'self'"), `CSP: ${csp}`);
    assert(!/script-src[^;]*unsafe/.test(csp), `scripts stay same-origin only: ${csp}`);
    const doc = (await (await fetch(`${BASE}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId: string; tags?: string[] }>>;
    };
    const byTag = new Map<string, { id: string; path: string; method: string }[]>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const tag = op.tags?.[0] ?? "";
        byTag.set(tag, [...(byTag.get(tag) ?? []), { id: op.operationId, path, method }]);
      }
    }
    const missing: string[] = [];
    let checked = 0;
    for (const [tag, ops] of byTag) {
      const slug = tag.toLowerCase().replace(/[^a-z0-9]+/g, "-");
      await p.goto(`${BASE}/docs/#/${slug}`);
      await p.locator(`a[href="#/${slug}/${ops[0]!.id.toLowerCase()}"]`).first().waitFor();
      const links = new Set(await p.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href"))));
      for (const op of ops) {
        if (!links.has(`#/${slug}/${op.id.toLowerCase()}`)) missing.push(op.id);
        checked += 1;
      }
    }
    equal(missing, [], "operations /docs does not list");
    equal(checked, Object.values(doc.paths).flatMap((ops) => Object.keys(ops)).length, "operations checked");
    // One operation's page: its curl sample has the method, the URL with the example persona and the key header.
    await p.goto(`${BASE}/docs/#/sessions/startsession`);
    const sample = p.locator("pre, code").filter({ hasText: "curl -X POST" }).first();
    await sample.waitFor();
    const text = (await sample.textContent()) ?? "";
    assert(text.includes("/session/start") && text.includes("Authorization: Bearer $SDK_KEY"), `curl sample: ${text}`);
    await ctx.close();
    equal(seen.thirdParty.slice(before.thirdParty), [], "third-party requests from /docs");
    equal(seen.cspViolations.slice(before.csp), [], "CSP violations on /docs");
    equal(seen.pageErrors.slice(before.errors), [], "page errors on /docs");
  });

  await test("a wrong key shows the 401 state in the live view", async () => {
    const ctx = await browser.newContext({ viewport: LAPTOP });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    await p.goto(`${BASE}/console/`);
    await p.getByLabel("SDK key").fill("sk_wrong_0123456789abcdefghijklmnopqrstuvwxyzABCD");
    await p.getByRole("button", { name: "Use key" }).click();
    const notice = p.locator('#notice[data-kind="unauthorized"]');
    await notice.waitFor();
    const text = await notice.textContent();
    assert(text?.includes("401 UNAUTHORIZED") && text.includes("read-only"), `401 notice: ${text}`);
    equal(await p.locator("#live-state").textContent(), "Not authorised: no data shown.", "live state");
    assert(await p.locator("#live-body").isHidden(), "no counts or table");
    equal(await p.evaluate(() => sessionStorage.length), 0, "refused key not kept");
    equal(await p.evaluate(() => document.activeElement?.id), "key", "focus on the key field");
    // The right key then works without reloading.
    await p.getByLabel("SDK key").fill(READ_KEY);
    await p.getByRole("button", { name: "Use key" }).click();
    await p.locator("#live-rows tr").first().waitFor();
    assert(await p.locator("#notice").isHidden(), "notice cleared");
    await ctx.close();
  });

  await test("the dashboard's time zone defaults to the browser's", async () => {
    const ctx = await browser.newContext({ viewport: KIOSK, locale: "en-US", timezoneId: "America/New_York" });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    watch(p, BASE);
    await budget(3);
    await p.goto(`${BASE}/console/#dashboard`);
    await p.getByLabel("SDK key").fill(READ_KEY);
    await p.getByRole("button", { name: "Use key" }).click();
    await waitFor("figures", async () => (await p.locator("#visits-rows tr").count()) === 7);
    equal(await p.getByLabel("Time zone", { exact: true }).inputValue(), "America/New_York", "time zone field");
    equal(await p.getByRole("button", { name: "Last 7 days" }).getAttribute("aria-pressed"), "true", "Last 7 days by default");
    assert(await p.getByLabel("Day", { exact: true }).isChecked(), "per day by default");
    const today = zoneDate(Date.now(), "America/New_York");
    equal(await p.getByLabel("To (included)").inputValue(), today, "today in New York");
    equal(
      (await figureRows(p, "#visits-rows")).map((r) => r.title.slice(0, 10)),
      Array.from({ length: 7 }, (_, i) => plusDays(today, i - 6)),
      "the buckets are New York's days",
    );
    equal(new URL(p.url()).hash, "#dashboard", "defaults stay out of the fragment");
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    equal(overflow, 0, "no sideways scrolling on a kiosk-sized screen");
    await p.screenshot({ path: join(artifacts, "console-dashboard-kiosk.png"), fullPage: true });
    equal(seen.thirdParty, [], "third-party requests");
    equal(seen.cspViolations, [], "CSP violations");
    equal(seen.pageErrors, [], "page errors");
    await ctx.close();
  });

  await test("a wrong key shows the 401 state in the dashboard", async () => {
    const ctx = await browser.newContext({ viewport: LAPTOP });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15_000);
    await p.goto(`${BASE}/console/#dashboard&range=today`);
    await p.getByLabel("SDK key").fill("sk_wrong_0123456789abcdefghijklmnopqrstuvwxyzABCD");
    await p.getByRole("button", { name: "Use key" }).click();
    await p.locator('#notice[data-kind="unauthorized"]').waitFor();
    equal(await p.locator("#dash-state").textContent(), "Not authorised: no data shown.", "dashboard state");
    assert(await p.locator("#dash-body").isHidden(), "no figures");
    equal(await p.evaluate(() => sessionStorage.length), 0, "refused key not kept");
    await ctx.close();
  });

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
    assert(await p.locator("#current-view").isHidden(), "no timeline drawn");
    equal(await p.evaluate(() => sessionStorage.length), 0, "refused key not kept");
    await p.screenshot({ path: join(artifacts, "console-401.png") });
    await ctx.close();
  });
}

await main();
log(`${results.passed} passed, ${results.failed} failed`);
process.exit(results.failed === 0 && results.passed > 0 ? 0 : 1);
