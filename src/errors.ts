import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The one table of error codes: HTTP status and the default human message.
 * docs/api.md's error table and the OpenAPI document are generated from / checked against it.
 */
export const ERRORS = {
  VALIDATION_ERROR: { status: 400, message: "The request is not valid." },
  INVALID_JSON: { status: 400, message: "The request body is not valid JSON." },
  UNAUTHORIZED: { status: 401, message: "A valid SDK key is required: Authorization: Bearer <key>." },
  FORBIDDEN: { status: 403, message: "This key's scope does not allow this request." },
  TENANT_DISABLED: { status: 403, message: "This key's tenant is disabled." },
  STORE_FORBIDDEN: { status: 403, message: "This key is bound to another store." },
  NOT_FOUND: { status: 404, message: "No such route." },
  TENANT_NOT_FOUND: { status: 404, message: "No such tenant." },
  KEY_NOT_FOUND: { status: 404, message: "No such key for this tenant." },
  STORE_NOT_FOUND: { status: 404, message: "No such store for this tenant." },
  NO_ACTIVE_SESSION: { status: 404, message: "This persona has no active session." },
  SESSION_NOT_FOUND: { status: 404, message: "No such session for this persona." },
  METHOD_NOT_ALLOWED: { status: 405, message: "This route does not accept that method." },
  SESSION_ACTIVE: { status: 409, message: "This persona already has an active session." },
  SESSION_MISMATCH: { status: 409, message: "The session_id given is not this persona's active session." },
  TENANT_EXISTS: { status: 409, message: "A tenant with this id already exists." },
  STAMP_LIMIT_REACHED: { status: 409, message: "The session has reached its stamp limit." },
  STORE_LIMIT_REACHED: { status: 409, message: "The tenant has reached its limit of registered stores." },
  PAYLOAD_TOO_LARGE: { status: 413, message: "The request body is too large." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: "Request bodies must be sent as Content-Type: application/json." },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: "This Idempotency-Key was already used for a different request." },
  UNKNOWN_STATUS: { status: 422, message: "This status is not in the tenant's list of statuses." },
  UNKNOWN_STORE: { status: 422, message: "This store is not registered for the tenant." },
  STORE_REQUIRED: { status: 422, message: "This tenant requires a store_id on every session start." },
  RATE_LIMITED: { status: 429, message: "Too many requests; retry after the time in Retry-After." },
  INTERNAL: { status: 500, message: "An unexpected error occurred." },
  UNAVAILABLE: { status: 503, message: "The service is briefly unavailable; retry after the time in Retry-After." },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export type ErrorDetails = Record<string, unknown>;

/** Thrown anywhere in the Worker; `app.onError` renders it as the error envelope. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = "ApiError";
  }
  get status(): ContentfulStatusCode {
    return ERRORS[this.code].status;
  }
}
