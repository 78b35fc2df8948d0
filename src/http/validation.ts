import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors";
import { readsJsonBody } from "./body";
import type { AppEnv } from "./context";

type Issue = z.core.$ZodIssue;

/** A request that does not match its route's schemas: 400 VALIDATION_ERROR naming each field. */
function validationError(issues: readonly Issue[]): ApiError {
  return new ApiError("VALIDATION_ERROR", undefined, {
    fields: issues.map((issue) => ({
      path: issue.path.join(".") || "(body)",
      message: issue.message,
      ...(issue.code === "unrecognized_keys" ? { keys: issue.keys } : {}),
    })),
  });
}

/** The parsed value (what `c.req.valid()` returns), or the 400. */
function check(schema: z.ZodType, value: unknown): object {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error.issues);
  // Request schemas are objects; Hono types validated data as such.
  return result.data as object;
}

/** The declared names of an object schema (headers: only these are read off the request). */
function keysOf(schema: z.ZodType): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  if (!shape) throw new Error("request header schemas must be zod objects");
  return Object.keys(shape);
}

/**
 * One middleware that checks a route's declared query, path parameters, headers and JSON body
 * against its schemas, in that order (the order @hono/zod-openapi uses), and hands the parsed
 * values to `c.req.valid()`. The body has already been read and parsed by `jsonBody`, which every
 * route with a body runs before it (it owns the 415/413/INVALID_JSON checks and their order).
 */
function requestValidator(route: RouteConfig): MiddlewareHandler<AppEnv> | null {
  const { query, params, headers, body } = route.request ?? {};
  const json = (body?.content?.["application/json"] as { schema?: z.ZodType } | undefined)?.schema;
  if (!query && !params && !headers && !json) return null;
  const headerNames = headers ? keysOf(headers as z.ZodType) : [];
  return (c, next) => {
    if (query) {
      const value: Record<string, string | string[]> = {};
      for (const [key, values] of Object.entries(c.req.queries())) value[key] = values.length === 1 ? values[0]! : values;
      c.req.addValidatedData("query", check(query as z.ZodType, value));
    }
    if (params) c.req.addValidatedData("param", check(params as z.ZodType, c.req.param()));
    if (headers) {
      const value: Record<string, string> = {};
      for (const name of headerNames) {
        const header = c.req.header(name);
        if (header !== undefined) value[name] = header;
      }
      c.req.addValidatedData("header", check(headers as z.ZodType, value));
    }
    if (json) c.req.addValidatedData("json", check(json, c.get("json")));
    return next();
  };
}

/**
 * OpenAPIHono whose routes are checked by one `requestValidator` each instead of
 * @hono/zod-openapi's chain of one validator per part (query, params, headers, media type, body),
 * each an async middleware that copies every header into an object. The same route definitions
 * feed the OpenAPI document and the checks; a stamp request costs ~25 µs less workerd CPU
 * (bench/route-cost.mjs; bench/README.md has the A/B).
 */
export class ApiHono extends OpenAPIHono<AppEnv> {
  override openapi = ((config: RouteConfig & { hide?: boolean }, handler: MiddlewareHandler<AppEnv>) => {
    const { middleware, hide, ...route } = config;
    if (!hide) this.openAPIRegistry.registerPath(route);
    const before: MiddlewareHandler<AppEnv>[] = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
    // Checked when the route is registered, so a route that would validate an unread body never starts.
    if (route.request?.body && !before.some(readsJsonBody)) {
      throw new Error(`${route.method.toUpperCase()} ${route.path} declares a body: its middleware must include jsonBody()`);
    }
    const validator = requestValidator(route);
    const chain = validator ? [...before, validator, handler] : [...before, handler];
    this.on([route.method], [route.path.replaceAll(/\/{(.+?)}/g, "/:$1")], ...(chain as MiddlewareHandler<AppEnv>[]));
    return this;
  }) as unknown as OpenAPIHono<AppEnv>["openapi"];
}
