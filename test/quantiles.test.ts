// The exact figures analytics take from raw values (src/tenant-index/analytics.ts) and the cached
// zone offsets visits bucket by (src/tenant-index/buckets.ts), each against a slow, obvious oracle.
import { describe, expect, it } from "vitest";
import { quantiles } from "../src/tenant-index/analytics";
import { cachedOffset, offsetAt, zoneFormat } from "../src/tenant-index/buckets";

/** The definition: the lower middle of the sorted values, and the nearest-rank 90th percentile. */
function bySort(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[(sorted.length - 1) >> 1], p90: sorted[Math.ceil(0.9 * sorted.length) - 1] };
}

function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe("quantiles by selection", () => {
  it("is null for no values", () => {
    expect(quantiles([])).toEqual({ median: null, p90: null });
  });

  it("equals the sorted definition for every size from 1 to 300, random, with runs of equal values", () => {
    const rand = random(7);
    for (let n = 1; n <= 300; n++) {
      const spread = n % 3 === 0 ? 3 : 1_000_000; // every third size is mostly duplicates
      const values = Array.from({ length: n }, () => Math.floor(rand() * spread) - spread / 4);
      expect(quantiles(values), `n=${n}`).toEqual(bySort(values));
    }
  });

  it("equals the sorted definition on ordered, reversed, constant and large inputs, and leaves its input as it was", () => {
    const rand = random(11);
    const cases: number[][] = [
      Array.from({ length: 1001 }, (_, i) => i),
      Array.from({ length: 1000 }, (_, i) => 1000 - i),
      Array.from({ length: 500 }, () => 42),
      Array.from({ length: 100_000 }, () => Math.floor(rand() * 3_600_000)),
      Array.from({ length: 4 }, (_, i) => [5, -3, 5, 0.5][i]!),
    ];
    for (const values of cases) {
      const copy = [...values];
      expect(quantiles(values)).toEqual(bySort(values));
      expect(values).toEqual(copy);
    }
  });
});

describe("cached zone offsets", () => {
  // Zones with whole-hour, half-hour (Lord Howe: a 30-minute change), 45-minute (Chatham) and
  // southern-hemisphere changes, one with none, and UTC.
  const zones = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Asia/Kolkata", "UTC"];

  it("equals the zone's offset from Intl at every instant sampled across two years, and at each change to the millisecond", () => {
    const from = Date.parse("2025-06-01T00:00:00Z");
    const to = Date.parse("2027-06-01T00:00:00Z");
    for (const tz of zones) {
      const format = zoneFormat(tz)!;
      let changes = 0;
      let previous = offsetAt(format, from);
      // Every 97 minutes: a step prime to the hour, so every minute of the hour comes up.
      for (let t = from; t < to; t += 97 * 60_000) {
        const want = offsetAt(format, t);
        expect(cachedOffset(tz, t), `${tz} at ${new Date(t).toISOString()}`).toBe(want);
        if (want !== previous) {
          // Bisect the change between the last two samples and check both sides of it.
          let lo = t - 97 * 60_000;
          let hi = t;
          while (hi - lo > 1) {
            const mid = lo + Math.floor((hi - lo) / 2);
            if (offsetAt(format, mid) === previous) lo = mid;
            else hi = mid;
          }
          expect(cachedOffset(tz, lo), `${tz} just before a change`).toBe(previous);
          expect(cachedOffset(tz, hi), `${tz} at a change`).toBe(want);
          changes++;
          previous = want;
        }
      }
      const expected = tz === "Asia/Kolkata" || tz === "UTC" ? 0 : 4;
      expect(changes, `${tz}: offset changes in two years`).toBe(expected);
    }
  });

  it("is null for a zone the runtime does not know", () => {
    expect(cachedOffset("Mars/Olympus_Mons", Date.parse("2026-01-01T00:00:00Z"))).toBeNull();
    expect(cachedOffset("utc", Date.parse("2026-01-01T00:00:00Z"))).toBeNull();
  });
});
