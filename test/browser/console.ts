// npm run test:e2e: the session timeline console in headless Chromium (Debian's `chromium`,
// driven by playwright-core). Starts `npm run dev` on a free port with throwaway state in its own
// process group, seeds sessions through the API, drives /console/, and stops everything.
// Last line of output: "N passed, N failed". Exit code 0 only when nothing failed.
//
//   CHROMIUM=/usr/bin/chromium      browser to drive (default /usr/bin/chromium)
//   E2E_ARTIFACTS=dir               where screenshots and the dev log go (default: a new tmp dir)
//   E2E_UPDATE_DOCS=1               also write the laptop screenshots to docs/console-live.png (the live
//                                   view) and docs/console.png (a persona timeline)
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
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

/** The first page's rows as the API orders them, in the shape the table shows. */
const asUi = (rows: ActiveRow[]) => rows.map((r) => [r.persona_id, r.status, String(r.stamp_count)]);
const fromUi = (rows: UiRow[]) => rows.map((r) => [r.persona, r.status, r.stamps]);

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
      // The README's picture: the form and the active session panel only, to keep the PNG small.
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

  await test("no third-party requests, CSP violations or page errors", async () => {
    equal(seen.thirdParty, [], "third-party requests");
    equal(seen.cspViolations, [], "CSP violations");
    equal(seen.pageErrors, [], "page errors");
  });
  await context.close();

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
log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
