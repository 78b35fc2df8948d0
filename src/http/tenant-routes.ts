import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LIMITS } from "../limits";
import { TenantService } from "../tenants/service";
import { requireScope } from "./auth";
import { jsonBody } from "./body";
import type { AppEnv } from "./context";
import { createOwnKeyRoute, getOwnTenantRoute, listOwnKeysRoute, revokeOwnKeyRoute, updateOwnTenantRoute } from "./tenant-contract";

const service = (c: Context<AppEnv>) => new TenantService(c.env, c.get("actor"), c.get("requestId"));
const adminOnly = requireScope("admin", "Only an admin-scoped key may see or change its tenant's settings and keys.");
const body = [adminOnly, jsonBody({ maxBytes: LIMITS.adminBodyMaxBytes })];

/**
 * A tenant's self-service, /v1/tenant, with an admin-scoped SDK key: its settings and its own keys,
 * never another tenant's. Static SDK_KEYS keys are never admin-scoped, so they get 403 here.
 */
export function tenantRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi({ ...getOwnTenantRoute, middleware: [adminOnly] }, async (c) => {
      return c.json({ success: true as const, data: await service(c).getTenant(c.get("tenant")) }, 200);
    })
    .openapi({ ...updateOwnTenantRoute, middleware: body }, async (c) => {
      const data = await service(c).updateTenant(c.get("tenant"), { settings: c.req.valid("json").settings });
      return c.json({ success: true as const, data }, 200);
    })
    .openapi({ ...listOwnKeysRoute, middleware: [adminOnly] }, async (c) => {
      const { limit, cursor } = c.req.valid("query");
      return c.json({ success: true as const, data: await service(c).listKeys(c.get("tenant"), limit, cursor, true) }, 200);
    })
    .openapi({ ...createOwnKeyRoute, middleware: body }, async (c) => {
      return c.json({ success: true as const, data: await service(c).createKey(c.get("tenant"), c.req.valid("json"), true) }, 201);
    })
    .openapi({ ...revokeOwnKeyRoute, middleware: [adminOnly] }, async (c) => {
      await service(c).revokeKey(c.get("tenant"), c.req.valid("param").key_id);
      return c.body(null, 204);
    });
}
