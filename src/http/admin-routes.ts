import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LIMITS } from "../limits";
import { monthOf, monthShard } from "../tenant-index/messages";
import { resendPage } from "../tenant-index/rebuild";
import { TenantService } from "../tenants/service";
import { jsonBody } from "./body";
import type { AppEnv } from "./context";
import { cursor, invalid } from "./paging";
import {
  checkTenantIndexRoute,
  createTenantKeyRoute,
  createTenantRoute,
  getTenantRoute,
  listAuditEntriesRoute,
  listTenantKeysRoute,
  listTenantsRoute,
  resendTenantIndexRoute,
  revokeTenantKeyRoute,
  updateTenantRoute,
} from "./tenant-contract";

const service = (c: Context<AppEnv>) => new TenantService(c.env, c.get("actor"), c.get("requestId"));
const body = () => [jsonBody({ maxBytes: LIMITS.adminBodyMaxBytes })];

/** The operators' API, /admin/v1 (authenticated by ADMIN_KEYS in src/tenants/admin-auth.ts). */
export function adminRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi({ ...createTenantRoute, middleware: body() }, async (c) => {
      return c.json({ success: true as const, data: await service(c).createTenant(c.req.valid("json")) }, 201);
    })
    .openapi(listTenantsRoute, async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json({ success: true as const, data: await service(c).listTenants(limit, cursor) }, 200);
    })
    .openapi(getTenantRoute, async (c) => {
      return c.json({ success: true as const, data: await service(c).getTenant(c.req.valid("param").tenant_id) }, 200);
    })
    .openapi({ ...updateTenantRoute, middleware: body() }, async (c) => {
      const data = await service(c).updateTenant(c.req.valid("param").tenant_id, c.req.valid("json"));
      return c.json({ success: true as const, data }, 200);
    })
    .openapi({ ...createTenantKeyRoute, middleware: body() }, async (c) => {
      const data = await service(c).createKey(c.req.valid("param").tenant_id, c.req.valid("json"));
      return c.json({ success: true as const, data }, 201);
    })
    .openapi(listTenantKeysRoute, async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json({ success: true as const, data: await service(c).listKeys(c.req.valid("param").tenant_id, limit, cursor) }, 200);
    })
    .openapi(revokeTenantKeyRoute, async (c) => {
      const { tenant_id, key_id } = c.req.valid("param");
      await service(c).revokeKey(tenant_id, key_id);
      return c.body(null, 204);
    })
    .openapi(resendTenantIndexRoute, async (c) => {
      const { tenant_id } = c.req.valid("param");
      const { since, limit, cursor: given } = c.req.valid("query");
      const after = given === undefined ? "" : cursor.decode("r", given, /^(.{1,128})$/)[0]!;
      const from = since === undefined ? Date.now() - 92 * 86_400_000 : Date.parse(since);
      // Retention is at most 10 years: no shard older than that can hold anything.
      if (from > Date.now() || from < Date.now() - LIMITS.retentionMaxDays * 86_400_000) {
        throw invalid("since", `since must be in the last ${LIMITS.retentionMaxDays} days.`);
      }
      const page = await resendPage(c.env, tenant_id, from, after, limit ?? LIMITS.listPageDefault);
      const next_cursor = page.next_after === null ? null : cursor.encode("r", page.next_after);
      return c.json({ success: true as const, data: { personas: page.personas, next_cursor } }, 200);
    })
    .openapi(checkTenantIndexRoute, async (c) => {
      const { tenant_id } = c.req.valid("param");
      const { month = monthOf(Date.now()), repair } = c.req.valid("query");
      const result = await c.env.TENANT_INDEX.getByName(monthShard(tenant_id, month)).checkBlocks(repair === "true");
      return c.json({ success: true as const, data: { month, ...result } }, 200);
    })
    .openapi(listAuditEntriesRoute, async (c) => {
      const { tenant_id, limit, cursor } = c.req.valid("query");
      return c.json({ success: true as const, data: await service(c).listAudit(tenant_id, limit, cursor) }, 200);
    });
}
