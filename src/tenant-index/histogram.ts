/**
 * Durations as a mergeable histogram with log-linear bins (the HDR histogram idea): each power of
 * two [2^e, 2^(e+1)) is cut into SUB_BINS equal bins, and a quantile is reported as its bin's
 * midpoint, within RELATIVE_ERROR of the exact value whatever the data. Counts and sums stay
 * exact. A bin key is found with integer operations (no logarithm: a dwell query bins every
 * stamp), and a group's histogram holds at most one entry per bin its values reach (64 per
 * doubling: about 1,400 from 1 ms to an hour; a few hundred in practice), not a number per
 * session, so the RPC payload and the Worker's memory are bounded by groups × buckets × bins.
 *
 * Bin keys order like the values: 0 holds exact zeros, k > 0 the positive bin k − 1 = e × SUB_BINS
 * + sub, −k the negative values mirrored (durations are never negative: stamps' times never go
 * back in a session; kept well-defined should one be).
 */

const SUB_BINS = 64;

/**
 * The bound on a quantile's relative error: a bin spans at most 1/SUB_BINS of its lower edge, so
 * its midpoint is within 1/(2 × SUB_BINS) = 0.78% of every value in it, leaving room under the
 * documented 1% for the answer's rounding to the microsecond.
 */
export const RELATIVE_ERROR = 1 / (2 * SUB_BINS);

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
  const m = value < 0 ? -value : value;
  // Whole milliseconds (every recorded duration): bit operations only (the 6 bits below the
  // leading one are the sub-bin: SUB_BINS = 2^6).
  if (m < 2_147_483_648 && (m | 0) === m) {
    const e = 31 - Math.clz32(m);
    const key = 1 + e * SUB_BINS + (e >= 6 ? (m >>> (e - 6)) & 63 : (m << (6 - e)) & 63);
    return value > 0 ? key : -key;
  }
  const magnitude = Math.max(m, 1);
  let e = Math.floor(Math.log2(magnitude));
  // Math.log2 may round across a power of two: put e right.
  if (2 ** e > magnitude) e -= 1;
  else if (2 ** (e + 1) <= magnitude) e += 1;
  const p = 2 ** e;
  // Exact in floating point: p is a power of two.
  const key = 1 + e * SUB_BINS + Math.floor(((magnitude - p) * SUB_BINS) / p);
  return value > 0 ? key : -key;
}

/** The value a bin stands for, its midpoint: within RELATIVE_ERROR of every value it holds. */
export function representative(key: number): number {
  if (key === 0) return 0;
  const k = Math.abs(key) - 1;
  const e = Math.floor(k / SUB_BINS);
  const magnitude = 2 ** e * (1 + (k - e * SUB_BINS + 0.5) / SUB_BINS);
  return key > 0 ? magnitude : -magnitude;
}

export function addValue(h: Histogram, value: number): void {
  const key = binOf(value);
  h.bins.set(key, (h.bins.get(key) ?? 0) + 1);
  h.count += 1;
  h.sum += value;
}

/** Bin keys 0 to 2,048: every positive whole millisecond below 2^31 (about 25 days). */
const DENSE_KEYS = 1 + 32 * SUB_BINS;

/**
 * A histogram being filled by a shard: counts per bin in a typed array (a Map operation per value
 * costs about 50 ns; a dwell query adds a value per stamp), folded into the histogram by flush().
 * 8 KB each: for the few histograms a funnel or dwell part has, not for visits' one per bucket.
 */
export class BinCounter {
  private readonly counts = new Uint32Array(DENSE_KEYS);
  private used = false;

  constructor(readonly histogram: Histogram) {}

  add(value: number): void {
    const key = binOf(value);
    if (key >= 0 && key < DENSE_KEYS) this.counts[key]! += 1;
    else this.histogram.bins.set(key, (this.histogram.bins.get(key) ?? 0) + 1);
    this.histogram.count += 1;
    this.histogram.sum += value;
    this.used = true;
  }

  /** Moves the counts into the histogram's bins. */
  flush(): void {
    if (!this.used) return;
    const { bins } = this.histogram;
    for (let key = 0; key < DENSE_KEYS; key++) {
      const n = this.counts[key]!;
      if (n !== 0) bins.set(key, (bins.get(key) ?? 0) + n);
    }
    this.counts.fill(0);
    this.used = false;
  }
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
