import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { listVar } from "../config";
import { ApiError } from "../errors";
import { LIMITS } from "../limits";
import { adminKeyAuth } from "./admin-auth";
import { adminRoutes } from "./admin-routes";
import { analyticsRoutes } from "./analytics-routes";
import { sdkKeyAuth } from "./auth";
import type { AppEnv } from "./context";
import { DOCUMENT, healthRoute, openApiRoute, registerDocument } from "./contract";
import { errorResponse } from "./envelope";
import { indexRoutes } from "./index-routes";
import { rateLimits } from "./rate-limit";
import { sessionRoutes } from "./session-routes";
import { adminStoreRoutes, storeRoutes } from "./store-routes";
import { tenantRoutes } from "./tenant-routes";
import { ApiHono } from "./validation";

const REQUEST_ID = new RegExp(`^[\\x21-\\x7E]{1,${LIMITS.requestIdMaxChars}}$`);

/** Request id (echoed when well formed), no-store caching, and one JSON log line per request. */
function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    await next();
    // On the response's own headers, as Hono's middlewares do: c.header() on a finished response
    // copies the whole Response each time.
    c.res.headers.set("X-Request-Id", requestId);
    // Taken as the answer leaves: what a kiosk's clock is corrected from (milliseconds; Date has seconds).
    c.res.headers.set("X-Server-Time", new Date().toISOString());
    c.res.headers.set("Cache-Control", "no-store");
    // Never the key, never meta: only what locates the request.
    console.log(
      JSON.stringify({
        request_id: requestId,
        tenant: c.get("tenant") ?? null,
        method: c.req.method,
        route: c.req.matchedRoutes.findLast((r) => r.method !== "ALL")?.path ?? null,
        status: c.res.status,
        ms: Date.now() - started,
        ...(c.get("errorCode") ? { code: c.get("errorCode") } : {}),
      }),
    );
  };
}

/** CORS for browser kiosks, from `CORS_ORIGINS` (comma-separated; empty means none). */
function kioskCors(): MiddlewareHandler<AppEnv> {
  let parsed: { raw: string | undefined; origins: Set<string> } | undefined;
  const allowed = (raw: string | undefined) => {
    if (!parsed || parsed.raw !== raw) {
      parsed = {
        raw,
        origins: new Set(listVar(raw)),
      };
    }
    return parsed.origins;
  };
  const handler = cors({
    origin: (origin, c) => (allowed(c.env.CORS_ORIGINS).has(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "If-None-Match"],
    exposeHeaders: ["X-Request-Id", "X-Server-Time", "Retry-After", "Idempotent-Replayed", "ETag"],
    maxAge: 600,
  });
  // Kiosks that are not browsers send no Origin: nothing to do for them.
  return (c, next) => (c.req.header("origin") === undefined ? next() : handler(c, next));
}

export function createApp() {
  const app = new ApiHono();

  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new ApiError("NOT_FOUND")));

  app.use("*", requestContext());
  app.use(
    "*",
    secureHeaders({
      // JSON only: nothing here may be framed, run scripts or load anything. The headers that
      // only mean something for HTML documents are left off: every response pays for each header.
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      crossOriginResourcePolicy: false,
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    }),
  );
  app.use("*", kioskCors());
  // Runs after the route answered: a 404 from a path that other methods serve becomes a 405.
  app.use(
    "*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        errorResponse(
          c,
          new ApiError(
            "METHOD_NOT_ALLOWED",
            `This route accepts ${methods.join(", ")}.`,
            { allowed: methods },
            { Allow: methods.join(", ") },
          ),
        ),
    }),
  );

  app.openapi(healthRoute, (c) => c.json({ success: true as const, data: { status: "ok" as const } }, 200));
  app.use("/v1/*", sdkKeyAuth(), rateLimits());
  app.use("/admin/*", adminKeyAuth(), rateLimits());

  const routes = analyticsRoutes(indexRoutes(sessionRoutes(app)));
  tenantRoutes(app);
  storeRoutes(app);
  adminRoutes(app);
  adminStoreRoutes(app);

  registerDocument(app.openAPIRegistry);
  // Built on first request, when every route is registered; it never changes after that.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.openapi(openApiRoute, (c) => {
    document ??= app.getOpenAPI31Document(DOCUMENT);
    return c.json(document, 200);
  });

  return routes;
}

export const app = createApp();
export type AppType = typeof app;
