/**
 * The dashboard's pure parts: what the analytics routes answer, the dashboard's parameters in the
 * URL fragment, the date range in a time zone, the default funnel steps, and how figures are
 * written. No DOM here, so the vitest suite (inside workerd) can import it.
 */
import { formatDuration } from "./timeline";
import { addDays, daysBetween, isDate, isTimeZone, localDate, startOfDay } from "./zone";

// ---------------------------------------------------------------- what the API answers

/** GET /v1/analytics/funnel: one entry per step; conversions are fractions 0..1, null when the denominator is 0. */
export interface FunnelStep {
  status: string;
  sessions: number;
  conversion_from_previous: number | null;
  conversion_from_first: number | null;
  median_seconds_from_previous: number | null;
  p90_seconds_from_previous: number | null;
}
export interface FunnelData {
  steps: FunnelStep[];
  as_of: string | null;
}

/** GET /v1/analytics/dwell: per status, sorted by visits descending (then label). */
export interface DwellStatus {
  status: string;
  visits: number;
  total_seconds: number;
  median_seconds: number;
  p90_seconds: number;
}
export interface DwellData {
  statuses: DwellStatus[];
  as_of: string | null;
}

/** GET /v1/analytics/visits: every bucket of the range, empty ones included. */
export interface VisitsBucket {
  /** The bucket's start as the zone's wall time with its offset: 2026-11-23T00:00:00+01:00. */
  start: string;
  sessions: number;
  median_duration_seconds: number | null;
}
export interface VisitsData {
  buckets: VisitsBucket[];
  interval: Interval;
  tz: string;
  as_of: string | null;
}

// ---------------------------------------------------------------- parameters (the fragment)

export type Interval = "hour" | "day";
export const INTERVALS: readonly Interval[] = ["hour", "day"];
export type Preset = "today" | "7d" | "30d";
export const PRESETS: readonly Preset[] = ["today", "7d", "30d"];
/** Days each preset covers, today included. */
export const PRESET_DAYS: Readonly<Record<Preset, number>> = { today: 1, "7d": 7, "30d": 30 };
export const PRESET_NAMES: Readonly<Record<Preset, string>> = { today: "Today", "7d": "Last 7 days", "30d": "Last 30 days" };
export const DEFAULT_PRESET: Preset = "7d";

/** The API's limits: a range of at most 93 days, 2 to 10 funnel steps. */
export const MAX_RANGE_DAYS = 93;
export const STEPS_MIN = 2;
export const STEPS_MAX = 10;
/** Hourly buckets only up to this many days (744 bars); longer ranges are counted per day. */
export const MAX_HOURLY_DAYS = 31;
/** How many steps the default funnel takes. */
export const DEFAULT_STEP_COUNT = 4;
/** The label every session starts with: left out of the default funnel (see defaultSteps). */
export const ENTER = "ENTER";

export type RangeChoice = { preset: Preset } | { from: string; to: string };

/**
 * What the operator chose; null is "not chosen", which the page fills in: the last 7 days, the
 * browser's time zone, hours for a range of one or two days and days otherwise, and the tenant's
 * statuses (else the range's most common path) as funnel steps. Only choices go in the fragment, so a bookmark of
 * `#dashboard` keeps meaning "the usual" wherever it is opened.
 */
export interface DashParams {
  range: RangeChoice | null;
  tz: string | null;
  interval: Interval | null;
  steps: string[] | null;
  /** Only the sessions started in this store (every query's `store_id`); null: the whole tenant. */
  store: string | null;
}

export const NO_CHOICES: DashParams = { range: null, tz: null, interval: null, steps: null, store: null };

/** Same rule as the API's status labels: 1 to 64 characters (code points), no control characters or lone surrogates. */
export function isStatusLabel(value: string): boolean {
  return /^[^\p{Cc}\p{Cs}]{1,64}$/u.test(value);
}

/** Same rule as the API's store ids: 1 to 64 of A-Z a-z 0-9 _ . - */
export function isStoreId(value: string): boolean {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(value);
}

/** A fragment's `store`, when it is one the API would take (else none: the whole tenant, not a 400). */
export function parseStore(params: URLSearchParams): string | null {
  const store = params.get("store");
  return store !== null && isStoreId(store) ? store : null;
}

/** A fragment's range: `from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included) wins over `range=today|7d|30d`. */
export function parseRange(params: URLSearchParams): RangeChoice | null {
  const preset = params.get("range");
  const from = params.get("from");
  const to = params.get("to");
  if (from !== null && to !== null && isDate(from) && isDate(to)) return { from, to };
  if (preset !== null && (PRESETS as readonly string[]).includes(preset)) return { preset: preset as Preset };
  return null;
}

/** A fragment's `tz`, kept as written (the page says when it is unknown) if it could be a zone name at all. */
export function parseZone(params: URLSearchParams): string | null {
  const tz = params.get("tz");
  return tz !== null && tz.trim() !== "" && tz.length <= 64 ? tz.trim() : null;
}

/** `&range=…` or `&from=…&to=…`, then `&tz=…`: what parseRange and parseZone read back. */
export function rangeQueryString(range: RangeChoice | null, tz: string | null): string {
  const out: string[] = [];
  if (range && "preset" in range) out.push(`&range=${encodeURIComponent(range.preset)}`);
  else if (range) out.push(`&from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}`);
  if (tz !== null) out.push(`&tz=${encodeURIComponent(tz)}`);
  return out.join("");
}

/**
 * The dashboard's parameters from a fragment's: `store`, `range=today|7d|30d` or
 * `from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included), `tz`, `interval=hour|day`, `step` repeated.
 * What cannot be a value is left out (the default applies); a time zone is kept as written, so the
 * page can say it is unknown.
 */
export function parseDashParams(params: URLSearchParams): DashParams {
  const interval = params.get("interval");
  const steps = params.getAll("step").filter(isStatusLabel).slice(0, STEPS_MAX);
  return {
    range: parseRange(params),
    tz: parseZone(params),
    interval: interval !== null && (INTERVALS as readonly string[]).includes(interval) ? (interval as Interval) : null,
    steps: steps.length ? steps : null,
    store: parseStore(params),
  };
}

/** The fragment's parameters after `#dashboard`, each starting with `&`; parseDashParams reads them back. */
export function dashQueryString(p: DashParams): string {
  const out: string[] = [];
  const add = (name: string, value: string) => out.push(`&${name}=${encodeURIComponent(value)}`);
  if (p.store !== null) add("store", p.store);
  out.push(rangeQueryString(p.range, p.tz));
  if (p.interval !== null) add("interval", p.interval);
  for (const step of p.steps ?? []) add("step", step);
  return out.join("");
}

// ---------------------------------------------------------------- the range in a time zone

/** A range ready to ask the API about: instants (ms) and the days they cover in `tz`. */
export interface DashQuery {
  /** Local midnight starting `fromDate` in `tz`. */
  from: number;
  /** Local midnight ending `toDate` (the start of the day after it). */
  to: number;
  fromDate: string;
  /** The last day included. */
  toDate: string;
  days: number;
  tz: string;
  interval: Interval;
  /** The preset the range came from, if any (a preset moves with the clock). */
  preset: Preset | null;
  /** Every query's `store_id` filter; null for the whole tenant. */
  store: string | null;
}

export type Resolved =
  | { ok: true; query: DashQuery }
  /** `field` names the control to fix: from, to, tz or interval. */
  | { ok: false; field: "from" | "to" | "tz" | "interval"; message: string };

/** The days a choice covers on the zone's calendar at `now`: presets end today (included). */
export function rangeDays(range: RangeChoice, now: number, tz: string): { from: string; to: string } {
  if ("from" in range) return range;
  const today = localDate(now, tz);
  return { from: addDays(today, 1 - PRESET_DAYS[range.preset]), to: today };
}

/**
 * What to ask for: the chosen (or default) days from local midnight to local midnight in the
 * chosen (or the browser's) zone, and the interval. Refuses, with a message naming the control,
 * what the API would refuse (an unknown zone, a range over 93 days) and hourly buckets over 31 days.
 */
export function resolveQuery(p: DashParams, now: number, browserTz: string): Resolved {
  const tz = p.tz ?? browserTz;
  if (!isTimeZone(tz)) {
    return {
      ok: false,
      field: "tz",
      message: `"${tz}" is not a time zone this browser knows: use an IANA name such as Europe/Paris or UTC.`,
    };
  }
  const range = p.range ?? { preset: DEFAULT_PRESET };
  const preset = "preset" in range ? range.preset : null;
  const days = rangeDays(range, now, tz);
  const count = daysBetween(days.from, days.to) + 1;
  if (count < 1) return { ok: false, field: "to", message: "The range ends before it starts: choose a To date on or after the From date." };
  const from = startOfDay(days.from, tz);
  const to = startOfDay(addDays(days.to, 1), tz);
  // The API counts 93 days as 93 × 24 hours: a range of 93 local days with an extra daylight-saving hour is one too many.
  if (count > MAX_RANGE_DAYS || to - from > MAX_RANGE_DAYS * 86_400_000) {
    return {
      ok: false,
      field: "to",
      message: `The range covers ${count} days; the API answers at most ${MAX_RANGE_DAYS} days (${MAX_RANGE_DAYS} × 24 hours). Choose a shorter range.`,
    };
  }
  const interval = p.interval ?? (count <= 2 ? "hour" : "day");
  if (interval === "hour" && count > MAX_HOURLY_DAYS) {
    return {
      ok: false,
      field: "interval",
      message: `Hourly buckets are drawn for ranges of up to ${MAX_HOURLY_DAYS} days; this one covers ${count}. Choose "per day", or a shorter range.`,
    };
  }
  return { ok: true, query: { from, to, fromDate: days.from, toDate: days.to, days: count, tz, interval, preset, store: p.store } };
}

/**
 * What each answer depends on: dwell on the range, visits on the range, zone and interval, the
 * funnel on the range and its steps, and all three on the store. After a change only the answers
 * whose key changed are asked again (a change of interval asks only for visits); a refresh asks
 * for all three.
 */
export function partKeys(q: DashQuery, steps: readonly string[]): { dwell: string; visits: string; funnel: string } {
  return {
    dwell: JSON.stringify([q.from, q.to, q.store]),
    visits: JSON.stringify([q.from, q.to, q.store, q.tz, q.interval]),
    funnel: JSON.stringify([q.from, q.to, q.store, steps]),
  };
}

/** Same parameters, same answer: a refresh of the same question may keep what is drawn. */
export function queryKey(q: DashQuery, steps: readonly string[] | null): string {
  return JSON.stringify([q.from, q.to, q.tz, q.interval, q.store, steps]);
}

// ---------------------------------------------------------------- funnel steps

/** GET /v1/analytics/paths: the most common paths (first 10 labels), and the tenant's statuses order. */
export interface PathsData {
  paths: { labels: string[]; sessions: number; share: number }[];
  sessions: number;
  statuses: string[] | null;
  as_of: string | null;
}

/**
 * The paths answer when it has the shape defaultSteps reads, else null: the default funnel comes
 * from it, so a label that is not a string must not become a step.
 */
export function parsePaths(data: unknown): PathsData | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as Record<string, unknown>;
  const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
  const count = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
  const pathOk = (p: unknown) =>
    typeof p === "object" && p !== null && strings((p as Record<string, unknown>).labels) && count((p as Record<string, unknown>).sessions);
  const ok =
    Array.isArray(d.paths) &&
    d.paths.every(pathOk) &&
    count(d.sessions) &&
    (d.statuses === null || strings(d.statuses)) &&
    (d.as_of === null || typeof d.as_of === "string");
  return ok ? (data as PathsData) : null;
}

/**
 * The default funnel, never ordered by label frequency (a frequency order can put a late step
 * first and read 58 → 0 → 0): the tenant's `statuses` in its order when it set them (the first
 * DEFAULT_STEP_COUNT), else the journey order of the range's most common path: among the paths
 * with the most sessions and at least two labels besides `ENTER` (every session starts with it, so
 * as step 1 it would only count sessions), the longest; its labels in order of first appearance,
 * `ENTER` left out, the first DEFAULT_STEP_COUNT. With no such path, `ENTER` and the single label
 * of the most common path that has one; else no default (an empty list).
 */
export function defaultSteps(
  answer: { paths: readonly Pick<PathsData["paths"][number], "labels" | "sessions">[]; statuses: readonly string[] | null },
  count = DEFAULT_STEP_COUNT,
): string[] {
  const statuses = (answer.statuses ?? []).filter((s) => s !== ENTER && isStatusLabel(s));
  if (statuses.length >= STEPS_MIN) return statuses.slice(0, count);
  const journeys = answer.paths
    .map((p) => ({ sessions: p.sessions, steps: [...new Set(p.labels.filter((l) => l !== ENTER && isStatusLabel(l)))] }))
    .filter((p) => p.sessions > 0 && p.steps.length > 0);
  const long = journeys.filter((p) => p.steps.length >= STEPS_MIN);
  if (long.length) {
    const most = Math.max(...long.map((p) => p.sessions));
    const best = long.filter((p) => p.sessions === most).reduce((a, b) => (b.steps.length > a.steps.length ? b : a));
    return best.steps.slice(0, count);
  }
  return journeys.length ? [ENTER, journeys[0]!.steps[0]!] : [];
}

/** The steps with the one at `index` moved by `delta` places (clamped); the same list when it cannot move. */
export function moveStep(steps: readonly string[], index: number, delta: number): string[] {
  const target = Math.min(steps.length - 1, Math.max(0, index + delta));
  const out = [...steps];
  if (index < 0 || index >= steps.length || target === index) return out;
  const [step] = out.splice(index, 1);
  out.splice(target, 0, step!);
  return out;
}

/** Without the step at `index`; never fewer than STEPS_MIN. */
export function removeStep(steps: readonly string[], index: number): string[] {
  if (steps.length <= STEPS_MIN || index < 0 || index >= steps.length) return [...steps];
  return steps.filter((_, i) => i !== index);
}

/** Why a label cannot be added as the last step, or null when it can. A label may repeat (the API counts it again after the previous step). */
export function addStepProblem(steps: readonly string[], label: string): string | null {
  if (steps.length >= STEPS_MAX) return `A funnel has at most ${STEPS_MAX} steps: remove one first.`;
  if (label.trim() === "") return "Type or choose a status label to add.";
  if (!isStatusLabel(label)) return "A status label is 1 to 64 characters, without control characters.";
  if (steps.at(-1) === label) return `${label} is already the last step.`;
  return null;
}

// ---------------------------------------------------------------- writing figures

/** A conversion fraction as a percentage: "75 %", "66.7 %", "100 %"; "–" when there is none (nobody to convert). */
export function formatPercent(fraction: number | null): string {
  if (fraction === null || !Number.isFinite(fraction)) return "–";
  const tenths = Math.round(fraction * 1000) / 10;
  return `${Number.isInteger(tenths) ? tenths : tenths.toFixed(1)} %`;
}

/** Seconds as the console writes durations ("42 s", "4 min 05 s", "2 h 05 min"); "–" for none. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  return formatDuration(seconds * 1000);
}

/** An axis unit for durations up to `maxSeconds`: seconds under 2 minutes, minutes under 2 hours, else hours. */
export function durationUnit(maxSeconds: number): { unit: "s" | "min" | "h"; seconds: number } {
  if (maxSeconds < 120) return { unit: "s", seconds: 1 };
  if (maxSeconds < 7200) return { unit: "min", seconds: 60 };
  return { unit: "h", seconds: 3600 };
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();
function dayFormat(locale: string | undefined, withYear: boolean): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${withYear}`;
  let format = dayFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      timeZone: "UTC",
      weekday: "short",
      day: "numeric",
      month: "short",
      ...(withYear ? { year: "numeric" } : {}),
    });
    dayFormats.set(key, format);
  }
  return format;
}

/** A calendar date for people: "Mon 23 Nov" (en-GB), with the year when asked. */
export function formatDay(date: string, locale?: string, withYear = false): string {
  const [y, m, d] = [Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10))];
  return dayFormat(locale, withYear).format(Date.UTC(y, m - 1, d));
}

/**
 * How a bucket is named, from the API's local `start` (the zone's own wall time, so no time zone
 * arithmetic here): `tick` the chart's axis label lines, `full` the table's. Hours show their date
 * at midnight and on the first bucket.
 */
export function bucketLabel(start: string, interval: Interval, first: boolean, locale?: string): { tick: string[]; full: string } {
  const date = start.slice(0, 10);
  const day = isDate(date) ? formatDay(date, locale) : date;
  if (interval === "day") return { tick: [day], full: day };
  const hour = start.slice(11, 16);
  return { tick: first || hour === "00:00" ? [hour, day] : [hour], full: `${day} ${hour}` };
}

/** "Mon 17 Nov 2026 – Sun 23 Nov 2026", or one day alone. */
export function rangeText(q: Pick<DashQuery, "fromDate" | "toDate">, locale?: string): string {
  const a = formatDay(q.fromDate, locale, true);
  return q.fromDate === q.toDate ? a : `${a} – ${formatDay(q.toDate, locale, true)}`;
}

/** The oldest `as_of` of the answers shown: every figure is at least that fresh. Null if none has one. */
export function oldestAsOf(values: readonly (string | null | undefined)[]): string | null {
  const times = values.filter((v): v is string => typeof v === "string" && Number.isFinite(Date.parse(v)));
  if (!times.length) return null;
  return times.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b));
}
