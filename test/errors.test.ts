import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERRORS } from "../src/errors";
import type { AppEnv } from "../src/http/context";
import { errorResponse } from "../src/http/envelope";

/** A tiny app wired with the service's own error handler, throwing what the platform throws. */
function appThrowing(err: unknown) {
  const app = new Hono<AppEnv>();
  app.use("*", async (c, next) => {
    c.set("requestId", "req-1");
    await next();
  });
  app.onError((e, c) => errorResponse(c, e));
  app.get("/", () => {
    throw err;
  });
  return app;
}

describe("unexpected errors", () => {
  it("become 500 INTERNAL with the request id and no stack or message leaked", async () => {
    const res = await appThrowing(new Error("secret detail at db.ts:42")).request("/");
    expect(res.status).toBe(500);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({
      success: false,
      error: { code: "INTERNAL", message: ERRORS.INTERNAL.message, request_id: "req-1" },
    });
    expect(body).not.toContain("secret");
  });

  it.each([
    ["overloaded", { overloaded: true }],
    ["retryable", { retryable: true }],
  ])("become 503 UNAVAILABLE with Retry-After when the object is %s", async (_label, flags) => {
    const res = await appThrowing(Object.assign(new Error("Durable Object is overloaded"), flags)).request("/");
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
  });
});

describe("the error table", () => {
  it("gives every code an UPPER_SNAKE name, an error status and a sentence", () => {
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z]+(_[A-Z]+)*$/);
      expect(ERRORS[code].status).toBeGreaterThanOrEqual(400);
      expect(ERRORS[code].message).toMatch(/\.$/);
    }
  });
});

describe("docs/api.md", () => {
  it("documents every error code with its status", async () => {
    const readme = (await import("../docs/api.md?raw")).default as string;
    for (const code of ERROR_CODES) {
      expect(readme, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${ERRORS[code].status} \\|`));
    }
  });
});
