// Analytics by store: filters (store_id, tag, kiosk_id), group_by (store, kiosk, country, tag) with
// the groups adding up to the totals, the "other" group past 100, and visits in each store's own
// time zone across DST changes, each checked against a brute-force computation over the fixture.
import { describe, expect, it, vi } from "vitest";
import { admin, api, base, newKey, newTenant, personaId, sleep, wallClock } from "./helpers";

vi.setConfig({ testTimeout: 60_000 });

const STORES = [
  { store_id: "par-1", name: "Paris 1", time_zone: "Europe/Paris", country: "FR", tags: ["region:eu", "mall"] },
  { store_id: "par-2", name: "Paris 2", time_zone: "Europe/Paris", country: "FR", tags: ["region:eu"] },
  { store_id: "nyc-1", name: "New York", time_zone: "America/New_York", country: "US", tags: ["region:us", "mall"] },
  { store_id: "del-1", name: "Delhi", time_zone: "Asia/Kolkata", country: "IN", tags: [] },
];

/** Around both autumn DST ends: Europe 2026-10-25 01:00Z, the US 2026-11-01 06:00Z. */
const FROM = Date.UTC(2026, 9, 24);
const TO = Date.UTC(2026, 10, 3);
const RANGE = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;
const PATHS = [["CHAT", "SHOPPING", "PAYMENT"], ["SHOPPING"], ["CHAT", "PAYMENT"], ["CHAT", "SHOPPING", "CHAT", "PAYMENT"], []];

interface Visit {
  store: string | null;
  kiosk: string | null;
  start: number;
  path: string[];
  end: number;
}

/** Sessions spread over the range and the stores (some with no store), every 5 h 17 min. */
function fixture(): Visit[] {
  const visits: Visit[] = [];
  for (let i = 0, t = FROM + 1_800_000; t < TO - 3_600_000; i++, t += 19_020_000) {
    const store = i % 6 === 5 ? null : STORES[i % STORES.length]!.store_id;
    visits.push({ store, kiosk: `k${i % 3}`, start: t, path: PATHS[i % PATHS.length]!, end: t + 600_000 + (i % 4) * 60_000 });
  }
  return visits;
}

async function record(key: string, v: Visit) {
  const persona = personaId("an");
  const body: Record<string, unknown> = { occurred_at: new Date(v.start).toISOString(), kiosk_id: v.kiosk };
  if (v.store) body.store_id = v.store;
  const started = await api(`${base(persona)}/session/start`, { method: "POST", key, body });
  expect(started.status).toBe(201);
  if (v.path.length) {
    const stamps = v.path.map((status, j) => ({ status, occurred_at: new Date(v.start + (j + 1) * 60_000).toISOString() }));
    expect((await api(`${base(persona)}/session/stamps`, { method: "POST", key, body: { stamps } })).status).toBe(201);
  }
  expect(
    (await api(`${base(persona)}/session/end`, { method: "POST", key, body: { occurred_at: new Date(v.end).toISOString() } })).status,
  ).toBe(200);
}

/** A tenant with the stores and the fixture recorded, once the index holds every session. */
async function seeded() {
  const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 });
  expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores: STORES } })).status).toBe(200);
  const key = (await newKey(tenant, "write")).key;
  const visits = fixture();
  for (let i = 0; i < visits.length; i += 8) await Promise.all(visits.slice(i, i + 8).map((v) => record(key, v)));
  for (let i = 0; i < 100; i++) {
    const res = await api(`/v1/analytics/visits?${RANGE}`, { key });
    if (res.json.data.buckets.reduce((n: number, b: { sessions: number }) => n + b.sessions, 0) === visits.length) break;
    await sleep(100);
  }
  return { key, visits };
}

/** Brute force: sessions reaching each step in order (earliest match after the previous step). */
function funnelOf(visits: Visit[], steps: string[]) {
  const reached = steps.map(() => 0);
  for (const v of visits) {
    const labels = ["ENTER", ...v.path];
    let at = -1;
    for (let k = 0; k < steps.length; k++) {
      const i = labels.indexOf(steps[k]!, at + 1);
      if (i < 0) break;
      reached[k]! += 1;
      at = i;
    }
  }
  return reached;
}

const zoneOf = (store: string | null, fallback: string) => STORES.find((s) => s.store_id === store)?.time_zone ?? fallback;
const STEPS = ["ENTER", "CHAT", "SHOPPING", "PAYMENT"];
const stepQuery = STEPS.map((s) => `step=${s}`).join("&");

describe("analytics by store", async () => {
  const { key, visits } = await seeded();

  it("filters the funnel by store_id (repeated), tag and kiosk_id, exactly as a brute-force count", async () => {
    const cases: [string, Visit[]][] = [
      ["", visits],
      ["&store_id=par-1", visits.filter((v) => v.store === "par-1")],
      ["&store_id=par-1&store_id=nyc-1", visits.filter((v) => v.store === "par-1" || v.store === "nyc-1")],
      ["&tag=mall", visits.filter((v) => v.store === "par-1" || v.store === "nyc-1")],
      ["&tag=region:eu&store_id=par-2&store_id=del-1", visits.filter((v) => v.store === "par-2")],
      ["&kiosk_id=k1", visits.filter((v) => v.kiosk === "k1")],
      ["&tag=no-such-tag", []],
    ];
    for (const [filter, expected] of cases) {
      const res = await api(`/v1/analytics/funnel?${stepQuery}&${RANGE}${filter}`, { key });
      expect(res.status, filter).toBe(200);
      expect(
        res.json.data.steps.map((s: { sessions: number }) => s.sessions),
        filter,
      ).toEqual(funnelOf(expected, STEPS));
      expect(res.json.data.groups, filter).toBeUndefined();
    }
  });

  it.each(["store", "kiosk", "country", "tag"] as const)(
    "group_by=%s: each group is a brute-force count of its sessions, and they add up to the totals",
    async (by) => {
      const keyOf = (v: Visit): string | null => {
        const store = STORES.find((s) => s.store_id === v.store);
        if (by === "store") return v.store;
        if (by === "kiosk") return v.kiosk;
        if (by === "country") return store?.country ?? null;
        return store?.tags[0] ?? null;
      };
      const funnel = await api(`/v1/analytics/funnel?${stepQuery}&${RANGE}&group_by=${by}`, { key });
      expect(funnel.status).toBe(200);
      const groups = funnel.json.data.groups as {
        key: string | null;
        name: string | null;
        other: boolean;
        steps: { sessions: number }[];
      }[];
      const expectedKeys = [...new Set(visits.map(keyOf))];
      expect(groups.map((g) => g.key).sort()).toEqual([...expectedKeys].sort());
      for (const g of groups) {
        expect(g.other).toBe(false);
        expect(
          g.steps.map((s) => s.sessions),
          String(g.key),
        ).toEqual(
          funnelOf(
            visits.filter((v) => keyOf(v) === g.key),
            STEPS,
          ),
        );
      }
      STEPS.forEach((_, k) => {
        expect(groups.reduce((n, g) => n + g.steps[k]!.sessions, 0)).toBe(funnel.json.data.steps[k].sessions);
      });
      // Largest first.
      const sizes = groups.map((g) => g.steps[0]!.sessions);
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
      if (by === "store") expect(groups.find((g) => g.key === "par-1")?.name).toBe("Paris 1");
      if (by === "country") expect(groups.find((g) => g.key === "FR")?.name).toBe("France");

      const dwell = await api(`/v1/analytics/dwell?${RANGE}&group_by=${by}`, { key });
      const dg = dwell.json.data.groups as { key: string | null; sessions: number; statuses: { status: string; visits: number }[] }[];
      expect(dg.reduce((n, g) => n + g.sessions, 0)).toBe(visits.length);
      for (const status of dwell.json.data.statuses as { status: string; visits: number }[]) {
        expect(dg.reduce((n, g) => n + (g.statuses.find((s) => s.status === status.status)?.visits ?? 0), 0)).toBe(status.visits);
      }
      const visitsRes = await api(`/v1/analytics/visits?${RANGE}&group_by=${by}`, { key });
      const vg = visitsRes.json.data.groups as { key: string | null; buckets: { sessions: number }[] }[];
      visitsRes.json.data.buckets.forEach((b: { sessions: number }, i: number) => {
        expect(vg.reduce((n, g) => n + g.buckets[i]!.sessions, 0)).toBe(b.sessions);
      });
      for (const g of vg) {
        expect(g.buckets.reduce((n, b) => n + b.sessions, 0)).toBe(visits.filter((v) => keyOf(v) === g.key).length);
      }
    },
  );

  it("tz=store buckets each session in its own store's zone across the DST changes, wall-clock labels summed across stores", async () => {
    for (const fallback of ["UTC", "Asia/Tokyo"]) {
      const res = await api(`/v1/analytics/visits?${RANGE}&interval=hour&tz=store&fallback_tz=${fallback}`, { key });
      expect(res.status).toBe(200);
      expect(res.json.data).toMatchObject({ tz: "store", fallback_tz: fallback, interval: "hour" });
      const got = new Map<string, number>();
      for (const b of res.json.data.buckets as { start: string; sessions: number }[]) {
        expect(b.start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00$/);
        if (b.sessions) got.set(b.start, b.sessions);
      }
      const expected = new Map<string, number>();
      for (const v of visits) {
        const label = wallClock(v.start, zoneOf(v.store, fallback));
        expected.set(label, (expected.get(label) ?? 0) + 1);
      }
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
      // Labels are consecutive wall-clock hours (no gaps, no repeats), whatever the zones' DST.
      const labels = (res.json.data.buckets as { start: string }[]).map((b) => Date.parse(`${b.start}:00Z`));
      for (let i = 1; i < labels.length; i++) expect(labels[i]! - labels[i - 1]!).toBe(3_600_000);
    }
    const days = await api(`/v1/analytics/visits?${RANGE}&interval=day&tz=store`, { key });
    expect(days.json.data.buckets.reduce((n: number, b: { sessions: number }) => n + b.sessions, 0)).toBe(visits.length);
    expect(days.json.data.buckets[0].start).toMatch(/T00:00$/);
  });

  it("counts the most common paths exactly, per store filter, with shares", async () => {
    for (const [filter, chosen] of [
      ["", visits],
      ["&store_id=nyc-1", visits.filter((v) => v.store === "nyc-1")],
    ] as const) {
      const res = await api(`/v1/analytics/paths?${RANGE}&limit=50${filter}`, { key });
      expect(res.status).toBe(200);
      const expected = new Map<string, number>();
      for (const v of chosen) {
        const path = JSON.stringify(["ENTER", ...v.path].slice(0, 10));
        expected.set(path, (expected.get(path) ?? 0) + 1);
      }
      const got = res.json.data.paths as { labels: string[]; sessions: number; share: number }[];
      expect(Object.fromEntries(got.map((p) => [JSON.stringify(p.labels), p.sessions]))).toEqual(Object.fromEntries(expected));
      expect(res.json.data.sessions).toBe(chosen.length);
      for (const p of got) expect(p.share).toBeCloseTo(p.sessions / chosen.length, 12);
      const counts = got.map((p) => p.sessions);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
      expect(res.json.data.statuses).toBeNull();
    }
    const one = await api(`/v1/analytics/paths?${RANGE}&limit=1`, { key });
    expect(one.json.data.paths).toHaveLength(1);
    expect((await api(`/v1/analytics/paths?${RANGE}&limit=51`, { key })).status).toBe(400);
  });

  it("refuses bad breakdowns with 400 naming the field", async () => {
    const bad: [string, string][] = [
      [`group_by=region`, "group_by"],
      [Array.from({ length: 101 }, (_, i) => `store_id=s${i}`).join("&"), "store_id"],
      ["store_id=bad%20id", "store_id"],
      ["kiosk_id=k%2F1", "kiosk_id"],
      ["fallback_tz=utc", "fallback_tz"],
      ["tz=store&fallback_tz=Mars%2FBase", "fallback_tz"],
    ];
    for (const [q, field] of bad) {
      const res = await api(`/v1/analytics/visits?${RANGE}&${q}`, { key });
      expect(res.status, q).toBe(400);
      expect(
        res.json.error.details.fields.map((f: { path: string }) => f.path),
        q,
      ).toContain(field);
    }
    const long = `from=2026-09-01T00:00:00Z&to=2026-10-03T00:00:00Z`;
    const grouped = await api(`/v1/analytics/visits?${long}&interval=hour&group_by=store`, { key });
    expect(grouped.status).toBe(400);
    expect(grouped.json.error.details.fields[0].path).toBe("to");
    expect((await api(`/v1/analytics/visits?${long}&interval=day&group_by=store`, { key })).status).toBe(200);
  });
});

describe("the other group", () => {
  it("keeps the 100 largest groups and puts the rest in one, the counts adding up exactly", async () => {
    const tenant = await newTenant({ retention_days: 0 });
    const stores = Array.from({ length: 103 }, (_, i) => ({
      store_id: `s-${String(i).padStart(3, "0")}`,
      name: `S${i}`,
      time_zone: "UTC",
    }));
    stores.push({ store_id: "big", name: "Big", time_zone: "UTC" });
    expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores } })).status).toBe(200);
    const key = (await newKey(tenant, "write")).key;
    const starts = [...stores.map((s) => s.store_id), "big", "big", "big", "big"];
    for (let i = 0; i < starts.length; i += 16) {
      await Promise.all(
        starts
          .slice(i, i + 16)
          .map((store_id) => api(`${base(personaId("oth"))}/session/start`, { method: "POST", key, body: { store_id } })),
      );
    }
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const query = () =>
      `/v1/analytics/funnel?step=ENTER&step=CHAT&from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}&group_by=store`;
    let res = await api(query(), { key });
    for (let i = 0; i < 100 && res.json.data.steps[0].sessions < starts.length; i++) {
      await sleep(100);
      res = await api(query(), { key });
    }
    expect(res.json.data.steps[0].sessions).toBe(starts.length);
    const groups = res.json.data.groups as { key: string; other: boolean; groups: number; steps: { sessions: number }[] }[];
    expect(groups).toHaveLength(101);
    expect(groups[0]).toMatchObject({ key: "big", other: false, groups: 1 });
    expect(groups[0]!.steps[0]!.sessions).toBe(5);
    // Ties by store id: s-000 .. s-098 kept, s-099 .. s-102 in the rest.
    expect(groups.slice(1, 100).map((g) => g.key)).toEqual(stores.slice(0, 99).map((s) => s.store_id));
    expect(groups[100]).toMatchObject({ key: "other", other: true, groups: 4 });
    expect(groups[100]!.steps[0]!.sessions).toBe(4);
    expect(groups.reduce((n, g) => n + g.steps[0]!.sessions, 0)).toBe(res.json.data.steps[0].sessions);
  });
});

describe("the paths answer's statuses", () => {
  it("is the tenant's statuses setting in its order, for any key", async () => {
    const tenant = await newTenant({ statuses: ["SHOPPING", "CHAT", "PAYMENT"] });
    const key = (await newKey(tenant, "read")).key;
    const res = await api("/v1/analytics/paths?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z", { key });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ statuses: ["SHOPPING", "CHAT", "PAYMENT"], paths: [], sessions: 0 });
  });
});
