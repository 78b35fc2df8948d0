import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ApiError } from "../errors";
import { sha256Hex } from "../ids";
import { LIMITS } from "../limits";
import type { IdempotencyInput, SessionView, StampItem, StartInput } from "../persona/domain";
import { isRegisteredStore } from "../tenants/store-cache";
import { requireScope } from "./auth";
import { jsonBody } from "./body";
import type { AppEnv } from "./context";
import { currentRoute, endRoute, eraseRoute, historyRoute, sessionRoute, stampRoute, stampsRoute, startRoute } from "./contract";
import { unwrap } from "./envelope";
import { cursor } from "./paging";

/** Read-only keys may only read. */
const requireWriteScope = () => requireScope("write", "This key is read-only: it cannot change data.");

/** Writes: scope first, then the body checks in their documented order (415, 413, 400). */
const writeGuards = (maxBytes: number) => [requireWriteScope(), jsonBody({ maxBytes })];

/**
 * The tenant's statuses allow-list, checked after the body's own validation and before the object
 * is called (so a refused stamp costs the object nothing). ENTER, recorded by start, is not a stamp.
 */
function checkStatuses(c: Context<AppEnv>, statuses: string[], batch: boolean): void {
  const allowed = c.get("statuses");
  if (!allowed) return;
  const index = statuses.findIndex((s) => !allowed.has(s));
  if (index < 0) return;
  const status = statuses[index]!;
  throw new ApiError("UNKNOWN_STATUS", `${JSON.stringify(status)} is not one of this tenant's statuses.`, {
    status,
    ...(batch ? { index } : {}),
    allowed: [...allowed],
  });
}

/**
 * Where a start happens: the store named, else the key's; the verdict on it (another store than
 * the key's, a store the tenant has not registered, none where the tenant requires one) goes to
 * the object as a refusal, which it gives after its idempotency check, so a retried start that
 * succeeded still replays its success. The registry's store ids come from the per-isolate cache:
 * no D1 query per start.
 */
async function resolvePlace(
  c: Context<AppEnv>,
  named: string | undefined,
  kioskId: string | undefined,
): Promise<Pick<StartInput, "storeId" | "kioskId" | "refusal">> {
  const bound = c.get("boundStore");
  const storeId = named ?? bound;
  const place = { storeId, kioskId: kioskId ?? null };
  if (bound !== null && named !== undefined && named !== bound) {
    return {
      ...place,
      refusal: {
        code: "STORE_FORBIDDEN",
        message: `This key is bound to store ${bound}: its sessions are in that store.`,
        details: { store_id: named, bound_store_id: bound },
      },
    };
  }
  if (storeId === null) {
    return c.get("requireStore") ? { ...place, refusal: { code: "STORE_REQUIRED" } } : place;
  }
  if (!(await isRegisteredStore(c.env, c.get("tenant"), storeId))) {
    return { ...place, refusal: { code: "UNKNOWN_STORE", details: { store_id: storeId } } };
  }
  return place;
}

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

/** A validated stamp as the object takes it: meta as the JSON text it will store. */
function stampItem(input: { status: string; meta?: Record<string, unknown>; occurred_at?: string }): StampItem {
  return {
    status: input.status,
    metaJson: input.meta === undefined ? undefined : JSON.stringify(input.meta),
    occurredAt: ms(input.occurred_at),
  };
}

export function sessionRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi({ ...startRoute, middleware: writeGuards(LIMITS.bodyMaxBytes) }, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const place = await resolvePlace(c, input.store_id, input.kiosk_id);
      const outcome = await persona(c, persona_id).start(c.get("policy"), {
        occurredAt: ms(input.occurred_at),
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
        ...place,
      });
      const { session_id, started_at, store_id, kiosk_id } = unwrap(c, outcome);
      return c.json({ success: true as const, data: { session_id, persona_id, started_at, store_id, kiosk_id } }, 201);
    })
    .openapi({ ...stampRoute, middleware: writeGuards(LIMITS.bodyMaxBytes) }, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      checkStatuses(c, [input.status], false);
      const outcome = await persona(c, persona_id).stamp(c.get("policy"), {
        ...stampItem(input),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: unwrap(c, outcome) }, 201);
    })
    .openapi({ ...stampsRoute, middleware: writeGuards(LIMITS.batchBodyMaxBytes) }, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      checkStatuses(
        c,
        input.stamps.map((s) => s.status),
        true,
      );
      const outcome = await persona(c, persona_id).stamps(c.get("policy"), {
        items: input.stamps.map(stampItem),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: unwrap(c, outcome) }, 201);
    })
    .openapi({ ...endRoute, middleware: writeGuards(LIMITS.bodyMaxBytes) }, async (c) => {
      const { persona_id } = c.req.valid("param");
      const input = c.req.valid("json");
      const outcome = await persona(c, persona_id).end(c.get("policy"), {
        occurredAt: ms(input.occurred_at),
        sessionId: input.session_id,
        idempotency: await idempotency(c, c.req.valid("header")["idempotency-key"]),
      });
      return c.json({ success: true as const, data: sessionData(persona_id, unwrap(c, outcome)) }, 200);
    })
    .openapi(currentRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const data = unwrap(c, await persona(c, persona_id).current(c.get("policy"), c.req.header("if-none-match")));
      c.header("ETag", data.etag);
      if (!data.session) return c.body(null, 304);
      return c.json({ success: true as const, data: sessionData(persona_id, data.session) }, 200);
    })
    .openapi(historyRoute, async (c) => {
      const { persona_id } = c.req.valid("param");
      const query = c.req.valid("query");
      const after = query.cursor === undefined ? null : cursor.decode("s", query.cursor, /^([0-9a-f-]{36})$/)[0]!;
      const page = unwrap(c, await persona(c, persona_id).history(c.get("policy"), query.limit ?? LIMITS.historyPageDefault, after));
      return c.json(
        {
          success: true as const,
          data: { sessions: page.sessions, next_cursor: page.next_after === null ? null : cursor.encode("s", page.next_after) },
        },
        200,
      );
    })
    .openapi(sessionRoute, async (c) => {
      const { persona_id, session_id } = c.req.valid("param");
      const data = unwrap(c, await persona(c, persona_id).session(c.get("policy"), session_id));
      return c.json({ success: true as const, data: sessionData(persona_id, data) }, 200);
    })
    .openapi({ ...eraseRoute, middleware: [requireWriteScope()] }, async (c) => {
      const { persona_id } = c.req.valid("param");
      await persona(c, persona_id).erase();
      return c.body(null, 204);
    });
}
