/**
 * Typed client for the Persona session API, for kiosk apps: plain fetch, no dependencies, no Node
 * built-ins (browsers, React Native and Node 20+ alike). Its types are generated from the API's
 * OpenAPI document (src/schema.ts, by openapi-typescript), so they are the document's.
 *
 *   const api = createClient({ baseUrl: "https://api.example.com", sdkKey: "sk_..." });
 *   const started = await api.start("persona-1");
 *   if (started.ok) await api.stamp("persona-1", { status: "CHAT" });
 *
 * Every POST carries an `Idempotency-Key` (one per call, reused by its retries), stamp, stamps
 * and end carry the active `session_id` the client last saw (so a late retry can never land in
 * the next visit), and network failures, 429 and 503 are retried with backoff, honouring
 * `Retry-After`. Results are values, never exceptions: `{ ok: true, data }` or
 * `{ ok: false, error: { code, ... } }` with `code` one of the API's error codes.
 */
import { isRecord, newKey } from "./common.js";
import type { components, operations, paths } from "./schema.js";

export type { ClockSource } from "./clock.js";
export {
  createKioskRecorder,
  type DeadLetter,
  type DeliveryError,
  type KioskRecorder,
  type KioskRecorderOptions,
  type PersonaRecorder,
  QueueFullError,
  type RecordedEvent,
  type RecorderFetch,
  type RecorderStatus,
} from "./recorder.js";
export { indexedDbStorage, memoryStorage, type RecorderStorage } from "./storage.js";

type Schemas = components["schemas"];

export type Session = Schemas["Session"];
export type Started = Schemas["StartedSession"];
export type Stamped = Schemas["RecordedStamp"];
export type StampedBatch = Schemas["RecordedStamps"];
export type History = Schemas["SessionHistory"];
export type Stamp = Schemas["Stamp"];
export type ErrorCode = Schemas["Error"]["error"]["code"];
export type Health = SuccessData<"getHealth">;
export type ActiveSessions = Schemas["ActiveSessions"];
export type SessionSearch = Schemas["SessionSearch"];
export type Occupancy = Schemas["Occupancy"];
export type Funnel = Schemas["Funnel"];
export type Dwell = Schemas["Dwell"];
export type Visits = Schemas["Visits"];
export type OccupancyAnalytics = Schemas["OccupancyAnalytics"];
export type Paths = Schemas["Paths"];
export type Tenant = Schemas["Tenant"];
export type TenantSettingsPatch = Schemas["TenantSettingsPatch"];
export type Key = Schemas["Key"];
export type KeyList = Schemas["KeyList"];
export type CreatedKey = Schemas["CreatedKey"];
export type CreateKeyRequest = Schemas["CreateKeyRequest"];
export type TenantList = Schemas["TenantList"];
export type AuditLog = Schemas["AuditLog"];
export type Store = Schemas["Store"];
export type StoreList = Schemas["StoreList"];
export type StoreInput = Schemas["StoreRequest"];
export type BulkStores = Schemas["BulkStoresRequest"]["stores"];
export type BulkStoresResult = Schemas["BulkStoresResult"];
export type { components, operations, paths };

/** What the client reads of a response: the part every fetch implementation has. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<FetchResponse>;

interface TransportOptions {
  baseUrl: string;
  /** A fetch implementation; defaults to the global one. */
  fetch?: Fetch;
  /** Retries after the first attempt for network failures, 429 and 503 (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry with jitter (default 250), capped at maxDelayMs (default 10,000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How to wait between retries (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ClientOptions extends TransportOptions {
  /** An SDK key; an `admin`-scoped registry key also reaches the tenant's own settings and keys. */
  sdkKey: string;
}

export interface AdminClientOptions extends TransportOptions {
  /** An operator's admin key (its SHA-256 is in the service's `ADMIN_KEYS`). */
  adminKey: string;
}

export interface ApiError {
  /** An API error code, or NETWORK_ERROR when no answer came back after every retry. */
  code: ErrorCode | "NETWORK_ERROR";
  message: string;
  details?: Record<string, unknown>;
  request_id?: string;
}

export type Result<T> =
  | { ok: true; status: number; data: T; replayed: boolean; requestId: string | null }
  | { ok: false; status: number; error: ApiError; requestId: string | null };

export interface StampInput {
  status: string;
  meta?: Record<string, unknown>;
  /** When the event happened (ISO 8601), for stamps recorded offline. */
  occurredAt?: string;
}

type Method = "get" | "post" | "put" | "patch" | "delete";

/**
 * Every operation of the document and where it lives. `satisfies` makes a document with an
 * operation this client does not implement fail to compile once src/schema.ts is regenerated.
 */
const OPERATIONS = {
  getHealth: ["get", "/healthz"],
  getOpenApiDocument: ["get", "/openapi.json"],
  startSession: ["post", "/v1/persona/{persona_id}/session/start"],
  recordStamp: ["post", "/v1/persona/{persona_id}/session/stamp"],
  recordStamps: ["post", "/v1/persona/{persona_id}/session/stamps"],
  endSession: ["post", "/v1/persona/{persona_id}/session/end"],
  getCurrentSession: ["get", "/v1/persona/{persona_id}/session"],
  listPersonaSessions: ["get", "/v1/persona/{persona_id}/sessions"],
  getPersonaSession: ["get", "/v1/persona/{persona_id}/sessions/{session_id}"],
  erasePersona: ["delete", "/v1/persona/{persona_id}"],
  listActiveSessions: ["get", "/v1/sessions/active"],
  searchSessions: ["get", "/v1/sessions"],
  getOccupancy: ["get", "/v1/occupancy"],
  getFunnel: ["get", "/v1/analytics/funnel"],
  getDwell: ["get", "/v1/analytics/dwell"],
  getVisits: ["get", "/v1/analytics/visits"],
  getOccupancyAnalytics: ["get", "/v1/analytics/occupancy"],
  getPaths: ["get", "/v1/analytics/paths"],
  getOwnTenant: ["get", "/v1/tenant"],
  updateOwnTenant: ["patch", "/v1/tenant"],
  listOwnKeys: ["get", "/v1/tenant/keys"],
  createOwnKey: ["post", "/v1/tenant/keys"],
  revokeOwnKey: ["delete", "/v1/tenant/keys/{key_id}"],
  listStores: ["get", "/v1/stores"],
  putStores: ["put", "/v1/stores"],
  getStore: ["get", "/v1/stores/{store_id}"],
  putStore: ["put", "/v1/stores/{store_id}"],
  deleteStore: ["delete", "/v1/stores/{store_id}"],
  createTenant: ["post", "/admin/v1/tenants"],
  listTenants: ["get", "/admin/v1/tenants"],
  getTenant: ["get", "/admin/v1/tenants/{tenant_id}"],
  updateTenant: ["patch", "/admin/v1/tenants/{tenant_id}"],
  createTenantKey: ["post", "/admin/v1/tenants/{tenant_id}/keys"],
  listTenantKeys: ["get", "/admin/v1/tenants/{tenant_id}/keys"],
  revokeTenantKey: ["delete", "/admin/v1/tenants/{tenant_id}/keys/{key_id}"],
  listAuditEntries: ["get", "/admin/v1/audit"],
  resendTenantIndex: ["post", "/admin/v1/tenants/{tenant_id}/index/resend"],
  checkTenantIndex: ["post", "/admin/v1/tenants/{tenant_id}/index/check"],
  listTenantStores: ["get", "/admin/v1/tenants/{tenant_id}/stores"],
  putTenantStores: ["put", "/admin/v1/tenants/{tenant_id}/stores"],
  getTenantStore: ["get", "/admin/v1/tenants/{tenant_id}/stores/{store_id}"],
  putTenantStore: ["put", "/admin/v1/tenants/{tenant_id}/stores/{store_id}"],
  deleteTenantStore: ["delete", "/admin/v1/tenants/{tenant_id}/stores/{store_id}"],
} as const satisfies { [Id in keyof operations]: readonly [Method, keyof paths] };

type OperationId = keyof typeof OPERATIONS;

/** The operations this client implements, with their method and path template. */
export const operationRoutes: Readonly<Record<OperationId, readonly [Method, string]>> = OPERATIONS;

/** The `data` of an operation's success envelope, as the document declares it. */
type SuccessData<Id extends OperationId> = {
  [S in keyof operations[Id]["responses"]]: S extends 200 | 201
    ? operations[Id]["responses"][S] extends { content: { "application/json": { data: infer D } } }
      ? D
      : never
    : never;
}[keyof operations[Id]["responses"]];

type Body<Id extends OperationId> = operations[Id] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

const RETRYABLE = new Set([429, 503]);

// Every target has setTimeout; the package compiles against ES only, so no DOM or Node types leak into it.
declare const setTimeout: (callback: () => void, ms: number) => unknown;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A stamp as the API takes it: optional fields only when given. */
function stampBody(input: StampInput): Schemas["StampRequest"] {
  return {
    status: input.status,
    ...(input.meta !== undefined ? { meta: input.meta } : {}),
    ...(input.occurredAt ? { occurred_at: input.occurredAt } : {}),
  };
}

/** Which sessions an analytics query takes, and how it splits them (see the API's analytics docs). */
export interface AnalyticsScope {
  storeIds?: readonly string[];
  tag?: string;
  kioskId?: string;
  groupBy?: "store" | "kiosk" | "country" | "tag";
}

const scopeQuery = (o: AnalyticsScope) => ({ store_id: o.storeIds, tag: o.tag, kiosk_id: o.kioskId, group_by: o.groupBy });

/** Query parameters: a list repeats the parameter (`step=A&step=B`); undefined ones are left out. */
type Query = Record<string, string | readonly string[] | undefined>;

const optional = (value: number | undefined) => (value === undefined ? undefined : String(value));

/** Sending, retrying and reading: what the session client and the admin client share. */
function transport(options: TransportOptions, key: string) {
  const globalFetch = (globalThis as { fetch?: Fetch }).fetch;
  const fetchImpl: Fetch = options.fetch ?? ((url, init) => (globalFetch as Fetch)(url, init));
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const retries = options.retries ?? 3;
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;

  function delay(attempt: number, response?: FetchResponse): number {
    const header = response?.headers.get("retry-after");
    const retryAfter = Number(header);
    if (header !== null && header !== undefined && header !== "" && Number.isFinite(retryAfter) && retryAfter >= 0) {
      return Math.min(retryAfter * 1000, maxDelay);
    }
    const exp = Math.min(baseDelay * 2 ** attempt, maxDelay);
    return exp / 2 + Math.random() * (exp / 2);
  }

  /** Sends (and re-sends) one logical request; its retries reuse its Idempotency-Key. */
  async function call<Id extends OperationId>(
    id: Id,
    params: Record<string, string>,
    init: { body?: Body<Id>; query?: Query; unwrapped?: boolean; once?: boolean } = {},
  ): Promise<Result<SuccessData<Id>>> {
    const [method, template] = OPERATIONS[id];
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
    // By hand: React Native's URLSearchParams is incomplete.
    const query = Object.entries(init.query ?? {})
      .flatMap(([name, value]) =>
        value === undefined
          ? []
          : (Array.isArray(value) ? value : [value]).map((v) => `${encodeURIComponent(name)}=${encodeURIComponent(v)}`),
      )
      .join("&");
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    // `once`: a request no key makes safe to repeat (creating a key: its secret is shown once).
    const tries = init.once ? 0 : retries;
    if (method === "post" && !init.once) headers["idempotency-key"] = newKey();
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const request = { method: method.toUpperCase(), headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) };
    const url = `${baseUrl}${path}${query ? `?${query}` : ""}`;

    let lastNetworkError: unknown;
    for (let attempt = 0; ; attempt++) {
      let response: FetchResponse;
      try {
        response = await fetchImpl(url, request);
      } catch (err) {
        lastNetworkError = err;
        if (attempt >= tries) break;
        await sleep(delay(attempt));
        continue;
      }
      if (RETRYABLE.has(response.status) && attempt < tries) {
        await response.text().catch(() => undefined);
        await sleep(delay(attempt, response));
        continue;
      }
      return read<SuccessData<Id>>(response, init.unwrapped ?? false);
    }
    return {
      ok: false,
      status: 0,
      requestId: null,
      error: { code: "NETWORK_ERROR", message: lastNetworkError instanceof Error ? lastNetworkError.message : String(lastNetworkError) },
    };
  }

  /** `unwrapped`: a success is the body itself, not a `{success, data}` envelope (the OpenAPI document). */
  async function read<T>(response: FetchResponse, unwrapped: boolean): Promise<Result<T>> {
    const requestId = response.headers.get("x-request-id");
    const replayed = response.headers.get("idempotent-replayed") === "true";
    if (response.status === 204 || response.status === 304) {
      return { ok: true, status: response.status, data: undefined as T, replayed, requestId };
    }
    let body: unknown = null;
    try {
      body = JSON.parse(await response.text());
    } catch {
      // not JSON: reported below as an unexpected response
    }
    if (unwrapped && response.status === 200 && isRecord(body)) {
      return { ok: true, status: response.status, data: body as T, replayed, requestId };
    }
    if (isRecord(body) && body.success === true && "data" in body) {
      // The server's answer for this operation; its shape is the document's success schema.
      return { ok: true, status: response.status, data: body.data as T, replayed, requestId };
    }
    if (isRecord(body) && isRecord(body.error) && typeof body.error.code === "string") {
      return { ok: false, status: response.status, error: body.error as unknown as ApiError, requestId };
    }
    return {
      ok: false,
      status: response.status,
      requestId,
      error: { code: "INTERNAL", message: `Unexpected response (${response.status})` },
    };
  }

  return { call };
}

export function createClient(options: ClientOptions) {
  const { call } = transport(options, options.sdkKey);
  /** The active session per persona, as last seen: the guard sent with stamp, stamps and end. */
  const active = new Map<string, string>();

  /** Keeps the session guard in step with what the server said. */
  function track<T>(personaId: string, result: Result<T>, sessionOf: (data: T) => string | null): Result<T> {
    if (result.ok) {
      const sessionId = sessionOf(result.data);
      if (sessionId) active.set(personaId, sessionId);
      else active.delete(personaId);
    } else if (result.error.code === "SESSION_ACTIVE" && typeof result.error.details?.session_id === "string") {
      active.set(personaId, result.error.details.session_id);
    } else if (result.error.code === "NO_ACTIVE_SESSION") {
      active.delete(personaId);
    }
    return result;
  }

  /** The `session_id` guard for a write: the caller's, else the one last seen for the persona. */
  const guard = (personaId: string, sessionId?: string) => {
    const id = sessionId ?? active.get(personaId);
    return id ? { session_id: id } : {};
  };

  return {
    /** The session id this client will send as the guard for `personaId`, if it knows one. */
    activeSession: (personaId: string) => active.get(personaId),

    /** startSession: starts a session and records ENTER. */
    async start(personaId: string, opts: { occurredAt?: string; storeId?: string; kioskId?: string } = {}): Promise<Result<Started>> {
      const body = {
        ...(opts.occurredAt ? { occurred_at: opts.occurredAt } : {}),
        ...(opts.storeId ? { store_id: opts.storeId } : {}),
        ...(opts.kioskId ? { kiosk_id: opts.kioskId } : {}),
      };
      const result = await call("startSession", { persona_id: personaId }, { body });
      return track(personaId, result, (d) => d.session_id);
    },

    /** recordStamp: records a status in the active session. */
    async stamp(personaId: string, input: StampInput, opts: { sessionId?: string } = {}): Promise<Result<Stamped>> {
      const body = { ...stampBody(input), ...guard(personaId, opts.sessionId) };
      const result = await call("recordStamp", { persona_id: personaId }, { body });
      return track(personaId, result, (d) => d.session_id);
    },

    /** recordStamps: records 1 to 100 stamps in order, all or nothing. */
    async stamps(personaId: string, items: StampInput[], opts: { sessionId?: string } = {}): Promise<Result<StampedBatch>> {
      const body = { stamps: items.map(stampBody), ...guard(personaId, opts.sessionId) };
      const result = await call("recordStamps", { persona_id: personaId }, { body });
      return track(personaId, result, (d) => d.session_id);
    },

    /** endSession: ends the session; the answer is the session with all its stamps. */
    async end(personaId: string, opts: { occurredAt?: string; sessionId?: string } = {}): Promise<Result<Session>> {
      const body = { ...(opts.occurredAt ? { occurred_at: opts.occurredAt } : {}), ...guard(personaId, opts.sessionId) };
      const result = await call("endSession", { persona_id: personaId }, { body });
      return track(personaId, result, () => null);
    },

    /** getCurrentSession: the active session with its stamps so far. */
    async current(personaId: string): Promise<Result<Session>> {
      // No If-None-Match is sent, so the 304 the document also lists cannot come back.
      const result = await call("getCurrentSession", { persona_id: personaId });
      return track(personaId, result, (d) => d.session_id);
    },

    /** listPersonaSessions: ended sessions, newest first, paged. */
    history(personaId: string, opts: { limit?: number; cursor?: string } = {}): Promise<Result<History>> {
      const query = {
        ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}),
        ...(opts.cursor ? { cursor: opts.cursor } : {}),
      };
      return call("listPersonaSessions", { persona_id: personaId }, { query });
    },

    /** getPersonaSession: one session, active or ended, with all its stamps. */
    session(personaId: string, sessionId: string): Promise<Result<Session>> {
      return call("getPersonaSession", { persona_id: personaId, session_id: sessionId });
    },

    /** erasePersona: erases everything stored for the persona. */
    async erase(personaId: string): Promise<Result<undefined>> {
      const result = await call("erasePersona", { persona_id: personaId });
      if (result.ok) active.delete(personaId);
      return result as Result<undefined>;
    },

    /** listActiveSessions: who is in a session now, across the tenant, longest-running first. */
    activeSessions(opts: { status?: string; storeId?: string; limit?: number; cursor?: string } = {}): Promise<Result<ActiveSessions>> {
      return call(
        "listActiveSessions",
        {},
        {
          query: { status: opts.status, store_id: opts.storeId, limit: optional(opts.limit), cursor: opts.cursor },
        },
      );
    },

    /** searchSessions: sessions that started in [from, to) (ISO 8601), newest first. */
    searchSessions(
      opts: {
        from?: string;
        to?: string;
        status?: string;
        personaId?: string;
        endReason?: "client" | "idle_timeout";
        storeId?: string;
        kioskId?: string;
        limit?: number;
        cursor?: string;
      } = {},
    ): Promise<Result<SessionSearch>> {
      const { personaId, endReason, storeId, kioskId, limit, ...rest } = opts;
      return call(
        "searchSessions",
        {},
        {
          query: { ...rest, persona_id: personaId, end_reason: endReason, store_id: storeId, kiosk_id: kioskId, limit: optional(limit) },
        },
      );
    },

    /** getFunnel: sessions reaching each step in order, with conversions and times between steps. */
    funnel(opts: { steps: readonly string[]; from: string; to: string; withinSeconds?: number } & AnalyticsScope): Promise<Result<Funnel>> {
      return call(
        "getFunnel",
        {},
        {
          query: { step: opts.steps, from: opts.from, to: opts.to, within_seconds: optional(opts.withinSeconds), ...scopeQuery(opts) },
        },
      );
    },

    /** getDwell: time spent in each status. */
    dwell(opts: { from: string; to: string } & AnalyticsScope): Promise<Result<Dwell>> {
      return call("getDwell", {}, { query: { from: opts.from, to: opts.to, ...scopeQuery(opts) } });
    },

    /** getVisits: sessions started per hour or day in a time zone (or each store's: tz "store"), with their median duration. */
    visits(
      opts: { from: string; to: string; interval?: "hour" | "day"; tz?: string; fallbackTz?: string } & AnalyticsScope,
    ): Promise<Result<Visits>> {
      return call(
        "getVisits",
        {},
        {
          query: { from: opts.from, to: opts.to, interval: opts.interval, tz: opts.tz, fallback_tz: opts.fallbackTz, ...scopeQuery(opts) },
        },
      );
    },

    /** getPaths: the most common paths (each session's first 10 labels), and the tenant's statuses order. */
    paths(opts: { from: string; to: string; limit?: number } & Omit<AnalyticsScope, "groupBy">): Promise<Result<Paths>> {
      return call("getPaths", {}, { query: { from: opts.from, to: opts.to, limit: optional(opts.limit), ...scopeQuery(opts) } });
    },

    /** getOccupancyAnalytics: concurrent sessions per hour or day, the exact peak and the time-weighted average (per group with `groupBy`). */
    occupancyAnalytics(
      opts: { from: string; to: string; interval?: "hour" | "day"; tz?: string } & AnalyticsScope,
    ): Promise<Result<OccupancyAnalytics>> {
      return call(
        "getOccupancyAnalytics",
        {},
        {
          query: { from: opts.from, to: opts.to, interval: opts.interval, tz: opts.tz, ...scopeQuery(opts) },
        },
      );
    },

    /** getOwnTenant: this key's tenant (an `admin`-scoped registry key). */
    tenant(): Promise<Result<Tenant>> {
      return call("getOwnTenant", {});
    },

    /** updateOwnTenant: a setting given sets it, `null` returns it to the default, absent leaves it. */
    updateTenant(settings: TenantSettingsPatch): Promise<Result<Tenant>> {
      return call("updateOwnTenant", {}, { body: { settings } });
    },

    /** listOwnKeys: the tenant's keys, newest first, never a secret. */
    keys(opts: { limit?: number; cursor?: string } = {}): Promise<Result<KeyList>> {
      return call("listOwnKeys", {}, { query: { limit: optional(opts.limit), cursor: opts.cursor } });
    },

    /** createOwnKey: a new key, its secret in this answer only (so never retried: a retry would make a second key). */
    createKey(input: CreateKeyRequest): Promise<Result<CreatedKey>> {
      return call("createOwnKey", {}, { body: input, once: true });
    },

    /** revokeOwnKey: revokes one of the tenant's keys; repeating it is fine. */
    revokeKey(keyId: string): Promise<Result<undefined>> {
      return call("revokeOwnKey", { key_id: keyId }) as Promise<Result<undefined>>;
    },

    /** getOccupancy: live occupancy per store, busiest first (every registered store, zero included). */
    occupancy(opts: { tag?: string; limit?: number; cursor?: string } = {}): Promise<Result<Occupancy>> {
      return call("getOccupancy", {}, { query: { tag: opts.tag, limit: optional(opts.limit), cursor: opts.cursor } });
    },

    /** listStores: the tenant's stores in id order (any key), only those with `tag` when given. */
    stores(opts: { tag?: string; limit?: number; cursor?: string } = {}): Promise<Result<StoreList>> {
      return call("listStores", {}, { query: { tag: opts.tag, limit: optional(opts.limit), cursor: opts.cursor } });
    },

    /** getStore: one store (any key). */
    store(storeId: string): Promise<Result<Store>> {
      return call("getStore", { store_id: storeId });
    },

    /** putStore: registers or replaces a store (admin-scoped keys); a PUT, so retrying it is safe. */
    putStore(storeId: string, input: StoreInput): Promise<Result<Store>> {
      return call("putStore", { store_id: storeId }, { body: input });
    },

    /** putStores: registers or replaces up to 1,000 stores, all or none (admin-scoped keys). */
    putStores(stores: BulkStores): Promise<Result<BulkStoresResult>> {
      return call("putStores", {}, { body: { stores } });
    },

    /** deleteStore: removes a store from the registry (admin-scoped keys); its sessions keep their store_id. */
    deleteStore(storeId: string): Promise<Result<undefined>> {
      return call("deleteStore", { store_id: storeId }) as Promise<Result<undefined>>;
    },

    /** getHealth: liveness (sends the key, which the route ignores). */
    health(): Promise<Result<Health>> {
      return call("getHealth", {});
    },

    /** getOpenApiDocument: the API's OpenAPI document. */
    openApiDocument(): Promise<Result<Record<string, unknown>>> {
      return call("getOpenApiDocument", {}, { unwrapped: true }) as Promise<Result<Record<string, unknown>>>;
    },
  };
}

export type Client = ReturnType<typeof createClient>;

/**
 * The operators' client for `/admin/v1`, with an admin key. Creating a tenant or a key is never
 * retried (no Idempotency-Key there: a key's secret is shown once); the rest is, like the session client.
 */
export function createAdminClient(options: AdminClientOptions) {
  const { call } = transport(options, options.adminKey);
  const page = (opts: { limit?: number; cursor?: string }) => ({ limit: optional(opts.limit), cursor: opts.cursor });
  return {
    createTenant(input: Schemas["CreateTenantRequest"]): Promise<Result<Tenant>> {
      return call("createTenant", {}, { body: input, once: true });
    },
    listTenants(opts: { limit?: number; cursor?: string } = {}): Promise<Result<TenantList>> {
      return call("listTenants", {}, { query: page(opts) });
    },
    getTenant(tenantId: string): Promise<Result<Tenant>> {
      return call("getTenant", { tenant_id: tenantId });
    },
    updateTenant(tenantId: string, input: Schemas["UpdateTenantRequest"]): Promise<Result<Tenant>> {
      return call("updateTenant", { tenant_id: tenantId }, { body: input });
    },
    createKey(tenantId: string, input: CreateKeyRequest): Promise<Result<CreatedKey>> {
      return call("createTenantKey", { tenant_id: tenantId }, { body: input, once: true });
    },
    listKeys(tenantId: string, opts: { limit?: number; cursor?: string } = {}): Promise<Result<KeyList>> {
      return call("listTenantKeys", { tenant_id: tenantId }, { query: page(opts) });
    },
    revokeKey(tenantId: string, keyId: string): Promise<Result<undefined>> {
      return call("revokeTenantKey", { tenant_id: tenantId, key_id: keyId }) as Promise<Result<undefined>>;
    },
    /** resendTenantIndex: one page of a tenant's index rebuild; call again with `next_cursor` until it is null. */
    resendIndex(tenantId: string, opts: { since?: string; limit?: number; cursor?: string } = {}): Promise<Result<Schemas["IndexResend"]>> {
      return call("resendTenantIndex", { tenant_id: tenantId }, { query: { since: opts.since, ...page(opts) } });
    },
    /** checkTenantIndex: a month shard's analytics blocks compared with its session rows; `repair: true` rebuilds the days that differ. */
    checkIndex(tenantId: string, opts: { month?: string; repair?: boolean } = {}): Promise<Result<Schemas["IndexCheck"]>> {
      const repair = opts.repair === undefined ? undefined : opts.repair ? "true" : "false";
      return call("checkTenantIndex", { tenant_id: tenantId }, { query: { month: opts.month, repair } });
    },
    audit(opts: { tenantId?: string; limit?: number; cursor?: string } = {}): Promise<Result<AuditLog>> {
      return call("listAuditEntries", {}, { query: { tenant_id: opts.tenantId, ...page(opts) } });
    },
    listStores(tenantId: string, opts: { tag?: string; limit?: number; cursor?: string } = {}): Promise<Result<StoreList>> {
      return call("listTenantStores", { tenant_id: tenantId }, { query: { tag: opts.tag, ...page(opts) } });
    },
    getStore(tenantId: string, storeId: string): Promise<Result<Store>> {
      return call("getTenantStore", { tenant_id: tenantId, store_id: storeId });
    },
    putStore(tenantId: string, storeId: string, input: StoreInput): Promise<Result<Store>> {
      return call("putTenantStore", { tenant_id: tenantId, store_id: storeId }, { body: input });
    },
    putStores(tenantId: string, stores: BulkStores): Promise<Result<BulkStoresResult>> {
      return call("putTenantStores", { tenant_id: tenantId }, { body: { stores } });
    },
    deleteStore(tenantId: string, storeId: string): Promise<Result<undefined>> {
      return call("deleteTenantStore", { tenant_id: tenantId, store_id: storeId }) as Promise<Result<undefined>>;
    },
  };
}

export type AdminClient = ReturnType<typeof createAdminClient>;
