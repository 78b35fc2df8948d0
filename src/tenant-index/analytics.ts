/**
 * Visit analytics, computed where the data is: each shard reduces the sessions that started in the
 * range to partial results (exact counts and sums, durations as histograms), the Worker merges the
 * shards' parts and takes the quantiles. Counts and totals are exact, medians and p90s within 1%
 * (histogram.ts); docs/index-and-analytics.md defines each figure.
 */
import type { SessionView } from "./blocks";
import { cachedOffset } from "./buckets";
import { addValue, BinCounter, type Histogram, newHistogram } from "./histogram";
import { PATH_SEPARATOR } from "./store";

/** The sessions of a query, visited one at a time (a shard's blocks and rows: IndexStore.eachSession). */
export type Sessions = (visit: (view: SessionView) => void) => void;

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
  // Matching depends on the labels only: once per distinct path of a block, not once per session.
  const matches = new WeakMap<readonly string[], number[]>();
  const matchOf = (labels: readonly string[]) => {
    let m = matches.get(labels);
    if (m === undefined) {
      m = [];
      let at = -1;
      for (const step of steps) {
        at = labels.indexOf(step, at + 1);
        if (at < 0) break;
        m.push(at);
      }
      matches.set(labels, m);
    }
    return m;
  };
  const counters = new Map<FunnelPart, BinCounter[]>();
  // Within a block, by path index: no lookup keyed by the labels array per session.
  let source: object | null = null;
  const byPath: (number[] | undefined)[] = [];
  const add = (part: FunnelPart, view: SessionView) => {
    const { labels, times } = view;
    if (labels.length === 0) return;
    let m: number[] | undefined;
    if (view.source === null) m = matchOf(labels);
    else {
      if (view.source !== source) {
        source = view.source;
        byPath.length = 0;
      }
      m = byPath[view.pathIdx];
      if (m === undefined) {
        m = matchOf(labels);
        byPath[view.pathIdx] = m;
      }
    }
    if (m.length === 0) return;
    let gaps = counters.get(part);
    if (gaps === undefined) {
      gaps = part.gaps.map((h) => new BinCounter(h));
      counters.set(part, gaps);
    }
    const first = times[m[0]!]!;
    part.reached[0]! += 1;
    for (let k = 1; k < m.length; k++) {
      const t = times[m[k]!]!;
      if (withinMs !== null && t - first > withinMs) break;
      part.reached[k]! += 1;
      gaps[k]!.add(t - times[m[k - 1]!]!);
    }
  };
  const flush = () => {
    for (const gaps of counters.values()) for (const g of gaps) g.flush();
  };
  return { add, flush };
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
  const counters = new Map<Histogram, BinCounter>();
  const counter = (part: DwellPart, label: string) => {
    let h = part.values.get(label);
    if (h === undefined) {
      h = newHistogram();
      part.values.set(label, h);
    }
    let c = counters.get(h);
    if (c === undefined) {
      c = new BinCounter(h);
      counters.set(h, c);
    }
    return c;
  };
  // Per part, its counters by the current block's label index: a label's counter is looked up by
  // string once per block, not once per stamp.
  const byLabelId = new Map<DwellPart, { source: object; counters: (BinCounter | undefined)[] }>();
  const add = (part: DwellPart, view: SessionView) => {
    const { endedAt, endReason, labels, times } = view;
    part.sessions += 1;
    if (labels.length === 0) return;
    const last = labels.length - 1;
    const final = endReason === "client" && endedAt !== null;
    if (view.source === null) {
      for (let i = 0; i < last; i++) counter(part, labels[i]!).add(times[i + 1]! - times[i]!);
      if (final) counter(part, labels[last]!).add(endedAt - times[last]!);
      return;
    }
    let cache = byLabelId.get(part);
    if (cache === undefined || cache.source !== view.source) {
      cache = { source: view.source, counters: [] };
      byLabelId.set(part, cache);
    }
    const cs = cache.counters;
    const ids = view.labelIds;
    for (let i = 0; i <= last; i++) {
      if (i === last && !final) break;
      const id = ids[i]!;
      let c = cs[id];
      if (c === undefined) {
        c = counter(part, labels[i]!);
        cs[id] = c;
      }
      c.add(i === last ? endedAt! - times[last]! : times[i + 1]! - times[i]!);
    }
  };
  const flush = () => {
    for (const c of counters.values()) c.flush();
  };
  return { add, flush };
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
  return (part: SparseVisits, view: SessionView) => {
    const { startedAt, endedAt, endReason, lastTs } = view;
    const k = key(view);
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
  return ({ startedAt }: SessionView): number | null => {
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
  return ({ store, startedAt }: SessionView): number | null => {
    // Own keys only: a store id may be `constructor`, which a plain object inherits.
    const zone = (store !== null && Object.hasOwn(how.zones, store) ? how.zones[store] : undefined) ?? how.fallback;
    const offset = cachedOffset(zone, startedAt);
    if (offset === null) return null;
    const wall = startedAt + offset;
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
export function grouped<P>(sessions: Sessions, scope: Scope, init: () => P, add: (part: P, view: SessionView) => void): Grouped<P>[] {
  const stores = scope.stores === null ? null : new Set(scope.stores);
  const top = scope.groupBy !== null && scope.top ? new Set(scope.top) : null;
  const parts = new Map<string | null, P>();
  /** The part a session goes to (undefined: the scope leaves it out), from its store and kiosk ids. */
  const partOf = (store: string | null, kiosk: string | null): P | undefined => {
    if (stores !== null && (store === null || !stores.has(store))) return undefined;
    if (scope.kiosk !== null && kiosk !== scope.kiosk) return undefined;
    let key = scope.groupBy === "store" ? store : scope.groupBy === "kiosk" ? kiosk : null;
    if (top !== null && !top.has(key)) key = OTHER_GROUP;
    let part = parts.get(key);
    if (part === undefined) {
      part = init();
      parts.set(key, part);
    }
    return part;
  };
  // Within a block, the part depends only on the session's (store, kiosk) dictionary indexes:
  // decided once per pair a block holds, not by string lookups per session.
  let source: object | null = null;
  const cached: (P | null)[][] = [];
  sessions((view) => {
    if (view.source === null) {
      const part = partOf(view.store, view.kiosk);
      if (part !== undefined) add(part, view);
      return;
    }
    if (view.source !== source) {
      source = view.source;
      cached.length = 0;
    }
    let byKiosk = cached[view.storeIdx];
    if (byKiosk === undefined) {
      byKiosk = [];
      cached[view.storeIdx] = byKiosk;
    }
    let part = byKiosk[view.kioskIdx];
    if (part === undefined) {
      part = partOf(view.store, view.kiosk) ?? null;
      byKiosk[view.kioskIdx] = part;
    }
    if (part !== null) add(part, view);
  });
  return [...parts].map(([key, part]) => ({ key, part }));
}

/**
 * The size of each group the scope splits sessions into (by store, or by kiosk): sessions, and
 * those with a stamp labelled `step` (a funnel's first step; null: not asked). What the Worker
 * ranks groups by before it asks for parts.
 */
export function groupSizes(sessions: Sessions, scope: Scope, step: string | null): Grouped<{ sessions: number; reached: number }>[] {
  const has = new WeakMap<readonly string[], boolean>();
  return grouped(
    sessions,
    { ...scope, groupBy: scope.groupBy ?? "store", top: null },
    () => ({ sessions: 0, reached: 0 }),
    (part, { labels }) => {
      part.sessions += 1;
      if (step === null) return;
      let reached = has.get(labels);
      if (reached === undefined) {
        reached = labels.includes(step);
        has.set(labels, reached);
      }
      if (reached) part.reached += 1;
    },
  );
}

/** One group's part: `key` the store or kiosk id (null: the sessions that have none, or every session when not grouped). */
export interface Grouped<P> {
  key: string | null;
  part: P;
}

/** A session's path as the paths answer counts it: its first PATH_LABELS labels in record order, U+0001-separated. */
export const PATH_LABELS = 10;

/** Sessions per path (its first PATH_LABELS labels), exact: every distinct path with its count (a Map: labels are free text). */
export function pathCounts(sessions: Sessions, scope: Scope): Map<string, number> {
  const counts = new Map<string, number>();
  const keys = new WeakMap<readonly string[], string>();
  grouped(
    sessions,
    { ...scope, groupBy: null },
    () => counts,
    (c, { labels }) => {
      let key = keys.get(labels);
      if (key === undefined) {
        key = labels.slice(0, PATH_LABELS).join(PATH_SEPARATOR);
        keys.set(labels, key);
      }
      c.set(key, (c.get(key) ?? 0) + 1);
    },
  );
  return counts;
}

/** Funnel, dwell and visits parts per group, as a shard computes them. */
export function groupedFunnel(sessions: Sessions, scope: Scope, steps: string[], withinMs: number | null) {
  const adder = funnelAdder(steps, withinMs);
  const parts = grouped(sessions, scope, () => newFunnel(steps), adder.add);
  adder.flush();
  return parts;
}
export function groupedDwell(sessions: Sessions, scope: Scope) {
  const adder = dwellAdder();
  const parts = grouped(sessions, scope, newDwell, adder.add);
  adder.flush();
  return parts;
}
export const groupedVisits = (sessions: Sessions, scope: Scope, how: VisitBuckets) => grouped(sessions, scope, newVisits, visitsAdder(how));

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
export function groupedPresence(sessions: Sessions, scope: Scope, from: number, until: number): Grouped<Presence>[] {
  const parts = grouped(
    sessions,
    scope,
    (): Presence => ({ starts: [], ends: [] }),
    (part, view) => {
      const [start, end] = presentIn(view, from, until);
      if (end <= start) return;
      part.starts.push(start);
      part.ends.push(end);
    },
  );
  return parts.filter((p) => p.part.starts.length > 0);
}

/** When the session was present, clipped to [from, until): [start, end), empty (end ≤ start) when not at all. */
export function presentIn({ startedAt, endedAt, endReason, lastTs }: SessionView, from: number, until: number): readonly [number, number] {
  const end = Math.min(until, endedAt === null ? until : endReason === "idle_timeout" ? lastTs : endedAt);
  return [Math.max(from, startedAt), end];
}

/**
 * Concurrent sessions per bucket, from presence intervals: the exact peak (the most sessions
 * present at any instant of the bucket) and the time-weighted average (present session-ms ÷ the
 * bucket's ms), over each bucket's part of [from, until). A bucket wholly past `until` has null.
 * `bounds` are the buckets' starts, then the end of the last one.
 */
export function concurrency(starts: number[], ends: number[], bounds: number[], from: number, until: number) {
  return seriesFigures(sweep(starts, ends, bounds, from, until), bounds, from, until);
}

/** A series' figures per bucket: its peak, and its area over the bucket's part of [from, until) as an average. */
export function seriesFigures({ peak, area }: SeriesPart, bounds: number[], from: number, until: number) {
  return peak.map((p, b) => {
    const span = Math.min(bounds[b + 1]!, until) - Math.max(bounds[b]!, from);
    return p === null || span <= 0 ? { peak: null, average: null } : { peak: p, average: area[b]! / span };
  });
}

/** Presence intervals one month shard hands the next one's sweep (parallel lists; a key per interval). */
export interface Carry {
  starts: number[];
  ends: number[];
  keys: (string | null)[];
}

/** Per bucket, over its part of [lo, hi): the peak (null when none of the bucket is in [lo, hi)) and the present session-ms. */
export interface SeriesPart {
  peak: (number | null)[];
  area: number[];
}

/**
 * The sweep behind concurrency(), over [lo, hi) only: intervals outside it still set the level at
 * lo. Parts of one bucket over adjacent spans combine exactly: the peak is the larger, the areas add
 * (so each month shard can sweep its own month, with the intervals earlier months carry into it).
 */
export function sweep(starts: number[], ends: number[], bounds: number[], lo: number, hi: number): SeriesPart {
  const events = new Float64Array(starts.length + ends.length);
  // Ends sort before starts at the same instant: an end is encoded just below its time.
  let n = 0;
  for (const t of ends) events[n++] = t * 2;
  for (const t of starts) events[n++] = t * 2 + 1;
  events.sort();
  let i = 0;
  let level = 0;
  const peak: (number | null)[] = [];
  const area: number[] = [];
  const apply = (upTo: number, inclusive: boolean) => {
    for (; i < events.length; i++) {
      const t = Math.floor(events[i]! / 2);
      if (inclusive ? t > upTo : t >= upTo) break;
      level += events[i]! % 2 === 1 ? 1 : -1;
    }
  };
  for (let b = 0; b + 1 < bounds.length; b++) {
    const from = Math.max(bounds[b]!, lo);
    const to = Math.min(bounds[b + 1]!, hi);
    if (to <= from) {
      peak.push(null);
      area.push(0);
      continue;
    }
    apply(from, true);
    let top = level;
    let sum = 0;
    let prev = from;
    while (i < events.length) {
      const t = Math.floor(events[i]! / 2);
      if (t >= to) break;
      sum += level * (t - prev);
      prev = t;
      apply(t, true);
      top = Math.max(top, level);
    }
    sum += level * (to - prev);
    peak.push(top);
    area.push(sum);
  }
  return { peak, area };
}

/** Adds part `b` of a bucket series to `a` (adjacent spans, or the same span's shards never: see sweep). */
export function combineSeries(a: SeriesPart, b: SeriesPart): SeriesPart {
  b.peak.forEach((p, i) => {
    if (p !== null) a.peak[i] = a.peak[i] === null ? p : Math.max(a.peak[i]!, p);
    a.area[i]! += b.area[i]!;
  });
  return a;
}
