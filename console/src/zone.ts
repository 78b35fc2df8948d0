/**
 * Calendar days in an IANA time zone, from the browser's own zone data (Intl): a store's day starts
 * at its local midnight, so a day with a daylight-saving change is 23 or 25 hours long. The same
 * rules as the API's buckets (src/tenant-index/buckets.ts), so a range's ends are bucket starts.
 * Dates are "YYYY-MM-DD" strings, as native date inputs give them. No DOM here (unit-tested in workerd).
 */

// The API's own zone arithmetic (src/tenant-index/buckets.ts), so the console and the buckets agree.
import { localIso as formatLocalIso, offsetAt as formatOffsetAt, instantOf, local, zoneFormat } from "../../src/tenant-index/buckets";

/**
 * True for an IANA zone name, as written, that this browser knows ("Europe/Paris", "UTC"; not
 * "+05:30" or "utc"): the API's own rule (zoneFormat); it answers 400 for others.
 */
export function isTimeZone(tz: string): boolean {
  return zoneFormat(tz) !== null;
}

/** The browser's own zone, or UTC when it has none to tell. */
export function browserTimeZone(): string {
  try {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return tz && isTimeZone(tz) ? tz : "UTC";
  } catch {
    return "UTC";
  }
}

function need(tz: string): Intl.DateTimeFormat {
  const format = zoneFormat(tz);
  if (!format) throw new RangeError(`unknown time zone: ${tz}`);
  return format;
}

/** The zone's offset from UTC at `instant`, in ms (local wall time = UTC + offset). */
export function offsetAt(tz: string, instant: number): number {
  return formatOffsetAt(need(tz), instant);
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "YYYY-MM-DD" of a UTC calendar date (Date.UTC normalises overflowing days and months). */
function ymd(y: number, m: number, d: number): string {
  const date = new Date(Date.UTC(y, m - 1, d));
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** A real calendar date written YYYY-MM-DD (2026-02-30 is not one). */
export function isDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return y >= 1970 && ymd(y, m, d) === value;
}

function parts(date: string): [number, number, number] {
  if (!isDate(date)) throw new RangeError(`not a date: ${date}`);
  return [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
}

/** The date `days` after (or before, when negative) `date`. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = parts(date);
  return ymd(y, m, d + days);
}

/** Calendar days from `a` to `b` (1 from a day to the next; negative when b is before a). */
export function daysBetween(a: string, b: string): number {
  const [ay, am, ad] = parts(a);
  const [by, bm, bd] = parts(b);
  return Math.round((Date.UTC(by, bm - 1, bd) - Date.UTC(ay, am - 1, ad)) / 86_400_000);
}

/** The zone's calendar date at `instant`. */
export function localDate(instant: number, tz: string): string {
  const l = local(need(tz), instant);
  return ymd(l.y, l.m, l.d);
}

/**
 * The instant the zone's day `date` starts, as the API's day buckets start: the earliest instant
 * the wall clock reads that midnight or later (where a daylight-saving change skips midnight, the
 * first instant after the gap; for a day skipped whole, the start of the next day).
 */
export function startOfDay(date: string, tz: string): number {
  const [y, m, d] = parts(date);
  return instantOf(need(tz), y, m, d, 0);
}

/** `2026-03-29T00:00:00+01:00`: an instant as the zone's wall time with its offset (the API's bucket `start` form). */
export function localIso(instant: number, tz: string): string {
  return formatLocalIso(need(tz), instant);
}
