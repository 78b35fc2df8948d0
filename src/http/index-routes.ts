import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { iso } from "../ids";
import { LIMITS } from "../limits";
import { liveShard, monthShard, monthsBetween } from "../tenant-index/messages";
import type { IndexedSession } from "../tenant-index/store";
import type { AppEnv } from "./context";
import { activeRoute, searchRoute } from "./contract";
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
      const page = await shard(c, liveShard(c.get("tenant"))).active({ status: query.status ?? null, after, limit: limit + 1 });
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
            })),
            as_of: asOf(pages.map((p) => p.applied_at)),
            next_cursor: merged.length > limit && last ? cursor.encode("s", last.started_at, last.session_id) : null,
          },
        },
        200,
      );
    });
}
