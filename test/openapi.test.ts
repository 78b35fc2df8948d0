import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import clientPackage from "../client/package.json";
import { ERROR_CODES, ERRORS, type ErrorCode } from "../src/errors";
import { STATUS_PATTERN, STATUS_REGEX } from "../src/fields";
import { app } from "../src/http/app";
import { COMMON, WRITE } from "../src/http/contract";
import { ADMIN_COMMON, BODY, TENANT_COMMON } from "../src/http/tenant-contract";
import { LIMITS } from "../src/limits";
import { type Received, servedContract } from "./contract";
import { api, base, KEYS, personaId } from "./helpers";

interface Operation {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { description: string; "x-error-codes"?: string[] }>;
  parameters?: { name: string; in: string }[];
  security?: unknown[];
  requestBody?: unknown;
}

async function doc() {
  const res = await api("/openapi.json", { key: null });
  expect(res.status).toBe(200);
  return res.json as {
    openapi: string;
    paths: Record<string, Record<string, Operation>>;
    info: { description: string; version: string; license?: { name: string }; contact?: object };
    tags?: { name: string }[];
    components: {
      schemas: Record<string, { properties?: Record<string, { properties?: Record<string, { enum?: string[] }> }> }>;
      securitySchemes: Record<string, { type: string; scheme: string }>;
    };
  };
}

const operations = (paths: Record<string, Record<string, Operation>>, prefix: string) =>
  Object.entries(paths)
    .filter(([path]) => path.startsWith(prefix))
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));

function documents(op: Operation, codes: ErrorCode[], where: string) {
  const statuses = new Set(Object.keys(op.responses).map(Number));
  for (const code of codes) expect(statuses, `${where} ${code}`).toContain(ERRORS[code].status);
  const described = Object.values(op.responses)
    .map((r) => r.description)
    .join(" ");
  for (const code of codes) expect(described, where).toContain(code);
}

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document served without a key", async () => {
    expect((await doc()).openapi).toBe("3.1.0");
  });

  it("covers every route the app serves, with its method", async () => {
    const { paths } = await doc();
    const served = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThanOrEqual(21);
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    for (const route of served) expect(documented).toContain(route);
  });

  it("gives every operation a unique camelCase operationId, declared tags and a security entry", async () => {
    const d = await doc();
    const declared = new Set(d.tags?.map((t) => t.name));
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(d.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z0-9]*$/);
        ids.push(op.operationId!);
        expect(op.tags?.length, `${method} ${path} tags`).toBeGreaterThan(0);
        for (const tag of op.tags ?? []) expect(declared, `${method} ${path} tag ${tag}`).toContain(tag);
        expect(Array.isArray(op.security), `${method} ${path} security`).toBe(true);
        if (!path.startsWith("/v1/") && !path.startsWith("/admin/")) expect(op.security, `${method} ${path}`).toEqual([]);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      "startSession",
      "recordStamp",
      "recordStamps",
      "endSession",
      "getCurrentSession",
      "listPersonaSessions",
      "getPersonaSession",
      "erasePersona",
    ]) {
      expect(ids).toContain(id);
    }
  });

  it("has a license and a contact, and the client package's version", async () => {
    const { info } = await doc();
    expect(info.license?.name).toBeTruthy();
    expect(info.contact).toBeDefined();
    expect(info.version).toBe(clientPackage.version);
  });

  it("documents auth, the Idempotency-Key header on every session POST, and every status a /v1 route can return", async () => {
    const { paths } = await doc();
    for (const path of ["/v1/persona/{persona_id}/session/stamp", "/v1/persona/{persona_id}/session/stamps"]) {
      documents(paths[path]!.post!, ["UNKNOWN_STATUS"], path);
    }
    for (const [path, ops] of Object.entries(paths)) {
      // The tenant's own routes are checked below: their POSTs create secrets, which are never replayed.
      if (!path.startsWith("/v1/") || path.startsWith("/v1/tenant")) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path}`).toEqual([{ SdkKey: [] }]);
        const statuses = new Set(Object.keys(op.responses).map(Number));
        const codes = method === "get" ? COMMON : method === "post" ? WRITE : [...COMMON, "FORBIDDEN" as const];
        for (const code of codes) expect(statuses, `${method} ${path} ${code}`).toContain(ERRORS[code].status);
        const described = Object.values(op.responses)
          .map((r) => r.description)
          .join(" ");
        const listed = Object.values(op.responses).flatMap((r) => r["x-error-codes"] ?? []);
        for (const code of codes) expect(described, `${method} ${path}`).toContain(code);
        for (const code of codes) expect(listed, `${method} ${path}`).toContain(code);
        if (method === "post") {
          expect(op.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key")).toBe(true);
          expect(op.requestBody).toBeDefined();
        }
      }
    }
  });

  it("has only examples that validate against their schemas", async () => {
    const checker = await servedContract();
    const examples: [string, unknown][] = [];
    const walk = (node: unknown, at: string) => {
      if (typeof node !== "object" || node === null) return;
      if (!Array.isArray(node) && "example" in node && "type" in node) examples.push([at, node.example]);
      for (const [key, child] of Object.entries(node))
        if (key !== "example") walk(child, `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`);
    };
    walk(checker.doc, "");
    expect(examples.length).toBeGreaterThan(10);
    for (const [at, example] of examples) expect(checker.problemsAt(at, example), at).toBe("");
    expect(checker.problemsAt("/components/schemas/StampRequest/properties/status", "bad\u0007")).toMatch(/pattern/);
  });

  it("documents the tenant routes (SDK key) and the admin routes (their own scheme) with an operationId, a tag and their refusals", async () => {
    const d = await doc();
    expect(d.components.securitySchemes.AdminKey).toMatchObject({ type: "http", scheme: "bearer" });
    const own = operations(d.paths, "/v1/tenant");
    const admin = operations(d.paths, "/admin/v1/");
    for (const { path, method, op } of own) {
      expect(op.security, `${method} ${path}`).toEqual([{ SdkKey: [] }]);
      expect(op.tags).toEqual(["tenant"]);
      documents(op, op.requestBody ? [...TENANT_COMMON, ...BODY] : TENANT_COMMON, `${method} ${path}`);
    }
    for (const { path, method, op } of admin) {
      expect(op.security, `${method} ${path}`).toEqual([{ AdminKey: [] }]);
      expect(op.tags).toEqual(["admin"]);
      documents(op, op.requestBody ? [...ADMIN_COMMON, ...BODY] : ADMIN_COMMON, `${method} ${path}`);
    }
    const ids = Object.fromEntries([...own, ...admin].map(({ path, method, op }) => [op.operationId, `${method} ${path}`]));
    expect(ids).toEqual({
      createTenant: "post /admin/v1/tenants",
      listTenants: "get /admin/v1/tenants",
      getTenant: "get /admin/v1/tenants/{tenant_id}",
      updateTenant: "patch /admin/v1/tenants/{tenant_id}",
      createTenantKey: "post /admin/v1/tenants/{tenant_id}/keys",
      listTenantKeys: "get /admin/v1/tenants/{tenant_id}/keys",
      revokeTenantKey: "delete /admin/v1/tenants/{tenant_id}/keys/{key_id}",
      listAuditEntries: "get /admin/v1/audit",
      resendTenantIndex: "post /admin/v1/tenants/{tenant_id}/index/resend",
      checkTenantIndex: "post /admin/v1/tenants/{tenant_id}/index/check",
      putTenantStore: "put /admin/v1/tenants/{tenant_id}/stores/{store_id}",
      putTenantStores: "put /admin/v1/tenants/{tenant_id}/stores",
      listTenantStores: "get /admin/v1/tenants/{tenant_id}/stores",
      getTenantStore: "get /admin/v1/tenants/{tenant_id}/stores/{store_id}",
      deleteTenantStore: "delete /admin/v1/tenants/{tenant_id}/stores/{store_id}",
      getOwnTenant: "get /v1/tenant",
      updateOwnTenant: "patch /v1/tenant",
      listOwnKeys: "get /v1/tenant/keys",
      createOwnKey: "post /v1/tenant/keys",
      revokeOwnKey: "delete /v1/tenant/keys/{key_id}",
    });
    documents(d.paths["/admin/v1/tenants"]!.post!, ["TENANT_EXISTS"], "createTenant");
    documents(d.paths["/admin/v1/tenants/{tenant_id}"]!.get!, ["TENANT_NOT_FOUND"], "getTenant");
    documents(d.paths["/admin/v1/tenants/{tenant_id}/keys/{key_id}"]!.delete!, ["KEY_NOT_FOUND"], "revokeTenantKey");
    documents(d.paths["/v1/tenant/keys/{key_id}"]!.delete!, ["KEY_NOT_FOUND"], "revokeOwnKey");
  });

  it("documents every error code the code can emit, in the error schema and the description", async () => {
    const d = await doc();
    const codeEnum = d.components.schemas.Error!.properties!.error!.properties!.code!.enum;
    expect([...(codeEnum ?? [])].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(d.info.description).toContain(`| ${code} | ${ERRORS[code].status} |`);
  });
});

describe("the documented status pattern", () => {
  const runtime = STATUS_REGEX;
  const samples = [
    "SHOPPING",
    "Kasse 3 – Zahlung ✓",
    "😀",
    "😀".repeat(LIMITS.statusMaxChars),
    "😀".repeat(LIMITS.statusMaxChars + 1),
    "a".repeat(LIMITS.statusMaxChars),
    "a".repeat(LIMITS.statusMaxChars + 1),
    "",
    "tab\there",
    "line\n",
    "del\u007f",
    "c1\u0085",
    "nbsp\u00a0ok",
    "lone \ud800",
    "lone \udc00",
    "pair \ud83d\ude00",
    "reversed \ude00\ud83d",
    "\u2028 separator",
    "\ufeff bom",
  ];

  it("means what the u-flag regex that validates requests means, with or without u", () => {
    for (const flags of ["", "u"]) {
      const documented = new RegExp(STATUS_PATTERN, flags);
      for (const sample of samples) expect(documented.test(sample), `${JSON.stringify(sample)} /${flags}`).toBe(runtime.test(sample));
    }
    expect(runtime.flags).toContain("u");
  });

  it("is what the document serves, without flags", async () => {
    const { components } = (await api("/openapi.json", { key: null })).json;
    expect(components.schemas.StampRequest.properties.status.pattern).toBe(STATUS_PATTERN);
    expect(JSON.stringify(components)).not.toMatch(/\$\/[a-z]+"/);
  });
});

describe("every response is held to the served document", () => {
  /** A real answer, fetched past the checking helpers so the tests can spoil it. */
  const good = async (): Promise<Received> => {
    const path = `${base(personaId("contract"))}/session/start`;
    const res = await exports.default.fetch(`https://api.test${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEYS.acme}` },
    });
    return { method: "POST", url: path, status: res.status, headers: res.headers, text: await res.text() };
  };
  let checker: Awaited<ReturnType<typeof servedContract>>;
  let ok: Received;
  beforeAll(async () => {
    checker = await servedContract();
    ok = await good();
  });

  it("accepts a real answer", () => {
    expect(ok.status).toBe(201);
    expect(checker.check(ok)).toBe("startSession");
  });

  it("catches a body that does not match the schema", () => {
    const body = JSON.parse(ok.text);
    delete body.data.session_id;
    expect(() => checker.check({ ...ok, text: JSON.stringify(body) })).toThrow(/does not match the documented schema.*session_id/);
    body.data.session_id = "not-a-uuid";
    expect(() => checker.check({ ...ok, text: JSON.stringify(body) })).toThrow(/format/);
    expect(() => checker.check({ ...ok, text: "" })).toThrow(/not JSON/);
  });

  it("catches a status the operation does not document", () => {
    expect(() => checker.check({ ...ok, status: 200 })).toThrow(/status 200 is not documented for startSession/);
  });

  it("catches a missing documented header", () => {
    const headers = new Headers(ok.headers);
    headers.delete("x-request-id");
    expect(() => checker.check({ ...ok, headers })).toThrow(/X-Request-Id is missing/);
    const limited = {
      method: "GET",
      url: "/v1/persona/p/session",
      status: 429,
      headers: new Headers({ "content-type": "application/json", "x-request-id": "r" }),
      text: JSON.stringify({ success: false, error: { code: "RATE_LIMITED", message: "m", request_id: "r" } }),
    };
    expect(() => checker.check(limited)).toThrow(/X-Server-Time is missing/);
    limited.headers.set("x-server-time", "2026-12-06T20:00:00.000Z");
    expect(() => checker.check(limited)).toThrow(/Retry-After is missing/);
    limited.headers.set("retry-after", "10");
    expect(checker.check(limited)).toBe("getCurrentSession");
  });

  it("catches a header the document defines but does not list for that response", () => {
    const headers = new Headers(ok.headers);
    headers.set("etag", '"1"');
    expect(() => checker.check({ ...ok, headers })).toThrow(/sends ETag, which the document does not list/);
  });

  it("catches an error code the document does not list for that status", async () => {
    const res = await api(`${base(personaId("contract-code"))}/session/stamp`, { method: "POST", body: { status: "A" } });
    expect(res.status).toBe(404);
    const wrong = { ...res.json, error: { ...res.json.error, code: "SESSION_NOT_FOUND" } };
    const received = { method: "POST", url: "/v1/persona/p/session/stamp", status: 404, headers: res.headers, text: JSON.stringify(wrong) };
    expect(() => checker.check(received)).toThrow(/SESSION_NOT_FOUND is not one the document lists/);
  });

  it("holds requests no operation covers to the NotFound and MethodNotAllowed responses", async () => {
    const missing = await api("/v1/persona/p/nothing-here");
    expect(missing.status).toBe(404);
    const wrongMethod = await api("/v1/persona/p/session", { method: "PUT" });
    expect(wrongMethod.status).toBe(405);
    const headers = new Headers(wrongMethod.headers);
    headers.delete("allow");
    const text = JSON.stringify(wrongMethod.json);
    expect(() => checker.check({ method: "PUT", url: "/v1/persona/p/session", status: 405, headers, text })).toThrow(/Allow is missing/);
    expect(() => checker.check({ method: "GET", url: "/nothing", status: 200, headers: wrongMethod.headers, text })).toThrow(
      /yet it succeeded/,
    );
  });
});
