// GET /v1/analytics/occupancy: the exact peak and time-weighted average of concurrent sessions per
// bucket, on fixtures computed by hand, and the sweep's edge cases.
import { describe, expect, it, vi } from "vitest";
import { concurrency } from "../src/tenant-index/analytics";
import { admin, api, base, newKey, newTenant, personaId, sleep } from "./helpers";

vi.setConfig({ testTimeout: 20_000 });

const M = 60_000;
const H = 60 * M;

describe("the concurrency sweep", () => {
  it("gives each bucket its peak and time-weighted average, half-open intervals, clipped to [from, until)", () => {
    // Two buckets [0, 60) and [60, 120) minutes.
    const bounds = [0, H, 2 * H];
    const starts = [0, 15 * M, 45 * M, 30 * M];
    const ends = [30 * M, 45 * M, 90 * M, 30 * M]; // the last is empty (start = end): never present
    expect(concurrency(starts, ends, bounds, 0, 2 * H)).toEqual([
      { peak: 2, average: (30 + 30 + 15) / 60 },
      { peak: 1, average: 0.5 },
    ]);
    // One ends as another starts: never two at once.
    expect(concurrency([0, 30 * M], [30 * M, H], [0, H], 0, H)).toEqual([{ peak: 1, average: 1 }]);
    // Clipped: `from` inside the first bucket, `until` inside the second, a third wholly after it.
    expect(concurrency([0], [3 * H], [0, H, 2 * H, 3 * H], 30 * M, 90 * M)).toEqual([
      { peak: 1, average: 1 },
      { peak: 1, average: 1 },
      { peak: null, average: null },
    ]);
    expect(concurrency([], [], [0, H], 0, H)).toEqual([{ peak: 0, average: 0 }]);
  });
});

describe("GET /v1/analytics/occupancy", () => {
  it("matches a hand-computed fixture, by store, with an active session counted up to now", async () => {
    const tenant = await newTenant({ idle_timeout_seconds: 0, retention_days: 0 });
    const stores = [
      { store_id: "a", name: "A", time_zone: "UTC" },
      { store_id: "b", name: "B", time_zone: "UTC" },
    ];
    expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores } })).status).toBe(200);
    const key = (await newKey(tenant, "write")).key;
    const day = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()) - 86_400_000;
    const at = (minutes: number) => new Date(day + 10 * H + minutes * M).toISOString();
    const visit = async (store: string, from: number, to: number | null) => {
      const p = personaId("occ");
      expect(
        (await api(`${base(p)}/session/start`, { method: "POST", key, body: { store_id: store, occurred_at: at(from) } })).status,
      ).toBe(201);
      if (to !== null)
        expect((await api(`${base(p)}/session/end`, { method: "POST", key, body: { occurred_at: at(to) } })).status).toBe(200);
    };
    // Store a: 10:00-10:30, 10:15-10:45, 10:45-11:30; store b: 10:20-10:40.
    await visit("a", 0, 30);
    await visit("a", 15, 45);
    await visit("a", 45, 90);
    await visit("b", 20, 40);
    // Each poll a distinct query (`to` 1 ms earlier each time, where no session is), so the 5 s analytics cache never answers it.
    const query = (extra: string, bump = 0) =>
      api(`/v1/analytics/occupancy?from=${at(0)}&to=${new Date(Date.parse(at(120)) - bump).toISOString()}${extra}`, { key }).then(
        (r) => r.json.data,
      );
    let data = await query("");
    for (let i = 1; i < 80 && data.buckets[0].peak !== 3; i++) {
      await sleep(100);
      data = await query("", i);
    }
    expect(data.buckets).toEqual([
      // 10:20-10:30 three at once (a, a, b); session-minutes 30 + 30 + 15 + 20 = 95.
      { start: new Date(day + 10 * H).toISOString().replace(".000Z", "+00:00"), peak: 3, average: Math.round((95 / 60) * 10_000) / 10_000 },
      { start: new Date(day + 11 * H).toISOString().replace(".000Z", "+00:00"), peak: 1, average: 0.5 },
    ]);
    const onlyA = await query("&store_id=a&tz=Etc/UTC");
    expect(onlyA.buckets.map((b: { peak: number }) => b.peak)).toEqual([2, 1]);
    expect(onlyA.buckets[0].average).toBe(1.25);
    const daily = await query("&interval=day&store_id=b");
    expect(daily.buckets).toHaveLength(1);
    expect(daily.buckets[0].peak).toBe(1);

    // An active session counts up to now: a session started 20 minutes ago is present in this hour.
    const p = personaId("occ-live");
    const started = new Date(Date.now() - 20 * M).toISOString();
    expect((await api(`${base(p)}/session/start`, { method: "POST", key, body: { store_id: "b", occurred_at: started } })).status).toBe(
      201,
    );
    const hour = Date.now() - (Date.now() % H);
    const live = async (bump = 0) =>
      (
        await api(
          `/v1/analytics/occupancy?from=${new Date(hour - H).toISOString()}&to=${new Date(hour + 2 * H - bump).toISOString()}&store_id=b`,
          { key },
        )
      ).json.data;
    let now = await live();
    for (let i = 1; i < 80 && now.buckets[1].peak !== 1; i++) {
      await sleep(100);
      now = await live(i);
    }
    expect(now.buckets.map((b: { peak: number | null }) => b.peak)).toEqual([Date.now() - hour < 20 * M ? 1 : 0, 1, null]);
    expect(now.buckets[2].average).toBeNull();
  });

  it("refuses a bad zone, interval or filter with 400 naming it", async () => {
    const range = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";
    for (const [q, field] of [
      ["tz=Mars/Base", "tz"],
      ["interval=week", "interval"],
      ["store_id=bad%20id", "store_id"],
      ["group_by=region", "group_by"],
    ]) {
      const res = await api(`/v1/analytics/occupancy?${range}&${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.details.fields[0].path).toBe(field);
    }
    // Grouped hourly buckets are bounded like visits': 31 days at most, daily ones the usual 93.
    const long = "from=2026-09-01T00:00:00Z&to=2026-10-03T00:00:00Z";
    const grouped = await api(`/v1/analytics/occupancy?${long}&interval=hour&group_by=store`);
    expect(grouped.status).toBe(400);
    expect(grouped.json.error.details.fields[0].path).toBe("to");
    expect((await api(`/v1/analytics/occupancy?${long}&interval=day&group_by=store`)).status).toBe(200);
  });
});
