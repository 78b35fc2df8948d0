import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { LIMITS } from "../limits";
import {
  type Carry,
  combineSeries,
  type DwellPart,
  type FunnelPart,
  type Grouped,
  OTHER_GROUP,
  type Scope,
  type SeriesPart,
  type SparseVisits,
  seriesFigures,
  type VisitBuckets,
  wallLabel,
} from "../tenant-index/analytics";
import { buckets, local, wallMs, zoneFormat } from "../tenant-index/buckets";
import { type Histogram, histogramQuantiles, mergeHistogram, newHistogram } from "../tenant-index/histogram";
import { monthShard, monthsBetween } from "../tenant-index/messages";
import { PATH_SEPARATOR } from "../tenant-index/store";
import { type StoreInfo, storeDirectory } from "../tenants/store-cache";
import type { AppEnv } from "./context";
import { dwellRoute, funnelRoute, occupancyAnalyticsRoute, pathsRoute, visitsRoute } from "./contract";
import { asOf, invalid, range } from "./paging";

const WINDOW_SECONDS = 10;

/**
 * Analytics read whole months of a tenant's index: `ANALYTICS_RATE_LIMITER` (per tenant) keeps one
 * dashboard from starving the index, and identical queries within a few seconds are answered from
 * a per-isolate cache (their `as_of` says how fresh they are).
 */
function analyticsGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.env.RATE_LIMITS?.trim().toLowerCase() !== "off") {
      const { success } = await c.env.ANALYTICS_RATE_LIMITER.limit({ key: c.get("tenant") });
      if (!success) {
        throw new ApiError("RATE_LIMITED", undefined, { retry_after_seconds: WINDOW_SECONDS }, { "Retry-After": String(WINDOW_SECONDS) });
      }
    }
    await next();
  };
}

const cache = new Map<string, { at: number; data: unknown }>();
const CACHE_MAX = 200;

/**
 * The answer to a query, keyed by the JSON of the tenant, the route and the validated arguments
 * the answer is computed from: JSON is an unambiguous encoding (labels may hold any character, so
 * joining raw `k=v` pairs let two different step lists share a key), and equivalent spellings of
 * one query (`2026-11-01T01:00:00+01:00` and `2026-11-01T00:00:00Z`) share an answer.
 */
async function cached<T>(c: Context<AppEnv>, route: string, args: unknown[], compute: () => Promise<T>): Promise<T> {
  const key = JSON.stringify([c.get("tenant"), route, ...args]);
  const hit = cache.get(key);
  const now = Date.now();
  if (hit && now - hit.at < LIMITS.analyticsCacheMs) return hit.data as T;
  const data = await compute();
  if (cache.size >= CACHE_MAX) {
    for (const [k, v] of cache) if (now - v.at >= LIMITS.analyticsCacheMs || cache.size >= CACHE_MAX) cache.delete(k);
  }
  cache.set(key, { at: now, data });
  return data;
}

function parsedRange(query: { from: string; to: string }) {
  return range({ from: Date.parse(query.from), to: Date.parse(query.to) });
}

/** Every month shard of the tenant that can hold sessions started in [from, to). */
function shards(c: Context<AppEnv>, from: number, to: number) {
  return monthsBetween(from, to).map((month) => c.env.TENANT_INDEX.getByName(monthShard(c.get("tenant"), month)));
}

/** Seconds from ms, to the microsecond (a quantile is a histogram bin's representative, not a whole ms). */
const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms * 1000) / 1_000_000);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

type Directory = ReadonlyMap<string, StoreInfo>;
type GroupBy = "store" | "kiosk" | "country" | "tag";

interface Selection {
  scope: Scope;
  groupBy: GroupBy | null;
  directory: Directory;
}

/**
 * The sessions a query takes: `store_id` (repeated) and `tag` (the stores that have it now, from
 * the registry) narrow to stores, `kiosk_id` to a kiosk; `group_by` splits by store (country and
 * tag are a store's, so the shards split by store and the Worker regroups) or by kiosk.
 */
async function selection(
  c: Context<AppEnv>,
  query: { store_id?: string | string[]; tag?: string; kiosk_id?: string; group_by?: GroupBy },
  zones = false,
): Promise<Selection> {
  // The registry is read (once per AUTH_CACHE_SECONDS) only by what needs it: a tag, store names,
  // countries or tags for groups, each store's zone (`zones`).
  const needed = zones || query.tag !== undefined || (query.group_by !== undefined && query.group_by !== "kiosk");
  const directory: Directory = needed ? await storeDirectory(c.env, c.get("tenant")) : new Map();
  let stores: string[] | null =
    query.store_id === undefined ? null : [...new Set(typeof query.store_id === "string" ? [query.store_id] : query.store_id)];
  if (query.tag !== undefined) {
    const tagged = [...directory.values()].filter((s) => s.tags.includes(query.tag!)).map((s) => s.store_id);
    stores = stores === null ? tagged : stores.filter((id) => tagged.includes(id));
  }
  const groupBy = query.group_by ?? null;
  const split = groupBy === null ? null : groupBy === "kiosk" ? "kiosk" : "store";
  return { scope: { stores, kiosk: query.kiosk_id ?? null, groupBy: split }, groupBy, directory };
}

const regionNames = new Intl.DisplayNames(["en"], { type: "region" });

/** The answer's group of a shard's group key (a store or kiosk id), and its name. */
function groupOf(sel: Selection, key: string | null): { key: string | null; name: string | null } {
  if (sel.groupBy === "kiosk") return { key, name: null };
  const store = key === null ? undefined : sel.directory.get(key);
  if (sel.groupBy === "store") return { key, name: store?.name ?? null };
  if (sel.groupBy === "country") {
    const country = store?.country ?? null;
    return { key: country, name: country === null ? null : (regionNames.of(country) ?? null) };
  }
  return { key: store?.tags[0] ?? null, name: null };
}

/** The answer's groups, ranked before any part is computed (rankGroups). */
interface Ranking {
  /** The 100 largest answer groups, in answer order. */
  groups: { key: string | null; name: string | null }[];
  /** How many answer groups the "other" group holds. */
  rest: number;
  /** The shard keys (store or kiosk ids) of the listed groups: the parts the shards reduce separately. */
  keys: (string | null)[];
}

/** The 100 largest answer groups by size, most first, ties by key (null last), and how many are left. */
function ranking(groups: AnswerGroups): Ranking {
  const ranked = [...groups].sort(
    ([ka, a], [kb, b]) => b.size - a.size || (ka === null ? 1 : kb === null ? -1 : ka < kb ? -1 : ka > kb ? 1 : 0),
  );
  const top = ranked.slice(0, LIMITS.analyticsGroupsMax);
  return {
    groups: top.map(([key, g]) => ({ key, name: g.name })),
    rest: ranked.length - top.length,
    keys: top.flatMap(([, g]) => [...g.keys]),
  };
}

/**
 * Ranks the answer groups by `size` from the shards' counts (SQLite counts them: no row reaches
 * JS), most first, ties by key (null last), so the shards then reduce into the 100 largest groups
 * and one part for the rest: 101 parts per shard, not one per store. `step` is the funnel's first
 * step (funnel groups rank by sessions that reached it), null for the others (by sessions).
 */
async function rankGroups(c: Context<AppEnv>, sel: Selection, from: number, to: number, step: string | null): Promise<Ranking> {
  const answers = await Promise.all(shards(c, from, to).map((s) => s.groupSizes(from, to, sel.scope, step)));
  const groups: AnswerGroups = new Map();
  for (const answer of answers) {
    answer.keys.forEach((key, i) => {
      addToGroup(groups, sel, key, step === null ? answer.sessions[i]! : answer.reached[i]!);
    });
  }
  return ranking(groups);
}

/** The answer groups being ranked: each with its name, size, and the store or kiosk keys it is made of. */
type AnswerGroups = Map<string | null, { name: string | null; size: number; keys: Set<string | null> }>;

/** Counts `size` of shard key `key` (a store or kiosk id) into its answer group. */
function addToGroup(groups: AnswerGroups, sel: Selection, key: string | null, size: number): void {
  const g = groupOf(sel, key);
  let group = groups.get(g.key);
  if (group === undefined) {
    group = { name: g.name, size: 0, keys: new Set() };
    groups.set(g.key, group);
  }
  group.size += size;
  group.keys.add(key);
}

/**
 * The answer's groups from the shards' parts: each listed group's parts merged, in the ranking's
 * order, then one group `other` with the rest (OTHER_GROUP parts), so the groups add up to the
 * totals. A group with no part (its sessions went between the two reads) answers empty figures;
 * a part of a group that was not ranked (likewise) is in `other`, so the totals still add up.
 */
function assembleGroups<P>(sel: Selection, ranking: Ranking, parts: Grouped<P>[], merge: (a: P, b: P) => P, empty: () => P) {
  const merged = new Map<string | null, P>();
  let other: P | null = null;
  const listed = new Set(ranking.groups.map((g) => g.key));
  for (const { key, part } of parts) {
    const answerKey = key === OTHER_GROUP ? OTHER_GROUP : groupOf(sel, key).key;
    if (answerKey === OTHER_GROUP || !listed.has(answerKey)) {
      other = other === null ? part : merge(other, part);
      continue;
    }
    const known = merged.get(answerKey);
    merged.set(answerKey, known === undefined ? part : merge(known, part));
  }
  const out = ranking.groups.map((g) => ({ key: g.key, name: g.name, other: false, groups: 1, part: merged.get(g.key) ?? empty() }));
  if (other !== null) out.push({ key: "other", name: null, other: true, groups: Math.max(ranking.rest, 1), part: other });
  return out;
}

/** The scope of the parts' read: the ranked groups' keys on their own, the rest together. */
const rankedScope = (sel: Selection, ranking: Ranking | null): Scope =>
  ranking === null ? sel.scope : { ...sel.scope, top: ranking.keys };

/** Every part of the query, all groups together: the totals (into a fresh part: the groups' parts are merged after). */
const total = <P>(parts: Grouped<P>[], merge: (a: P, b: P) => P, empty: () => P) => parts.reduce((acc, p) => merge(acc, p.part), empty());

// Merges add `b` into `a` and return `a`: the parts came over RPC and belong to this request, and
// copying would make a 2,000-group merge quadratic.
const into = (h: Histogram | undefined) => h ?? newHistogram();
const mergeFunnel = (a: FunnelPart, b: FunnelPart): FunnelPart => {
  b.reached.forEach((n, k) => {
    a.reached[k]! += n;
    mergeHistogram(a.gaps[k]!, b.gaps[k]!);
  });
  return a;
};
const mergeDwell = (a: DwellPart, b: DwellPart): DwellPart => {
  a.sessions += b.sessions;
  for (const [status, h] of b.values) a.values.set(status, mergeHistogram(into(a.values.get(status)), h));
  return a;
};
const mergeVisits = (a: SparseVisits, b: SparseVisits): SparseVisits => {
  for (const [k, n] of b.sessions) a.sessions.set(k, (a.sessions.get(k) ?? 0) + n);
  for (const [k, h] of b.durations) a.durations.set(k, mergeHistogram(into(a.durations.get(k)), h));
  return a;
};

function funnelFigures(steps: string[], part: FunnelPart) {
  const first = part.reached[0]!;
  return steps.map((status, k) => {
    const sessions = part.reached[k]!;
    const previous = k === 0 ? sessions : part.reached[k - 1]!;
    const gaps = k === 0 ? { median: null, p90: null } : histogramQuantiles(part.gaps[k]!);
    return {
      status,
      sessions,
      conversion_from_previous: ratio(sessions, previous),
      conversion_from_first: ratio(sessions, first),
      median_seconds_from_previous: seconds(gaps.median),
      p90_seconds_from_previous: seconds(gaps.p90),
    };
  });
}

function dwellFigures(part: DwellPart) {
  const statuses = [...part.values].map(([status, h]) => {
    const q = histogramQuantiles(h);
    return {
      status,
      visits: h.count,
      total_seconds: h.sum / 1000,
      median_seconds: seconds(q.median ?? 0)!,
      p90_seconds: seconds(q.p90 ?? 0)!,
    };
  });
  statuses.sort((a, b) => b.visits - a.visits || (a.status < b.status ? -1 : 1));
  return statuses;
}

function visitsFigures(labels: string[], keys: number[], part: SparseVisits) {
  return labels.map((start, i) => ({
    start,
    sessions: part.sessions.get(keys[i]!) ?? 0,
    median_duration_seconds: seconds(histogramQuantiles(into(part.durations.get(keys[i]!))).median),
  }));
}

/** A part's figures over the whole range: its sessions, and the median duration of its ended ones. */
function visitsRangeFigures(part: SparseVisits) {
  let sessions = 0;
  for (const n of part.sessions.values()) sessions += n;
  const all = newHistogram();
  for (const h of part.durations.values()) mergeHistogram(all, h);
  return { sessions, median_duration_seconds: seconds(histogramQuantiles(all).median) };
}

/**
 * Every local wall-clock hour or day from the earliest to the latest any of the zones has in
 * [from, to): its label, and its key in the shards' parts (wall milliseconds).
 */
function wallLabels(zones: Iterable<string>, interval: "hour" | "day", from: number, to: number): { labels: string[]; keys: number[] } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const zone of zones) {
    const format = zoneFormat(zone);
    if (!format) continue;
    for (const at of [from, to - 1]) {
      const l = local(format, at);
      const wall = wallMs(l.y, l.m, l.d, interval === "hour" ? l.h : 0);
      first = Math.min(first, wall);
      last = Math.max(last, wall);
    }
  }
  const labels: string[] = [];
  const keys: number[] = [];
  const step = interval === "hour" ? 3_600_000 : 86_400_000;
  for (let t = first; t <= last; t += step) {
    const d = new Date(t);
    labels.push(wallLabel(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours()));
    keys.push(t);
  }
  return { labels, keys };
}

function zoneOrRefuse(field: string, tz: string) {
  const format = zoneFormat(tz);
  if (!format) {
    throw invalid(
      field,
      `${field} must be an IANA time zone name as written, such as Europe/Paris or UTC; "${tz}" is not one this service knows.`,
    );
  }
  return format;
}

export function analyticsRoutes(app: OpenAPIHono<AppEnv>) {
  app.use("/v1/analytics/*", analyticsGuard());
  return app
    .openapi(funnelRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const steps = typeof query.step === "string" ? [query.step] : query.step;
      if (steps.length < LIMITS.funnelStepsMin || steps.length > LIMITS.funnelStepsMax) {
        throw invalid("step", `Give ${LIMITS.funnelStepsMin} to ${LIMITS.funnelStepsMax} steps: step=A&step=B...`);
      }
      const within = query.within_seconds === undefined ? null : query.within_seconds * 1000;
      const sel = await selection(c, query);
      const data = await cached(c, "funnel", [from, to, steps, within, sel.scope, sel.groupBy], async () => {
        const ranking = sel.groupBy ? await rankGroups(c, sel, from, to, steps[0]!) : null;
        const scope = rankedScope(sel, ranking);
        const answers = await Promise.all(shards(c, from, to).map((s) => s.funnel(from, to, steps, within, scope)));
        const parts = answers.flatMap((a) => a.parts);
        const empty = () => ({ reached: steps.map(() => 0), gaps: steps.map(newHistogram) });
        return {
          steps: funnelFigures(steps, total(parts, mergeFunnel, empty)),
          ...(ranking
            ? {
                groups: assembleGroups(sel, ranking, parts, mergeFunnel, empty).map(({ part, ...g }) => ({
                  ...g,
                  steps: funnelFigures(steps, part),
                })),
              }
            : {}),
          as_of: asOf(answers.map((p) => p.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(dwellRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const sel = await selection(c, query);
      const data = await cached(c, "dwell", [from, to, sel.scope, sel.groupBy], async () => {
        const ranking = sel.groupBy ? await rankGroups(c, sel, from, to, null) : null;
        const scope = rankedScope(sel, ranking);
        const answers = await Promise.all(shards(c, from, to).map((s) => s.dwell(from, to, scope)));
        const parts = answers.flatMap((a) => a.parts);
        const empty = (): DwellPart => ({ sessions: 0, values: new Map() });
        return {
          statuses: dwellFigures(total(parts, mergeDwell, empty)),
          ...(ranking
            ? {
                groups: assembleGroups(sel, ranking, parts, mergeDwell, empty).map(({ part, ...g }) => ({
                  ...g,
                  sessions: part.sessions,
                  statuses: dwellFigures(part),
                })),
              }
            : {}),
          as_of: asOf(answers.map((p) => p.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(pathsRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const limit = query.limit ?? LIMITS.pathsPageDefault;
      const sel = await selection(c, query);
      const statuses = c.get("statuses");
      const data = await cached(c, "paths", [from, to, limit, sel.scope], async () => {
        const answers = await Promise.all(shards(c, from, to).map((s) => s.paths(from, to, sel.scope)));
        const counts = new Map<string, number>();
        for (const a of answers) for (const [path, n] of a.counts) counts.set(path, (counts.get(path) ?? 0) + n);
        const sessions = [...counts.values()].reduce((a, b) => a + b, 0);
        const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
        return {
          paths: top.map(([path, n]) => ({ labels: path === "" ? [] : path.split(PATH_SEPARATOR), sessions: n, share: n / sessions })),
          sessions,
          as_of: asOf(answers.map((a) => a.applied_at)),
        };
      });
      return c.json({ success: true as const, data: { ...data, statuses: statuses ? [...statuses] : null } }, 200);
    })
    .openapi(occupancyAnalyticsRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const tz = query.tz ?? "UTC";
      const format = zoneOrRefuse("tz", tz);
      const interval = query.interval ?? "hour";
      if (query.group_by !== undefined && interval === "hour" && to - from > LIMITS.analyticsGroupedHourRangeMaxDays * 86_400_000) {
        throw invalid(
          "to",
          `With group_by, hourly occupancy spans at most ${LIMITS.analyticsGroupedHourRangeMaxDays} days (up to 101 groups of 744 buckets in one answer); use interval=day for longer ranges.`,
        );
      }
      const sel = await selection(c, query);
      // Sessions still active count up to now; the cache's 5 s keeps that within the index's freshness.
      const until = Math.min(to, Date.now());
      const since = from - LIMITS.occupancyLookbackDays * 86_400_000;
      const data = await cached(c, "occupancy", [from, to, interval, tz, sel.scope, sel.groupBy], async () => {
        const list = buckets(format, interval, from, to);
        const bounds = [...list.map((b) => b.start), to];
        // Each month shard sweeps its own month of the range (sweep() in the shard), with the
        // presence the months before it carry across its start: a first pass finds those (and the
        // groups' sizes, to rank them), the second returns series, groups × buckets.
        const months = monthsBetween(since, to);
        const stubs = shards(c, since, to);
        const startOf = (i: number) => (i < months.length ? Date.parse(`${months[i]}-01T00:00:00.000Z`) : Number.POSITIVE_INFINITY);
        const edges = await Promise.all(
          stubs.map((s, i) =>
            s.presenceEdge(since, to, from, until, i + 1 < months.length ? startOf(i + 1) : null, sel.scope, sel.groupBy !== null),
          ),
        );
        let ranked: { ranking: Ranking; keys: (string | null)[][]; sizes: number[]; other: number } | null = null;
        if (sel.groupBy) {
          const groups: AnswerGroups = new Map();
          let present = 0;
          for (const edge of edges) {
            edge.keys.forEach((key, i) => {
              addToGroup(groups, sel, key, edge.sessions[i]!);
              present += edge.sessions[i]!;
            });
          }
          const r = ranking(groups);
          const sizes = r.groups.map((g) => groups.get(g.key)!.size);
          ranked = {
            ranking: r,
            keys: r.groups.map((g) => [...groups.get(g.key)!.keys]),
            sizes,
            other: present - sizes.reduce((a, b) => a + b, 0),
          };
        }
        const series = await Promise.all(
          stubs.map((s, i) => {
            const span = { lo: Math.max(from, startOf(i)), hi: Math.min(until, startOf(i + 1)), bounds };
            if (span.hi <= span.lo) return null;
            const carry: Carry = { starts: [], ends: [], keys: [] };
            for (const edge of edges.slice(0, i)) {
              edge.spill.ends.forEach((end, k) => {
                if (end <= span.lo) return;
                carry.starts.push(edge.spill.starts[k]!);
                carry.ends.push(end);
                carry.keys.push(edge.spill.keys[k]!);
              });
            }
            return s.presenceSeries(since, to, from, until, span, sel.scope, ranked?.keys ?? null, carry);
          }),
        );
        const figures = (parts: (SeriesPart | null | undefined)[]) => {
          const acc: SeriesPart = { peak: list.map(() => null), area: list.map(() => 0) };
          for (const p of parts) if (p) combineSeries(acc, p);
          return seriesFigures(acc, bounds, from, until).map((f, i) => ({
            start: list[i]!.label,
            peak: f.peak,
            average: f.average === null ? null : Math.round(f.average * 10_000) / 10_000,
          }));
        };
        return {
          buckets: figures(series.map((s) => s?.total)),
          ...(ranked
            ? {
                groups: [
                  ...ranked.ranking.groups.map((g, gi) => ({
                    key: g.key,
                    name: g.name,
                    other: false,
                    groups: 1,
                    sessions: ranked.sizes[gi]!,
                    buckets: figures(series.map((s) => s?.groups[gi])),
                  })),
                  ...(ranked.ranking.rest > 0
                    ? [
                        {
                          key: "other",
                          name: null,
                          other: true,
                          groups: ranked.ranking.rest,
                          sessions: ranked.other,
                          buckets: figures(series.map((s) => s?.other)),
                        },
                      ]
                    : []),
                ],
              }
            : {}),
          interval,
          tz,
          as_of: asOf(edges.map((a) => a.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(visitsRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const tz = query.tz ?? "UTC";
      const interval = query.interval ?? "day";
      const perStore = tz === "store";
      const fallback = query.fallback_tz ?? "UTC";
      // fallback_tz is checked whenever it is given, and used only with tz=store.
      zoneOrRefuse("fallback_tz", fallback);
      const format = perStore ? zoneOrRefuse("fallback_tz", fallback) : zoneOrRefuse("tz", tz);
      if (query.group_by !== undefined && interval === "hour" && to - from > LIMITS.analyticsGroupedHourRangeMaxDays * 86_400_000) {
        throw invalid(
          "to",
          `With group_by, hourly visits span at most ${LIMITS.analyticsGroupedHourRangeMaxDays} days (up to 101 groups of 744 buckets in one answer); use interval=day for longer ranges.`,
        );
      }
      const sel = await selection(c, query, perStore);
      const data = await cached(c, "visits", [from, to, interval, tz, fallback, sel.scope, sel.groupBy], async () => {
        let labels: string[];
        let keys: number[];
        let how: VisitBuckets;
        if (perStore) {
          const zones = Object.fromEntries([...sel.directory.values()].map((s) => [s.store_id, s.time_zone]));
          const inScope =
            sel.scope.stores === null
              ? Object.values(zones)
              : sel.scope.stores.map((id) => (Object.hasOwn(zones, id) ? zones[id]! : fallback));
          ({ labels, keys } = wallLabels(new Set([...inScope, fallback]), interval, from, to));
          how = { kind: "local", interval, zones, fallback };
        } else {
          const list = buckets(format, interval, from, to);
          labels = list.map((b) => b.label);
          keys = list.map((_, i) => i);
          how = { kind: "utc", starts: list.map((b) => b.start) };
        }
        const ranking = sel.groupBy ? await rankGroups(c, sel, from, to, null) : null;
        const scope = rankedScope(sel, ranking);
        const answers = await Promise.all(shards(c, from, to).map((s) => s.visits(from, to, how, scope)));
        const parts = answers.flatMap((a) => a.parts);
        const empty = (): SparseVisits => ({ sessions: new Map(), durations: new Map() });
        const all = total(parts, mergeVisits, empty);
        return {
          buckets: visitsFigures(labels, keys, all),
          ...visitsRangeFigures(all),
          ...(ranking
            ? {
                groups: assembleGroups(sel, ranking, parts, mergeVisits, empty).map(({ part, ...g }) => ({
                  ...g,
                  ...visitsRangeFigures(part),
                  buckets: visitsFigures(labels, keys, part),
                })),
              }
            : {}),
          interval,
          tz,
          ...(perStore ? { fallback_tz: fallback } : {}),
          as_of: asOf(answers.map((p) => p.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    });
}
