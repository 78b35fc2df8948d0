/**
 * The Stores page's pure parts, and the store picker's: what GET /v1/stores, GET /v1/occupancy and
 * the analytics routes' `group_by=store` answer (checked, since the page reads fields the
 * dashboard never did), the page's fragment, the occupancy board and the comparison table's rows,
 * sorting and CSV. No DOM here, so the vitest suite (inside workerd) can import it.
 */
import { type FunnelStep, isStoreId, parseRange, parseZone, type RangeChoice, rangeQueryString, STEPS_MIN } from "./dashboard";
import { compareLabels } from "./live";
import { localIso } from "./zone";

export { isStoreId };

// ---------------------------------------------------------------- checking answers

type Check<T> = (value: unknown) => value is T;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isString: Check<string> = (v): v is string => typeof v === "string";
const isCount: Check<number> = (v): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isNumber: Check<number> = (v): v is number => typeof v === "number" && Number.isFinite(v);
const isBoolean: Check<boolean> = (v): v is boolean => typeof v === "boolean";
const orNull =
  <T>(check: Check<T>): Check<T | null> =>
  (v): v is T | null =>
    v === null || check(v);
const listOf =
  <T>(check: Check<T>): Check<T[]> =>
  (v): v is T[] =>
    Array.isArray(v) && v.every(check);
/** An object with at least these fields of these kinds (others are ignored: the API may add some). */
const shape =
  <T>(fields: { [K in keyof T]: Check<T[K]> }): Check<T> =>
  (v): v is T =>
    isObject(v) && Object.entries(fields).every(([name, check]) => (check as Check<unknown>)(v[name]));
const countsRecord: Check<Record<string, number>> = (v): v is Record<string, number> => isObject(v) && Object.values(v).every(isCount);

// ---------------------------------------------------------------- what the API answers

/** One store of GET /v1/stores (the fields the console uses). */
export interface StoreEntry {
  store_id: string;
  name: string;
  capacity: number | null;
}
export interface StoresPage {
  stores: StoreEntry[];
  next_cursor: string | null;
}
const isStoreEntry = shape<StoreEntry>({ store_id: isString, name: isString, capacity: orNull(isCount) });
const isStoresPage = shape<StoresPage>({ stores: listOf(isStoreEntry), next_cursor: orNull(isString) });

/** One store of GET /v1/occupancy: who is in it now. */
export interface OccupancyStore {
  store_id: string;
  /** Null for a store_id seen in an active session that is not (or no longer) registered. */
  name: string | null;
  active: number;
  capacity: number | null;
  /** active ÷ capacity, rounded by the API to 4 decimals; null without a capacity. */
  utilization: number | null;
  by_status: Record<string, number>;
}
export interface OccupancyPage {
  stores: OccupancyStore[];
  total_active: number;
  /** Active sessions that named no store. */
  no_store_active: number;
  as_of: string | null;
  next_cursor: string | null;
}
const isOccupancyStore = shape<OccupancyStore>({
  store_id: isString,
  name: orNull(isString),
  active: isCount,
  capacity: orNull(isCount),
  utilization: orNull(isNumber),
  by_status: countsRecord,
});
const isOccupancyPage = shape<OccupancyPage>({
  stores: listOf(isOccupancyStore),
  total_active: isCount,
  no_store_active: isCount,
  as_of: orNull(isString),
  next_cursor: orNull(isString),
});

const isFunnelStep = shape<FunnelStep>({
  status: isString,
  sessions: isCount,
  conversion_from_previous: orNull(isNumber),
  conversion_from_first: orNull(isNumber),
  median_seconds_from_previous: orNull(isNumber),
  p90_seconds_from_previous: orNull(isNumber),
});

/** A group of a `group_by=store` answer: a store (key its id), the rest (`other`), or no store (key null). */
export interface Group {
  key: string | null;
  name: string | null;
  /** True for the one group holding every store past the 100 largest. */
  other: boolean;
  /** How many groups it holds (1, or the rest's count). */
  groups: number;
}
export interface FunnelGroup extends Group {
  steps: FunnelStep[];
}
export interface GroupedFunnel {
  steps: FunnelStep[];
  groups: FunnelGroup[];
  as_of: string | null;
}
/** A group of the visits answer, over the whole range (the page asks for days, and reads no bucket). */
export interface VisitsGroup extends Group {
  /** Sessions that started in the range. */
  sessions: number;
  /** The median duration of all the range's ended visits (within 1 %); null when none ended. */
  median_duration_seconds: number | null;
}
export interface GroupedVisits {
  groups: VisitsGroup[];
  as_of: string | null;
}
const group = { key: orNull(isString), name: orNull(isString), other: isBoolean, groups: isCount };
const isGroupedFunnel = shape<GroupedFunnel>({
  steps: listOf(isFunnelStep),
  groups: listOf(shape<FunnelGroup>({ ...group, steps: listOf(isFunnelStep) })),
  as_of: orNull(isString),
});
const isGroupedVisits = shape<GroupedVisits>({
  groups: listOf(shape<VisitsGroup>({ ...group, sessions: isCount, median_duration_seconds: orNull(isNumber) })),
  as_of: orNull(isString),
});

/** GET /v1/analytics/occupancy: per bucket the exact peak of concurrent sessions (null for a bucket after now). */
export interface OccupancyBucket {
  start: string;
  peak: number | null;
  average: number | null;
}
/** A group of the occupancy answer: its buckets over its own sessions (ranked by `sessions`, those present in the range). */
export interface OccupancyGroup extends Group {
  sessions: number;
  buckets: OccupancyBucket[];
}
export interface GroupedOccupancy {
  groups: OccupancyGroup[];
  as_of: string | null;
}
const isOccupancyBucket = shape<OccupancyBucket>({ start: isString, peak: orNull(isCount), average: orNull(isNumber) });
const isGroupedOccupancy = shape<GroupedOccupancy>({
  groups: listOf(shape<OccupancyGroup>({ ...group, sessions: isCount, buckets: listOf(isOccupancyBucket) })),
  as_of: orNull(isString),
});

/** The answer when it has the shape the page reads, else null (the page says the answer was unexpected). */
const checked =
  <T>(check: Check<T>) =>
  (data: unknown): T | null =>
    check(data) ? data : null;
export const parseStoresPage = checked(isStoresPage);
export const parseOccupancyPage = checked(isOccupancyPage);
export const parseGroupedFunnel = checked(isGroupedFunnel);
export const parseGroupedVisits = checked(isGroupedVisits);
export const parseGroupedOccupancy = checked(isGroupedOccupancy);

// ---------------------------------------------------------------- the fragment

/** The Stores page's choices: the comparison's range and zone (null: the dashboard's defaults). */
export interface StoresParams {
  range: RangeChoice | null;
  tz: string | null;
}
export const NO_STORES_CHOICES: StoresParams = { range: null, tz: null };

/** `#stores&range=7d&tz=…` or `#stores&from=…&to=…`: the same range words as the dashboard's. */
export function parseStoresParams(params: URLSearchParams): StoresParams {
  return { range: parseRange(params), tz: parseZone(params) };
}

export function storesQueryString(p: StoresParams): string {
  return rangeQueryString(p.range, p.tz);
}

// ---------------------------------------------------------------- the store picker

export interface PickerOption {
  /** "" for every store. */
  value: string;
  label: string;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** How a store is named for people: "Lyon Part-Dieu (lyon-01)", its id alone when it has no other name. */
export function storeLabel(id: string, name: string | null): string {
  return name === null || name === id ? id : `${name} (${id})`;
}

/**
 * The picker's options: every store first, then the stores by name (ids breaking ties). A chosen
 * store that is not listed (a bookmark of a deleted store, or past the list's bound) stays
 * choosable, marked, so the page never silently shows another scope than the fragment says.
 */
export function pickerOptions(stores: readonly StoreEntry[], selected: string | null): PickerOption[] {
  const sorted = [...stores].sort((a, b) => collator.compare(a.name, b.name) || compareLabels(a.store_id, b.store_id));
  const options = [
    { value: "", label: "All stores" },
    ...sorted.map((s) => ({ value: s.store_id, label: storeLabel(s.store_id, s.name) })),
  ];
  if (selected !== null && !stores.some((s) => s.store_id === selected))
    options.push({ value: selected, label: `${selected} (not listed)` });
  return options;
}

// ---------------------------------------------------------------- the occupancy board

/** Stores the board lists at most (20 pages of 100): the plan's 2,000 stores of a chain. */
export const BOARD_MAX_STORES = 2000;
export const BOARD_PAGE_SIZE = 100;

export interface Board {
  rows: OccupancyStore[];
  total_active: number;
  no_store_active: number;
  as_of: string | null;
  /** More stores than BOARD_MAX_STORES: the rest were not asked for. */
  truncated: boolean;
}

/**
 * The board from the pages of one read: each store once (the cursor is a position in a changing
 * order, so a store whose count moved between two pages can come twice: its first answer is kept),
 * the totals of the first page (they cover every store, not the page), the oldest `as_of`.
 */
export function mergeBoard(pages: readonly OccupancyPage[], max = BOARD_MAX_STORES): Board {
  const seen = new Set<string>();
  const rows: OccupancyStore[] = [];
  for (const page of pages) {
    for (const store of page.stores) {
      if (seen.has(store.store_id) || rows.length >= max) continue;
      seen.add(store.store_id);
      rows.push(store);
    }
  }
  const times = pages.map((p) => p.as_of).filter((t): t is string => t !== null && Number.isFinite(Date.parse(t)));
  return {
    rows,
    total_active: pages[0]?.total_active ?? 0,
    no_store_active: pages[0]?.no_store_active ?? 0,
    as_of: times.length ? times.reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null,
    truncated: pages.at(-1)?.next_cursor != null,
  };
}

/** The people one bar's full width stands for, the same for every row so bars compare: the most any row holds or may hold. */
export function boardScale(rows: readonly Pick<OccupancyStore, "active" | "capacity">[]): number {
  return Math.max(1, ...rows.map((r) => Math.max(r.active, r.capacity ?? 0)));
}

export interface BarPart {
  status: string;
  count: number;
  /** Share of the bar's full width, 0 to 1. */
  width: number;
}

/**
 * A store's bar: its active sessions by current status, in label order (as the live view's chips,
 * so a status keeps its place from row to row), each as wide as its share of `scale`; and where
 * its capacity falls (null without one).
 */
export function barParts(
  row: Pick<OccupancyStore, "by_status" | "capacity">,
  scale: number,
): { parts: BarPart[]; capacity: number | null } {
  const parts = Object.entries(row.by_status)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => compareLabels(a, b))
    .map(([status, count]) => ({ status, count, width: Math.min(1, count / scale) }));
  return { parts, capacity: row.capacity === null ? null : Math.min(1, row.capacity / scale) };
}

/** Every status with someone in it on the board, in label order: the bars' legend and the CSV's columns. */
export function boardStatuses(rows: readonly Pick<OccupancyStore, "by_status">[]): string[] {
  const all = new Set<string>();
  for (const r of rows) for (const [status, n] of Object.entries(r.by_status)) if (n > 0) all.add(status);
  return [...all].sort(compareLabels);
}

// ---------------------------------------------------------------- sorting

export type SortDirection = "ascending" | "descending";
export interface Sort<K extends string> {
  key: K;
  direction: SortDirection;
}
export type SortValue = string | number | null;

/**
 * Two cells' order: numbers by value, text as people read it (store-2 before store-10), and a
 * missing value (null) last whichever the direction, since "no capacity" is neither big nor small.
 */
export function compareValues(a: SortValue, b: SortValue, direction: SortDirection): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order = typeof a === "number" && typeof b === "number" ? a - b : collator.compare(String(a), String(b));
  return direction === "ascending" ? order : -order;
}

/** The rows in the order of `sort`, ties kept in the order given (the API's), so a sort never shuffles equal rows. */
export function sortRows<T, K extends string>(rows: readonly T[], sort: Sort<K>, value: (row: T, key: K) => SortValue): T[] {
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => compareValues(value(a.row, sort.key), value(b.row, sort.key), sort.direction) || a.i - b.i)
    .map((x) => x.row);
}

/** After a click on a column's header: the same column turns around; another starts the way its figures are usually read. */
export function nextSort<K extends string>(current: Sort<K>, key: K, textKeys: readonly K[]): Sort<K> {
  if (current.key === key) return { key, direction: current.direction === "ascending" ? "descending" : "ascending" };
  return { key, direction: textKeys.includes(key) ? "ascending" : "descending" };
}

export type BoardKey = "store" | "active" | "capacity" | "utilization";
export const BOARD_TEXT_KEYS: readonly BoardKey[] = ["store"];
/** The API's order: busiest first. */
export const BOARD_DEFAULT_SORT: Sort<BoardKey> = { key: "active", direction: "descending" };

export function boardValue(row: OccupancyStore, key: BoardKey): SortValue {
  switch (key) {
    case "store":
      return storeLabel(row.store_id, row.name);
    case "active":
      return row.active;
    case "capacity":
      return row.capacity;
    case "utilization":
      return row.utilization;
  }
}

// ---------------------------------------------------------------- the comparison table

export type RowKind = "store" | "other" | "none";

export interface ComparisonRow {
  /** Unique per row: "store:<id>", "other" or "none". */
  id: string;
  kind: RowKind;
  /** The store's id; null for the other and no-store rows. */
  store: string | null;
  name: string | null;
  /** Stores merged into the other row (1 otherwise). */
  groups: number;
  /** Sessions that started in the range (the visits group's). */
  sessions: number;
  /** The funnel's last step's conversion from its first; null when no one reached the first step. */
  conversion: number | null;
  /** False when the funnel answer has no group for this row (not among its 100 largest, so in its other group). */
  inFunnel: boolean;
  /** The median duration of the range's ended visits (the visits group's); null when none ended. */
  medianVisitSeconds: number | null;
  /** The most sessions present at once in the range; null when no bucket has one, or the occupancy answer has no such group. */
  peak: number | null;
  /** False when the occupancy answer has no group for this row (not among its 100 largest, so in its other group). */
  inOccupancy: boolean;
}

const rowId = (g: Group): string => (g.other ? "other" : g.key === null ? "none" : `store:${g.key}`);

/** The range's peak from occupancy buckets: the largest bucket peak (buckets after now have none); null when none has one. */
export function peakOf(buckets: readonly OccupancyBucket[]): number | null {
  const peaks = buckets.map((b) => b.peak).filter((p): p is number => p !== null);
  return peaks.length ? Math.max(...peaks) : null;
}

/** Each group's peak over the range, by row id ("store:<id>", "other", "none"): its own, not a sum of its stores'. */
export function groupPeaks(occupancy: GroupedOccupancy): Map<string, number | null> {
  return new Map(occupancy.groups.map((g) => [rowId(g), peakOf(g.buckets)]));
}

/**
 * One row per group of the visits answer (its groups are ranked by sessions, as the table is by
 * default), with the funnel and occupancy groups of the same key. Each answer ranks its own groups
 * (the funnel by the sessions that reached its first step, the occupancy by the sessions present),
 * so past 100 stores a store listed by the visits can be in another answer's "other" group: it then
 * has no figure of its own there (`inFunnel`, `inOccupancy` false).
 */
export function comparisonRows(visits: GroupedVisits, funnel: GroupedFunnel | null, occupancy: GroupedOccupancy | null): ComparisonRow[] {
  const funnels = new Map((funnel?.groups ?? []).map((g) => [rowId(g), g]));
  const peaks = occupancy ? groupPeaks(occupancy) : new Map<string, number | null>();
  return visits.groups.map((g) => {
    const id = rowId(g);
    const f = funnels.get(id);
    const last = f?.steps.at(-1);
    return {
      id,
      kind: g.other ? "other" : g.key === null ? "none" : "store",
      store: g.other ? null : g.key,
      name: g.name,
      groups: g.groups,
      sessions: g.sessions,
      conversion: f && f.steps.length >= STEPS_MIN ? (last?.conversion_from_first ?? null) : null,
      inFunnel: f !== undefined,
      medianVisitSeconds: g.median_duration_seconds,
      peak: peaks.get(id) ?? null,
      inOccupancy: peaks.has(id),
    };
  });
}

export type ComparisonKey = "store" | "sessions" | "conversion" | "median" | "peak";
export const COMPARISON_TEXT_KEYS: readonly ComparisonKey[] = ["store"];
export const COMPARISON_DEFAULT_SORT: Sort<ComparisonKey> = { key: "sessions", direction: "descending" };

export function comparisonLabel(row: Pick<ComparisonRow, "kind" | "store" | "name" | "groups">): string {
  if (row.kind === "other") return `Other stores (${row.groups})`;
  if (row.kind === "none") return "No store";
  return storeLabel(row.store ?? "", row.name);
}

export function comparisonValue(row: ComparisonRow, key: ComparisonKey): SortValue {
  switch (key) {
    case "store":
      return comparisonLabel(row);
    case "sessions":
      return row.sessions;
    case "conversion":
      return row.conversion;
    case "median":
      return row.medianVisitSeconds;
    case "peak":
      return row.peak;
  }
}

/**
 * The table's order: the stores by `sort`, then the rest ("Other stores") and "No store", which are
 * not stores to rank among them, always last.
 */
export function sortComparison(rows: readonly ComparisonRow[], sort: Sort<ComparisonKey>): ComparisonRow[] {
  const stores = sortRows(
    rows.filter((r) => r.kind === "store"),
    sort,
    comparisonValue,
  );
  return [...stores, ...rows.filter((r) => r.kind === "other"), ...rows.filter((r) => r.kind === "none")];
}

// ---------------------------------------------------------------- CSV

export type CsvValue = string | number | null;

/**
 * One field as RFC 4180 writes it: quoted when it holds a comma, a quote, CR or LF, quotes doubled.
 * Text starting with = + - @ (or a tab or CR) gets a leading ' so a spreadsheet shows it rather than
 * running it as a formula: store names are typed by the tenant. Null is an empty field.
 */
export function csvField(value: CsvValue): string {
  if (value === null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A CSV document: a header row, then the rows, each line ended by CRLF (RFC 4180). */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(",")}\r\n`).join("");
}

/** The board as shown (rows in the table's order): one column per status with anyone in it. */
export function boardCsv(rows: readonly OccupancyStore[]): string {
  const statuses = boardStatuses(rows);
  return toCsv(
    ["store_id", "name", "active", "capacity", "utilization", ...statuses.map((s) => `status:${s}`)],
    rows.map((r) => [r.store_id, r.name, r.active, r.capacity, r.utilization, ...statuses.map((s) => r.by_status[s] ?? 0)]),
  );
}

/**
 * The comparison as shown. `row` says which row it is ("store", "other", "none"); conversion is a
 * fraction (0 to 1) from the first to the last of `steps`; a figure the page has not got is empty.
 */
export function comparisonCsv(rows: readonly ComparisonRow[], steps: readonly string[]): string {
  const funnel = steps.length >= STEPS_MIN ? `${steps[0]}>${steps.at(-1)}` : "";
  return toCsv(
    ["row", "store_id", "name", "stores", "sessions", "conversion", "conversion_steps", "median_visit_seconds", "peak_occupancy"],
    rows.map((r) => [
      r.kind,
      r.store,
      r.kind === "store" ? r.name : comparisonLabel(r),
      r.groups,
      r.sessions,
      r.conversion,
      funnel,
      r.medianVisitSeconds,
      r.peak,
    ]),
  );
}

/** `stores-occupancy-2026-11-23-1405.csv`: the board's moment, on the zone's clock. */
export function occupancyFilename(instant: number, tz: string): string {
  const local = localIso(instant, tz); // 2026-11-23T14:05:09+01:00
  return `stores-occupancy-${local.slice(0, 10)}-${local.slice(11, 13)}${local.slice(14, 16)}.csv`;
}

/** `stores-comparison-2026-11-17-2026-11-23.csv`: the range's days, both included. */
export function comparisonFilename(fromDate: string, toDate: string): string {
  return `stores-comparison-${fromDate}-${toDate}.csv`;
}
