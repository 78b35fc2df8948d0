/**
 * Visit analytics, computed where the data is: each shard reduces the sessions that started in the
 * range to partial results (counts and the raw values behind each median), the Worker merges the
 * shards' parts and takes the quantiles. Every figure is exact; docs/index-and-analytics.md defines each one.
 */
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
  /** For each step after the first: ms from the previous step, one value per session that reached it. */
  gaps: number[][];
}

/**
 * A session reaches step k when it has stamps with steps 1..k in that order (other stamps between
 * are allowed), each matched to the earliest such stamp after the previous step's: so a repeated
 * label counts from its first occurrence, and step 1 is the session's first stamp with that label.
 * With `withinMs`, step k counts only if it came at most that long after step 1.
 */
export function funnelPart(rows: Iterable<AnalyticsRow>, steps: string[], withinMs: number | null): FunnelPart {
  const reached = steps.map(() => 0);
  const gaps: number[][] = steps.map(() => []);
  const ts: number[] = [];
  for (const [, , , , path, pathTs] of rows) {
    if (path === "") continue;
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
      reached[k]! += 1;
      if (k > 0) gaps[k]!.push(t - times[at]!);
      at = i;
    }
  }
  return { reached, gaps };
}

/**
 * A stamp's dwell is the time until the session's next stamp, or, for the last stamp of a session
 * the client ended, until the end. The last stamp of an active session, or of one ended by idle
 * timeout, has no observed dwell and is left out. Values per label, in ms.
 */
export function dwellPart(rows: Iterable<AnalyticsRow>): Record<string, number[]> {
  const out = new Map<string, number[]>();
  const ts: number[] = [];
  const add = (label: string, value: number) => {
    const list = out.get(label);
    if (list) list.push(value);
    else out.set(label, [value]);
  };
  for (const [, endedAt, endReason, , path, pathTs] of rows) {
    if (path === "") continue;
    const labels = path.split(PATH_SEPARATOR);
    const times = timesOf(pathTs, ts);
    const last = labels.length - 1;
    for (let i = 0; i < last; i++) add(labels[i]!, times[i + 1]! - times[i]!);
    if (endReason === "client" && endedAt !== null) add(labels[last]!, endedAt - times[last]!);
  }
  return Object.fromEntries(out);
}

export interface VisitsPart {
  sessions: number[];
  /** Per bucket, the durations (ms) of the sessions that ended. */
  durations: number[][];
}

/**
 * Sessions per bucket by start time (`starts` ascending; a bucket runs to the next one's start),
 * and the duration of each ended one: until its end for a client end, until its last stamp for an
 * idle-timeout end (the timeout itself is not time spent).
 */
export function visitsPart(rows: Iterable<AnalyticsRow>, starts: number[]): VisitsPart {
  const sessions = starts.map(() => 0);
  const durations: number[][] = starts.map(() => []);
  for (const [startedAt, endedAt, endReason, lastTs] of rows) {
    // The last bucket starting at or before the session's start.
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || startedAt < starts[0]!) continue;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= startedAt) lo = mid;
      else hi = mid - 1;
    }
    sessions[lo]! += 1;
    if (endedAt === null) continue;
    durations[lo]!.push((endReason === "idle_timeout" ? lastTs : endedAt) - startedAt);
  }
  return { sessions, durations };
}

/** The median (the lower of the two middle values for an even count) and the nearest-rank p90. */
export function quantiles(values: number[]): { median: number | null; p90: number | null } {
  if (values.length === 0) return { median: null, p90: null };
  const sorted = Float64Array.from(values).sort();
  return { median: sorted[(sorted.length - 1) >> 1]!, p90: sorted[Math.ceil(0.9 * sorted.length) - 1]! };
}
