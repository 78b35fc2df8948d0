// The store registry: create, replace, list, delete, bulk all-or-nothing, audit entries, isolation.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../src/limits";
import { admin, api, KEYS, newKey, newTenant } from "./helpers";

const store = (over: Record<string, unknown> = {}) => ({ name: "Lyon Part-Dieu", time_zone: "Europe/Paris", country: "FR", ...over });

async function adminKeyOf(tenant: string) {
  return (await newKey(tenant, "admin")).key;
}

const storeRows = async (tenant: string) =>
  (
    await env.DB.prepare("SELECT store_id, name, time_zone, country, tags, capacity FROM stores WHERE tenant_id = ? ORDER BY store_id")
      .bind(tenant)
      .all()
  ).results;

const auditOf = async (tenant: string) =>
  (await admin(`/audit?tenant_id=${tenant}&limit=100`)).json.data.entries.map(
    (e: { action: string; details: Record<string, unknown> }) => ({
      action: e.action,
      details: e.details,
    }),
  );

describe("a tenant's store registry", () => {
  it("creates a store (201), replaces it (200), shows it, and audits each change once", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    const created = await api("/v1/stores/lyon-01", { method: "PUT", key, body: store({ tags: ["region:south"], capacity: 80 }) });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({
      store_id: "lyon-01",
      name: "Lyon Part-Dieu",
      time_zone: "Europe/Paris",
      country: "FR",
      tags: ["region:south"],
      capacity: 80,
    });
    const same = await api("/v1/stores/lyon-01", { method: "PUT", key, body: store({ tags: ["region:south"], capacity: 80 }) });
    expect(same.status).toBe(200);
    const replaced = await api("/v1/stores/lyon-01", { method: "PUT", key, body: { name: "Lyon", time_zone: "Europe/Paris" } });
    expect(replaced.status).toBe(200);
    // A PUT replaces: fields left out are cleared.
    expect(replaced.json.data).toMatchObject({ name: "Lyon", country: null, tags: [], capacity: null });
    expect(replaced.json.data.created_at).toBe(created.json.data.created_at);
    const got = await api("/v1/stores/lyon-01", { key: (await newKey(tenant, "read")).key });
    expect(got.status).toBe(200);
    expect(got.json.data).toEqual(replaced.json.data);
    const entries = (await auditOf(tenant)).filter((e: { action: string }) => e.action.startsWith("store."));
    // Newest first: the replacement, then the creation; the PUT that changed nothing left no entry.
    expect(entries).toEqual([
      {
        action: "store.replace",
        details: {
          store_id: "lyon-01",
          before: { name: "Lyon Part-Dieu", time_zone: "Europe/Paris", country: "FR", tags: ["region:south"], capacity: 80 },
          after: { name: "Lyon", time_zone: "Europe/Paris", country: null, tags: [], capacity: null },
        },
      },
      {
        action: "store.create",
        details: {
          store_id: "lyon-01",
          after: { name: "Lyon Part-Dieu", time_zone: "Europe/Paris", country: "FR", tags: ["region:south"], capacity: 80 },
        },
      },
    ]);
  });

  it("lists stores in id order, paged, filtered by tag", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    const stores = Array.from({ length: 25 }, (_, i) => ({
      store_id: `s-${String(i).padStart(3, "0")}`,
      ...store({ tags: i % 5 === 0 ? ["flagship"] : [] }),
    }));
    const put = await api("/v1/stores", { method: "PUT", key, body: { stores } });
    expect(put.status).toBe(200);
    expect(put.json.data).toEqual({ created: 25, replaced: 0, unchanged: 0 });
    const first = await api("/v1/stores?limit=10", { key });
    expect(first.json.data.stores.map((s: { store_id: string }) => s.store_id)).toEqual(stores.slice(0, 10).map((s) => s.store_id));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof api>> = await api(`/v1/stores?limit=7${cursor ? `&cursor=${cursor}` : ""}`, { key });
      seen.push(...page.json.data.stores.map((s: { store_id: string }) => s.store_id));
      cursor = page.json.data.next_cursor;
    } while (cursor);
    expect(seen).toEqual(stores.map((s) => s.store_id));
    const flagship = await api("/v1/stores?tag=flagship", { key });
    expect(flagship.json.data.stores.map((s: { store_id: string }) => s.store_id)).toEqual(["s-000", "s-005", "s-010", "s-015", "s-020"]);
  });

  it("bulk put is all or nothing: one bad store among a thousand stores nothing", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    const stores = Array.from({ length: LIMITS.storesPerPut }, (_, i) => ({ store_id: `b-${i}`, ...store() }));
    stores[637] = { ...stores[637]!, time_zone: "Mars/Olympus_Mons" };
    const bad = await api("/v1/stores", { method: "PUT", key, body: { stores } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_ERROR");
    expect(bad.json.error.details.fields[0].path).toBe("stores.637.time_zone");
    expect(await storeRows(tenant)).toEqual([]);
    stores[637] = { ...stores[637]!, time_zone: "Europe/Paris" };
    const good = await api("/v1/stores", { method: "PUT", key, body: { stores } });
    expect(good.status).toBe(200);
    expect(good.json.data).toEqual({ created: 1000, replaced: 0, unchanged: 0 });
    // Again with two changed: two replaced, the rest unchanged, two audit entries.
    stores[3] = { ...stores[3]!, name: "Three" };
    stores[999] = { ...stores[999]!, capacity: 5 } as (typeof stores)[number];
    const again = await api("/v1/stores", { method: "PUT", key, body: { stores } });
    expect(again.json.data).toEqual({ created: 0, replaced: 2, unchanged: 998 });
    const actions = (await auditOf(tenant)).filter((e: { action: string }) => e.action === "store.replace");
    expect(actions.map((e: { details: { store_id: string } }) => e.details.store_id).sort()).toEqual(["b-3", "b-999"]);
    const tooMany = await api("/v1/stores", { method: "PUT", key, body: { stores: [...stores, { store_id: "b-x", ...store() }] } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.error.details.fields[0].path).toBe("stores");
    expect((await storeRows(tenant)).length).toBe(1000);
  }, 30_000); // 1,000 stores in one D1 batch: 1-5 s on a loaded 2-core machine

  it("refuses a store_id given twice in one bulk put, naming the second", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    const res = await api("/v1/stores", {
      method: "PUT",
      key,
      body: {
        stores: [
          { store_id: "a", ...store() },
          { store_id: "b", ...store() },
          { store_id: "a", ...store() },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields).toEqual([{ path: "stores.2.store_id", message: "store_id is given twice" }]);
    expect(await storeRows(tenant)).toEqual([]);
  });

  it("deletes a store (then 404), and audits it with what it was", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    await api("/v1/stores/gone", { method: "PUT", key, body: store() });
    expect((await api("/v1/stores/gone", { method: "DELETE", key })).status).toBe(204);
    expect((await api("/v1/stores/gone", { key })).json.error.code).toBe("STORE_NOT_FOUND");
    const again = await api("/v1/stores/gone", { method: "DELETE", key });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe("STORE_NOT_FOUND");
    const deletes = (await auditOf(tenant)).filter((e: { action: string }) => e.action === "store.delete");
    expect(deletes).toEqual([
      {
        action: "store.delete",
        details: {
          store_id: "gone",
          before: { name: "Lyon Part-Dieu", time_zone: "Europe/Paris", country: "FR", tags: [], capacity: null },
        },
      },
    ]);
  });

  it("keeps tenants apart: another tenant's store is not found, and the same id is another store", async () => {
    const [a, b] = [await newTenant(), await newTenant()];
    const [ka, kb] = [await adminKeyOf(a), await adminKeyOf(b)];
    await api("/v1/stores/shared-id", { method: "PUT", key: ka, body: store({ name: "A's" }) });
    expect((await api("/v1/stores/shared-id", { key: kb })).status).toBe(404);
    expect((await api("/v1/stores", { key: kb })).json.data.stores).toEqual([]);
    expect((await api("/v1/stores/shared-id", { method: "PUT", key: kb, body: store({ name: "B's" }) })).status).toBe(201);
    expect((await api("/v1/stores/shared-id", { key: ka })).json.data.name).toBe("A's");
    expect((await api("/v1/stores/shared-id", { method: "DELETE", key: kb })).status).toBe(204);
    expect((await api("/v1/stores/shared-id", { key: ka })).status).toBe(200);
  });

  it("lets only admin-scoped keys change stores; read and write keys may read", async () => {
    const tenant = await newTenant();
    const adminKey = await adminKeyOf(tenant);
    await api("/v1/stores/s1", { method: "PUT", key: adminKey, body: store() });
    for (const scope of ["read", "write"] as const) {
      const key = (await newKey(tenant, scope)).key;
      const put = await api("/v1/stores/s2", { method: "PUT", key, body: store() });
      expect(put.status).toBe(403);
      expect(put.json.error.code).toBe("FORBIDDEN");
      expect((await api("/v1/stores/s1", { method: "DELETE", key })).status).toBe(403);
      expect((await api("/v1/stores/s1", { key })).status).toBe(200);
    }
    expect((await storeRows(tenant)).map((r) => r.store_id)).toEqual(["s1"]);
    // A static tenant's key is never admin-scoped.
    expect((await api("/v1/stores/s3", { method: "PUT", key: KEYS.acme, body: store() })).status).toBe(403);
  });

  it("has the operators' mirror under /admin/v1/tenants/{tenant_id}/stores, static tenants included", async () => {
    const tenant = await newTenant();
    const put = await admin(`/tenants/${tenant}/stores/op-1`, { method: "PUT", body: store() });
    expect(put.status).toBe(201);
    expect(
      (await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores: [{ store_id: "op-2", ...store() }] } })).json.data,
    ).toEqual({
      created: 1,
      replaced: 0,
      unchanged: 0,
    });
    expect((await admin(`/tenants/${tenant}/stores`)).json.data.stores.map((s: { store_id: string }) => s.store_id)).toEqual([
      "op-1",
      "op-2",
    ]);
    expect((await admin(`/tenants/${tenant}/stores/op-2`)).json.data.store_id).toBe("op-2");
    expect((await admin(`/tenants/${tenant}/stores/op-2`, { method: "DELETE" })).status).toBe(204);
    const entries = await admin(`/audit?tenant_id=${tenant}`);
    expect(entries.json.data.entries[0]).toMatchObject({ action: "store.delete", actor: { type: "admin" } });
    const missing = await admin("/tenants/no-such-tenant/stores/x", { method: "PUT", body: store() });
    expect(missing.json.error.code).toBe("TENANT_NOT_FOUND");
    // The static tenant acme (SDK_KEYS) has stores too; its SDK keys read them.
    expect((await admin("/tenants/acme/stores/static-1", { method: "PUT", body: store() })).status).toBe(201);
    expect((await api("/v1/stores/static-1", { key: KEYS.acme })).status).toBe(200);
  });

  it("refuses more stores than a tenant may register, changing nothing", async () => {
    const tenant = await newTenant();
    // Fill the tenant to its bound behind the API's back (10,000 stores by the API would be slow to set up).
    const values = Array.from(
      { length: LIMITS.storesPerTenantMax - 1 },
      (_, i) => `('${tenant}', 'f-${i}', 'n', 'UTC', NULL, '[]', NULL, 1, 1)`,
    );
    for (let i = 0; i < values.length; i += 500) {
      await env.DB.prepare(`INSERT INTO stores VALUES ${values.slice(i, i + 500).join(",")}`).run();
    }
    const key = await adminKeyOf(tenant);
    expect((await api("/v1/stores/last", { method: "PUT", key, body: store() })).status).toBe(201);
    const over = await api("/v1/stores", {
      method: "PUT",
      key,
      body: {
        stores: [
          { store_id: "f-1", ...store() },
          { store_id: "over", ...store() },
        ],
      },
    });
    expect(over.status).toBe(409);
    expect(over.json.error.code).toBe("STORE_LIMIT_REACHED");
    // All or none: f-1 was not replaced either.
    expect((await api("/v1/stores/f-1", { key })).json.data.name).toBe("n");
    expect((await api("/v1/stores/over", { key })).status).toBe(404);
    // Replacing at the bound is fine.
    expect((await api("/v1/stores/f-2", { method: "PUT", key, body: store() })).status).toBe(200);
  });
});

describe("bad store input", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["an unknown time zone", store({ time_zone: "Europe/Atlantis" }), "time_zone"],
    ["an offset for a zone", store({ time_zone: "+05:30" }), "time_zone"],
    ["a lowercase zone", store({ time_zone: "utc" }), "time_zone"],
    ["a country that is not assigned", store({ country: "UK" }), "country"],
    ["a lowercase country", store({ country: "fr" }), "country"],
    ["eleven tags", store({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }), "tags"],
    ["a repeated tag", store({ tags: ["a", "a"] }), "tags"],
    ["a tag with |", store({ tags: ["a|b"] }), "tags.0"],
    ["an empty tag", store({ tags: [""] }), "tags.0"],
    ["capacity 0", store({ capacity: 0 }), "capacity"],
    ["a fractional capacity", store({ capacity: 1.5 }), "capacity"],
    ["no name", { time_zone: "UTC" }, "name"],
    ["an unknown field", store({ zone: "x" }), "(body)"],
  ];
  it.each(cases)("%s is 400 VALIDATION_ERROR naming the field, and nothing is stored", async (_, body, path) => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    const res = await api("/v1/stores/s1", { method: "PUT", key, body });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(path);
    expect(await storeRows(tenant)).toEqual([]);
  });

  it("a bad store id in the path is 400 naming store_id", async () => {
    const tenant = await newTenant();
    const key = await adminKeyOf(tenant);
    for (const id of ["has space", "x".repeat(65), "caf%C3%A9"]) {
      const res = await api(`/v1/stores/${id.replace(" ", "%20")}`, { method: "PUT", key, body: store() });
      expect(res.status).toBe(400);
      expect(res.json.error.details.fields[0].path).toBe("store_id");
    }
    expect(await storeRows(tenant)).toEqual([]);
  });
});
