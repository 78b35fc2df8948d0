// Every analytics route against a brute-force computation over the raw sessions, on randomized
// fixtures (three seeds, 1,500 sessions each): drop-offs, loops, repeated labels, zero gaps,
// sessions active, idle-ended and client-ended, stores in zones with DST changes in the range,
// sessions with no store, and index messages delivered shuffled, duplicated and partly stale.
// Counts and sums must be equal; medians and p90s within the stated 1% (docs/index-and-analytics.md).
// The oracle is written from the docs' definitions, not from src/tenant-index/analytics.ts.
import { env } from "cloudflare:workers";
import type { Dwell, Funnel, Visits } from "@persona-session/client";
import { describe, expect, it, vi } from "vitest";
import { uuidv7 } from "../src/ids";
import { applyIndexMessages } from "../src/tenant-index/consumer";
import type { IndexMessage, SessionDelta } from "../src/tenant-index/messages";
import { admin, api, newKey, newTenant, random, sleep, wallClock } from "./helpers";

vi.setConfig({ testTimeout: 120_000 });

const HOUR = 3_600_000;
/** Around the autumn DST ends in Europe (10-25) and the US (11-01); Lord Howe changed on 10-04. */
const FROM = Date.UTC(2026, 9, 20);
const TO = Date.UTC(2026, 10, 4);
const ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"];
const COUNTRIES = ["FR", "US", "AU", "IN"];
/** 120 stores: past the 100 groups an answer lists, so "other" holds real stores. */
const STORES = Array.from({ length: 120 }, (_, i) => ({
  store_id: `s-${i}`,
  name: `Store ${i}`,
  time_zone: ZONES[i % ZONES.length]!,
  country: COUNTRIES[i % COUNTRIES.length]!,
  tags: [`region:${i % 3}`],
}));
const LABELS = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE", "HELP"];

interface Visit {
  persona: string;
  id: string;
  store: string | null;
  kiosk: string;
  labels: string[];
  times: number[];
  ended: number | null;
  reason: "client" | "idle_timeout" | null;
}

/** A shopper's walk: mostly forward through the funnel, with loops back, help, repeats and drop-offs. */
function fixture(seed: number, n: number): Visit[] {
  const rand = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const out: Visit[] = [];
  for (let k = 0; k < n; k++) {
    const started = FROM + Math.floor(rand() * (TO - FROM - 6 * HOUR));
    const labels = ["ENTER"];
    const times = [started];
    let step = 0;
    let t = started;
    while (labels.length < 12 && rand() < 0.8) {
      const r = rand();
      const label = r < 0.6 ? LABELS[Math.min(step, 3)]! : r < 0.8 ? pick(LABELS) : labels[labels.length - 1]!;
      if (r < 0.6) step++;
      // Zero gaps too (two stamps in one millisecond), long ones, and whole 5 minutes, so that
      // times land exactly on the within_seconds bounds asked below (300 s, 1800 s).
      const g = rand();
      t += g < 0.05 ? 0 : g < 0.35 ? 300_000 : Math.floor(rand() * rand() * 1_800_000);
      labels.push(label);
      times.push(t);
    }
    const fate = rand();
    const ended = fate < 0.6 ? t + Math.floor(rand() * 300_000) : fate < 0.85 ? t + 2 * HOUR : null;
    out.push({
      persona: `o${seed}-${k}`,
      id: uuidv7(started),
      store: rand() < 0.1 ? null : pick(STORES).store_id,
      kiosk: `k${Math.floor(rand() * 4)}`,
      labels,
      times,
      ended,
      reason: fate < 0.6 ? "client" : fate < 0.85 ? "idle_timeout" : null,
    });
  }
  return out;
}

/** The session as the persona object would tell the index, with its first `count` stamps. */
function delta(v: Visit, count: number): SessionDelta {
  const whole = count === v.labels.length;
  return {
    id: v.id,
    started_at: v.times[0]!,
    ended_at: whole ? v.ended : null,
    end_reason: whole ? v.reason : null,
    stamp_count: count,
    last_status: v.labels[count - 1]!,
    last_ts: v.times[count - 1]!,
    idle_at: null,
    store_id: v.store,
    kiosk_id: v.kiosk,
    stamps: v.labels.slice(0, count).map((label, i) => [i + 1, label, v.times[i]!]),
  };
}

/** Applies the fixture through the index's write path: shuffled, a third duplicated, a third preceded or followed by a stale partial state. */
async function seed(tenant: string, visits: Visit[], seedNo: number) {
  const rand = random(seedNo * 7919);
  const bodies: IndexMessage[] = [];
  const message = (v: Visit, d: SessionDelta): IndexMessage => ({ v: 1, tenant, changes: [{ persona: v.persona, sessions: [d] }] });
  for (const v of visits) {
    bodies.push(message(v, delta(v, v.labels.length)));
    const r = rand();
    if (r < 0.33) bodies.push(message(v, delta(v, v.labels.length)));
    else if (r < 0.66) bodies.push(message(v, delta(v, 1 + Math.floor(rand() * v.labels.length))));
  }
  for (let i = bodies.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
  }
  for (let i = 0; i < bodies.length; i += 100)
    await applyIndexMessages(
      bodies.slice(i, i + 100).map((body) => ({ body })),
      env,
    );
}

// ---- The oracle ------------------------------------------------------------------------------

// The answers' shapes, from the typed client (generated from the served OpenAPI document).
type FunnelStep = Funnel["steps"][number];
type DwellStatus = Dwell["statuses"][number];
type VisitBucket = Visits["buckets"][number];

function exactQuantiles(values: number[]) {
  if (values.length === 0) return { median: null, p90: null };
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[(sorted.length - 1) >> 1]! / 1000, p90: sorted[Math.ceil(0.9 * sorted.length) - 1]! / 1000 };
}

/** Within 1% of the exact figure (both null when there are no values). */
function expectNear(got: number | null, want: number | null, what: string) {
  if (want === null || got === null) {
    expect(got, what).toBe(want);
    return;
  }
  if (want === 0) expect(got, what).toBe(0);
  else expect(Math.abs(got - want) / Math.abs(want), `${what}: ${got} for ${want}`).toBeLessThanOrEqual(0.01);
}

function funnelOracle(visits: Visit[], steps: string[], withinMs: number | null) {
  const reached = steps.map(() => 0);
  const gaps: number[][] = steps.map(() => []);
  for (const v of visits) {
    let at = -1;
    for (let k = 0; k < steps.length; k++) {
      let i = at + 1;
      while (i < v.labels.length && v.labels[i] !== steps[k]) i++;
      if (i === v.labels.length) break;
      if (k > 0 && withinMs !== null && v.times[i]! - v.times[v.labels.indexOf(steps[0]!)]! > withinMs) break;
      reached[k]! += 1;
      if (k > 0) gaps[k]!.push(v.times[i]! - v.times[at]!);
      at = i;
    }
  }
  return { reached, gaps };
}

function expectFunnel(got: FunnelStep[], visits: Visit[], steps: string[], withinMs: number | null, what: string) {
  const want = funnelOracle(visits, steps, withinMs);
  expect(
    got.map((s) => s.sessions),
    `${what}: sessions per step`,
  ).toEqual(want.reached);
  got.forEach((s, k) => {
    const q = exactQuantiles(want.gaps[k]!);
    expectNear(s.median_seconds_from_previous, k === 0 ? null : q.median, `${what}: step ${k} median`);
    expectNear(s.p90_seconds_from_previous, k === 0 ? null : q.p90, `${what}: step ${k} p90`);
  });
}

function dwellOracle(visits: Visit[]) {
  const values = new Map<string, number[]>();
  const add = (label: string, ms: number) => values.set(label, [...(values.get(label) ?? []), ms]);
  for (const v of visits) {
    for (let i = 0; i + 1 < v.labels.length; i++) add(v.labels[i]!, v.times[i + 1]! - v.times[i]!);
    if (v.reason === "client") add(v.labels[v.labels.length - 1]!, v.ended! - v.times[v.times.length - 1]!);
  }
  return values;
}

function expectDwell(got: DwellStatus[], visits: Visit[], what: string) {
  const want = dwellOracle(visits);
  expect(
    got.map((s) => [s.status, s.visits]),
    `${what}: statuses, most visits first`,
  ).toEqual([...want].map(([status, list]) => [status, list.length]).sort((a, b) => +b[1]! - +a[1]! || (a[0]! < b[0]! ? -1 : 1)));
  for (const s of got) {
    const list = want.get(s.status)!;
    expect(s.total_seconds, `${what}: ${s.status} total`).toBeCloseTo(list.reduce((a, b) => a + b, 0) / 1000, 6);
    const q = exactQuantiles(list);
    expectNear(s.median_seconds, q.median, `${what}: ${s.status} median`);
    expectNear(s.p90_seconds, q.p90, `${what}: ${s.status} p90`);
  }
}

/** The answer's groups for a grouping of the sessions: by size, ties by key (null last), then "other". */
interface GroupBase {
  key: string | null;
  other: boolean;
  groups: number;
}

function expectGroups<G>(
  got: (GroupBase & G)[],
  visits: Visit[],
  keyOf: (v: Visit) => string | null,
  size: (vs: Visit[]) => number,
  check: (g: G, vs: Visit[], what: string) => void,
  what: string,
) {
  const by = new Map<string | null, Visit[]>();
  for (const v of visits) by.set(keyOf(v), [...(by.get(keyOf(v)) ?? []), v]);
  const ranked = [...by].sort(
    (a, b) => size(b[1]) - size(a[1]) || (a[0] === null ? 1 : b[0] === null ? -1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  const top = ranked.slice(0, 100);
  const rest = ranked.slice(100);
  expect(
    got.map((g) => g.key),
    `${what}: group keys`,
  ).toEqual([...top.map(([k]) => k), ...(rest.length ? ["other"] : [])]);
  top.forEach(([key, vs], i) => {
    check(got[i]!, vs, `${what}: group ${key}`);
  });
  if (rest.length) {
    const other = got[got.length - 1]!;
    expect(other).toMatchObject({ other: true, groups: rest.length });
    check(
      other,
      rest.flatMap(([, vs]) => vs),
      `${what}: other`,
    );
  }
}

const duration = (v: Visit) =>
  v.ended === null ? null : (v.reason === "idle_timeout" ? v.times[v.times.length - 1]! : v.ended) - v.times[0]!;

/** Visits per bucket, each session in the bucket `bucketOf` names (null: none listed). */
function expectVisits(got: VisitBucket[], visits: Visit[], bucketOf: (v: Visit) => string, what: string) {
  const by = new Map<string, Visit[]>();
  for (const v of visits) by.set(bucketOf(v), [...(by.get(bucketOf(v)) ?? []), v]);
  expect(
    got.reduce((n, b) => n + b.sessions, 0),
    `${what}: every session in a bucket`,
  ).toBe(visits.length);
  for (const b of got) {
    const vs = by.get(b.start) ?? [];
    expect(b.sessions, `${what}: ${b.start}`).toBe(vs.length);
    const durations = vs.map(duration).filter((d): d is number => d !== null);
    expectNear(b.median_duration_seconds, exactQuantiles(durations).median, `${what}: ${b.start} median`);
  }
}

/** Peak and time-weighted average of concurrent sessions in [lo, hi), by sweeping every instant a session starts. */
function concurrencyOracle(visits: Visit[], lo: number, hi: number) {
  const spans = visits
    .map((v) => {
      const end = v.ended === null ? hi : v.reason === "idle_timeout" ? v.times[v.times.length - 1]! : v.ended;
      return [Math.max(lo, v.times[0]!), Math.min(hi, end)] as const;
    })
    .filter(([a, b]) => b > a);
  const present = (t: number) => spans.filter(([a, b]) => a <= t && t < b).length;
  let peak = present(lo);
  for (const [a] of spans) peak = Math.max(peak, present(a));
  const area = spans.reduce((n, [a, b]) => n + (b - a), 0);
  return { peak, average: Math.round((area / (hi - lo)) * 10_000) / 10_000 };
}

// ---- The routes ------------------------------------------------------------------------------

const RANGE = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;
const inRange = (visits: Visit[]) => visits.filter((v) => v.times[0]! >= FROM && v.times[0]! < TO);
const storeOf = (id: string | null) => STORES.find((s) => s.store_id === id);

describe.each([1, 2, 3])("analytics against brute force, seed %i", async (seedNo) => {
  const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "oracle");
  for (let i = 0; i < STORES.length; i += 60) {
    expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores: STORES.slice(i, i + 60) } })).status).toBe(200);
  }
  const key = (await newKey(tenant, "read")).key;
  const visits = fixture(seedNo, 1500);
  await seed(tenant, visits, seedNo);
  const all = inRange(visits);
  // Each query its own `to` within a millisecond of TO would change nothing here: the cache is keyed
  // by the arguments, and each query below is distinct.
  const get = async (path: string) => {
    const res = await api(path, { key });
    expect(res.status, `${path}: ${JSON.stringify(res.json).slice(0, 300)}`).toBe(200);
    return res.json.data;
  };
  // The index applied every message before seed() returned; nothing to wait for but the registry cache.
  await sleep(0);

  it("funnel: counts exact and gaps within 1%, with and without within_seconds, grouped by store", async () => {
    const steps = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
    const q = steps.map((s) => `step=${s}`).join("&");
    expectFunnel((await get(`/v1/analytics/funnel?${q}&${RANGE}`)).steps, all, steps, null, "funnel");
    expectFunnel((await get(`/v1/analytics/funnel?${q}&within_seconds=300&${RANGE}`)).steps, all, steps, 300_000, "funnel within");
    // A repeated label as two steps: the second is the next occurrence after the first.
    const loop = ["CHAT", "SHOPPING", "CHAT"];
    expectFunnel((await get(`/v1/analytics/funnel?step=CHAT&step=SHOPPING&step=CHAT&${RANGE}`)).steps, all, loop, null, "funnel loop");
    const grouped = await get(`/v1/analytics/funnel?${q}&within_seconds=1800&group_by=store&${RANGE}`);
    expectFunnel(grouped.steps, all, steps, 1_800_000, "grouped totals");
    expectGroups(
      grouped.groups,
      all,
      (v) => v.store,
      (vs) => funnelOracle(vs, steps, 1_800_000).reached[0]!,
      (g: { steps: FunnelStep[] }, vs, what) => expectFunnel(g.steps, vs, steps, 1_800_000, what),
      "funnel by store",
    );
  });

  it("funnel: filters by stores, tag and kiosk are the same sessions as brute force picks", async () => {
    const steps = ["ENTER", "CHAT", "PAYMENT"];
    const q = steps.map((s) => `step=${s}`).join("&");
    const picked = all.filter((v) => (v.store === "s-1" || v.store === "s-7") && v.kiosk === "k2");
    expectFunnel(
      (await get(`/v1/analytics/funnel?${q}&store_id=s-1&store_id=s-7&kiosk_id=k2&${RANGE}`)).steps,
      picked,
      steps,
      null,
      "stores+kiosk",
    );
    const tagged = all.filter((v) => storeOf(v.store)?.tags.includes("region:1"));
    expectFunnel((await get(`/v1/analytics/funnel?${q}&tag=region:1&${RANGE}`)).steps, tagged, steps, null, "tag");
  });

  it("dwell: visits and totals exact, medians and p90s within 1%, grouped by store and by country", async () => {
    expectDwell((await get(`/v1/analytics/dwell?${RANGE}`)).statuses, all, "dwell");
    const byStore = await get(`/v1/analytics/dwell?group_by=store&${RANGE}`);
    const check = (g: { sessions: number; statuses: DwellStatus[] }, vs: Visit[], what: string) => {
      expect(g.sessions, `${what}: sessions`).toBe(vs.length);
      expectDwell(g.statuses, vs, what);
    };
    expectGroups(
      byStore.groups,
      all,
      (v) => v.store,
      (vs) => vs.length,
      check,
      "dwell by store",
    );
    const byCountry = await get(`/v1/analytics/dwell?group_by=country&${RANGE}`);
    expectGroups(
      byCountry.groups,
      all,
      (v) => storeOf(v.store)?.country ?? null,
      (vs) => vs.length,
      check,
      "dwell by country",
    );
    // A range that starts and ends inside a day: whole days come from summaries, the edges from a scan.
    const from = FROM + 5 * HOUR + 123;
    const to = TO - 7 * HOUR - 45;
    const edged = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const inEdged = all.filter((v) => v.times[0]! >= from && v.times[0]! < to);
    expectDwell((await get(`/v1/analytics/dwell?${edged}`)).statuses, inEdged, "dwell, partial days at the edges");
    expectGroups(
      (await get(`/v1/analytics/dwell?group_by=store&${edged}`)).groups,
      inEdged,
      (v) => v.store,
      (vs) => vs.length,
      check,
      "dwell by store, partial days at the edges",
    );
  });

  it("visits: per local day across DST in one zone, and per local hour in each store's zone grouped by store", async () => {
    const days = await get(`/v1/analytics/visits?interval=day&tz=America/New_York&${RANGE}`);
    // A bucket's label is its start with the offset: the session's local date names it.
    const dayLabel = (v: Visit) =>
      days.buckets.find((b: VisitBucket) => b.start.startsWith(wallClock(v.times[0]!, "America/New_York", "day").slice(0, 10)))?.start;
    expectVisits(days.buckets, all, (v) => dayLabel(v) ?? "none", "visits by day");
    const local = await get(`/v1/analytics/visits?interval=hour&tz=store&fallback_tz=Asia/Kolkata&group_by=store&${RANGE}`);
    const hourOf = (v: Visit) => wallClock(v.times[0]!, storeOf(v.store)?.time_zone ?? "Asia/Kolkata", "hour");
    expectVisits(local.buckets, all, hourOf, "visits tz=store");
    // The whole range's figures, at the top and per group.
    const expectRange = (got: { sessions: number; median_duration_seconds: number | null }, vs: Visit[], what: string) => {
      expect(got.sessions, `${what}: sessions`).toBe(vs.length);
      const durations = vs.map(duration).filter((d): d is number => d !== null);
      expectNear(got.median_duration_seconds, exactQuantiles(durations).median, `${what}: median over the range`);
    };
    expectRange(local, all, "visits");
    expectRange(days, all, "visits by day");
    expectGroups(
      local.groups,
      all,
      (v) => v.store,
      (vs) => vs.length,
      (g: { buckets: VisitBucket[]; sessions: number; median_duration_seconds: number | null }, vs, what) => {
        expectVisits(g.buckets, vs, hourOf, what);
        expectRange(g, vs, what);
      },
      "visits tz=store by store",
    );
  });

  it("occupancy: the exact peak and time-weighted average per hour, tenant-wide, for one store, and grouped by store", async () => {
    // 36 hours across the European change: sessions from before `from` (within the lookback) count.
    const from = Date.UTC(2026, 9, 24, 12);
    const to = from + 36 * HOUR;
    const range = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const expectHours = (buckets: { peak: number; average: number }[], picked: Visit[], what: string) => {
      expect(buckets).toHaveLength(36);
      buckets.forEach((b, i) => {
        expect(b, `${what} hour ${i}`).toEqual({
          start: expect.any(String),
          ...concurrencyOracle(picked, from + i * HOUR, from + (i + 1) * HOUR),
        });
      });
    };
    expectHours((await get(`/v1/analytics/occupancy?interval=hour&${range}`)).buckets, visits, "occupancy");
    const one = visits.filter((v) => v.store === "s-5");
    expectHours((await get(`/v1/analytics/occupancy?interval=hour&store_id=s-5&${range}`)).buckets, one, "occupancy of s-5");
    // Grouped: ranked by sessions present at some instant of the range.
    const present = visits.filter((v) => {
      const end = v.ended === null ? to : v.reason === "idle_timeout" ? v.times[v.times.length - 1]! : v.ended;
      return Math.min(to, end) > Math.max(from, v.times[0]!);
    });
    const grouped = await get(`/v1/analytics/occupancy?interval=hour&group_by=store&${range}`);
    expectHours(grouped.buckets, visits, "grouped totals");
    expectGroups(
      grouped.groups,
      present,
      (v) => v.store,
      (vs) => vs.length,
      (g: { sessions: number; buckets: { peak: number; average: number }[] }, vs, what) => {
        expect(g.sessions, `${what}: sessions present`).toBe(vs.length);
        expectHours(g.buckets, vs, what);
      },
      "occupancy by store",
    );
  });

  it("occupancy across a month boundary: each month's shard sweeps its own, with the presence the month before carries in", async () => {
    // Hours either side of Nov 1, 00:00 UTC, and local days in New York around it (Nov 1 is its
    // 25-hour fall-back day, and its local day straddles the two months' shards).
    const boundary = Date.UTC(2026, 10, 1);
    const crossing = visits.filter((v) => {
      const end = v.ended === null ? TO : v.reason === "idle_timeout" ? v.times[v.times.length - 1]! : v.ended;
      return v.times[0]! < boundary && end > boundary;
    });
    expect(crossing.length, "sessions present at the boundary").toBeGreaterThan(0);
    const check = async (path: string, picked: Visit[], what: string, from: number, to: number, n: number) => {
      const data = await get(`/v1/analytics/occupancy?${path}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`);
      const starts = data.buckets.map((b: { start: string }) => Math.max(from, Date.parse(b.start)));
      expect(data.buckets, what).toHaveLength(n);
      data.buckets.forEach((b: { peak: number; average: number }, i: number) => {
        expect(b, `${what}: bucket ${i}`).toEqual({
          start: expect.any(String),
          ...concurrencyOracle(picked, starts[i], starts[i + 1] ?? to),
        });
      });
      return data;
    };
    const from = boundary - 6 * HOUR;
    const to = boundary + 6 * HOUR;
    await check("interval=hour", visits, "hours", from, to, 12);
    const grouped = await check("interval=hour&group_by=store", visits, "hours, grouped totals", from, to, 12);
    for (const g of grouped.groups.filter((g: { other: boolean }) => !g.other).slice(0, 10)) {
      const mine = visits.filter((v) => v.store === g.key);
      g.buckets.forEach((b: { peak: number; average: number }, i: number) => {
        expect(b, `store ${g.key} hour ${i}`).toEqual({
          start: expect.any(String),
          ...concurrencyOracle(mine, from + i * HOUR, from + (i + 1) * HOUR),
        });
      });
    }
    await check("interval=day&tz=America/New_York", visits, "New York days", Date.UTC(2026, 9, 30, 4), Date.UTC(2026, 10, 3, 5), 4);
  });

  it("paths: each distinct path of first labels with its exact count", async () => {
    const data = await get(`/v1/analytics/paths?limit=50&${RANGE}`);
    const counts = new Map<string, number>();
    for (const v of all) {
      const p = v.labels.slice(0, 10).join(">");
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    expect(data.sessions).toBe(all.length);
    for (const p of data.paths) expect(p.sessions, p.labels.join(">")).toBe(counts.get(p.labels.join(">")));
    const want = [...counts.values()].sort((a, b) => b - a).slice(0, 50);
    expect(data.paths.map((p: { sessions: number }) => p.sessions)).toEqual(want);
  });
});
