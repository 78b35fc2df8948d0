import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { sdkKeyAuth } from "./auth";
import type { AppEnv } from "./context";
import { errorResponse } from "./envelope";
import { ApiError } from "./errors";
import { LIMITS } from "./limits";
import { sessionRoutes } from "./routes";

const REQUEST_ID = new RegExp(`^[\\x21-\\x7E]{1,${LIMITS.requestIdMaxChars}}$`);

/** Request id (echoed when well formed), no-store caching, and one JSON log line per request. */
function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    c.header("X-Request-Id", requestId);
    c.header("Cache-Control", "no-store");
    const route = c.req.matchedRoutes.findLast((r) => r.method !== "ALL")?.path;
    console.log(
      JSON.stringify({
        request_id: requestId,
        tenant: c.get("tenant"),
        method: c.req.method,
        route: route ?? null,
        status: c.res.status,
        ms: Date.now() - started,
        ...(c.get("errorCode") ? { code: c.get("errorCode") } : {}),
      }),
    );
  };
}

export function createApp() {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      throw new ApiError("VALIDATION_ERROR", undefined, {
        fields: result.error.issues.map((issue) => ({
          path: issue.path.join(".") || "(body)",
          message: issue.message,
          ...(issue.code === "unrecognized_keys" ? { keys: issue.keys } : {}),
        })),
      });
    },
  });

  app.use("*", requestContext());
  app.onError((err, c) => errorResponse(c, err));
  app.get("/healthz", (c) => c.json({ success: true as const, data: { status: "ok" } }, 200));
  app.use("/v1/*", sdkKeyAuth());

  const routes = sessionRoutes(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "SdkKey", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Persona session API", version: "1.0.0" },
  });

  // Hono has no 405 of its own: a path that some route serves with another method gets one.
  const table = app.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+")}$`) }));
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = [...new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (allowed.includes("GET")) allowed.push("HEAD");
    if (allowed.length === 0) return errorResponse(c, new ApiError("NOT_FOUND"));
    return errorResponse(
      c,
      new ApiError("METHOD_NOT_ALLOWED", `This route accepts ${allowed.join(", ")}.`, { allowed }, { Allow: allowed.join(", ") }),
    );
  });

  return routes;
}

export const app = createApp();
export type AppType = typeof app;
