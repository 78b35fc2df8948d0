/**
 * Visit analytics, computed where the data is: each shard reduces the sessions that started in the
 * range to partial results (counts and the raw values behind each median), the Worker merges the
 * shards' parts and takes the quantiles. Every figure is exact; the README defines each one.
 */
import type { AnalyticsRow } from "./store";

/** Labels cannot contain control characters, so the stored path separates them with U+0001. */
export const PATH_SEPARATOR = "\u0001";

function path(row: AnalyticsRow): { labels: string[]; times: number[] } {
  if (row.path === "") return { labels: [], times: [] };
  return { labels: row.path.split(PATH_SEPARATOR), times: row.path_ts.split(",").map(Number) };
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
export function funnelPart(rows: AnalyticsRow[], steps: string[], withinMs: number | null): FunnelPart {
  const reached = steps.map(() => 0);
  const gaps: number[][] = steps.map(() => []);
  for (const row of rows) {
    const { labels, times } = path(row);
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
export function dwellPart(rows: AnalyticsRow[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  const add = (label: string, value: number) => {
    const list = out[label];
    if (list) list.push(value);
    else out[label] = [value];
  };
  for (const row of rows) {
    const { labels, times } = path(row);
    for (let i = 0; i < labels.length; i++) {
      if (i + 1 < labels.length) add(labels[i]!, times[i + 1]! - times[i]!);
      else if (row.end_reason === "client" && row.ended_at !== null) add(labels[i]!, row.ended_at - times[i]!);
    }
  }
  return out;
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
export function visitsPart(rows: AnalyticsRow[], starts: number[]): VisitsPart {
  const sessions = starts.map(() => 0);
  const durations: number[][] = starts.map(() => []);
  for (const row of rows) {
    // The last bucket starting at or before the session's start.
    let lo = 0;
    let hi = starts.length - 1;
    if (hi < 0 || row.started_at < starts[0]!) continue;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= row.started_at) lo = mid;
      else hi = mid - 1;
    }
    sessions[lo]! += 1;
    if (row.ended_at === null) continue;
    durations[lo]!.push((row.end_reason === "idle_timeout" ? row.last_ts : row.ended_at) - row.started_at);
  }
  return { sessions, durations };
}

/** The median (the lower of the two middle values for an even count) and the nearest-rank p90. */
export function quantiles(values: number[]): { median: number | null; p90: number | null } {
  if (values.length === 0) return { median: null, p90: null };
  const sorted = Float64Array.from(values).sort();
  return { median: sorted[(sorted.length - 1) >> 1]!, p90: sorted[Math.ceil(0.9 * sorted.length) - 1]! };
}
