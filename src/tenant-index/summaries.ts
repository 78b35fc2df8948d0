/**
 * Per-day summaries: for each UTC day, the dwell part (analytics.ts) of the day's packed sessions
 * and how many of them each store has (what grouped queries rank stores by), kept in step with the blocks (store.ts: added where a session is packed, subtracted
 * where one is unpacked, rebuilt with a day's repack, compared by the drift check). A dwell query
 * reads one summary per whole day of its range instead of every session's stamps, and scans only
 * the sessions a summary does not hold (the partial days at its edges, and rows not packed yet).
 *
 * Why dwell: its figures are per label over all of a day's stamps, so a day of 33,000 sessions and
 * 230,000 dwells is a few hundred histogram bins per label (a few KB), and summing days is adding
 * bins. Bins are the histogram's (histogram.ts), so a sum of summaries is bin for bin the histogram
 * a scan would build: the answer is the same, exactly, not approximately.
 */
import type { PackedSession } from "./blocks";
import { binOf, type Histogram, newHistogram } from "./histogram";

/** Sessions, and per label the histogram of its dwells (ms): what a dwell part holds. */
export interface DwellSummary {
  sessions: number;
  values: Map<string, Histogram>;
}

export const newDwellSummary = (): DwellSummary => ({ sessions: 0, values: new Map() });

/** Adds (sign 1) or takes out (sign −1) a packed session's dwells, as analytics.ts's dwell counts them. */
export function addSessionDwell(summary: DwellSummary, s: PackedSession, sign: 1 | -1): void {
  summary.sessions += sign;
  const last = s.labels.length - 1;
  for (let i = 0; i <= last; i++) {
    if (i === last && s.endReason !== "client") break;
    const value = i === last ? s.endedAt - s.times[last]! : s.times[i + 1]! - s.times[i]!;
    addSigned(summary.values, s.labels[i]!, value, sign);
  }
}

function addSigned(values: Map<string, Histogram>, label: string, value: number, sign: 1 | -1) {
  let h = values.get(label);
  if (h === undefined) {
    h = newHistogram();
    values.set(label, h);
  }
  // The bin a scan counts it in (addValue's), so sums and differences stay bin for bin.
  const key = binOf(value);
  const n = (h.bins.get(key) ?? 0) + sign;
  if (n === 0) h.bins.delete(key);
  else h.bins.set(key, n);
  h.count += sign;
  h.sum += sign * value;
  // A label no session has any more is gone, as it would be from a scan.
  if (h.count === 0) values.delete(label);
}

/** `a` minus `b`, bin for bin (b's sessions are among a's): the part of a group's complement. */
export function subtractDwell(a: DwellSummary, b: DwellSummary): void {
  a.sessions -= b.sessions;
  for (const [label, hb] of b.values) {
    const ha = a.values.get(label);
    if (ha === undefined) continue;
    for (const [key, n] of hb.bins) {
      const left = (ha.bins.get(key) ?? 0) - n;
      if (left === 0) ha.bins.delete(key);
      else ha.bins.set(key, left);
    }
    ha.count -= hb.count;
    ha.sum -= hb.sum;
    if (ha.count === 0) a.values.delete(label);
  }
}

export function mergeDwellSummary(a: DwellSummary, b: DwellSummary): DwellSummary {
  a.sessions += b.sessions;
  for (const [label, hb] of b.values) {
    let ha = a.values.get(label);
    if (ha === undefined) {
      ha = newHistogram();
      a.values.set(label, ha);
    }
    for (const [key, n] of hb.bins) ha.bins.set(key, (ha.bins.get(key) ?? 0) + n);
    ha.count += hb.count;
    ha.sum += hb.sum;
  }
  return a;
}

/**
 * A day's summary: its packed sessions' dwell part, and per store (null: none named) how many of
 * them there are and how many were present for some time (presence longer than zero: occupancy
 * ranks groups by those).
 */
export interface DaySummary {
  dwell: DwellSummary;
  stores: Map<string | null, { sessions: number; present: number }>;
}

export const newDaySummary = (): DaySummary => ({ dwell: newDwellSummary(), stores: new Map() });

/** Adds (sign 1) or takes out (sign −1) a packed session. */
export function addToDay(day: DaySummary, s: PackedSession, sign: 1 | -1): void {
  addSessionDwell(day.dwell, s, sign);
  const counts = day.stores.get(s.store) ?? { sessions: 0, present: 0 };
  counts.sessions += sign;
  // Present until the client's end, or the last stamp of an idle end (analytics.ts presentIn).
  if ((s.endReason === "idle_timeout" ? s.lastTs : s.endedAt) > s.startedAt) counts.present += sign;
  if (counts.sessions === 0) day.stores.delete(s.store);
  else day.stores.set(s.store, counts);
}

/**
 * As stored, two columns, each sorted so a day's summary has one encoding whatever order its
 * sessions came in (the drift check compares encodings), and read apart (dwell does not parse the
 * stores): `dwell` is `[sessions, [[label, count, sum, [key, n, key, n, ...]], ...]]`, `stores`
 * is `[[store, sessions, present], ...]` (no store: ""; a store id is never empty).
 */
export function encodeDay(day: DaySummary): { dwell: string; stores: string } {
  const s = day.dwell;
  const labels = [...s.values.keys()].sort();
  const stores = [...day.stores]
    .map(([store, c]) => [store ?? "", c.sessions, c.present] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    dwell: JSON.stringify([
      s.sessions,
      labels.map((label) => {
        const h = s.values.get(label)!;
        const keys = [...h.bins.keys()].sort((x, y) => x - y);
        return [label, h.count, h.sum, keys.flatMap((k) => [k, h.bins.get(k)!])];
      }),
    ]),
    stores: JSON.stringify(stores),
  };
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === "number");

/** The dwell part a `dwell` column encodes, or null when it is not one (derived data: the check names its day, and readers scan it instead). */
export function decodeDwell(text: string): DwellSummary | null {
  const v = parse(text);
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== "number" || !Array.isArray(v[1])) return null;
  const values = new Map<string, Histogram>();
  for (const l of v[1] as unknown[]) {
    if (!Array.isArray(l) || typeof l[0] !== "string" || typeof l[1] !== "number" || typeof l[2] !== "number" || !isNumbers(l[3]))
      return null;
    const flat = l[3];
    const bins = new Map<number, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) bins.set(flat[i]!, flat[i + 1]!);
    values.set(l[0], { bins, count: l[1], sum: l[2] });
  }
  return { sessions: v[0], values };
}

/** The per-store counts a `stores` column encodes, or null when it is not that. */
export function decodeStores(text: string): DaySummary["stores"] | null {
  const v = parse(text);
  if (!Array.isArray(v)) return null;
  const stores: DaySummary["stores"] = new Map();
  for (const e of v as unknown[]) {
    if (!Array.isArray(e) || typeof e[0] !== "string" || typeof e[1] !== "number" || typeof e[2] !== "number") return null;
    stores.set(e[0] === "" ? null : e[0], { sessions: e[1], present: e[2] });
  }
  return stores;
}
