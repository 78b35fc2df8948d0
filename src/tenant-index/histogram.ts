/**
 * Durations as a mergeable histogram with logarithmic bins (the DDSketch idea): a bin holds the
 * values in (γ^(i-1), γ^i], and a quantile is reported as the bin's representative 2γ^i / (γ + 1),
 * within RELATIVE_ERROR of the exact value whatever the data. Counts and sums stay exact. So a
 * shard's answer for a group costs at most a bin per distinct power of γ its values reach (about
 * 1,300 from 1 ms to 300 years; a few dozen in practice), not a number per session: the RPC
 * payload and the Worker's memory are bounded by groups × buckets × bins, not by sessions.
 *
 * Bin keys order like the values: 0 holds exact zeros, k > 0 the positive bin i = k - 1, -k the
 * negative values mirrored (durations are never negative: stamps' times never go back in a
 * session; kept well-defined should one be).
 */

/**
 * The bound on a quantile's relative error: 0.9%, leaving room under the documented 1% for the
 * answer's rounding to the microsecond and floating-point rounding at bin edges.
 */
export const RELATIVE_ERROR = 0.009;
const GAMMA = (1 + RELATIVE_ERROR) / (1 - RELATIVE_ERROR);
const LN_GAMMA = Math.log(GAMMA);

/** Values (ms) per bin key, and their exact count and sum. A plain object so it crosses RPC as is. */
export interface Histogram {
  bins: Map<number, number>;
  count: number;
  /** The exact sum of the values (whole milliseconds: exact in a double up to 2^53). */
  sum: number;
}

export const newHistogram = (): Histogram => ({ bins: new Map(), count: 0, sum: 0 });

/** The bin key of a value (ms). Magnitudes under 1 ms (never recorded: times are whole ms) share the 1 ms bin. */
export function binOf(value: number): number {
  if (value === 0) return 0;
  const magnitude = Math.max(Math.abs(value), 1);
  const key = Math.ceil(Math.log(magnitude) / LN_GAMMA) + 1;
  return value > 0 ? key : -key;
}

/** The value a bin stands for: within RELATIVE_ERROR of every value it holds. */
export function representative(key: number): number {
  if (key === 0) return 0;
  const magnitude = (2 * GAMMA ** (Math.abs(key) - 1)) / (GAMMA + 1);
  return key > 0 ? magnitude : -magnitude;
}

export function addValue(h: Histogram, value: number): void {
  const key = binOf(value);
  h.bins.set(key, (h.bins.get(key) ?? 0) + 1);
  h.count += 1;
  h.sum += value;
}

/** Adds `b` into `a` and returns `a` (the Worker merges parts that came over RPC and belong to it). */
export function mergeHistogram(a: Histogram, b: Histogram): Histogram {
  for (const [key, n] of b.bins) a.bins.set(key, (a.bins.get(key) ?? 0) + n);
  a.count += b.count;
  a.sum += b.sum;
  return a;
}

/**
 * The median (the lower of the two middle values for an even count) and the nearest-rank p90, as
 * bin representatives: each within RELATIVE_ERROR of the exact figure, null with no values.
 */
export function histogramQuantiles(h: Histogram): { median: number | null; p90: number | null } {
  if (h.count === 0) return { median: null, p90: null };
  const ranks = [(h.count - 1) >> 1, Math.ceil(0.9 * h.count) - 1];
  const out: number[] = [];
  let seen = 0;
  for (const key of [...h.bins.keys()].sort((a, b) => a - b)) {
    seen += h.bins.get(key)!;
    while (out.length < ranks.length && ranks[out.length]! < seen) out.push(representative(key));
    if (out.length === ranks.length) break;
  }
  return { median: out[0]!, p90: out[1]! };
}
