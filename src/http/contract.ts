/**
 * The API contract: every route's method, path, parameters, body and documented responses,
 * built from the zod schemas. The Worker registers these with their handlers (src/http/session-routes.ts);
 * the typed client (src/client.ts) derives its types from them. Nothing here depends on the
 * Workers runtime, so a kiosk app can type-check against it with only DOM and ES libraries.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ERRORS, type ErrorCode } from "../errors";
import {
  ActiveData,
  ActiveQuery,
  BatchBody,
  BatchData,
  DwellData,
  DwellQuery,
  EndBody,
  ErrorEnvelope,
  FunnelData,
  FunnelQuery,
  HistoryData,
  HistoryQuery,
  IdempotencyHeaders,
  PersonaParams,
  SearchData,
  SearchQuery,
  SessionData,
  SessionParams,
  StampBody,
  StampData,
  StartBody,
  StartData,
  successEnvelope,
  VisitsData,
  VisitsQuery,
} from "./schemas";

/** Error responses a route can give, grouped by status, documented from the one error table. */
function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { description: list.join(", "), content: { "application/json": { schema: ErrorEnvelope } } },
    ]),
  );
}

const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema: successEnvelope(schema) } },
});

const body = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { "application/json": { schema } },
});

/** Refusals every /v1 route can give before its own checks. */
export const COMMON: ErrorCode[] = ["UNAUTHORIZED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"];
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
    ...errors(...WRITE, "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
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
    ...errors(...WRITE, "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
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

const indexTags = ["tenant index"];

export const activeRoute = createRoute({
  method: "get",
  path: "/v1/sessions/active",
  operationId: "listActiveSessions",
  summary: "Who is in a session now, across the tenant",
  description:
    "Every active session of the tenant, longest-running first, with counts by current status for the whole tenant. Served by the tenant index, which the persona objects update within seconds.",
  tags: indexTags,
  security,
  request: { query: ActiveQuery },
  responses: { 200: ok(ActiveData, "A page of active sessions"), ...errors(...COMMON) },
});

export const searchRoute = createRoute({
  method: "get",
  path: "/v1/sessions",
  operationId: "searchSessions",
  summary: "Sessions that started in a time range, across the tenant",
  description: "Newest first. Served by the tenant index.",
  tags: indexTags,
  security,
  request: { query: SearchQuery },
  responses: { 200: ok(SearchData, "A page of sessions"), ...errors(...COMMON) },
});

const analyticsTags = ["analytics"];
const ANALYTICS: ErrorCode[] = [...COMMON];

export const funnelRoute = createRoute({
  method: "get",
  path: "/v1/analytics/funnel",
  operationId: "getFunnel",
  summary: "How many sessions reached each step, in order, and how long each step took",
  tags: analyticsTags,
  security,
  request: { query: FunnelQuery },
  responses: { 200: ok(FunnelData, "The funnel"), ...errors(...ANALYTICS) },
});

export const dwellRoute = createRoute({
  method: "get",
  path: "/v1/analytics/dwell",
  operationId: "getDwell",
  summary: "Time spent in each status",
  tags: analyticsTags,
  security,
  request: { query: DwellQuery },
  responses: { 200: ok(DwellData, "Time per status"), ...errors(...ANALYTICS) },
});

export const visitsRoute = createRoute({
  method: "get",
  path: "/v1/analytics/visits",
  operationId: "getVisits",
  summary: "Sessions started per hour or day in the store's time zone, with their median duration",
  tags: analyticsTags,
  security,
  request: { query: VisitsQuery },
  responses: { 200: ok(VisitsData, "Visits per bucket"), ...errors(...ANALYTICS) },
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
    .openapi(eraseRoute, unreachable)
    .openapi(activeRoute, unreachable)
    .openapi(searchRoute, unreachable)
    .openapi(funnelRoute, unreachable)
    .openapi(dwellRoute, unreachable)
    .openapi(visitsRoute, unreachable);
}

export type ApiContract = ReturnType<typeof contractApp>;
