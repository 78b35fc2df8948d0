import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AuditInput, Registry, type TenantRow } from "../src/tenants/registry";
import { admin, api, newKey, newTenant } from "./helpers";

interface Entry {
  action: string;
  key_id: string | null;
  details: { before?: Record<string, unknown>; after?: Record<string, unknown> };
}

/** The tenant's audit entries of `action`, oldest first. */
async function entries(tenant: string, action: string): Promise<Entry[]> {
  const res = await admin(`/audit?tenant_id=${tenant}&limit=100`);
  expect(res.status).toBe(200);
  expect(res.json.data.next_cursor).toBeNull();
  return (res.json.data.entries as Entry[]).filter((e) => e.action === action).reverse();
}

/** Each entry's `before` is the previous one's `after` for `field`; the first starts at `initial`. */
function expectChain(log: Entry[], field: string, initial: unknown): unknown {
  let state = initial;
  for (const entry of log) {
    expect(entry.details.before?.[field]).toEqual(state);
    state = entry.details.after?.[field];
  }
  return state;
}

const entry = (tenantId: string, action: AuditInput["action"], details: Record<string, unknown>, keyId?: string): AuditInput => ({
  tenantId,
  actor: { type: "admin", id: "test" },
  action,
  keyId,
  details,
  requestId: crypto.randomUUID(),
  at: 1_800_000_000_000,
});

describe("the audit log is an exact history under concurrency", () => {
  it("two updates prepared from the same version: one applies and is recorded, the other writes nothing", async () => {
    const tenant = await newTenant();
    const registry = new Registry(env.DB);
    const row = (await registry.getTenant(tenant)) as TenantRow;
    const next = (name: string): TenantRow => ({ ...row, name, version: row.version + 1, updated_at: Date.now() });
    const first = await registry.updateTenant(next("A"), entry(tenant, "tenant.update", { before: { name: null }, after: { name: "A" } }));
    const second = await registry.updateTenant(next("B"), entry(tenant, "tenant.update", { before: { name: null }, after: { name: "B" } }));
    expect([first, second]).toEqual([true, false]);
    expect((await entries(tenant, "tenant.update")).map((e) => e.details.after)).toEqual([{ name: "A" }]);
    expect((await registry.getTenant(tenant))?.name).toBe("A");
  });

  it("two revocations in the same millisecond: one entry", async () => {
    const tenant = await newTenant();
    const { key_id } = await newKey(tenant, "read");
    const registry = new Registry(env.DB);
    const results = await Promise.all([0, 1].map(() => registry.revokeKey(tenant, key_id, entry(tenant, "key.revoke", {}, key_id))));
    expect(results.sort()).toEqual([false, true]);
    expect(await entries(tenant, "key.revoke")).toHaveLength(1);
  });

  it("12 concurrent renames: one entry per 200, their before/after chain links up and ends at the tenant's name", async () => {
    const tenant = await newTenant();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => admin(`/tenants/${tenant}`, { method: "PATCH", body: { name: `D${i}` } })),
    );
    const ok = answers.filter((a) => a.status === 200).length;
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    const log = await entries(tenant, "tenant.update");
    expect(log).toHaveLength(ok);
    const final = (await admin(`/tenants/${tenant}`)).json.data.name;
    expect(expectChain(log, "name", null)).toBe(final);
  });

  it("8 concurrent settings changes through /v1/tenant: the same, on the settings", async () => {
    const tenant = await newTenant();
    const { key } = await newKey(tenant, "admin");
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api("/v1/tenant", { method: "PATCH", key, body: { settings: { idle_timeout_seconds: 100 + i } } }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200).length;
    expect(answers.every((a) => a.status === 200 || a.status === 503)).toBe(true);
    const log = await entries(tenant, "tenant.update");
    expect(log).toHaveLength(ok);
    const final = (await admin(`/tenants/${tenant}`)).json.data.settings;
    const last = expectChain(log, "settings", {}) as Record<string, unknown>;
    expect(last.idle_timeout_seconds).toBe(final.idle_timeout_seconds);
  });

  it("25 concurrent revocations of one key, in three rounds: every answer 204, one key.revoke entry per key", async () => {
    const tenant = await newTenant();
    for (let round = 0; round < 3; round++) {
      const { key_id } = await newKey(tenant, "read");
      const answers = await Promise.all(Array.from({ length: 25 }, () => admin(`/tenants/${tenant}/keys/${key_id}`, { method: "DELETE" })));
      expect(answers.map((a) => a.status)).toEqual(Array(25).fill(204));
      expect((await entries(tenant, "key.revoke")).filter((e) => e.key_id === key_id)).toHaveLength(1);
    }
  });
});

describe("store changes under concurrency", () => {
  it("records one store.create and a replace chain whose befores are the previous afters, for rival puts of one store", async () => {
    const tenant = await newTenant();
    const names = Array.from({ length: 12 }, (_, i) => `Name ${i}`);
    const results = await Promise.all(
      names.map((name) => admin(`/tenants/${tenant}/stores/rival`, { method: "PUT", body: { name, time_zone: "UTC" } })),
    );
    // Exactly one of them registered it; the others replaced it.
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(names.length - 1);
    const created = await entries(tenant, "store.create");
    expect(created).toHaveLength(1);
    const replaced = await entries(tenant, "store.replace");
    expect(replaced).toHaveLength(names.length - 1);
    const last = expectChain(replaced, "name", created[0]!.details.after?.name);
    const stored = await env.DB.prepare("SELECT name FROM stores WHERE tenant_id = ? AND store_id = 'rival'")
      .bind(tenant)
      .first<{ name: string }>();
    expect(stored?.name).toBe(last);
  });

  it("records one store.delete for rival deletes of one store, and each of them gets 204 or 404", async () => {
    const tenant = await newTenant();
    expect((await admin(`/tenants/${tenant}/stores/gone`, { method: "PUT", body: { name: "Gone", time_zone: "UTC" } })).status).toBe(201);
    const results = await Promise.all(Array.from({ length: 8 }, () => admin(`/tenants/${tenant}/stores/gone`, { method: "DELETE" })));
    expect(results.filter((r) => r.status === 204)).toHaveLength(1);
    expect(results.filter((r) => r.status === 404)).toHaveLength(7);
    expect(await entries(tenant, "store.delete")).toHaveLength(1);
  });

  it("never lets rival bulk puts pass the stores-per-tenant bound, and audits only what was stored", async () => {
    const tenant = await newTenant();
    const values = Array.from({ length: 9_990 }, (_, i) => `('${tenant}', 'f-${i}', 'n', 'UTC', NULL, '[]', NULL, 1, 1)`);
    for (let i = 0; i < values.length; i += 500)
      await env.DB.prepare(`INSERT INTO stores VALUES ${values.slice(i, i + 500).join(",")}`).run();
    // Four rivals of 4 new stores each: at most 2 fit under 10,000.
    const results = await Promise.all(
      [0, 1, 2, 3].map((r) =>
        admin(`/tenants/${tenant}/stores`, {
          method: "PUT",
          body: { stores: [0, 1, 2, 3].map((i) => ({ store_id: `r${r}-${i}`, name: "R", time_zone: "UTC" })) },
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBe(2);
    expect(results.filter((r) => r.status === 409 && r.json.error.code === "STORE_LIMIT_REACHED")).toHaveLength(2);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM stores WHERE tenant_id = ?").bind(tenant).first<{ n: number }>();
    expect(count?.n).toBe(9_990 + 4 * ok);
    expect(await entries(tenant, "store.create")).toHaveLength(4 * ok);
  });
});
