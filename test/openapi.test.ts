import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERRORS, type ErrorCode } from "../src/errors";
import { app } from "../src/http/app";
import { COMMON, WRITE } from "../src/http/contract";
import { ADMIN_COMMON, BODY, TENANT_COMMON } from "../src/tenants/contract";
import { api } from "./helpers";

interface Operation {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { description: string }>;
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
    info: { description: string };
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
      .filter((r) => r.method !== "ALL" && r.path !== "/openapi.json")
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    expect(served.length).toBeGreaterThanOrEqual(21);
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    for (const route of served) expect(documented).toContain(route);
  });

  it("documents auth, the Idempotency-Key header on every session POST, and every status a session route can return", async () => {
    const { paths } = await doc();
    for (const { path, method, op } of operations(paths, "/v1/persona/")) {
      expect(op.security, `${method} ${path}`).toEqual([{ SdkKey: [] }]);
      documents(op, method === "get" ? COMMON : method === "post" ? WRITE : [...COMMON, "FORBIDDEN"], `${method} ${path}`);
      if (method === "post") {
        expect(op.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key")).toBe(true);
        expect(op.requestBody).toBeDefined();
      }
    }
    for (const path of ["/v1/persona/{persona_id}/session/stamp", "/v1/persona/{persona_id}/session/stamps"]) {
      documents(paths[path]!.post!, ["UNKNOWN_STATUS"], path);
    }
  });

  it("documents the tenant routes (SDK key) and the admin routes (their own scheme) with an operationId, a tag and their refusals", async () => {
    const d = await doc();
    expect(d.components.securitySchemes.AdminKey).toMatchObject({ type: "http", scheme: "bearer" });
    const own = operations(d.paths, "/v1/tenant");
    const admin = operations(d.paths, "/admin/v1/");
    for (const { path, method, op } of own) {
      expect(op.security, `${method} ${path}`).toEqual([{ SdkKey: [] }]);
      expect(op.tags).toEqual(["tenant"]);
      documents(op, method === "post" || method === "patch" ? [...TENANT_COMMON, ...BODY] : TENANT_COMMON, `${method} ${path}`);
    }
    for (const { path, method, op } of admin) {
      expect(op.security, `${method} ${path}`).toEqual([{ AdminKey: [] }]);
      expect(op.tags).toEqual(["admin"]);
      documents(op, method === "post" || method === "patch" ? [...ADMIN_COMMON, ...BODY] : ADMIN_COMMON, `${method} ${path}`);
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
