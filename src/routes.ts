import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { jsonBody } from "./body";
import type { AppEnv } from "./context";
import type { IdempotencyInput, SessionView } from "./domain";
import { unwrap } from "./envelope";
import { ApiError, ERRORS, type ErrorCode } from "./errors";
import { sha256Hex } from "./ids";
import { LIMITS } from "./limits";
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
const COMMON: ErrorCode[] = ["UNAUTHORIZED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"];
const WRITE: ErrorCode[] = [...COMMON, "FORBIDDEN", "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE", "INVALID_JSON", "IDEMPOTENCY_KEY_REUSED"];

/** Read-only keys may only read. */
function requireWriteScope(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get("readOnly")) throw new ApiError("FORBIDDEN");
    await next();
  };
}

const writeGuards = (maxBytes: number) => [requireWriteScope(), jsonBody({ maxBytes })];

const security = [{ SdkKey: [] }];
const tags = ["sessions"];

export const startRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/start",
  summary: "Start a session (records ENTER)",
  tags,
  security,
  middleware: writeGuards(LIMITS.bodyMaxBytes),
  request: { params: PersonaParams, headers: IdempotencyHeaders, body: body(StartBody, false) },
  responses: { 201: ok(StartData, "Session started"), ...errors(...WRITE, "SESSION_ACTIVE") },
});

export const stampRoute = createRoute({
  method: "post",
  path: "/v1/persona/{persona_id}/session/stamp",
  summary: "Record a status stamp",
  tags,
  security,
  middleware: writeGuards(LIMITS.bodyMaxBytes),
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
  middleware: writeGuards(LIMITS.batchBodyMaxBytes),
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
  middleware: writeGuards(LIMITS.bodyMaxBytes),
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
  middleware: [requireWriteScope()],
  request: { params: PersonaParams },
  responses: { 204: { description: "Erased (also when there was nothing to erase)" }, ...errors(...COMMON, "FORBIDDEN") },
});

function persona(c: Context<AppEnv>, personaId: string) {
  // Tenant ids cannot contain ':', so the name is unambiguous: tenants never share an object.
  return c.env.PERSONA.getByName(`${c.get("tenant")}:${personaId}`);
}

async function idempotency(c: Context<AppEnv>, key: string | undefined): Promise<IdempotencyInput | undefined> {
  if (key === undefined) return undefined;
  return { key, fingerprint: `${c.req.method} ${c.req.path} ${await sha256Hex(c.get("rawBody"))}` };
}

/** A session as the API shows it: stored meta text becomes the `meta` object again. */
function sessionData(personaId: string, { session_id, stamps, ...rest }: SessionView) {
  return {
    session_id,
    persona_id: personaId,
    ...rest,
    stamps: stamps.map(({ meta_json, ...stamp }) =>
      // meta_json is text this API validated as a JSON object before storing it.
      meta_json === undefined ? stamp : { ...stamp, meta: JSON.parse(meta_json) as Record<string, unknown> },
    ),
  };
}

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

const cursor = {
  encode: (sessionId: string) => btoa(`s:${sessionId}`).replace(/=+$/, ""),
  decode(value: string): string {
    let decoded = "";
    try {
      decoded = atob(value);
    } catch {
      // fall through to the error below
    }
    const match = /^s:([0-9a-f-]{36})$/.exec(decoded);
    if (!match) throw new ApiError("VALIDATION_ERROR", "cursor is not a cursor this API gave out.", { fields: [{ path: "cursor", message: "invalid cursor" }] });
    return match[1]!;
  },
};

export function sessionRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi(startRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const outcome = await persona(c, persona_id).start({
        occurredAt: ms(input.occurred_at),
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      const data = unwrap(c, outcome);
      return c.json({ success: true as const, data: { session_id: data.session_id, persona_id, started_at: data.started_at } }, 201);
    })
    .openapi(stampRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const outcome = await persona(c, persona_id).stamp({
        status: input.status,
        metaJson: input.meta === undefined ? undefined : JSON.stringify(input.meta),
        occurredAt: ms(input.occurred_at),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: unwrap(c, outcome) }, 201);
    })
    .openapi(stampsRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const outcome = await persona(c, persona_id).stamps({
        items: input.stamps.map((s) => ({
          status: s.status,
          metaJson: s.meta === undefined ? undefined : JSON.stringify(s.meta),
          occurredAt: ms(s.occurred_at),
        })),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: unwrap(c, outcome) }, 201);
    })
    .openapi(endRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const outcome = await persona(c, persona_id).end({
        occurredAt: ms(input.occurred_at),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: sessionData(persona_id, unwrap(c, outcome)) }, 200);
    })
    .openapi(currentRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const data = unwrap(c, await persona(c, persona_id).current(c.req.header("if-none-match")));
      c.header("ETag", data.etag);
      if (!data.session) return c.body(null, 304);
      return c.json({ success: true as const, data: sessionData(persona_id, data.session) }, 200);
    })
    .openapi(historyRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const query = c.req.valid("query");
      const after = query.cursor === undefined ? null : cursor.decode(query.cursor);
      const page = unwrap(c, await persona(c, persona_id).history(query.limit ?? LIMITS.historyPageDefault, after));
      return c.json(
        {
          success: true as const,
          data: { sessions: page.sessions, next_cursor: page.next_after === null ? null : cursor.encode(page.next_after) },
        },
        200,
      );
    })
    .openapi(sessionRoute, async (c) => {
      const { persona_id, session_id } = c.req.valid("param");
      const data = unwrap(c, await persona(c, persona_id).session(session_id));
      return c.json({ success: true as const, data: sessionData(persona_id, data) }, 200);
    })
    .openapi(eraseRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      await persona(c, persona_id).erase();
      return c.body(null, 204);
    });
}
