/**
 * The API contract: every route's method, path, parameters, body and documented responses (with
 * their headers), built from the zod schemas. The Worker registers these with their handlers
 * (src/http/session-routes.ts) and serves them as GET /openapi.json. That document is what other
 * tools see: the client package (client/) is typed from it, and every response the test suite
 * receives is validated against it (test/helpers.ts). Nothing here depends on the Workers runtime.
 *
 * A new route is one `route({...})` call: it requires an operationId and tags, gets the SDK key
 * as its security unless it says otherwise, and its responses get their documented headers.
 */
import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { HeaderObject } from "openapi3-ts/oas31";
import clientPackage from "../../client/package.json";
import { ERROR_CODES, ERRORS, type ErrorCode } from "../errors";
import { LIMITS } from "../limits";
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
  OccupancyAnalyticsData,
  OccupancyAnalyticsQuery,
  PathsData,
  PathsQuery,
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
import { Occupancy, OccupancyQuery } from "./store-schemas";

/**
 * Response headers, documented once under components.headers and referenced by each response
 * that sends them. `required` means every such response carries it.
 */
export const RESPONSE_HEADERS = {
  "X-Request-Id": {
    description: `The request's id: the X-Request-Id sent, when it is printable ASCII of at most ${LIMITS.requestIdMaxChars} characters, else a new UUID. Errors repeat it as error.request_id.`,
    required: true,
    schema: { type: "string", minLength: 1, maxLength: LIMITS.requestIdMaxChars },
  },
  "X-Server-Time": {
    description:
      "The server's clock when it answered, ISO 8601 UTC with milliseconds (the Date header has whole seconds and browsers do not expose it): what a kiosk measures its clock's offset from (the client's recorder does).",
    required: true,
    schema: { type: "string", format: "date-time", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$" },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    required: true,
    schema: { type: "integer", minimum: 0 },
  },
  "WWW-Authenticate": {
    description: "The authentication scheme the API expects (Bearer).",
    required: true,
    schema: { type: "string" },
  },
  Allow: {
    description: "The methods this path accepts, comma-separated.",
    required: true,
    schema: { type: "string" },
  },
  ETag: {
    description: "The active session's version: send it as If-None-Match to get 304 while the session is unchanged.",
    required: true,
    schema: { type: "string" },
  },
  "Idempotent-Replayed": {
    description: "`true` when this answer is a replay of the first request made with this Idempotency-Key.",
    required: false,
    schema: { type: "string", enum: ["true"] },
  },
} satisfies Record<string, HeaderObject>;
export type ResponseHeader = keyof typeof RESPONSE_HEADERS;

export const headerRef = (name: ResponseHeader) => ({ $ref: `#/components/headers/${name}` });

/** Headers every response carries, whatever its status. */
export const EVERY_RESPONSE: ResponseHeader[] = ["X-Request-Id", "X-Server-Time"];

/** Headers that every response with this status carries, besides EVERY_RESPONSE's. */
const STATUS_HEADERS: Record<number, ResponseHeader[]> = {
  401: ["WWW-Authenticate"],
  405: ["Allow"],
  429: ["Retry-After"],
  503: ["Retry-After"],
};

/** Refusals the persona's object decides: a request repeated with its Idempotency-Key gets them again, replayed. */
const REPLAYABLE = new Set<ErrorCode>([
  "VALIDATION_ERROR",
  "NO_ACTIVE_SESSION",
  "SESSION_ACTIVE",
  "SESSION_MISMATCH",
  "STAMP_LIMIT_REACHED",
  "STORE_FORBIDDEN",
  "UNKNOWN_STORE",
  "STORE_REQUIRED",
]);

type Response = RouteConfig["responses"][string];

/** Error responses a route can give, grouped by status, documented from the one error table. */
export function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        description: list.join(", "),
        // Machine-readable: which codes this status means here (the tests hold every answer to it).
        "x-error-codes": list,
        content: { "application/json": { schema: ErrorEnvelope } },
      },
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

function withHeaders(status: number, response: Response, replays: boolean): Response {
  if ("$ref" in response) return response;
  const names: ResponseHeader[] = [...EVERY_RESPONSE, ...(STATUS_HEADERS[status] ?? [])];
  const codes = (response as { "x-error-codes"?: ErrorCode[] })["x-error-codes"];
  if (replays && (status < 300 || codes?.some((code) => REPLAYABLE.has(code)))) names.push("Idempotent-Replayed");
  const own = response.headers && !(response.headers instanceof z.ZodType) ? response.headers : {};
  return { ...response, headers: { ...Object.fromEntries(names.map((name) => [name, headerRef(name)])), ...own } };
}

/** Routes anyone may call: no key. */
export const PUBLIC: [] = [];
const SDK_KEY = [{ SdkKey: [] }];

type ApiRoute = Omit<RouteConfig, "operationId" | "tags"> & { operationId: string; tags: [string, ...string[]] };

/**
 * A documented route. operationId is camelCase and stable (generated clients name their methods
 * after it); security defaults to the SDK key; every response gets its headers. A route that
 * takes Idempotency-Key documents Idempotent-Replayed on its answers that a retry can replay.
 */
export function route<P extends string, R extends Omit<ApiRoute, "path"> & { path: P }>(config: R) {
  const replays = config.request?.headers === IdempotencyHeaders;
  const responses = Object.fromEntries(
    Object.entries(config.responses).map(([status, response]) => [status, withHeaders(Number(status), response, replays)]),
  );
  // Same responses with headers added: the type the handlers see is unchanged.
  return createRoute({ security: SDK_KEY, ...config, responses } as R);
}

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

const sessions: ["sessions"] = ["sessions"];

export const startRoute = route({
  operationId: "startSession",
  method: "post",
  path: "/v1/persona/{persona_id}/session/start",
  summary: "Start a session (records ENTER)",
  tags: sessions,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(StartBody, false) },
  responses: {
    201: ok(StartData, "Session started"),
    ...errors(...WRITE, "SESSION_ACTIVE", "STORE_FORBIDDEN", "UNKNOWN_STORE", "STORE_REQUIRED"),
  },
});

export const stampRoute = route({
  operationId: "recordStamp",
  method: "post",
  path: "/v1/persona/{persona_id}/session/stamp",
  summary: "Record a status stamp",
  tags: sessions,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(StampBody, true) },
  responses: {
    201: ok(StampData, "Stamp recorded"),
    ...errors(...WRITE, "UNKNOWN_STATUS", "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
  },
});

export const stampsRoute = route({
  operationId: "recordStamps",
  method: "post",
  path: "/v1/persona/{persona_id}/session/stamps",
  summary: "Record a batch of stamps in order, all or nothing",
  tags: sessions,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(BatchBody, true) },
  responses: {
    201: ok(BatchData, "Stamps recorded"),
    ...errors(...WRITE, "UNKNOWN_STATUS", "NO_ACTIVE_SESSION", "SESSION_MISMATCH", "STAMP_LIMIT_REACHED"),
  },
});

export const endRoute = route({
  operationId: "endSession",
  method: "post",
  path: "/v1/persona/{persona_id}/session/end",
  summary: "End the session and return its full history",
  tags: sessions,
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(EndBody, false) },
  responses: { 200: ok(SessionData, "Session ended"), ...errors(...WRITE, "NO_ACTIVE_SESSION", "SESSION_MISMATCH") },
});

export const currentRoute = route({
  operationId: "getCurrentSession",
  method: "get",
  path: "/v1/persona/{persona_id}/session",
  summary: "The active session with its stamps so far",
  tags: sessions,
  request: {
    params: PersonaParams,
    headers: z.object({
      "if-none-match": z
        .string()
        .optional()
        .openapi({
          param: { name: "if-none-match", in: "header" },
          description: "An ETag from an earlier answer (a list, weak tags and * are understood): 304 while the session is unchanged.",
        }),
    }),
  },
  responses: {
    200: { ...ok(SessionData, "The active session"), headers: { ETag: headerRef("ETag") } },
    304: { description: "Not modified since the ETag given in If-None-Match (no body)", headers: { ETag: headerRef("ETag") } },
    ...errors(...COMMON, "NO_ACTIVE_SESSION"),
  },
});

export const historyRoute = route({
  operationId: "listPersonaSessions",
  method: "get",
  path: "/v1/persona/{persona_id}/sessions",
  summary: "Ended sessions, newest first, paged",
  tags: sessions,
  request: { params: PersonaParams, query: HistoryQuery },
  responses: { 200: ok(HistoryData, "A page of ended sessions"), ...errors(...COMMON) },
});

export const sessionRoute = route({
  operationId: "getPersonaSession",
  method: "get",
  path: "/v1/persona/{persona_id}/sessions/{session_id}",
  summary: "One session, active or ended, with all its stamps",
  tags: sessions,
  request: { params: SessionParams },
  responses: { 200: ok(SessionData, "The session"), ...errors(...COMMON, "SESSION_NOT_FOUND") },
});

export const eraseRoute = route({
  operationId: "erasePersona",
  method: "delete",
  path: "/v1/persona/{persona_id}",
  summary: "Erase everything stored for this persona",
  tags: ["personas"],
  request: { params: PersonaParams },
  responses: { 204: { description: "Erased (also when there was nothing to erase)" }, ...errors(...COMMON, "FORBIDDEN") },
});

const indexTags: ["tenant index"] = ["tenant index"];

export const activeRoute = route({
  method: "get",
  path: "/v1/sessions/active",
  operationId: "listActiveSessions",
  summary: "Who is in a session now, across the tenant",
  description:
    "Every active session of the tenant, longest-running first, with counts by current status for the whole tenant. Served by the tenant index, which the persona objects update within seconds.",
  tags: indexTags,
  request: { query: ActiveQuery },
  responses: { 200: ok(ActiveData, "A page of active sessions"), ...errors(...COMMON) },
});

export const occupancyRoute = route({
  method: "get",
  path: "/v1/occupancy",
  operationId: "getOccupancy",
  summary: "Live occupancy per store, busiest first",
  description:
    "Every registered store (those with no one in them included) and every unregistered store_id seen in an active session, busiest first (then by store_id), with active sessions per current status and utilization against capacity. As fresh as the active-sessions view: the index has a change within seconds.",
  tags: indexTags,
  request: { query: OccupancyQuery },
  responses: { 200: ok(Occupancy, "A page of stores"), ...errors(...COMMON) },
});

export const searchRoute = route({
  method: "get",
  path: "/v1/sessions",
  operationId: "searchSessions",
  summary: "Sessions that started in a time range, across the tenant",
  description: "Newest first. Served by the tenant index.",
  tags: indexTags,
  request: { query: SearchQuery },
  responses: { 200: ok(SearchData, "A page of sessions"), ...errors(...COMMON) },
});

const analyticsTags: ["analytics"] = ["analytics"];
const ANALYTICS: ErrorCode[] = [...COMMON];

export const funnelRoute = route({
  method: "get",
  path: "/v1/analytics/funnel",
  operationId: "getFunnel",
  summary: "How many sessions reached each step, in order, and how long each step took",
  tags: analyticsTags,
  request: { query: FunnelQuery },
  responses: { 200: ok(FunnelData, "The funnel"), ...errors(...ANALYTICS) },
});

export const dwellRoute = route({
  method: "get",
  path: "/v1/analytics/dwell",
  operationId: "getDwell",
  summary: "Time spent in each status",
  tags: analyticsTags,
  request: { query: DwellQuery },
  responses: { 200: ok(DwellData, "Time per status"), ...errors(...ANALYTICS) },
});

export const visitsRoute = route({
  method: "get",
  path: "/v1/analytics/visits",
  operationId: "getVisits",
  summary: "Sessions started per hour or day in the store's time zone, with their median duration",
  tags: analyticsTags,
  request: { query: VisitsQuery },
  responses: { 200: ok(VisitsData, "Visits per bucket"), ...errors(...ANALYTICS) },
});

export const pathsRoute = route({
  method: "get",
  path: "/v1/analytics/paths",
  operationId: "getPaths",
  summary: "The most common paths through a visit (each session's first 10 labels), with the tenant's statuses order",
  tags: analyticsTags,
  request: { query: PathsQuery },
  responses: { 200: ok(PathsData, "The most common paths"), ...errors(...ANALYTICS) },
});

export const occupancyAnalyticsRoute = route({
  method: "get",
  path: "/v1/analytics/occupancy",
  operationId: "getOccupancyAnalytics",
  summary: "Concurrent sessions per hour or day: the exact peak and the time-weighted average",
  tags: analyticsTags,
  request: { query: OccupancyAnalyticsQuery },
  responses: { 200: ok(OccupancyAnalyticsData, "Occupancy per bucket"), ...errors(...ANALYTICS) },
});

export const healthRoute = route({
  operationId: "getHealth",
  method: "get",
  path: "/healthz",
  summary: "Liveness check (no key needed)",
  tags: ["service"],
  security: PUBLIC,
  responses: { 200: ok(z.object({ status: z.literal("ok") }), "The Worker is serving") },
});

export const openApiRoute = route({
  operationId: "getOpenApiDocument",
  method: "get",
  path: "/openapi.json",
  summary: "This OpenAPI 3.1 document (no key needed)",
  tags: ["service"],
  security: PUBLIC,
  responses: {
    200: {
      description: "The OpenAPI document",
      content: {
        "application/json": {
          schema: z.record(z.string(), z.unknown()).openapi({ description: "An OpenAPI 3.1 document", additionalProperties: true }),
        },
      },
    },
  },
});

/**
 * Answers no operation documents, for paths or methods the API does not serve. The test suite
 * holds every such answer to these.
 */
const FALLBACK_RESPONSES = {
  NotFound: fallback("NOT_FOUND", "No such route"),
  MethodNotAllowed: fallback("METHOD_NOT_ALLOWED", "The path exists; the method does not", "Allow"),
};

function fallback(code: ErrorCode, description: string, ...headers: ResponseHeader[]) {
  return {
    description: `${code}: ${description}`,
    "x-error-codes": [code],
    headers: Object.fromEntries([...EVERY_RESPONSE, ...headers].map((name) => [name, headerRef(name)])),
    // Registered as is (not converted from zod), so it names the schema the routes' errors register.
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
}

/** The document's own parts: info, servers, tags and the components routes refer to. */
export function registerDocument(registry: OpenAPIHono["openAPIRegistry"]) {
  registry.registerComponent("securitySchemes", "SdkKey", {
    type: "http",
    scheme: "bearer",
    description: "An SDK key: from the tenant registry (`psa_...`, made by the admin API) or `SDK_KEYS`; it names the tenant.",
  });
  registry.registerComponent("securitySchemes", "AdminKey", {
    type: "http",
    scheme: "bearer",
    description: "An operator's admin key, whose SHA-256 is listed in `ADMIN_KEYS`.",
  });
  for (const [name, header] of Object.entries(RESPONSE_HEADERS)) registry.registerComponent("headers", name, header);
  for (const [name, response] of Object.entries(FALLBACK_RESPONSES)) registry.registerComponent("responses", name, response);
}

export const DOCUMENT: Parameters<OpenAPIHono["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "Persona session API",
    // One number for the API and the client package that speaks it.
    version: clientPackage.version,
    description: [
      "Record each persona's visit as a session of timestamped status stamps.",
      "",
      "Every error uses the envelope `{success: false, error: {code, message, details?, request_id}}`. The codes:",
      "",
      "| code | status |",
      "| --- | --- |",
      ...ERROR_CODES.map((code) => `| ${code} | ${ERRORS[code].status} |`),
      "",
      "A path the API does not serve answers `#/components/responses/NotFound`; a method a path does not accept, `#/components/responses/MethodNotAllowed`.",
    ].join("\n"),
    // An SPDX identifier is OpenAPI 3.1's; the generator's config type is 3.0's, which lacks it.
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" } as { name: string },
    contact: { name: "Persona session API maintainers" },
  },
  servers: [{ url: "/", description: "The origin serving this document (npm run dev: http://localhost:8787)" }],
  tags: [
    { name: "sessions", description: "A persona's visits: start, stamps, end, the active session and past ones." },
    { name: "personas", description: "Everything stored for one persona." },
    { name: "tenant", description: "A tenant's own settings and keys (admin-scoped SDK keys)." },
    { name: "stores", description: "Where sessions happen: a tenant's stores (reads with any key, changes with admin-scoped keys)." },
    { name: "admin", description: "Operators: tenants, their keys, their stores and the audit log (ADMIN_KEYS)." },
    { name: "tenant index", description: "Tenant-wide reads across personas: who is in a session now, session search." },
    { name: "analytics", description: "Visit analytics for the tenant: funnels, time in each status, visits over time." },
    { name: "service", description: "Liveness and this document; no key needed." },
  ],
};
