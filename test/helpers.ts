import { env, exports } from "cloudflare:workers";
import { app } from "../src/http/app";
import { checkDocumented } from "./contract";
import { ADMIN_KEYS, KEYS } from "./keys";

export { ADMIN_KEYS, KEYS };

export interface ApiCall {
  method?: string;
  key?: string | null;
  /** An object is sent as JSON; a string, bytes or a stream are sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Runs the app with these bindings over the test ones (e.g. RATE_LIMITS: "on"). */
  env?: Partial<Env>;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the parsed envelope's shape
  json: any;
}

/**
 * Calls the Worker as a client would, through its real fetch handler, and holds the answer to the
 * served OpenAPI document (test/contract.ts): a response the document does not allow fails the test.
 */
export async function api(path: string, call: ApiCall = {}): Promise<ApiResult> {
  const headers = new Headers(call.headers);
  const key = call.key === undefined ? KEYS.acme : call.key;
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  let body: BodyInit | undefined;
  if (typeof call.body === "string" || call.body instanceof Uint8Array || call.body instanceof ReadableStream) body = call.body;
  else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const method = call.method ?? "GET";
  const init = { method, headers, body };
  const res = call.env
    ? await app.request(`https://api.test${path}`, init, { ...env, ...call.env })
    : await exports.default.fetch(`https://api.test${path}`, init);
  const text = await res.text();
  await checkDocumented({ method, url: path, status: res.status, headers: res.headers, text });
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

/** A fetch to the Worker whose every answer is held to the served document, as api()'s are. */
export async function documentedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const req = new Request(input, init);
  const res = await exports.default.fetch(req);
  const text = await res.clone().text();
  await checkDocumented({ method: req.method, url: req.url, status: res.status, headers: res.headers, text });
  return res;
}

let counter = 0;
/** A persona id no other test uses: storage is shared by every test in a file. */
export function personaId(label = "p"): string {
  counter += 1;
  return `${label}-${counter}-${crypto.randomUUID().slice(0, 8)}`;
}

export const base = (persona: string) => `/v1/persona/${persona}`;

export const start = (persona: string, call: ApiCall = {}) => api(`${base(persona)}/session/start`, { method: "POST", ...call });
export const stamp = (persona: string, body: unknown, call: ApiCall = {}) =>
  api(`${base(persona)}/session/stamp`, { method: "POST", body, ...call });
export const end = (persona: string, call: ApiCall = {}) => api(`${base(persona)}/session/end`, { method: "POST", ...call });
export const current = (persona: string, call: ApiCall = {}) => api(`${base(persona)}/session`, call);

/** The persona's Durable Object, for tests that look inside it. */
export function personaStub(persona: string, tenant = "acme") {
  return env.PERSONA.getByName(`${tenant}:${persona}`);
}

export const stamps = (persona: string, body: unknown, call: ApiCall = {}) =>
  api(`${base(persona)}/session/stamps`, { method: "POST", body, ...call });
export const history = (persona: string, query = "", call: ApiCall = {}) => api(`${base(persona)}/sessions${query}`, call);
export const sessionById = (persona: string, sessionId: string, call: ApiCall = {}) => api(`${base(persona)}/sessions/${sessionId}`, call);
export const erase = (persona: string, call: ApiCall = {}) => api(base(persona), { method: "DELETE", ...call });

/**
 * Runs SQL inside the persona's object, e.g. to backdate rows instead of waiting hours. A write
 * behind the object's back is followed by a restart of the object, as if time had passed, so it
 * reads the rows afresh rather than what it cached of them.
 */
export async function sqlIn(persona: string, query: string, ...params: (string | number | null)[]) {
  return sqlInTenant("acme", persona, query, ...params);
}

/** sqlIn for a persona of another tenant. */
export async function sqlInTenant(tenant: string, persona: string, query: string, ...params: (string | number | null)[]) {
  const { evictDurableObject, runInDurableObject } = await import("cloudflare:test");
  const stub = personaStub(persona, tenant);
  const rows = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec(query, ...params).toArray());
  if (!/^\s*SELECT/i.test(query)) await evictDurableObject(stub);
  return rows;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Calls the operators' API (/admin/v1) with an admin key. */
export const admin = (path: string, call: ApiCall = {}) => api(`/admin/v1${path}`, { key: ADMIN_KEYS.operator, ...call });

let tenants = 0;
/** A tenant id no other test uses (the registry is shared by every test in a file). */
export function tenantId(label = "t"): string {
  tenants += 1;
  return `${label}-${tenants}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Creates a registry tenant through the admin API; resolves with its id. */
export async function newTenant(settings?: Record<string, unknown>, label = "t"): Promise<string> {
  const id = tenantId(label);
  const res = await admin("/tenants", { method: "POST", body: { tenant_id: id, ...(settings ? { settings } : {}) } });
  if (res.status !== 201) throw new Error(`creating tenant ${id}: ${res.status} ${JSON.stringify(res.json)}`);
  return id;
}

/** Creates a key for a registry tenant through the admin API. */
export async function newKey(
  tenant: string,
  scope: "read" | "write" | "admin" = "write",
  extra: Record<string, unknown> = {},
): Promise<{ key_id: string; key: string }> {
  const res = await admin(`/tenants/${tenant}/keys`, { method: "POST", body: { scope, ...extra } });
  if (res.status !== 201) throw new Error(`creating a ${scope} key for ${tenant}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json.data;
}

/** Runs SQL against the registry behind the API's back, as another isolate's change would land. */
export function registrySql(query: string, ...params: (string | number | null)[]) {
  return env.DB.prepare(query)
    .bind(...params)
    .run();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits for a new rate-limit window unless the current one has `needMs` left: the emulated
 * limiter's windows are aligned to the clock (10 s), so a test's burst must not straddle two.
 */
export async function freshWindow(needMs = 6000, periodMs = 10_000) {
  const into = Date.now() % periodMs;
  if (into > periodMs - needMs) await sleep(periodMs - into + 50);
}

/**
 * A median or p90 as analytics answer it: a histogram's, within 1% of the exact figure `want`
 * (docs/index-and-analytics.md), so fixtures computed by hand compare to the bound, not to a bin.
 */
export function near(want: number) {
  return {
    $$typeof: Symbol.for("jest.asymmetricMatcher"),
    asymmetricMatch: (got: unknown) => typeof got === "number" && (want === 0 ? got === 0 : Math.abs(got - want) <= 0.01 * Math.abs(want)),
    toString: () => "near",
    toAsymmetricMatcher: () => `within 1% of ${want}`,
  };
}

/**
 * An oracle for wall-clock buckets, from Intl alone: `YYYY-MM-DDTHH:00` of an instant in a zone
 * (for days, hour 00), as visits with tz=store key their buckets.
 */
export function wallClock(ms: number, zone: string, interval: "hour" | "day" = "hour"): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
    })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day}T${interval === "hour" ? p.hour : "00"}:00`;
}

/** A seeded pseudo-random source in [0, 1) (a linear congruential generator): the same fixtures on every run. */
export function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}
