import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEYS, api } from "./helpers";
import {
  type Document,
  exampleRequest,
  type JsonSchema,
  type Located,
  type Minted,
  operations,
  resolve,
  schemeOf,
} from "./openapi-requests";

/**
 * Every bound the document states is the bound the service enforces, read from the document
 * itself: for each parameter and body field with `minimum`/`maximum`, `minLength`/`maxLength`,
 * `minItems`/`maxItems` or an `enum`, the example request with that one value just inside the
 * bound is accepted (no 400), and just outside it is a 400 VALIDATION_ERROR naming the field.
 * A bound the service enforces but the document leaves out shows up the other way: the value
 * the document allows is refused.
 */

interface Variant {
  field: string;
  inside: boolean;
  value: unknown;
  what: string;
}

// Values no document can make "just inside": a cursor is minted by the server (any other string
// is refused as "not a cursor this API gave out"), and a zone (a query's tz and fallback_tz, a store's time_zone)
// must be a real IANA name, the longest of which (32 characters) is shorter than the 64 the length
// bound guards.
const NO_INSIDE = new Set(["cursor", "tz", "fallback_tz", "time_zone"]);

/** A string of `length` characters from the example (repeated), distinct per `n`. */
function stringOf(example: unknown, length: number, n = 0): string {
  const seed = typeof example === "string" && example.length > 0 ? example : "A";
  const suffix = n === 0 ? "" : String(n);
  let out = seed;
  while (out.length < length) out += seed;
  return out.slice(0, Math.max(0, length - suffix.length)) + suffix;
}

function variantsOf(doc: Document, given: JsonSchema, example: unknown, field: string, inPath: boolean): Variant[] {
  const schema = resolve(doc, given);
  const out: Variant[] = [];
  const add = (inside: boolean, value: unknown, what: string) => {
    if (inside && NO_INSIDE.has(field)) return;
    out.push({ field, inside, value, what });
  };
  if (schema.minimum !== undefined) {
    add(true, schema.minimum, `minimum ${schema.minimum}`);
    add(false, schema.minimum - 1, `below minimum ${schema.minimum}`);
  }
  if (schema.maximum !== undefined) {
    add(true, schema.maximum, `maximum ${schema.maximum}`);
    add(false, schema.maximum + 1, `above maximum ${schema.maximum}`);
  }
  // An empty path segment is a different route, not a value.
  if (schema.minLength !== undefined && !inPath) {
    add(true, stringOf(example, schema.minLength), `minLength ${schema.minLength}`);
    if (schema.minLength > 0) add(false, stringOf(example, schema.minLength - 1), `below minLength ${schema.minLength}`);
  }
  if (schema.maxLength !== undefined) {
    add(true, stringOf(example, schema.maxLength), `maxLength ${schema.maxLength}`);
    add(false, stringOf(example, schema.maxLength + 1), `above maxLength ${schema.maxLength}`);
  }
  const items = Array.isArray(example) ? example : [];
  // Items that differ from each other (a list may refuse repeats), built from the example's first:
  // strings made distinct, objects with their ids (`*_id` strings) made distinct.
  const distinct = (value: unknown, i: number): unknown => {
    if (typeof value === "string") return stringOf(value, Math.min(value.length, 60), i + 1);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k.endsWith("_id") && typeof v === "string" ? `${v}.${i}` : v]));
  };
  const list = (n: number) => Array.from({ length: n }, (_, i) => distinct(items[0], i));
  if (schema.minItems !== undefined && items.length) {
    add(true, list(schema.minItems), `minItems ${schema.minItems}`);
    if (schema.minItems > 0) add(false, list(schema.minItems - 1), `below minItems ${schema.minItems}`);
  }
  if (schema.maxItems !== undefined && items.length) {
    add(true, list(schema.maxItems), `maxItems ${schema.maxItems}`);
    add(false, list(schema.maxItems + 1), `above maxItems ${schema.maxItems}`);
  }
  if (schema.enum) {
    for (const value of schema.enum) add(true, value, `enum value ${JSON.stringify(value)}`);
    add(false, "not-one-of-them", "not in the enum");
  }
  return out;
}

/** Body fields with bounds, one object level down too (settings.*), as dotted paths. */
function bodyVariants(doc: Document, given: JsonSchema, example: unknown, prefix = ""): Variant[] {
  const schema = resolve(doc, given);
  if (!schema.properties || !example || typeof example !== "object") return [];
  const out: Variant[] = [];
  for (const [name, property] of Object.entries(schema.properties)) {
    const value = (example as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const field = `${prefix}${name}`;
    out.push(...variantsOf(doc, property, value, field, false));
    if (!prefix) out.push(...bodyVariants(doc, property, value, `${field}.`));
  }
  return out;
}

function withField(body: unknown, field: string, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  const parts = field.split(".");
  let at = copy;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[parts.at(-1)!] = value;
  return copy;
}

const TENANT = "bounds-walk";
const PERSONA = "bounds-persona";
let doc: Document;
let sdkKey = "";
const minted: Minted = {};

beforeAll(async () => {
  doc = (await api("/openapi.json", { key: null })).json as Document;
  expect((await api("/admin/v1/tenants", { method: "POST", key: ADMIN_KEYS.operator, body: { tenant_id: TENANT } })).status).toBe(201);
  const key = await api(`/admin/v1/tenants/${TENANT}/keys`, { method: "POST", key: ADMIN_KEYS.operator, body: { scope: "admin" } });
  sdkKey = key.json.data.key;
  minted.key_id = key.json.data.key_id;
  // The examples name store-012 (a start's store, a key's binding): registered, as a client would have it.
  const store = await api(`/admin/v1/tenants/${TENANT}/stores/store-012`, {
    method: "PUT",
    key: ADMIN_KEYS.operator,
    body: { name: "Example store", time_zone: "Europe/Paris" },
  });
  expect(store.status).toBe(201);
  // Started as the example start is, so the examples' stamps (at the same occurred_at) follow it.
  const start = exampleRequest(doc, operations(doc).find((o) => o.op.operationId === "startSession")!, minted, { persona_id: PERSONA });
  const started = await api(start.url, { method: start.method, key: sdkKey, body: start.body });
  expect(started.status).toBe(201);
  minted.session_id = started.json.data.session_id;
});

async function send(located: Located, field: string, value: unknown, where: "param" | "body") {
  // The walk's own tenant and persona, so it changes nothing the examples name.
  const fixed = { tenant_id: TENANT, persona_id: PERSONA };
  const overrides: Record<string, string | string[]> = { ...fixed };
  if (where === "param") overrides[field] = Array.isArray(value) ? value.map(String) : String(value);
  const request = exampleRequest(doc, located, minted, overrides);
  const body = where === "body" ? withField(request.body, field, value) : request.body;
  const key = schemeOf(located.op) === "AdminKey" ? ADMIN_KEYS.operator : sdkKey;
  const res = await api(request.url, { method: request.method, key, body, headers: request.headers });
  return { res, url: request.url, body };
}

/** The fields a 400 names (the validators' and the routes' own checks share this shape). */
const named = (json: { error?: { details?: { fields?: { path: string }[] } } } | null) =>
  (json?.error?.details?.fields ?? []).map((f) => f.path);

describe("every bound in the document", () => {
  // One sweep of a few hundred requests, growing with the document: 9-13 s on a loaded 2-core
  // machine, past the 5 s default. Its verdicts do not depend on time.
  it("holds: just inside is accepted, just outside is a 400 naming the field", { timeout: 60_000 }, async () => {
    const walked: string[] = [];
    const wrong: string[] = [];
    for (const located of operations(doc)) {
      const id = located.op.operationId;
      const example = exampleRequest(doc, located, minted, { tenant_id: TENANT, persona_id: PERSONA });
      const variants: (Variant & { where: "param" | "body" })[] = [];
      for (const p of located.op.parameters ?? []) {
        if (p.in !== "query" && p.in !== "path") continue;
        const value = p.example ?? resolve(doc, p.schema).example;
        for (const v of variantsOf(doc, p.schema, value, p.name, p.in === "path")) variants.push({ ...v, where: "param" });
      }
      const json = located.op.requestBody?.content["application/json"];
      if (json) for (const v of bodyVariants(doc, json.schema, example.body)) variants.push({ ...v, where: "body" });
      for (const v of variants) {
        const { res, url, body } = await send(located, v.field, v.value, v.where);
        walked.push(`${id} ${v.field} ${v.what}`);
        const refused = res.status === 400;
        const namesIt = named(res.json).includes(v.field);
        const ok = v.inside ? !refused : refused && res.json?.error?.code === "VALIDATION_ERROR" && namesIt;
        if (!ok)
          wrong.push(
            `${id} ${v.field} ${v.what}: ${res.status} ${JSON.stringify(res.json?.error ?? null)} (${url} ${JSON.stringify(body)})`,
          );
      }
    }
    for (const line of wrong) console.log(`WRONG ${line}`);
    expect(wrong).toEqual([]);
    // The walk reaches the bounds issue 21 found missing, and the ones that were there.
    for (const expected of [
      "listTenants limit maximum 100",
      "listTenantKeys limit above maximum 100",
      "listOwnKeys limit below minimum 1",
      "listAuditEntries limit maximum 100",
      "resendTenantIndex limit above maximum 100",
      "getFunnel within_seconds above maximum 8035200",
      "getFunnel step below minItems 2",
      "getFunnel step above maxItems 10",
      "recordStamps stamps above maxItems 100",
      "searchSessions limit above maximum 100",
      "getCurrentSession persona_id above maxLength 128",
      "createTenant settings.statuses maxItems 200",
    ]) {
      expect(walked).toContain(expected);
    }
  });
});
