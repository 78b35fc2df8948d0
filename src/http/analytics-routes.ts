import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { LIMITS } from "../limits";
import { quantiles } from "../tenant-index/analytics";
import { buckets, zoneFormat } from "../tenant-index/buckets";
import { monthShard, monthsBetween } from "../tenant-index/messages";
import type { AppEnv } from "./context";
import { dwellRoute, funnelRoute, visitsRoute } from "./contract";
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

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
const ratio = (a: number, b: number) => (b === 0 ? null : a / b);

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
      const data = await cached(c, "funnel", [from, to, steps, within], async () => {
        const parts = await Promise.all(shards(c, from, to).map((s) => s.funnel(from, to, steps, within)));
        const first = parts.reduce((n, p) => n + p.part.reached[0]!, 0);
        return {
          steps: steps.map((status, k) => {
            const sessions = parts.reduce((n, p) => n + p.part.reached[k]!, 0);
            const previous = k === 0 ? sessions : parts.reduce((n, p) => n + p.part.reached[k - 1]!, 0);
            const gaps = k === 0 ? { median: null, p90: null } : quantiles(parts.flatMap((p) => p.part.gaps[k]!));
            return {
              status,
              sessions,
              conversion_from_previous: ratio(sessions, previous),
              conversion_from_first: ratio(sessions, first),
              median_seconds_from_previous: seconds(gaps.median),
              p90_seconds_from_previous: seconds(gaps.p90),
            };
          }),
          as_of: asOf(parts.map((p) => p.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(dwellRoute, async (c) => {
      const { from, to } = parsedRange(c.req.valid("query"));
      const data = await cached(c, "dwell", [from, to], async () => {
        const parts = await Promise.all(shards(c, from, to).map((s) => s.dwell(from, to)));
        const byStatus = new Map<string, number[][]>();
        for (const { part } of parts) {
          for (const [status, values] of Object.entries(part)) byStatus.set(status, [...(byStatus.get(status) ?? []), values]);
        }
        const statuses = [...byStatus].map(([status, lists]) => {
          const values = lists.flat();
          const q = quantiles(values);
          return {
            status,
            visits: values.length,
            total_seconds: values.reduce((a, b) => a + b, 0) / 1000,
            median_seconds: (q.median ?? 0) / 1000,
            p90_seconds: (q.p90 ?? 0) / 1000,
          };
        });
        statuses.sort((a, b) => b.visits - a.visits || (a.status < b.status ? -1 : 1));
        return { statuses, as_of: asOf(parts.map((p) => p.applied_at)) };
      });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(visitsRoute, async (c) => {
      const query = c.req.valid("query");
      const { from, to } = parsedRange(query);
      const tz = query.tz ?? "UTC";
      const format = zoneFormat(tz);
      if (!format) {
        throw invalid(
          "tz",
          `tz must be an IANA time zone name as written, such as Europe/Paris or UTC; "${tz}" is not one this service knows.`,
        );
      }
      const interval = query.interval ?? "day";
      const data = await cached(c, "visits", [from, to, interval, tz], async () => {
        const list = buckets(format, interval, from, to);
        const starts = list.map((b) => b.start);
        const parts = await Promise.all(shards(c, from, to).map((s) => s.visits(from, to, starts)));
        return {
          buckets: list.map(({ label }, i) => ({
            start: label,
            sessions: parts.reduce((n, p) => n + p.part.sessions[i]!, 0),
            median_duration_seconds: seconds(quantiles(parts.flatMap((p) => p.part.durations[i]!)).median),
          })),
          interval,
          tz,
          as_of: asOf(parts.map((p) => p.applied_at)),
        };
      });
      return c.json({ success: true as const, data }, 200);
    });
}
