import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./context";

/** Both limits use 10-second windows (wrangler.toml `[[ratelimits]]`): a client may retry after one. */
const WINDOW_SECONDS = 10;
const PERSONA_PATH = /^\/v1\/persona\/([^/]+)/;

/**
 * Two Workers Rate Limiting bindings: per tenant + persona (a runaway kiosk loop cannot
 * monopolise its object) and per SDK key (a leaked key cannot spray the whole service).
 * `RATE_LIMITS=off` turns both off for load tests and local experiments.
 */
export function rateLimits(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.env.RATE_LIMITS?.trim().toLowerCase() === "off") return next();
    const persona = PERSONA_PATH.exec(c.req.path)?.[1];
    const checks = [c.env.KEY_RATE_LIMITER.limit({ key: c.get("keyId") })];
    if (persona) checks.push(c.env.PERSONA_RATE_LIMITER.limit({ key: `${c.get("tenant")}:${persona}` }));
    const outcomes = await Promise.all(checks);
    if (outcomes.some((o) => !o.success)) {
      throw new ApiError("RATE_LIMITED", undefined, { retry_after_seconds: WINDOW_SECONDS }, { "Retry-After": String(WINDOW_SECONDS) });
    }
    await next();
  };
}
