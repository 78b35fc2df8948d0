import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, ERRORS } from "../errors";
import type { Outcome } from "../persona/domain";
import type { AppEnv } from "./context";

/** Turns any thrown value into the error envelope. Unexpected errors are logged with their stack. */
export function errorResponse(c: Context<AppEnv>, err: unknown): Response {
  const apiError = toApiError(err);
  if (apiError.code === "INTERNAL") {
    console.error(
      JSON.stringify({
        level: "error",
        request_id: c.get("requestId"),
        msg: err instanceof Error ? err.message : String(err),
        stack: err instanceof Error ? err.stack : undefined,
      }),
    );
  }
  c.set("errorCode", apiError.code);
  for (const [name, value] of Object.entries(apiError.headers ?? {})) c.header(name, value);
  return c.json(
    {
      success: false as const,
      error: {
        code: apiError.code,
        message: apiError.message,
        ...(apiError.details ? { details: apiError.details } : {}),
        request_id: c.get("requestId"),
      },
    },
    apiError.status,
  );
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    // Hono's own refusals (from its validators); ours are ApiErrors already.
    if (err.status === 415) return new ApiError("UNSUPPORTED_MEDIA_TYPE");
    if (err.status === 400) return new ApiError("INVALID_JSON");
  }
  // Durable Object errors say whether a retry can succeed: tell the client so.
  if (isRetryable(err)) return new ApiError("UNAVAILABLE", undefined, undefined, { "Retry-After": "1" });
  return new ApiError("INTERNAL", ERRORS.INTERNAL.message);
}

function isRetryable(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const flags = err as { overloaded?: unknown; retryable?: unknown };
  return flags.overloaded === true || flags.retryable === true;
}

/** The data of a successful object outcome, or the outcome's error thrown as an ApiError. */
export function unwrap<O extends Outcome<unknown>>(c: Context<AppEnv>, outcome: O): Extract<O, { ok: true }>["data"] {
  const replayed = outcome.replayed ? { "Idempotent-Replayed": "true" } : undefined;
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, outcome.details, replayed);
  if (replayed) c.header("Idempotent-Replayed", "true");
  return outcome.data;
}
