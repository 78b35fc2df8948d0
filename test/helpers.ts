import { env, exports } from "cloudflare:workers";
import { KEYS } from "./keys";

export { KEYS };

export interface ApiCall {
  method?: string;
  key?: string | null;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResult {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the parsed envelope's shape
  json: any;
}

/** Calls the Worker as a client would, through its real fetch handler. */
export async function api(path: string, call: ApiCall = {}): Promise<ApiResult> {
  const headers = new Headers(call.headers);
  const key = call.key === undefined ? KEYS.acme : call.key;
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  let body: string | undefined;
  if (typeof call.body === "string") body = call.body;
  else if (call.body !== undefined) {
    body = JSON.stringify(call.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(`https://api.test${path}`, { method: call.method ?? "GET", headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
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
  const { evictDurableObject, runInDurableObject } = await import("cloudflare:test");
  const stub = personaStub(persona);
  const rows = await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec(query, ...params).toArray());
  if (!/^\s*SELECT/i.test(query)) await evictDurableObject(stub);
  return rows;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
