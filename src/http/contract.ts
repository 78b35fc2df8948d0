/**
 * The API contract: every route's method, path, parameters, body and documented responses,
 * built from the zod schemas. The Worker registers these with their handlers (src/http/session-routes.ts);
 * the typed client (src/client.ts) derives its types from them. Nothing here depends on the
 * Workers runtime, so a kiosk app can type-check against it with only DOM and ES libraries.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ERRORS, type ErrorCode } from "../errors";
import {
  BatchBody,
  BatchData,
  EndBody,
  ErrorEnvelope,
  HistoryData,
  HistoryQuery,
  IdempotencyHeaders,
  PersonaParams,
  SessionData,
  SessionParams,
  StampBody,
  StampData,
  StartBody,
  StartData,
  successEnvelope,
} from "./schemas";

/** Error responses a route can give, grouped by status, documented from the one error table. */
export function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { description: list.join(", "), content: { "application/json": { schema: ErrorEnvelope } } },
    ]),
  );
}

export const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema: successEnvelope(schema) } },
});

export const body = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { "application/json": { schema } },
});

/** Refusals every /v1 route can give before its own checks. */
export const COMMON: ErrorCode[] = ["UNAUTHORIZED", "TENANT_DISABLED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"];
export const WRITE: ErrorCode[] = [
  ...COMMON,
  "FORBIDDEN",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "INVALID_JSON",
  "IDEMPOTENCY_KEY_REUSED",
];

const security = [{ SdkKey: [] }];
const tags = ["sessions"];

export const startRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/start",
  summary: "Start a session (records ENTER)",
  tags,
  security,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(StartBody, false) },
  responses: { 201: ok(StartData, "Session started"), ...errors(...WRITE, "SESSION_ACTIVE") },
});

export const stampRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/stamp",
  summary: "Record a status stamp",
  tags,
  security,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(StampBody, true) },
  responses: {
    201: ok(StampData, "Stamp recorded"),
    ...errors(...WRITE, "UNKNOWN_STATUS", "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
  },
});

export const stampsRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/stamps",
  summary: "Record a batch of stamps in order, all or nothing",
  tags,
  security,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(BatchBody, true) },
  responses: {
    201: ok(BatchData, "Stamps recorded"),
    ...errors(...WRITE, "UNKNOWN_STATUS", "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
  },
});

export const endRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/end",
  summary: "End the session and return its full history",
  tags,
  security,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(EndBody, false) },
  responses: { 200: ok(SessionData, "Session ended"), ...errors(...WRITE, "NO_ACTIVE_SESSION", "SESSION_MISMATCH") },
});

export const currentRoute = createRoute({
  method: "get",
  path: "/v1/persona/{persona_id}/session",
  summary: "The active session with its stamps so far",
  tags,
  security,
  request: { params: PersonaParams },
  responses: {
    200: { ...ok(SessionData, "The active session"), headers: { ETag: { schema: { type: "string" } } } },
    304: { description: "Not modified since the ETag given in If-None-Match" },
    ...errors(...COMMON, "NO_ACTIVE_SESSION"),
  },
});

export const historyRoute = createRoute({
  method: "get",
  path: "/v1/persona/{persona_id}/sessions",
  summary: "Ended sessions, newest first, paged",
  tags,
  security,
  request: { params: PersonaParams, query: HistoryQuery },
  responses: { 200: ok(HistoryData, "A page of ended sessions"), ...errors(...COMMON) },
});

export const sessionRoute = createRoute({
  method: "get",
  path: "/v1/persona/{persona_id}/sessions/{session_id}",
  summary: "One session, active or ended, with all its stamps",
  tags,
  security,
  request: { params: SessionParams },
  responses: { 200: ok(SessionData, "The session"), ...errors(...COMMON, "SESSION_NOT_FOUND") },
});

export const eraseRoute = createRoute({
  method: "delete",
  path: "/v1/persona/{persona_id}",
  summary: "Erase everything stored for this persona",
  tags,
  security,
  request: { params: PersonaParams },
  responses: { 204: { description: "Erased (also when there was nothing to erase)" }, ...errors(...COMMON, "FORBIDDEN") },
});

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness check (no key needed)",
  tags: ["health"],
  responses: { 200: ok(z.object({ status: z.literal("ok") }), "The Worker is serving") },
});

const unreachable = (): never => {
  throw new Error("the contract app is for types only");
};

/** Never called: its return type is the API's schema for Hono's typed client. */
function contractApp() {
  return new OpenAPIHono()
    .openapi(startRoute, unreachable)
    .openapi(stampRoute, unreachable)
    .openapi(stampsRoute, unreachable)
    .openapi(endRoute, unreachable)
    .openapi(currentRoute, unreachable)
    .openapi(historyRoute, unreachable)
    .openapi(sessionRoute, unreachable)
    .openapi(eraseRoute, unreachable);
}

export type ApiContract = ReturnType<typeof contractApp>;
