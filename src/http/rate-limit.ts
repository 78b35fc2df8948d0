import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { LIMITS } from "../limits";
import type { AppEnv } from "./context";

/** Every limit uses 10-second windows (wrangler.toml `[[ratelimits]]`): a client may retry after one. */
const WINDOW_SECONDS = LIMITS.authFailureWindowSeconds;
const PERSONA_PATH = /^\/v1\/persona\/([^/]+)/;

/** `RATE_LIMITS=off` turns every limit off, for load tests and local experiments. */
export const rateLimitsOn = (env: Env) => env.RATE_LIMITS?.trim().toLowerCase() !== "off";

export const rateLimited = () =>
  new ApiError("RATE_LIMITED", undefined, { retry_after_seconds: WINDOW_SECONDS }, { "Retry-After": String(WINDOW_SECONDS) });

/**
 * The client's address, as Cloudflare reports it (`wrangler dev` sets 127.0.0.1 when a client
 * sends none). Requests without one (the tests) share one bucket.
 */
export const clientAddress = (c: Context<AppEnv>) => c.req.header("cf-connecting-ip") ?? "unknown";

/**
 * Counts a failed authentication against the client's address (AUTH_FAILURE_RATE_LIMITER: 20 per
 * 10 s); false when the address is over the limit.
 */
export async function withinAuthFailureLimit(c: Context<AppEnv>): Promise<boolean> {
  if (!rateLimitsOn(c.env)) return true;
  return (await c.env.AUTH_FAILURE_RATE_LIMITER.limit({ key: clientAddress(c) })).success;
}

/**
 * Two Workers Rate Limiting bindings for authenticated requests: per tenant + persona (a runaway
 * kiosk loop cannot monopolise its object) and per key (a leaked key cannot spray the whole service).
 */
export function rateLimits(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!rateLimitsOn(c.env)) return next();
    const persona = PERSONA_PATH.exec(c.req.path)?.[1];
    const checks = [c.env.KEY_RATE_LIMITER.limit({ key: c.get("keyId") })];
    if (persona) checks.push(c.env.PERSONA_RATE_LIMITER.limit({ key: `${c.get("tenant")}:${persona}` }));
    const outcomes = await Promise.all(checks);
    if (outcomes.some((o) => !o.success)) throw rateLimited();
    await next();
  };
}
