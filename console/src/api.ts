/**
 * The console's API client: same origin only, the key only in the Authorization header.
 * Never logs the key or the request headers.
 */
import type { DwellData, FunnelData, Interval, PathsData, VisitsData } from "./dashboard";
import type { ActivePage } from "./live";
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

export interface Client {
  current(personaId: string, etag: string | null, signal?: AbortSignal): Promise<ApiResult<Session>>;
  history(personaId: string, cursor: string | null, limit: number, signal?: AbortSignal): Promise<ApiResult<HistoryPage>>;
  session(personaId: string, sessionId: string, signal?: AbortSignal): Promise<ApiResult<Session>>;
  /** The tenant's active sessions (GET /v1/sessions/active): a page, and counts for the whole tenant. */
  active(query: { status: string | null; cursor: string | null; limit: number }, signal?: AbortSignal): Promise<ApiResult<ActivePage>>;
  /** GET /v1/analytics/funnel: sessions that started in [from, to) (ISO times) through `steps` in order. */
  funnel(query: { from: string; to: string; steps: readonly string[] }, signal?: AbortSignal): Promise<ApiResult<FunnelData>>;
  /** GET /v1/analytics/dwell: time in each status, for sessions that started in [from, to). */
  dwell(query: { from: string; to: string }, signal?: AbortSignal): Promise<ApiResult<DwellData>>;
  /** GET /v1/analytics/paths: the most common paths, and the tenant's statuses order (the default funnel). */
  paths(query: { from: string; to: string }, signal?: AbortSignal): Promise<ApiResult<PathsData>>;
  /** GET /v1/analytics/visits: sessions per hour or day of `tz`. */
  visits(query: { from: string; to: string; interval: Interval; tz: string }, signal?: AbortSignal): Promise<ApiResult<VisitsData>>;
}

interface Envelope<T> {
  success: boolean;
  data?: T;
  error?: { code?: string; message?: string; request_id?: string };
}

/** A client for the API at this origin. `fetchImpl` is for tests. */
export function createClient(getKey: () => string, fetchImpl: typeof fetch = (...args) => fetch(...args)): Client {
  async function get<T>(path: string, etag: string | null, signal?: AbortSignal): Promise<ApiResult<T>> {
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
    if (res.ok && body?.success && body.data !== undefined) return { kind: "ok", data: body.data, etag: res.headers.get("ETag") };
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
  return {
    current: (personaId, etag, signal) => get<Session>(`${base(personaId)}/session`, etag, signal),
    history: (personaId, cursor, limit, signal) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cursor !== null) query.set("cursor", cursor);
      return get<HistoryPage>(`${base(personaId)}/sessions?${query}`, null, signal);
    },
    session: (personaId, sessionId, signal) => get<Session>(`${base(personaId)}/sessions/${encodeURIComponent(sessionId)}`, null, signal),
    active: ({ status, cursor, limit }, signal) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (status !== null) query.set("status", status);
      if (cursor !== null) query.set("cursor", cursor);
      return get<ActivePage>(`/v1/sessions/active?${query}`, null, signal);
    },
    funnel: ({ from, to, steps }, signal) => {
      const query = new URLSearchParams({ from, to });
      for (const step of steps) query.append("step", step);
      return get<FunnelData>(`/v1/analytics/funnel?${query}`, null, signal);
    },
    dwell: ({ from, to }, signal) => get<DwellData>(`/v1/analytics/dwell?${new URLSearchParams({ from, to })}`, null, signal),
    paths: ({ from, to }, signal) => get<PathsData>(`/v1/analytics/paths?${new URLSearchParams({ from, to, limit: "50" })}`, null, signal),
    visits: ({ from, to, interval, tz }, signal) =>
      get<VisitsData>(`/v1/analytics/visits?${new URLSearchParams({ from, to, interval, tz })}`, null, signal),
  };
}
