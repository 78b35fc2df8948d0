/**
 * Hour and day buckets aligned to an IANA time zone, from the runtime's own zone data (Intl).
 *
 * The rule: a bucket is a local calendar hour or day X. It starts at S(X), the earliest instant at
 * which the zone's wall clock reads X or later, and ends where the next one starts, S(X + 1 unit).
 * So a skipped hour or day (S(X) == S(X + 1)) has no bucket; a day whose midnight is skipped starts
 * right after the gap; a repeated hour belongs to the hour it repeats (a 2-hour bucket); a day with
 * a daylight-saving change is 23 or 25 hours long. Nothing assumes whole-hour offsets.
 *
 * Wall times are "wall milliseconds": the local date and time written as if it were UTC, on the
 * proleptic Gregorian calendar of every year (never Date.UTC, which reads years 0-99 as 1900-1999).
 */

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The instants a Date can hold. */
const MIN_INSTANT = -8.64e15;
const MAX_INSTANT = 8.64e15;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * An IANA tz database name as written: `/`-separated segments, each an uppercase ASCII letter then
 * letters, digits and `_+-` (`Europe/Paris`, `America/Port-au-Prince`, `Etc/GMT+5`, `UTC`), at most
 * 64 characters. The runtime's Intl also takes offsets (`+05:30`) and any letter case (`utc`),
 * which are not zone names.
 */
export function isZoneName(tz: string): boolean {
  return tz.length <= 64 && /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/.test(tz);
}

/** The zone's formatter, or null when `tz` is not a zone name (isZoneName) the runtime knows. */
export function zoneFormat(tz: string): Intl.DateTimeFormat | null {
  let format = formats.get(tz);
  if (!format) {
    if (!isZoneName(tz)) return null;
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: tz,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      return null;
    }
    if (formats.size > 500) formats.clear();
    formats.set(tz, format);
  }
  return format;
}

export interface Local {
  y: number;
  m: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

/** Wall milliseconds of a local date and time, for every year (month and day overflow roll over). */
export function wallMs(y: number, m: number, d: number, h = 0, mi = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

/** The zone's wall time at `instant` (to the second). */
export function local(format: Intl.DateTimeFormat, instant: number): Local {
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instant))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  // Intl writes years before 1 as eras (year 0 is "1" BC): the year is the instant's UTC year, one
  // less or more where the local date is across New Year from the UTC date.
  const utc = new Date(instant);
  const m = parts.month!;
  const um = utc.getUTCMonth() + 1;
  const y = utc.getUTCFullYear() + (m === 1 && um === 12 ? 1 : m === 12 && um === 1 ? -1 : 0);
  return { y, m, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at `instant`, in ms (local = UTC + offset). */
export function offsetAt(format: Intl.DateTimeFormat, instant: number): number {
  const l = local(format, instant);
  const whole = instant - (((instant % 1000) + 1000) % 1000);
  return wallMs(l.y, l.m, l.d, l.h, l.mi, l.s) - whole;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `2026-03-29T00:00:00+01:00` from wall milliseconds and the offset (years outside 0-9999 as ±YYYYYY). */
function isoOf(wall: number, offset: number): string {
  const date = new Date(wall);
  const y = date.getUTCFullYear();
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : `${y < 0 ? "-" : "+"}${pad(Math.abs(y), 6)}`;
  const minutes = Math.round(offset / 60_000);
  const abs = Math.abs(minutes);
  return `${year}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${minutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** `2026-03-29T00:00:00+01:00`: an instant as the zone's wall time with its offset. */
export function localIso(format: Intl.DateTimeFormat, instant: number): string {
  const offset = offsetAt(format, instant);
  return isoOf(instant + offset, offset);
}

/** A stretch [start, end) of instants over which the zone's offset does not change. */
interface Segment {
  start: number;
  end: number;
  offset: number;
}

/**
 * The zone's constant-offset stretches covering [a, b]: the offset sampled every `step` (an hour
 * unless given), each change found to the millisecond by bisection (an offset that changes and
 * changes back between two samples would be missed; no zone does that within a day).
 */
function segments(format: Intl.DateTimeFormat, a: number, b: number, step = HOUR): Segment[] {
  a = Math.max(a, MIN_INSTANT);
  b = Math.min(b, MAX_INSTANT);
  const out: Segment[] = [];
  let start = a;
  let offset = offsetAt(format, a);
  for (let t = a; t < b; ) {
    const next = Math.min(t + step, b);
    const nextOffset = offsetAt(format, next);
    // Every change in (t, next]: `lo` has `offset`, the first instant after it with another is `hi`.
    let lo = t;
    while (nextOffset !== offset) {
      let hi = next;
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (offsetAt(format, mid) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ start, end: hi, offset });
      start = hi;
      offset = hi === next ? nextOffset : offsetAt(format, hi);
      lo = hi;
    }
    t = next;
  }
  out.push({ start, end: b, offset });
  return out;
}

/**
 * S(X) for wall milliseconds X: the earliest instant the wall clock reads X or later, and the
 * segment holding it; `from` is a segment index known not to be after it. Infinity past the last.
 */
function startOf(segs: Segment[], x: number, from = 0): { at: number; seg: number } {
  for (let i = from; i < segs.length; i++) {
    const s = segs[i]!;
    const at = Math.max(s.start, x - s.offset);
    if (at < s.end) return { at, seg: i };
  }
  return { at: Number.POSITIVE_INFINITY, seg: segs.length };
}

/**
 * The instant a local hour starts under the buckets' rule: the earliest instant at which the wall
 * clock reads that time or later (for a time skipped by a DST change, the instant after the gap).
 */
export function instantOf(format: Intl.DateTimeFormat, y: number, m: number, d: number, h: number): number {
  const x = wallMs(y, m, d, h);
  // Offsets are within 16 hours of UTC and no change moves the clock by more than a day: S(X) is
  // within two days of X.
  return startOf(segments(format, x - 2 * DAY, x + 2 * DAY), x).at;
}

export interface Bucket {
  /** S(X), an instant. */
  start: number;
  /** The start as the zone's wall time with its offset (localIso). */
  label: string;
}

/**
 * Every bucket that overlaps [from, to), in order: the first is the one holding `from` (it may
 * begin before `from`; only sessions in range count), the last the last that starts before `to`.
 */
export function buckets(format: Intl.DateTimeFormat, interval: "hour" | "day", from: number, to: number): Bucket[] {
  const unit = interval === "hour" ? HOUR : DAY;
  // S(X) of every bucket wanted, and of the one after the last, lies within two days of the range
  // (offsets are within 16 hours of UTC, no change moves the clock by more than a day).
  const segs = segments(format, from - 2 * DAY, to + 2 * DAY);
  const wall = from + segs.find((s) => s.start <= from && from < s.end)!.offset;
  // The wall clock reads floor(wall) at `from`, so S(floor(wall)) <= from; a later hour may also
  // have started already (where the clock went back across an hour mark).
  let x = wall - (((wall % unit) + unit) % unit);
  let start = startOf(segs, x);
  let next = startOf(segs, x + unit, start.seg);
  while (next.at <= from) {
    x += unit;
    start = next;
    next = startOf(segs, x + unit, start.seg);
  }
  const out: Bucket[] = [];
  while (start.at < to) {
    // A skipped hour or day starts where the next one does: no bucket.
    if (next.at > start.at) {
      const offset = segs[start.seg]!.offset;
      out.push({ start: start.at, label: isoOf(start.at + offset, offset) });
    }
    x += unit;
    start = next;
    next = startOf(segs, x + unit, start.seg);
  }
  return out;
}

/** The starts of buckets(): every bucket that overlaps [from, to), in order. */
export function bucketStarts(format: Intl.DateTimeFormat, interval: "hour" | "day", from: number, to: number): number[] {
  return buckets(format, interval, from, to).map((b) => b.start);
}

/** Per zone, per UTC day index: the day's constant-offset stretches (zone data never changes in an isolate's life). */
const dayOffsets = new Map<string, Map<number, Segment[]>>();
const DAY_OFFSETS_MAX = 100_000;
let dayOffsetsSize = 0;

/**
 * The zone's offset from UTC at `instant` (local = UTC + offset), for bucketing many instants:
 * each UTC day's offsets are found once (sampled at both ends of the day, changes bisected to the
 * millisecond) and kept, so a query over 2,000 stores in 40 zones asks Intl a few thousand
 * times, not once per session. Null when `tz` is not a zone this runtime knows.
 */
export function cachedOffset(tz: string, instant: number): number | null {
  let days = dayOffsets.get(tz);
  if (days === undefined) {
    const format = zoneFormat(tz);
    if (!format) return null;
    if (dayOffsetsSize > DAY_OFFSETS_MAX) {
      dayOffsets.clear();
      dayOffsetsSize = 0;
    }
    days = new Map();
    dayOffsets.set(tz, days);
  }
  const day = Math.floor(instant / DAY);
  let segs = days.get(day);
  if (segs === undefined) {
    segs = segments(zoneFormat(tz)!, day * DAY, (day + 1) * DAY, DAY);
    days.set(day, segs);
    dayOffsetsSize += 1;
  }
  for (const s of segs) if (instant < s.end) return s.offset;
  return segs[segs.length - 1]!.offset;
}
