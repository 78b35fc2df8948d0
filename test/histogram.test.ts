// The duration histograms behind every median and p90 (src/tenant-index/histogram.ts), against the
// exact definition over the raw values: counts and sums exact, quantiles within the stated bound.
import { describe, expect, it } from "vitest";
import {
  addValue,
  binOf,
  type Histogram,
  histogramQuantiles,
  mergeHistogram,
  newHistogram,
  RELATIVE_ERROR,
  representative,
} from "../src/tenant-index/histogram";
import { random } from "./helpers";

/** The definition: the lower middle of the sorted values, and the nearest-rank 90th percentile. */
function exact(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[(sorted.length - 1) >> 1]!, p90: sorted[Math.ceil(0.9 * sorted.length) - 1]! };
}

const of = (values: number[]): Histogram => {
  const h = newHistogram();
  for (const v of values) addValue(h, v);
  return h;
};

/** |got - want| within RELATIVE_ERROR of want (0 exactly for 0). */
function expectNear(got: number | null, want: number, what: string) {
  expect(got, what).not.toBeNull();
  if (want === 0) expect(got, what).toBe(0);
  else expect(Math.abs(got! - want) / Math.abs(want), `${what}: ${got} for ${want}`).toBeLessThanOrEqual(RELATIVE_ERROR * (1 + 1e-12));
}

describe("duration histograms", () => {
  it("have no quantiles without values", () => {
    expect(histogramQuantiles(newHistogram())).toEqual({ median: null, p90: null });
  });

  it("give every bin's values a representative within the bound, and order bins like their values", () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (const v of [-86_400_000, -1000, -1, 0, 1, 2, 3, 10, 999, 1000, 1001, 59_999, 60_000, 3_600_000, 86_400_000 * 365 * 300]) {
      const key = binOf(v);
      expect(key, `${v} after ${previous}`).toBeGreaterThanOrEqual(binOf(previous === Number.NEGATIVE_INFINITY ? v : previous));
      expectNear(representative(key), v, `value ${v}`);
      previous = v;
    }
    // Every whole millisecond up to 20 s, where bins are narrowest in absolute terms.
    for (let v = 1; v <= 20_000; v++) expectNear(representative(binOf(v)), v, `value ${v}`);
  });

  it("bin whole milliseconds (bit operations) and other values (logarithms) on one scale", () => {
    // Ascending values across the two paths: fractions, and both sides of 2^31.
    const values = [1, 1.5, 2, 2.5, 63.5, 64, 64.25, 127, 128, 2_147_483_647, 2_147_483_647.5, 2_147_483_648, 2 ** 40 + 3];
    for (let i = 1; i < values.length; i++) expect(binOf(values[i]!)).toBeGreaterThanOrEqual(binOf(values[i - 1]!));
    for (const v of values) {
      expectNear(representative(binOf(v)), v, `value ${v}`);
      expect(binOf(-v)).toBe(-binOf(v));
    }
  });

  it("answer the median and p90 within the bound, and the count and sum exactly, for random sets of every size to 400", () => {
    const rand = random(7);
    for (let n = 1; n <= 400; n++) {
      // Durations from 0 to 3 hours; every third size mostly repeats a few values.
      const values = Array.from({ length: n }, () =>
        n % 3 === 0 ? [0, 1500, 30_000][Math.floor(rand() * 3)]! : Math.floor(rand() * 10_800_000),
      );
      const h = of(values);
      const want = exact(values);
      const got = histogramQuantiles(h);
      expectNear(got.median, want.median, `n=${n} median`);
      expectNear(got.p90, want.p90, `n=${n} p90`);
      expect(h.count).toBe(n);
      expect(h.sum).toBe(values.reduce((a, b) => a + b, 0));
    }
  });

  it("merge to the histogram of all the values, however they were split", () => {
    const rand = random(13);
    const values = Array.from({ length: 5000 }, () => Math.floor(rand() * 600_000));
    const whole = of(values);
    const merged = [0, 1200, 1201, 4000, 5000]
      .map((end, i, ends) => of(values.slice(i === 0 ? 0 : ends[i - 1]!, end)))
      .reduce(mergeHistogram, newHistogram());
    expect(merged.count).toBe(whole.count);
    expect(merged.sum).toBe(whole.sum);
    expect(new Map([...merged.bins].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...whole.bins].sort((a, b) => a[0] - b[0])));
    expect(histogramQuantiles(merged)).toEqual(histogramQuantiles(whole));
  });

  it("stay small: at most 64 bins per doubling the values reach, not a value per session", () => {
    const rand = random(17);
    const h = of(Array.from({ length: 100_000 }, () => Math.floor(rand() * 3_600_000)));
    // From 1 ms to 1 hour is 22 doublings, 1,400 bins; uniform values fill only the upper ones
    // (below 2^10 ms, about 28 of 100,000 values: at most 28 bins there).
    expect(h.bins.size).toBeLessThan(64 * 12 + 28 + 1);
    expect(h.count).toBe(100_000);
  });
});
