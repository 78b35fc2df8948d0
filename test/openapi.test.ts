import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERRORS } from "../src/errors";
import { app } from "../src/http/app";
import { COMMON, WRITE } from "../src/http/contract";
import { api } from "./helpers";

interface Operation {
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
    components: { schemas: Record<string, { properties?: Record<string, { properties?: Record<string, { enum?: string[] }> }> }> };
  };
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
    expect(served.length).toBeGreaterThanOrEqual(8);
    const documented = Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    for (const route of served) expect(documented).toContain(route);
  });

  it("documents auth, the Idempotency-Key header on every POST, and every status a route can return", async () => {
    const { paths } = await doc();
    for (const [path, ops] of Object.entries(paths)) {
      if (!path.startsWith("/v1/")) continue;
      for (const [method, op] of Object.entries(ops)) {
        expect(op.security, `${method} ${path}`).toEqual([{ SdkKey: [] }]);
        const statuses = new Set(Object.keys(op.responses).map(Number));
        const codes = method === "get" ? COMMON : method === "post" ? WRITE : [...COMMON, "FORBIDDEN" as const];
        for (const code of codes) expect(statuses, `${method} ${path} ${code}`).toContain(ERRORS[code].status);
        const described = Object.values(op.responses)
          .map((r) => r.description)
          .join(" ");
        for (const code of codes) expect(described, `${method} ${path}`).toContain(code);
        if (method === "post") {
          expect(op.parameters?.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key")).toBe(true);
          expect(op.requestBody).toBeDefined();
        }
      }
    }
  });

  it("documents every error code the code can emit, in the error schema and the description", async () => {
    const d = await doc();
    const codeEnum = d.components.schemas.Error!.properties!.error!.properties!.code!.enum;
    expect([...(codeEnum ?? [])].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) expect(d.info.description).toContain(`| ${code} | ${ERRORS[code].status} |`);
  });
});
