// The visits buckets (src/tenant-index/buckets.ts) against the rule, stated in docs/index-and-analytics.md: bucket X
// (a local hour or day) starts at S(X), the earliest instant at which the zone's wall clock reads X
// or later, and ends at S(X + 1 unit); a bucket with S(X) == S(X + 1) is not listed.
import { describe, expect, it } from "vitest";
import { bucketStarts, buckets, cachedOffset, instantOf, local, localIso, offsetAt, zoneFormat } from "../src/tenant-index/buckets";

const Z = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
type Interval = "hour" | "day";

function fmt(tz: string): Intl.DateTimeFormat {
  const format = zoneFormat(tz);
  if (!format) throw new Error(`no zone ${tz}`);
  return format;
}

/** What the route answers for the range: each bucket's start instant and label. */
function list(tz: string, interval: Interval, from: number, to: number) {
  const format = fmt(tz);
  return bucketStarts(format, interval, from, to).map((start) => ({ start, label: localIso(format, start) }));
}

const labels = (tz: string, interval: Interval, from: string, to: string) => list(tz, interval, Z(from), Z(to)).map((b) => b.label);

// ---- An oracle for the rule, from Intl alone (years 1000 and later) ----

const oracleFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock at `t` as wall milliseconds (the local date and time written as UTC). */
function wallAt(tz: string, t: number): number {
  let format = oracleFormats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    oracleFormats.set(tz, format);
  }
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (((t % 1000) + 1000) % 1000);
}

/**
 * The X whose bucket holds instant `t`: the largest X with S(X) <= t, i.e. the floor of the highest
 * reading of the wall clock up to `t`. Offsets change on whole minutes and fall back by 2 hours at
 * most (Antarctica/Troll), so the highest reading is at `t` or just before one of the minutes of the
 * 2 hours before it (read only where the offset differs from `t`'s within those 2 hours).
 */
function bucketOf(tz: string, interval: Interval, t: number): number {
  const wall = wallAt(tz, t);
  let high = wall;
  const minute = t - (((t % MINUTE) + MINUTE) % MINUTE);
  const at = (k: number) => minute - k * MINUTE - 1;
  let steady = true;
  for (let k = 0; k <= 120 && steady; k += 15) steady = wallAt(tz, at(k)) - at(k) === wall - t;
  if (!steady) for (let k = 0; k <= 121; k++) high = Math.max(high, wallAt(tz, at(k)));
  const unit = interval === "hour" ? HOUR : DAY;
  return high - (((high % unit) + unit) % unit);
}

/** The X a label names: its wall date (and hour, for hours). */
function labelX(label: string, interval: Interval): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})[+-]\d{2}:\d{2}$/.exec(label);
  if (!m) throw new Error(`label ${label}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), interval === "hour" ? Number(m[4]) : 0);
}

/**
 * The shape every answer has: starts and labels strictly ascending, each label the local form of
 * its start (it parses back to it), every bucket overlapping [from, to), the first holding `from`.
 * Buckets tile the time: each runs to the next one's start, the last to `to`.
 */
function checkShape(tz: string, interval: Interval, from: number, to: number) {
  const got = list(tz, interval, from, to);
  const where = `${tz} ${interval} ${new Date(from).toISOString()}..${new Date(to).toISOString()}`;
  expect(got.length, where).toBeGreaterThan(0);
  expect(got[0]!.start, where).toBeLessThanOrEqual(from);
  expect(got[got.length - 1]!.start, where).toBeLessThan(to);
  if (got.length > 1) expect(got[1]!.start, where).toBeGreaterThan(from);
  expect(new Set(got.map((b) => b.label)).size, `${where}: labels distinct`).toBe(got.length);
  got.forEach((b, i) => {
    expect(Date.parse(b.label), `${where}: ${b.label} parses back`).toBe(b.start);
    if (i > 0) expect(b.start, `${where}: ${b.label} after ${got[i - 1]!.label}`).toBeGreaterThan(got[i - 1]!.start);
  });
  return got;
}

/**
 * The rule, checked with the oracle: bucket i holds exactly the instants of its X (its start is the
 * first of them, the instant before its end the last; an X between two listed ones has no instant),
 * and random instants of the range fall in the listed bucket of their X.
 */
function checkRule(tz: string, interval: Interval, from: number, to: number, random: () => number, samples = 8) {
  const got = checkShape(tz, interval, from, to);
  const where = `${tz} ${interval} ${new Date(from).toISOString()}..${new Date(to).toISOString()}`;
  const ends = got.map((_, i) => (i + 1 < got.length ? got[i + 1]!.start : to));
  // Long ranges: the buckets at the ends and where the offset changes (their label's offset differs).
  const interesting = (i: number) =>
    got.length <= 60 ||
    i < 3 ||
    i >= got.length - 3 ||
    got[i]!.label.slice(-6) !== got[i - 1]!.label.slice(-6) ||
    got[i + 1]?.label.slice(-6) !== got[i]!.label.slice(-6);
  got.forEach((b, i) => {
    if (!interesting(i)) return;
    const x = labelX(b.label, interval);
    expect(bucketOf(tz, interval, b.start), `${where}: ${b.label} is its X's first instant`).toBe(x);
    expect(bucketOf(tz, interval, b.start - 1), `${where}: the instant before ${b.label} is not its X`).toBeLessThan(x);
    expect(bucketOf(tz, interval, ends[i]! - 1), `${where}: ${b.label} runs to the next bucket`).toBe(x);
  });
  for (let k = 0; k < samples; k++) {
    const t = from + Math.floor(random() * (to - from));
    const i = got.findLastIndex((b) => b.start <= t);
    expect(i, where).toBeGreaterThanOrEqual(0);
    expect(t < ends[i]!, where).toBe(true);
    expect(labelX(got[i]!.label, interval), `${where}: ${new Date(t).toISOString()} is in ${got[i]!.label}`).toBe(
      bucketOf(tz, interval, t),
    );
  }
}

/** A seeded generator (mulberry32), so a failure can be repeated. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const noRandom = () => 0.5;

describe("buckets: years 0000 to 0099 (Date.UTC would read them as 1900-1999)", () => {
  it("lists the days and hours of year 0 and the years after it, across the 0099 to 0100 boundary", () => {
    expect(labels("UTC", "day", "0000-01-01T00:00:00Z", "0000-01-08T00:00:00Z")).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((d) => `0000-01-0${d}T00:00:00+00:00`),
    );
    // Year 0 is a leap year on the proleptic Gregorian calendar.
    expect(labels("UTC", "hour", "0000-02-29T22:30:00Z", "0000-03-01T01:00:00Z")).toEqual([
      "0000-02-29T22:00:00+00:00",
      "0000-02-29T23:00:00+00:00",
      "0000-03-01T00:00:00+00:00",
    ]);
    expect(labels("UTC", "day", "0099-12-30T12:00:00Z", "0100-01-02T00:00:00Z")).toEqual([
      "0099-12-30T00:00:00+00:00",
      "0099-12-31T00:00:00+00:00",
      "0100-01-01T00:00:00+00:00",
    ]);
    // A zone ahead of UTC: its day 0050-06-01 starts at 19:00Z the day before.
    expect(list("Etc/GMT-5", "day", Z("0050-06-01T00:00:00Z"), Z("0050-06-03T00:00:00Z"))).toEqual([
      { start: Z("0050-05-31T19:00:00Z"), label: "0050-06-01T00:00:00+05:00" },
      { start: Z("0050-06-01T19:00:00Z"), label: "0050-06-02T00:00:00+05:00" },
      { start: Z("0050-06-02T19:00:00Z"), label: "0050-06-03T00:00:00+05:00" },
    ]);
    for (const [tz, from, to] of [
      ["UTC", "0000-01-01T00:00:00Z", "0000-03-01T00:00:00Z"],
      ["UTC", "0099-11-01T00:00:00Z", "0100-02-01T00:00:00Z"],
      ["Etc/GMT+11", "0001-01-01T00:00:00Z", "0001-02-01T00:00:00Z"],
    ] as const) {
      checkShape(tz, "day", Z(from), Z(to));
      checkShape(tz, "hour", Z(from), Z(from) + 3 * DAY);
    }
  });

  it("reads and writes the wall time of those years exactly", () => {
    const utc = fmt("UTC");
    const yearZero = Z("0000-01-01T00:00:00Z");
    expect(local(utc, yearZero)).toEqual({ y: 0, m: 1, d: 1, h: 0, mi: 0, s: 0 });
    expect(local(utc, Z("-000001-12-31T23:00:00Z")).y).toBe(-1);
    expect(offsetAt(utc, yearZero)).toBe(0);
    expect(offsetAt(utc, yearZero - 500)).toBe(0);
    expect(offsetAt(fmt("Etc/GMT-5"), Z("0099-12-31T20:00:00Z"))).toBe(5 * HOUR);
    expect(localIso(fmt("Etc/GMT-5"), Z("0099-12-31T20:00:00Z"))).toBe("0100-01-01T01:00:00+05:00");
    expect(localIso(utc, Z("-000001-12-31T23:00:00Z"))).toBe("-000001-12-31T23:00:00+00:00");
    expect(instantOf(utc, 50, 3, 1, 0)).toBe(Z("0050-03-01T00:00:00Z"));
    expect(instantOf(fmt("Etc/GMT-5"), 0, 1, 1, 0)).toBe(Z("-000001-12-31T19:00:00Z"));
  });
});

describe("buckets: a skipped day, skipped and repeated hours", () => {
  it("Pacific/Apia skipped 30 December 2011: no bucket for it and no duplicate of the 31st", () => {
    const got = checkShape("Pacific/Apia", "day", Z("2011-12-28T00:00:00Z"), Z("2012-01-02T00:00:00Z"));
    expect(got).toEqual([
      { start: Z("2011-12-27T10:00:00Z"), label: "2011-12-27T00:00:00-10:00" },
      { start: Z("2011-12-28T10:00:00Z"), label: "2011-12-28T00:00:00-10:00" },
      { start: Z("2011-12-29T10:00:00Z"), label: "2011-12-29T00:00:00-10:00" },
      { start: Z("2011-12-30T10:00:00Z"), label: "2011-12-31T00:00:00+14:00" },
      { start: Z("2011-12-31T10:00:00Z"), label: "2012-01-01T00:00:00+14:00" },
      { start: Z("2012-01-01T10:00:00Z"), label: "2012-01-02T00:00:00+14:00" },
    ]);
    expect(labels("Pacific/Apia", "hour", "2011-12-30T09:00:00Z", "2011-12-30T11:00:00Z")).toEqual([
      "2011-12-29T23:00:00-10:00",
      "2011-12-31T00:00:00+14:00",
    ]);
    expect(instantOf(fmt("Pacific/Apia"), 2011, 12, 30, 0)).toBe(Z("2011-12-30T10:00:00Z"));
    checkRule("Pacific/Apia", "day", Z("2011-12-20T00:00:00Z"), Z("2012-01-10T00:00:00Z"), prng(1));
    checkRule("Pacific/Apia", "hour", Z("2011-12-29T12:00:00Z"), Z("2011-12-31T00:00:00Z"), prng(2));
  });

  it("the hour repeated in autumn is one 2-hour bucket, and none lies wholly before `from` (New York, Chicago, Los Angeles)", () => {
    // New York fell back at 06:00Z (02:00 EDT became 01:00 EST): 06:30Z is 01:30 EST, the second 01:00.
    expect(list("America/New_York", "hour", Z("2026-11-01T06:30:00Z"), Z("2026-11-01T08:00:00Z"))).toEqual([
      { start: Z("2026-11-01T05:00:00Z"), label: "2026-11-01T01:00:00-04:00" },
      { start: Z("2026-11-01T07:00:00Z"), label: "2026-11-01T02:00:00-05:00" },
    ]);
    // Chicago at 07:00Z: 07:10Z is 01:10 CST.
    expect(list("America/Chicago", "hour", Z("2026-11-01T07:10:00Z"), Z("2026-11-01T09:00:00Z"))).toEqual([
      { start: Z("2026-11-01T06:00:00Z"), label: "2026-11-01T01:00:00-05:00" },
      { start: Z("2026-11-01T08:00:00Z"), label: "2026-11-01T02:00:00-06:00" },
    ]);
    // Los Angeles at 09:00Z: 08:30Z is 01:30 PDT, the first 01:00.
    expect(list("America/Los_Angeles", "hour", Z("2026-11-01T08:30:00Z"), Z("2026-11-01T10:30:00Z"))).toEqual([
      { start: Z("2026-11-01T08:00:00Z"), label: "2026-11-01T01:00:00-07:00" },
      { start: Z("2026-11-01T10:00:00Z"), label: "2026-11-01T02:00:00-08:00" },
    ]);
    // The day is 25 hours.
    const days = list("America/New_York", "day", Z("2026-11-01T04:00:00Z"), Z("2026-11-03T00:00:00Z"));
    expect(days.map((b) => b.label)).toEqual(["2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"]);
    expect(days[1]!.start - days[0]!.start).toBe(25 * HOUR);
    for (const [tz, t] of [
      ["America/New_York", "2026-11-01T06:00:00Z"],
      ["America/Chicago", "2026-11-01T07:00:00Z"],
      ["America/Los_Angeles", "2026-11-01T09:00:00Z"],
    ] as const) {
      for (let m = -150; m <= 150; m += 10) checkRule(tz, "hour", Z(t) + m * MINUTE, Z(t) + (m + 95) * MINUTE, noRandom, 1);
    }
  });

  it("the hour skipped in spring has no bucket (New York)", () => {
    expect(labels("America/New_York", "hour", "2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z")).toEqual([
      "2026-03-08T01:00:00-05:00",
      "2026-03-08T03:00:00-04:00",
    ]);
    checkRule("America/New_York", "hour", Z("2026-03-07T12:00:00Z"), Z("2026-03-09T00:00:00Z"), prng(3));
  });

  it("a day whose midnight is skipped starts right after the gap (Havana, Beirut, Santiago); Beirut's repeated 23:00 is one bucket", () => {
    // Havana: 00:00 CST became 01:00 CDT at 2026-03-08T05:00Z.
    expect(list("America/Havana", "day", Z("2026-03-07T05:00:00Z"), Z("2026-03-10T04:00:00Z"))).toEqual([
      { start: Z("2026-03-07T05:00:00Z"), label: "2026-03-07T00:00:00-05:00" },
      { start: Z("2026-03-08T05:00:00Z"), label: "2026-03-08T01:00:00-04:00" },
      { start: Z("2026-03-09T04:00:00Z"), label: "2026-03-09T00:00:00-04:00" },
    ]);
    expect(labels("America/Havana", "hour", "2026-03-08T04:30:00Z", "2026-03-08T06:00:00Z")).toEqual([
      "2026-03-07T23:00:00-05:00",
      "2026-03-08T01:00:00-04:00",
    ]);
    // Beirut: 00:00 +02:00 became 01:00 +03:00 at 2026-03-28T22:00Z; 00:00 +03:00 became 23:00 +02:00
    // the day before at 2026-10-24T21:00Z.
    expect(labels("Asia/Beirut", "day", "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z")).toEqual([
      "2026-03-28T00:00:00+02:00",
      "2026-03-29T01:00:00+03:00",
      "2026-03-30T00:00:00+03:00",
    ]);
    expect(list("Asia/Beirut", "hour", Z("2026-10-24T21:30:00Z"), Z("2026-10-24T23:00:00Z"))).toEqual([
      { start: Z("2026-10-24T20:00:00Z"), label: "2026-10-24T23:00:00+03:00" },
      { start: Z("2026-10-24T22:00:00Z"), label: "2026-10-25T00:00:00+02:00" },
    ]);
    expect(list("Asia/Beirut", "day", Z("2026-10-24T21:30:00Z"), Z("2026-10-25T21:00:00Z"))).toEqual([
      { start: Z("2026-10-23T21:00:00Z"), label: "2026-10-24T00:00:00+03:00" },
      { start: Z("2026-10-24T22:00:00Z"), label: "2026-10-25T00:00:00+02:00" },
    ]);
    expect(labels("America/Santiago", "day", "2026-09-05T12:00:00Z", "2026-09-07T12:00:00Z")).toEqual([
      "2026-09-05T00:00:00-04:00",
      "2026-09-06T01:00:00-03:00",
      "2026-09-07T00:00:00-03:00",
    ]);
    for (const [tz, t] of [
      ["America/Havana", "2026-03-08T05:00:00Z"],
      ["America/Havana", "2026-11-01T05:00:00Z"],
      ["Asia/Beirut", "2026-03-28T22:00:00Z"],
      ["Asia/Beirut", "2026-10-24T21:00:00Z"],
      ["America/Santiago", "2026-09-06T04:00:00Z"],
    ] as const) {
      checkRule(tz, "day", Z(t) - 3 * DAY + 7 * MINUTE, Z(t) + 3 * DAY, prng(4));
      checkRule(tz, "hour", Z(t) - 5 * HOUR + 7 * MINUTE, Z(t) + 5 * HOUR, prng(5));
    }
  });

  it("30- and 45-minute offsets and shifts: Lord Howe, Kathmandu, Chatham", () => {
    // Lord Howe: 02:00 +10:30 became 02:30 +11:00 at 2026-10-03T15:30Z: hour 02 is half an hour long.
    expect(list("Australia/Lord_Howe", "hour", Z("2026-10-03T13:30:00Z"), Z("2026-10-03T17:00:00Z"))).toEqual([
      { start: Z("2026-10-03T13:30:00Z"), label: "2026-10-04T00:00:00+10:30" },
      { start: Z("2026-10-03T14:30:00Z"), label: "2026-10-04T01:00:00+10:30" },
      { start: Z("2026-10-03T15:30:00Z"), label: "2026-10-04T02:30:00+11:00" },
      { start: Z("2026-10-03T16:00:00Z"), label: "2026-10-04T03:00:00+11:00" },
    ]);
    // ... and 02:00 +11:00 became 01:30 +10:30 at 2026-04-04T15:00Z: hour 01 is an hour and a half.
    expect(list("Australia/Lord_Howe", "hour", Z("2026-04-04T13:00:00Z"), Z("2026-04-04T17:00:00Z"))).toEqual([
      { start: Z("2026-04-04T13:00:00Z"), label: "2026-04-05T00:00:00+11:00" },
      { start: Z("2026-04-04T14:00:00Z"), label: "2026-04-05T01:00:00+11:00" },
      { start: Z("2026-04-04T15:30:00Z"), label: "2026-04-05T02:00:00+10:30" },
      { start: Z("2026-04-04T16:30:00Z"), label: "2026-04-05T03:00:00+10:30" },
    ]);
    // Kathmandu: +05:45 hours start at :15 UTC; in 1986 00:00 +05:30 became 00:15 +05:45.
    expect(labels("Asia/Kathmandu", "hour", "2026-01-01T00:00:00Z", "2026-01-01T02:30:00Z")).toEqual([
      "2026-01-01T05:00:00+05:45",
      "2026-01-01T06:00:00+05:45",
      "2026-01-01T07:00:00+05:45",
      "2026-01-01T08:00:00+05:45",
    ]);
    expect(list("Asia/Kathmandu", "hour", Z("1985-12-31T17:45:00Z"), Z("1985-12-31T20:00:00Z"))).toEqual([
      { start: Z("1985-12-31T17:30:00Z"), label: "1985-12-31T23:00:00+05:30" },
      { start: Z("1985-12-31T18:30:00Z"), label: "1986-01-01T00:15:00+05:45" },
      { start: Z("1985-12-31T19:15:00Z"), label: "1986-01-01T01:00:00+05:45" },
    ]);
    expect(instantOf(fmt("Asia/Kathmandu"), 1986, 1, 1, 1)).toBe(Z("1985-12-31T19:15:00Z"));
    for (const [tz, t] of [
      ["Australia/Lord_Howe", "2026-10-03T15:30:00Z"],
      ["Australia/Lord_Howe", "2026-04-04T15:00:00Z"],
      ["Asia/Kathmandu", "1985-12-31T18:30:00Z"],
      ["Pacific/Chatham", "2026-04-04T14:00:00Z"],
      ["Pacific/Chatham", "2026-09-26T14:00:00Z"],
    ] as const) {
      checkRule(tz, "day", Z(t) - 3 * DAY + 7 * MINUTE, Z(t) + 3 * DAY, prng(6));
      checkRule(tz, "hour", Z(t) - 5 * HOUR + 7 * MINUTE, Z(t) + 5 * HOUR, prng(7));
    }
  });
});

describe("buckets: the rule over random ranges", () => {
  const ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/Dublin",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Havana",
    "America/Santiago",
    "America/Sao_Paulo",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Africa/Casablanca",
    "Antarctica/Troll",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Pacific/Chatham",
    "Pacific/Apia",
  ];

  /** The zone's offset changes in [a, b), each to the minute. */
  function changes(tz: string, a: number, b: number): number[] {
    const offset = (t: number) => wallAt(tz, t) - t;
    const out: number[] = [];
    for (let t = a; t < b; t += 6 * HOUR) {
      if (offset(t) === offset(t + 6 * HOUR)) continue;
      let lo = t;
      let hi = t + 6 * HOUR;
      while (hi - lo > MINUTE) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
        if (offset(mid) === offset(lo)) lo = mid;
        else hi = mid;
      }
      out.push(hi);
    }
    return out;
  }

  it("every instant of a range is in exactly one listed bucket, the one of its wall hour or day", { timeout: 120_000 }, () => {
    const random = prng(20261101);
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
    for (const tz of ZONES) {
      const year = between(2000, 2031);
      const near = changes(tz, Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
      // Ranges around the year's offset changes (any second), and anywhere in 2000-2035.
      for (const t of near.slice(0, 4)) {
        const from = t - between(0, 30 * HOUR);
        checkRule(tz, "hour", from, from + between(1000, 40 * HOUR), random);
        const dayFrom = t - between(0, 5 * DAY);
        checkRule(tz, "day", dayFrom, dayFrom + between(1000, 8 * DAY), random);
      }
      for (let k = 0; k < 2; k++) {
        const from = between(Date.UTC(2000, 0, 1), Date.UTC(2035, 0, 1));
        checkRule(tz, "day", from, from + between(1000, 93 * DAY), random);
        checkRule(tz, "hour", from, from + between(1000, 93 * DAY), random);
      }
    }
  });

  it("buckets() gives the same starts as bucketStarts() and the labels localIso writes", () => {
    for (const tz of ["UTC", "America/New_York", "Pacific/Apia", "Australia/Lord_Howe", "Asia/Kathmandu"]) {
      const format = fmt(tz);
      for (const interval of ["hour", "day"] as const) {
        const from = Z("2011-10-01T00:00:00Z");
        const to = from + 93 * DAY;
        const got = buckets(format, interval, from, to);
        expect(got.map((b) => b.start)).toEqual(bucketStarts(format, interval, from, to));
        expect(got.map((b) => b.label)).toEqual(got.map((b) => localIso(format, b.start)));
      }
    }
  });
});

describe("zone names", () => {
  it("takes IANA names as written and refuses offsets, other letter cases and names the runtime does not know", () => {
    for (const tz of [
      "UTC",
      "Europe/Paris",
      "America/Argentina/Buenos_Aires",
      "America/Port-au-Prince",
      "Etc/GMT+5",
      "Etc/GMT-14",
      "EST5EDT",
    ]) {
      expect(zoneFormat(tz), tz).not.toBeNull();
    }
    for (const tz of [
      "+05:30",
      "+23:59",
      "-0530",
      "utc",
      "Z",
      "europe/paris",
      "Europe/paris",
      "Europe/Paris/",
      "/UTC",
      "",
      "Mars/Olympus_Mons",
      "Europe/Paris ",
      `A/${"B".repeat(63)}`,
    ]) {
      expect(zoneFormat(tz), tz).toBeNull();
    }
  });
});

// The offsets tz=store visits bucket by: each UTC day's found once and kept.
describe("cached zone offsets", () => {
  // Zones with whole-hour, half-hour (Lord Howe: a 30-minute change), 45-minute (Chatham) and
  // southern-hemisphere changes, one with none, and UTC.
  const zones = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Asia/Kolkata", "UTC"];

  it("equals the zone's offset from Intl at every instant sampled across two years, and at each change to the millisecond", () => {
    const from = Date.parse("2025-06-01T00:00:00Z");
    const to = Date.parse("2027-06-01T00:00:00Z");
    for (const tz of zones) {
      const format = zoneFormat(tz)!;
      let changes = 0;
      let previous = offsetAt(format, from);
      // Every 97 minutes: a step prime to the hour, so every minute of the hour comes up.
      for (let t = from; t < to; t += 97 * 60_000) {
        const want = offsetAt(format, t);
        expect(cachedOffset(tz, t), `${tz} at ${new Date(t).toISOString()}`).toBe(want);
        if (want !== previous) {
          // Bisect the change between the last two samples and check both sides of it.
          let lo = t - 97 * 60_000;
          let hi = t;
          while (hi - lo > 1) {
            const mid = lo + Math.floor((hi - lo) / 2);
            if (offsetAt(format, mid) === previous) lo = mid;
            else hi = mid;
          }
          expect(cachedOffset(tz, lo), `${tz} just before a change`).toBe(previous);
          expect(cachedOffset(tz, hi), `${tz} at a change`).toBe(want);
          changes++;
          previous = want;
        }
      }
      const expected = tz === "Asia/Kolkata" || tz === "UTC" ? 0 : 4;
      expect(changes, `${tz}: offset changes in two years`).toBe(expected);
    }
  });

  it("is null for a zone the runtime does not know", () => {
    expect(cachedOffset("Mars/Olympus_Mons", Date.parse("2026-01-01T00:00:00Z"))).toBeNull();
    expect(cachedOffset("utc", Date.parse("2026-01-01T00:00:00Z"))).toBeNull();
  });
});
