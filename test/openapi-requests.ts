/**
 * Requests built from the served OpenAPI document alone, as a generator (Portman, Schemathesis,
 * an example-driven mock client) would: every parameter and body field from its `example` (or
 * the first `enum` value, or its `default`). Ids the server mints (a session id, a key id) cannot
 * be known from a document; they come from the answer that minted them (`Minted`).
 */

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  example?: unknown;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  description?: string;
}

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  example?: unknown;
  schema: JsonSchema;
  description?: string;
}

export interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
  security?: Record<string, unknown>[];
}

export interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface Located {
  method: string;
  path: string;
  op: Operation;
}

export function operations(doc: Document): Located[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })));
}

export function resolve(doc: Document, schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace("#/components/schemas/", "");
  const found = doc.components.schemas[name];
  if (!found) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(doc, found);
}

/** The example value of a schema: its own example, else built from its parts; undefined if none. */
export function exampleOf(doc: Document, given: JsonSchema, where: string): unknown {
  const schema = resolve(doc, given);
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [name, property] of Object.entries(schema.properties)) {
      const value = exampleOf(doc, property, `${where}.${name}`);
      if (value !== undefined) out[name] = value;
      else if (schema.required?.includes(name)) throw new Error(`${where}.${name} is required and has no example`);
    }
    return out;
  }
  if (schema.items) {
    const item = exampleOf(doc, schema.items, `${where}[]`);
    return item === undefined ? undefined : Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => item);
  }
  return undefined;
}

export interface Minted {
  session_id?: string;
  key_id?: string;
}

export interface BuiltRequest {
  method: string;
  /** Path and query string. */
  url: string;
  body?: unknown;
  headers: Record<string, string>;
}

/** Parameters (by name) to set or leave out instead of their examples: `null` leaves one out. */
export type Overrides = Record<string, string | string[] | null>;

function paramValue(doc: Document, p: Parameter, where: string): unknown {
  return p.example ?? exampleOf(doc, p.schema, where);
}

/** The request the document's examples describe for one operation. */
export function exampleRequest(doc: Document, { method, path, op }: Located, minted: Minted, overrides: Overrides = {}): BuiltRequest {
  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const p of op.parameters ?? []) {
    const where = `${op.operationId} ${p.in} ${p.name}`;
    const override = overrides[p.name];
    let value: unknown = override === undefined ? paramValue(doc, p, where) : override;
    if (override === undefined && p.name in minted) value = minted[p.name as keyof Minted];
    if (value === undefined || value === null) {
      if (p.required && override !== null) throw new Error(`${where} is required and has no example`);
      continue;
    }
    if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    else if (p.in === "query") for (const v of Array.isArray(value) ? value : [value]) query.append(p.name, String(v));
    else if (p.in === "header") headers[p.name] = String(value);
  }
  const qs = query.toString();
  const json = op.requestBody?.content["application/json"];
  let body: unknown;
  if (json) {
    body = exampleOf(doc, json.schema, `${op.operationId} body`) ?? {};
    // The session guard names the active session: only the start's answer can say which.
    if (body && typeof body === "object" && "session_id" in body) (body as Record<string, unknown>).session_id = minted.session_id;
  }
  return { method: method.toUpperCase(), url: qs ? `${url}?${qs}` : url, body, headers };
}

/** The documented success: the operation's one 2xx response. */
/** The operation's documented successes (a PUT documents two: 201 created, 200 replaced). */
export function successStatuses(op: Operation): number[] {
  const ok = Object.keys(op.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300);
  if (ok.length === 0) throw new Error(`${op.operationId} documents no success`);
  return ok;
}

/** The security scheme an operation names (SdkKey, AdminKey) or null for a public one. */
export function schemeOf(op: Operation): string | null {
  const names = (op.security ?? []).flatMap((s) => Object.keys(s));
  return names[0] ?? null;
}
