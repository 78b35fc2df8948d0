/**
 * The console's API client: same origin only, the key only in the Authorization header.
 * Never logs the key or the request headers.
 */
import { type DwellData, type FunnelData, type Interval, type PathsData, parsePaths, type VisitsData } from "./dashboard";
import type { ActivePage } from "./live";
import {
  type GroupedFunnel,
  type GroupedOccupancy,
  type GroupedVisits,
  type OccupancyPage,
  parseGroupedFunnel,
  parseGroupedOccupancy,
  parseGroupedVisits,
  parseOccupancyPage,
  parseStoresPage,
  type StoresPage,
} from "./stores";
import { retryAfterSeconds, type Session, type SessionSummary } from "./timeline";

export type ApiResult<T> =
  | { kind: "ok"; data: T; etag: string | null }
  | { kind: "not-modified" }
  | { kind: "http"; status: number; code: string; message: string; requestId: string | null; retryAfter: number | null }
  | { kind: "network"; message: string };

export interface HistoryPage {
  sessions: SessionSummary[];
  next_cursor: string | null;
}

/** A range of session starts (ISO times), and the store they are restricted to (null: the whole tenant). */
interface Scope {
  from: string;
  to: string;
  store?: string | null;
}

export interface Client {
  current(personaId: string, etag: string | null, signal?: AbortSignal): Promise<ApiResult<Session>>;
  history(personaId: string, cursor: string | null, limit: number, signal?: AbortSignal): Promise<ApiResult<HistoryPage>>;
  session(personaId: string, sessionId: string, signal?: AbortSignal): Promise<ApiResult<Session>>;
  /** The active sessions (GET /v1/sessions/active), of `store` or the whole tenant: a page, and counts for all of them. */
  active(
    query: { status: string | null; store?: string | null; cursor: string | null; limit: number },
    signal?: AbortSignal,
  ): Promise<ApiResult<ActivePage>>;
  /** GET /v1/analytics/funnel: sessions that started in [from, to) (ISO times) through `steps` in order. */
  funnel(query: Scope & { steps: readonly string[] }, signal?: AbortSignal): Promise<ApiResult<FunnelData>>;
  /** GET /v1/analytics/dwell: time in each status, for sessions that started in [from, to). */
  dwell(query: Scope, signal?: AbortSignal): Promise<ApiResult<DwellData>>;
  /** GET /v1/analytics/paths: the most common paths, and the tenant's statuses order (the default funnel). */
  paths(query: Scope, signal?: AbortSignal): Promise<ApiResult<PathsData>>;
  /** GET /v1/analytics/visits: sessions per hour or day of `tz`. */
  visits(query: Scope & { interval: Interval; tz: string }, signal?: AbortSignal): Promise<ApiResult<VisitsData>>;
  /** GET /v1/stores: a page of the tenant's stores, in id order. */
  stores(query: { cursor: string | null; limit: number }, signal?: AbortSignal): Promise<ApiResult<StoresPage>>;
  /** GET /v1/occupancy: a page of the stores, busiest first, with who is in each now. */
  occupancy(query: { cursor: string | null; limit: number }, signal?: AbortSignal): Promise<ApiResult<OccupancyPage>>;
  /** GET /v1/analytics/funnel?group_by=store: the funnel, and per store. */
  funnelByStore(query: Scope & { steps: readonly string[] }, signal?: AbortSignal): Promise<ApiResult<GroupedFunnel>>;
  /** GET /v1/analytics/visits?group_by=store: visits per store, each group's sessions and median duration over the whole range. */
  visitsByStore(query: Scope & { interval: Interval; tz: string }, signal?: AbortSignal): Promise<ApiResult<GroupedVisits>>;
  /** GET /v1/analytics/occupancy?group_by=store: sessions present at once per bucket, per store (hourly buckets span at most 31 days). */
  occupancyByStore(query: Scope & { interval: Interval; tz: string }, signal?: AbortSignal): Promise<ApiResult<GroupedOccupancy>>;
}

interface Envelope<T> {
  success: boolean;
  data?: T;
  error?: { code?: string; message?: string; request_id?: string };
}

/** A client for the API at this origin. `fetchImpl` is for tests. */
export function createClient(getKey: () => string, fetchImpl: typeof fetch = (...args) => fetch(...args)): Client {
  /** `parse` checks the answer's shape: one it does not take is reported as an unexpected answer, never used. */
  async function get<T>(
    path: string,
    etag: string | null,
    signal?: AbortSignal,
    parse?: (data: unknown) => T | null,
  ): Promise<ApiResult<T>> {
    const headers = new Headers({ Accept: "application/json", Authorization: `Bearer ${getKey()}` });
    if (etag !== null) headers.set("If-None-Match", etag);
    let res: Response;
    try {
      // no-store: the ETag handling is ours, and a 304 must reach this code as a 304.
      res = await fetchImpl(path, { headers, signal, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
    } catch (err) {
      if (signal?.aborted) throw err;
      return { kind: "network", message: err instanceof Error ? err.message : "request failed" };
    }
    if (res.status === 304) return { kind: "not-modified" };
    let body: Envelope<T> | null = null;
    try {
      body = (await res.json()) as Envelope<T>;
    } catch (err) {
      if (signal?.aborted) throw err; // the caller moved on; its answer is not wanted
      // Not our JSON (a proxy page, an empty body): reported by status below.
    }
    if (res.ok && body?.success && body.data !== undefined) {
      const data = parse ? parse(body.data) : body.data;
      if (data !== null) return { kind: "ok", data, etag: res.headers.get("ETag") };
      return {
        kind: "http",
        status: res.status,
        code: "UNEXPECTED_ANSWER",
        message: "The answer does not have the shape this console reads (is the console older or newer than the API?)",
        requestId: res.headers.get("X-Request-Id"),
        retryAfter: null,
      };
    }
    return {
      kind: "http",
      status: res.status,
      code: body?.error?.code ?? `HTTP_${res.status}`,
      message: body?.error?.message ?? (res.statusText || "Unexpected answer"),
      requestId: body?.error?.request_id ?? res.headers.get("X-Request-Id"),
      retryAfter: retryAfterSeconds(res.headers.get("Retry-After"), Date.now(), 1, 300),
    };
  }

  const base = (personaId: string) => `/v1/persona/${encodeURIComponent(personaId)}`;
  /** A query's range, and its store filter when it has one. */
  const scoped = ({ from, to, store }: Scope, more: Record<string, string> = {}) => {
    const query = new URLSearchParams({ from, to, ...more });
    if (store != null) query.set("store_id", store);
    return query;
  };
  const page = ({ cursor, limit }: { cursor: string | null; limit: number }) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor !== null) query.set("cursor", cursor);
    return query;
  };
  return {
    current: (personaId, etag, signal) => get<Session>(`${base(personaId)}/session`, etag, signal),
    history: (personaId, cursor, limit, signal) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cursor !== null) query.set("cursor", cursor);
      return get<HistoryPage>(`${base(personaId)}/sessions?${query}`, null, signal);
    },
    session: (personaId, sessionId, signal) => get<Session>(`${base(personaId)}/sessions/${encodeURIComponent(sessionId)}`, null, signal),
    active: ({ status, store, cursor, limit }, signal) => {
      const query = page({ cursor, limit });
      if (status !== null) query.set("status", status);
      if (store != null) query.set("store_id", store);
      return get<ActivePage>(`/v1/sessions/active?${query}`, null, signal);
    },
    funnel: ({ steps, ...scope }, signal) => {
      const query = scoped(scope);
      for (const step of steps) query.append("step", step);
      return get<FunnelData>(`/v1/analytics/funnel?${query}`, null, signal);
    },
    dwell: (scope, signal) => get<DwellData>(`/v1/analytics/dwell?${scoped(scope)}`, null, signal),
    paths: (scope, signal) => get<PathsData>(`/v1/analytics/paths?${scoped(scope, { limit: "50" })}`, null, signal, parsePaths),
    visits: ({ interval, tz, ...scope }, signal) =>
      get<VisitsData>(`/v1/analytics/visits?${scoped(scope, { interval, tz })}`, null, signal),
    stores: (query, signal) => get(`/v1/stores?${page(query)}`, null, signal, parseStoresPage),
    occupancy: (query, signal) => get(`/v1/occupancy?${page(query)}`, null, signal, parseOccupancyPage),
    funnelByStore: ({ steps, ...scope }, signal) => {
      const query = scoped(scope, { group_by: "store" });
      for (const step of steps) query.append("step", step);
      return get(`/v1/analytics/funnel?${query}`, null, signal, parseGroupedFunnel);
    },
    visitsByStore: ({ interval, tz, ...scope }, signal) =>
      get(`/v1/analytics/visits?${scoped(scope, { interval, tz, group_by: "store" })}`, null, signal, parseGroupedVisits),
    occupancyByStore: ({ interval, tz, ...scope }, signal) =>
      get(`/v1/analytics/occupancy?${scoped(scope, { interval, tz, group_by: "store" })}`, null, signal, parseGroupedOccupancy),
  };
}
