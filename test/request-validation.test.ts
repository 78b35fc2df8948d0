import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { jsonBody } from "../src/http/body";
import { errorResponse } from "../src/http/envelope";
import { ApiHono } from "../src/http/validation";
import type { ApiResult } from "./helpers";

// The route layer on its own (src/http/validation.ts): one validator per route, in place of
// @hono/zod-openapi's chain. The API's own routes are covered through it by every other test.

const probe = createRoute({
  method: "post",
  path: "/probe/{id}",
  request: {
    query: z.object({ n: z.coerce.number().int().optional() }),
    params: z.object({ id: z.string().regex(/^[a-z]+$/) }),
    headers: z.object({ "x-tag": z.string().max(3).optional() }),
    body: { required: true, content: { "application/json": { schema: z.strictObject({ name: z.string() }) } } },
  },
  responses: { 200: { description: "ok" } },
});

function probeApp() {
  const app = new ApiHono();
  app.onError((err, c) => errorResponse(c, err));
  app.openapi({ ...probe, middleware: [jsonBody({ maxBytes: 1024 })] }, (c) =>
    c.json({ query: c.req.valid("query"), param: c.req.valid("param"), header: c.req.valid("header"), json: c.req.valid("json") }, 200),
  );
  return app;
}

async function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Pick<ApiResult, "status" | "json">> {
  const res = await probeApp().request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const failedFields = (json: ApiResult["json"]): string[] => json.error.details.fields.map((f: { path: string }) => f.path);

describe("request validation (one validator per route)", () => {
  it("hands the handler the parsed values: coerced query, params, declared headers, body", async () => {
    const res = await call("/probe/abc?n=7&other=1", { name: "x" }, { "X-Tag": "red", "x-undeclared": "y" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ query: { n: 7 }, param: { id: "abc" }, header: { "x-tag": "red" }, json: { name: "x" } });
  });

  it("checks query, then params, then headers, then the body, and reports the first that fails", async () => {
    const bad = { path: "/probe/ABC?n=x", body: { name: 1 }, headers: { "x-tag": "toolong" } };
    const first = await call(bad.path, bad.body, bad.headers);
    expect(first.status).toBe(400);
    expect(first.json.error.code).toBe("VALIDATION_ERROR");
    expect(failedFields(first.json)).toEqual(["n"]);
    expect(failedFields((await call("/probe/ABC", bad.body, bad.headers)).json)).toEqual(["id"]);
    expect(failedFields((await call("/probe/abc", bad.body, bad.headers)).json)).toEqual(["x-tag"]);
    expect(failedFields((await call("/probe/abc", bad.body)).json)).toEqual(["name"]);
  });

  it("a repeated query parameter is an array, refused where one value is expected", async () => {
    const res = await call("/probe/abc?n=1&n=2", { name: "x" });
    expect(res.status).toBe(400);
    expect(failedFields(res.json)).toEqual(["n"]);
  });

  it("unknown body fields are named, as a strict schema reports them", async () => {
    const res = await call("/probe/abc", { name: "x", extra: true });
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields[0].keys).toEqual(["extra"]);
  });

  it("refuses to register a route with a body but no jsonBody() before its validator", () => {
    expect(() => new ApiHono().openapi(probe, (c) => c.body(null, 204))).toThrow(/must include jsonBody/);
  });

  it("registers each route in the OpenAPI document unless hidden", () => {
    const app = probeApp();
    app.openapi({ ...probe, path: "/hidden/{id}", hide: true, middleware: [jsonBody({ maxBytes: 1024 })] }, (c) => c.body(null, 204));
    const paths = Object.keys(app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } }).paths ?? {});
    expect(paths).toEqual(["/probe/{id}"]);
  });
});
