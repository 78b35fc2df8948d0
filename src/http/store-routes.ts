import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LIMITS } from "../limits";
import { TenantService } from "../tenants/service";
import { requireScope } from "./auth";
import { jsonBody } from "./body";
import type { AppEnv } from "./context";
import {
  deleteStoreRoute,
  deleteTenantStoreRoute,
  getStoreRoute,
  getTenantStoreRoute,
  listStoresRoute,
  listTenantStoresRoute,
  putStoreRoute,
  putStoresRoute,
  putTenantStoreRoute,
  putTenantStoresRoute,
} from "./store-contract";
import { storeInput } from "./store-schemas";

const service = (c: Context<AppEnv>) => new TenantService(c.env, c.get("actor"), c.get("requestId"));
const adminOnly = requireScope("admin", "Only an admin-scoped key may change its tenant's stores.");
const oneStore = () => jsonBody({ maxBytes: LIMITS.adminBodyMaxBytes });
const manyStores = () => jsonBody({ maxBytes: LIMITS.storesBodyMaxBytes });

/** A tenant's store registry: reads with any of its keys, changes with an admin-scoped one. */
export function storeRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi({ ...putStoresRoute, middleware: [adminOnly, manyStores()] }, async (c) => {
      const { stores } = c.req.valid("json");
      const data = await service(c).putStores(
        c.get("tenant"),
        stores.map(({ store_id, ...s }) => storeInput(store_id, s)),
        true,
      );
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(listStoresRoute, async (c) => {
      return c.json({ success: true as const, data: await service(c).listStores(c.get("tenant"), c.req.valid("query"), true) }, 200);
    })
    .openapi({ ...putStoreRoute, middleware: [adminOnly, oneStore()] }, async (c) => {
      const { store_id } = c.req.valid("param");
      const { store, created } = await service(c).putStore(c.get("tenant"), storeInput(store_id, c.req.valid("json")), true);
      return created ? c.json({ success: true as const, data: store }, 201) : c.json({ success: true as const, data: store }, 200);
    })
    .openapi(getStoreRoute, async (c) => {
      const data = await service(c).getStore(c.get("tenant"), c.req.valid("param").store_id, true);
      return c.json({ success: true as const, data }, 200);
    })
    .openapi({ ...deleteStoreRoute, middleware: [adminOnly] }, async (c) => {
      await service(c).deleteStore(c.get("tenant"), c.req.valid("param").store_id, true);
      return c.body(null, 204);
    });
}

/** The operators' mirror under /admin/v1/tenants/{tenant_id}/stores. */
export function adminStoreRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .openapi({ ...putTenantStoresRoute, middleware: [manyStores()] }, async (c) => {
      const { stores } = c.req.valid("json");
      const data = await service(c).putStores(
        c.req.valid("param").tenant_id,
        stores.map(({ store_id, ...s }) => storeInput(store_id, s)),
      );
      return c.json({ success: true as const, data }, 200);
    })
    .openapi(listTenantStoresRoute, async (c) => {
      const data = await service(c).listStores(c.req.valid("param").tenant_id, c.req.valid("query"));
      return c.json({ success: true as const, data }, 200);
    })
    .openapi({ ...putTenantStoreRoute, middleware: [oneStore()] }, async (c) => {
      const { tenant_id, store_id } = c.req.valid("param");
      const { store, created } = await service(c).putStore(tenant_id, storeInput(store_id, c.req.valid("json")));
      return created ? c.json({ success: true as const, data: store }, 201) : c.json({ success: true as const, data: store }, 200);
    })
    .openapi(getTenantStoreRoute, async (c) => {
      const { tenant_id, store_id } = c.req.valid("param");
      return c.json({ success: true as const, data: await service(c).getStore(tenant_id, store_id) }, 200);
    })
    .openapi(deleteTenantStoreRoute, async (c) => {
      const { tenant_id, store_id } = c.req.valid("param");
      await service(c).deleteStore(tenant_id, store_id);
      return c.body(null, 204);
    });
}
