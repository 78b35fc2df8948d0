/**
 * Visit analytics, computed where the data is: each shard reduces the sessions that started in the
 * range to partial results (exact counts and sums, durations as histograms), the Worker merges the
 * shards' parts and takes the quantiles. Counts and totals are exact, medians and p90s within 1%
 * (histogram.ts); docs/index-and-analytics.md defines each figure.
 */
import { cachedOffset } from "./buckets";
import { addValue, type Histogram, newHistogram } from "./histogram";
import { type AnalyticsRow, PATH_SEPARATOR } from "./store";

/**
 * The stamps' times of a stored path (`path_ts`: whole milliseconds, comma-separated), parsed
 * without a string per number: analytics parse a million of them.
 */
function timesOf(pathTs: string, into: number[]): number[] {
  into.length = 0;
  let n = 0;
  let start = 0;
  for (let i = 0; i <= pathTs.length; i++) {
    const c = i < pathTs.length ? pathTs.charCodeAt(i) : 44;
    if (c === 44) {
      into.push(n);
      n = 0;
      start = i + 1;
    } else if (c >= 48 && c <= 57) n = n * 10 + (c - 48);
    else {
      // Not a whole number (never written so; kept exact should it be): parse it as written.
      const end = pathTs.indexOf(",", i);
      into.push(Number(pathTs.slice(start, end < 0 ? undefined : end)));
      i = end < 0 ? pathTs.length : end;
      n = 0;
      start = i + 1;
    }
  }
  return into;
}

export interface FunnelPart {
  /** Sessions that reached each step. */
  reached: number[];
  /** For each step (the first's stays empty): ms from the previous step of each session that reached it. */
  gaps: Histogram[];
}

const newFunnel = (steps: string[]): FunnelPart => ({ reached: steps.map(() => 0), gaps: steps.map(newHistogram) });

/**
 * A session reaches step k when it has stamps with steps 1..k in that order (other stamps between
 * are allowed), each matched to the earliest such stamp after the previous step's: so a repeated
 * label counts from its first occurrence, and step 1 is the session's first stamp with that label.
 * With `withinMs`, step k counts only if it came at most that long after step 1.
 */
function funnelAdder(steps: string[], withinMs: number | null) {
  const ts: number[] = [];
  return (part: FunnelPart, [, , , , path, pathTs]: AnalyticsRow) => {
    if (path === "") return;
    const labels = path.split(PATH_SEPARATOR);
    const times = timesOf(pathTs, ts);
    let at = -1;
    let first = 0;
    for (let k = 0; k < steps.length; k++) {
      const i = labels.indexOf(steps[k]!, at + 1);
      if (i < 0) break;
      const t = times[i]!;
      if (k === 0) first = t;
      else if (withinMs !== null && t - first > withinMs) break;
      part.reached[k]! += 1;
      if (k > 0) addValue(part.gaps[k]!, t - times[at]!);
      at = i;
    }
  };
}

/**
 * A stamp's dwell is the time until the session's next stamp, or, for the last stamp of a session
 * the client ended, until the end. The last stamp of an active session, or of one ended by idle
 * timeout, has no observed dwell and is left out. Values per label, in ms.
 */
export interface DwellPart {
  /** Sessions behind the values (what groups are ranked by). */
  sessions: number;
  /** Per label, the observed dwells (ms). A Map: labels are free text (`constructor` is one). */
  values: Map<string, Histogram>;
}

const newDwell = (): DwellPart => ({ sessions: 0, values: new Map() });

function dwellAdder() {
  const ts: number[] = [];
  return (part: DwellPart, [, endedAt, endReason, , path, pathTs]: AnalyticsRow) => {
    part.sessions += 1;
    if (path === "") return;
    const add = (label: string, value: number) => {
      let h = part.values.get(label);
      if (h === undefined) {
        h = newHistogram();
        part.values.set(label, h);
      }
      addValue(h, value);
    };
    const labels = path.split(PATH_SEPARATOR);
    const times = timesOf(pathTs, ts);
    const last = labels.length - 1;
    for (let i = 0; i < last; i++) add(labels[i]!, times[i + 1]! - times[i]!);
    if (endReason === "client" && endedAt !== null) add(labels[last]!, endedAt - times[last]!);
  };
}

/**
 * Visits of one group, sparse: a bucket no session of the group started in is absent, so a query
 * grouped by 2,000 stores over 720 hourly buckets ships what the sessions fill, not 1.4 million zeros.
 * Keys are bucket indexes (`utc`: the bucket starting at or before the start) or local wall-clock
 * times in wall milliseconds (`local`: the hour or day in the session's store's zone).
 */
export interface SparseVisits {
  sessions: Map<number, number>;
  durations: Map<number, Histogram>;
}

/** How visits are bucketed: by instant (bucket starts ascending), or by each store's local wall clock. */
export type VisitBuckets =
  | { kind: "utc"; starts: number[] }
  | { kind: "local"; interval: "hour" | "day"; zones: Record<string, string>; fallback: string };

const newVisits = (): SparseVisits => ({ sessions: new Map(), durations: new Map() });

/**
 * Sessions per bucket by start time, and the duration of each ended one: until its end for a
 * client end, until its last stamp for an idle-timeout end (the timeout itself is not time spent).
 */
function visitsAdder(how: VisitBuckets) {
  const key = how.kind === "utc" ? utcBucket(how.starts) : localBucket(how);
  return (part: SparseVisits, row: AnalyticsRow) => {
    const [startedAt, endedAt, endReason, lastTs] = row;
    const k = key(row);
    if (k === null) return;
    part.sessions.set(k, (part.sessions.get(k) ?? 0) + 1);
    if (endedAt === null) return;
    const duration = (endReason === "idle_timeout" ? lastTs : endedAt) - startedAt;
    let h = part.durations.get(k);
    if (h === undefined) {
      h = newHistogram();
      part.durations.set(k, h);
    }
    addValue(h, duration);
  };
}

/** The last bucket starting at or before the session's start (null: before the first). */
function utcBucket(starts: number[]) {
  return ([startedAt]: AnalyticsRow): number | null => {
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || startedAt < starts[0]!) return null;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= startedAt) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

/**
 * The session's start as local wall-clock time in its store's zone (a session with no store, or
 * one no longer registered, in `fallback`), floored to the hour or day: wall milliseconds (the
 * local time written as if it were UTC), which the Worker turns into `YYYY-MM-DDTHH:00` labels.
 * Null when the zone is unknown to the runtime.
 */
function localBucket(how: Extract<VisitBuckets, { kind: "local" }>) {
  const unit = how.interval === "hour" ? 3_600_000 : 86_400_000;
  return (row: AnalyticsRow): number | null => {
    // Own keys only: a store id may be `constructor`, which a plain object inherits.
    const zone = (row[6] !== null && Object.hasOwn(how.zones, row[6]) ? how.zones[row[6]] : undefined) ?? how.fallback;
    const offset = cachedOffset(zone, row[0]);
    if (offset === null) return null;
    const wall = row[0] + offset;
    return wall - (((wall % unit) + unit) % unit);
  };
}

/** A wall-clock label: `YYYY-MM-DDTHH:00`. */
export function wallLabel(y: number, m: number, d: number, h: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${String(y).padStart(4, "0")}-${p(m)}-${p(d)}T${p(h)}:00`;
}

/** Which sessions a query takes, and how it splits them. */
export interface Scope {
  /** Only sessions in these stores (null: any, including none). */
  stores: string[] | null;
  kiosk: string | null;
  /** Split by the session's store or kiosk (null: one group, every session). */
  groupBy: "store" | "kiosk" | null;
  /**
   * With groupBy: the keys that get a part of their own; every other session goes in one part
   * keyed OTHER_GROUP. Null: every key its own part. The Worker ranks the groups first (groupSizes),
   * so a 2,000-store query reduces into 101 parts, not 2,000.
   */
  top?: (string | null)[] | null;
}

/** The key of the part holding the groups outside `top`: not a store or kiosk id (those have no control characters). */
export const OTHER_GROUP = "\u0000other";

/**
 * The sessions `scope` takes, reduced per group (key: the store or kiosk id, null when the session
 * has none; one entry, key null, when not grouped): the parts the Worker merges.
 */
export function grouped<P>(
  rows: Iterable<AnalyticsRow>,
  scope: Scope,
  init: () => P,
  add: (part: P, row: AnalyticsRow) => void,
): Grouped<P>[] {
  const stores = scope.stores === null ? null : new Set(scope.stores);
  const top = scope.groupBy !== null && scope.top ? new Set(scope.top) : null;
  const parts = new Map<string | null, P>();
  for (const row of rows) {
    const store = row[6];
    if (stores !== null && (store === null || !stores.has(store))) continue;
    if (scope.kiosk !== null && row[7] !== scope.kiosk) continue;
    let key = scope.groupBy === "store" ? store : scope.groupBy === "kiosk" ? row[7] : null;
    if (top !== null && !top.has(key)) key = OTHER_GROUP;
    let part = parts.get(key);
    if (part === undefined) {
      part = init();
      parts.set(key, part);
    }
    add(part, row);
  }
  return [...parts].map(([key, part]) => ({ key, part }));
}

/** One group's part: `key` the store or kiosk id (null: the sessions that have none, or every session when not grouped). */
export interface Grouped<P> {
  key: string | null;
  part: P;
}

/** A session's path as the paths answer counts it: its first PATH_LABELS labels in record order, U+0001-separated. */
export const PATH_LABELS = 10;

/** Sessions per path (its first PATH_LABELS labels), exact: every distinct path with its count (a Map: labels are free text). */
export function pathCounts(rows: Iterable<AnalyticsRow>, scope: Scope): Map<string, number> {
  const counts = new Map<string, number>();
  grouped(
    rows,
    { ...scope, groupBy: null },
    () => counts,
    (c, [, , , , path]) => {
      let end = -1;
      for (let k = 0; k < PATH_LABELS && (k === 0 || end >= 0); k++) end = path.indexOf(PATH_SEPARATOR, end + 1);
      const key = end < 0 ? path : path.slice(0, end);
      c.set(key, (c.get(key) ?? 0) + 1);
    },
  );
  return counts;
}

/** Funnel, dwell and visits parts per group, as a shard computes them. */
export const groupedFunnel = (rows: Iterable<AnalyticsRow>, scope: Scope, steps: string[], withinMs: number | null) =>
  grouped(rows, scope, () => newFunnel(steps), funnelAdder(steps, withinMs));
export const groupedDwell = (rows: Iterable<AnalyticsRow>, scope: Scope) => grouped(rows, scope, newDwell, dwellAdder());
export const groupedVisits = (rows: Iterable<AnalyticsRow>, scope: Scope, how: VisitBuckets) =>
  grouped(rows, scope, newVisits, visitsAdder(how));

/** When a group's sessions were present: parallel lists of interval starts and ends (ms). */
export interface Presence {
  starts: number[];
  ends: number[];
}

/**
 * When each session the scope takes was present, clipped to [from, until), per group: from its
 * start to its client end, to its last stamp for an idle-timeout end (the timeout is not presence),
 * to `until` while active. Half-open, so a session that ends as another starts never overlaps it.
 * A session not present in [from, until) is in no group.
 */
export function groupedPresence(rows: Iterable<AnalyticsRow>, scope: Scope, from: number, until: number): Grouped<Presence>[] {
  const parts = grouped(
    rows,
    scope,
    (): Presence => ({ starts: [], ends: [] }),
    (part, [startedAt, endedAt, endReason, lastTs]) => {
      const end = Math.min(until, endedAt === null ? until : endReason === "idle_timeout" ? lastTs : endedAt);
      const start = Math.max(from, startedAt);
      if (end <= start) return;
      part.starts.push(start);
      part.ends.push(end);
    },
  );
  return parts.filter((p) => p.part.starts.length > 0);
}

/**
 * Concurrent sessions per bucket, from presence intervals: the exact peak (the most sessions
 * present at any instant of the bucket) and the time-weighted average (present session-ms ÷ the
 * bucket's ms), over each bucket's part of [from, until). A bucket wholly past `until` has null.
 * `bounds` are the buckets' starts, then the end of the last one.
 */
export function concurrency(starts: number[], ends: number[], bounds: number[], from: number, until: number) {
  const events = new Float64Array(starts.length + ends.length);
  // Ends sort before starts at the same instant: an end is encoded just below its time.
  let n = 0;
  for (const t of ends) events[n++] = t * 2;
  for (const t of starts) events[n++] = t * 2 + 1;
  events.sort();
  let i = 0;
  let level = 0;
  const out: { peak: number | null; average: number | null }[] = [];
  const apply = (upTo: number, inclusive: boolean) => {
    for (; i < events.length; i++) {
      const t = Math.floor(events[i]! / 2);
      if (inclusive ? t > upTo : t >= upTo) break;
      level += events[i]! % 2 === 1 ? 1 : -1;
    }
  };
  for (let b = 0; b + 1 < bounds.length; b++) {
    const lo = Math.max(bounds[b]!, from);
    const hi = Math.min(bounds[b + 1]!, until);
    if (hi <= lo) {
      out.push({ peak: null, average: null });
      continue;
    }
    apply(lo, true);
    let peak = level;
    let area = 0;
    let prev = lo;
    while (i < events.length) {
      const t = Math.floor(events[i]! / 2);
      if (t >= hi) break;
      area += level * (t - prev);
      prev = t;
      apply(t, true);
      peak = Math.max(peak, level);
    }
    area += level * (hi - prev);
    out.push({ peak, average: area / (hi - lo) });
  }
  return out;
}
