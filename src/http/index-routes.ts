import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { iso } from "../ids";
import { LIMITS } from "../limits";
import { liveShard, monthShard, monthsBetween } from "../tenant-index/messages";
import type { IndexedSession } from "../tenant-index/store";
import { storeDirectory } from "../tenants/store-cache";
import type { AppEnv } from "./context";
import { activeRoute, occupancyRoute, searchRoute } from "./contract";
import { asOf, cursor, range } from "./paging";

/** A page position: a time (ms) and the id that breaks ties. */
const POSITION = /^(-?[0-9]{1,16}):(.{1,200})$/;
const position = ([ms, id]: string[]): [number, string] => [Number(ms), id!];

const shard = (c: Context<AppEnv>, name: string) => c.env.TENANT_INDEX.getByName(name);

export function indexRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi(activeRoute, async (c) => {
      const query = c.req.valid("query");
      const limit = query.limit ?? LIMITS.indexPageDefault;
      const after = query.cursor === undefined ? null : position(cursor.decode("a", query.cursor, POSITION));
      const page = await shard(c, liveShard(c.get("tenant"))).active({
        status: query.status ?? null,
        store: query.store_id ?? null,
        after,
        limit: limit + 1,
      });
      const rows = page.sessions.slice(0, limit);
      const last = rows.at(-1);
      return c.json(
        {
          success: true as const,
          data: {
            sessions: rows.map((r) => ({
              persona_id: r.persona_id,
              session_id: r.session_id,
              started_at: iso(r.started_at),
              status: r.status,
              status_since: iso(r.status_since),
              stamp_count: r.stamp_count,
              store_id: r.store_id,
              kiosk_id: r.kiosk_id,
            })),
            counts_by_status: page.counts,
            total_active: page.total,
            as_of: asOf([page.applied_at]),
            next_cursor: page.sessions.length > limit && last ? cursor.encode("a", last.started_at, last.persona_id) : null,
          },
        },
        200,
      );
    })
    .openapi(occupancyRoute, async (c) => {
      const query = c.req.valid("query");
      const tenant = c.get("tenant");
      const limit = query.limit ?? LIMITS.listPageDefault;
      const after = query.cursor === undefined ? null : cursor.decode("o", query.cursor, /^([0-9]{1,9}):([A-Za-z0-9_.-]{1,64})$/);
      const [live, directory] = await Promise.all([shard(c, liveShard(tenant)).occupancy(), storeDirectory(c.env, tenant)]);
      const byStore = new Map<string, Record<string, number>>();
      let noStore = 0;
      for (const row of live.rows) {
        if (row.store_id === null) {
          noStore += row.n;
          continue;
        }
        const counts = byStore.get(row.store_id) ?? {};
        // Defined, not assigned: a label may be `__proto__`, which an assignment would swallow.
        Object.defineProperty(counts, row.status, { value: row.n, enumerable: true, writable: true, configurable: true });
        byStore.set(row.store_id, counts);
      }
      const ids = new Set<string>();
      for (const [id, store] of directory) if (query.tag === undefined || store.tags.includes(query.tag)) ids.add(id);
      if (query.tag === undefined) for (const id of byStore.keys()) ids.add(id);
      const all = [...ids].map((id) => {
        const by_status = byStore.get(id) ?? {};
        const active = Object.values(by_status).reduce((a, b) => a + b, 0);
        const capacity = directory.get(id)?.capacity ?? null;
        return {
          store_id: id,
          name: directory.get(id)?.name ?? null,
          active,
          capacity,
          utilization: capacity === null ? null : Math.round((active / capacity) * 10_000) / 10_000,
          by_status,
        };
      });
      all.sort((a, b) => b.active - a.active || (a.store_id < b.store_id ? -1 : 1));
      // The cursor is a position in that order (active, then store_id): a store whose count changed between pages may show twice or not at all.
      const rest =
        after === null ? all : all.filter((s) => s.active < Number(after[0]) || (s.active === Number(after[0]) && s.store_id > after[1]!));
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      return c.json(
        {
          success: true as const,
          data: {
            stores: page,
            total_active: all.reduce((n, s) => n + s.active, 0),
            no_store_active: noStore,
            as_of: asOf([live.applied_at]),
            next_cursor: rest.length > limit && last ? cursor.encode("o", last.active, last.store_id) : null,
          },
        },
        200,
      );
    })
    .openapi(searchRoute, async (c) => {
      const query = c.req.valid("query");
      const to = query.to === undefined ? Date.now() : Date.parse(query.to);
      const { from } = range({ from: query.from === undefined ? to - 86_400_000 : Date.parse(query.from), to });
      const limit = query.limit ?? LIMITS.indexPageDefault;
      const before = query.cursor === undefined ? null : position(cursor.decode("s", query.cursor, POSITION));
      const tenant = c.get("tenant");
      // Each month's shard gives its newest `limit + 1`; the merge keeps the newest overall.
      const pages = await Promise.all(
        monthsBetween(from, to).map((month) =>
          shard(c, monthShard(tenant, month)).search({
            from,
            to,
            before,
            persona: query.persona_id ?? null,
            endReason: query.end_reason ?? null,
            status: query.status ?? null,
            store: query.store_id ?? null,
            kiosk: query.kiosk_id ?? null,
            limit: limit + 1,
          }),
        ),
      );
      const merged = pages
        .flatMap((p) => p.sessions)
        .sort((a: IndexedSession, b: IndexedSession) => b.started_at - a.started_at || (b.session_id > a.session_id ? 1 : -1));
      const rows = merged.slice(0, limit);
      const last = rows.at(-1);
      return c.json(
        {
          success: true as const,
          data: {
            sessions: rows.map((r) => ({
              persona_id: r.persona_id,
              session_id: r.session_id,
              started_at: iso(r.started_at),
              ended_at: r.ended_at === null ? null : iso(r.ended_at),
              end_reason: r.end_reason,
              stamp_count: r.stamp_count,
              last_status: r.last_status,
              store_id: r.store_id,
              kiosk_id: r.kiosk_id,
            })),
            as_of: asOf(pages.map((p) => p.applied_at)),
            next_cursor: merged.length > limit && last ? cursor.encode("s", last.started_at, last.session_id) : null,
          },
        },
        200,
      );
    });
}
