/**
 * Hour and day buckets aligned to an IANA time zone, from the runtime's own zone data (Intl): a
 * store's day starts at its local midnight, so a day with a daylight-saving change is 23 or 25
 * hours long.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

/** The zone's formatter, or null when the runtime does not know the zone. */
export function zoneFormat(tz: string): Intl.DateTimeFormat | null {
  let format = formats.get(tz);
  if (!format) {
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

/** The zone's wall time at `instant`. */
export function local(format: Intl.DateTimeFormat, instant: number): Local {
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(instant))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at `instant`, in ms (local = UTC + offset). */
export function offsetAt(format: Intl.DateTimeFormat, instant: number): number {
  const l = local(format, instant);
  const whole = instant - (((instant % 1000) + 1000) % 1000);
  return Date.UTC(l.y, l.m - 1, l.d, l.h, l.mi, l.s) - whole;
}

/** The instant of a local wall time (for a time skipped by a DST change, the instant after the gap). */
export function instantOf(format: Intl.DateTimeFormat, y: number, m: number, d: number, h: number): number {
  const wall = Date.UTC(y, m - 1, d, h);
  const first = wall - offsetAt(format, wall);
  const second = wall - offsetAt(format, first);
  return Math.max(first, second);
}

/** `2026-03-29T00:00:00+01:00`: an instant as the zone's wall time with its offset. */
export function localIso(format: Intl.DateTimeFormat, instant: number): string {
  const l = local(format, instant);
  const offset = Math.round(offsetAt(format, instant) / 60_000);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(l.y, 4)}-${pad(l.m)}-${pad(l.d)}T${pad(l.h)}:${pad(l.mi)}:${pad(l.s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * The starts of every bucket that overlaps [from, to), in order: the first is the start of the
 * local hour or day holding `from` (it may begin before `from`; only sessions in range count).
 */
export function bucketStarts(format: Intl.DateTimeFormat, interval: "hour" | "day", from: number, to: number): number[] {
  const l = local(format, from);
  const starts: number[] = [];
  if (interval === "hour") {
    // Local hours are whole UTC hours apart (offset changes are whole hours in the zones that matter
    // here; a zone with a half-hour offset keeps its :30 alignment).
    let t = instantOf(format, l.y, l.m, l.d, l.h);
    if (t > from) t -= 3_600_000;
    for (; t < to; t += 3_600_000) starts.push(t);
    return starts;
  }
  for (let day = 0; ; day++) {
    // Date.UTC normalises day overflow into the next month and year.
    const date = new Date(Date.UTC(l.y, l.m - 1, l.d + day));
    const t = instantOf(format, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 0);
    if (t >= to) return starts;
    starts.push(t);
  }
}
