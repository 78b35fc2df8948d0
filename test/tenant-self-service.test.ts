import { describe, expect, it } from "vitest";
import { admin, api, base, KEYS, newKey, newTenant, personaId } from "./helpers";

const own = (path: string, key: string, call: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  api(`/v1/tenant${path}`, { key, ...call });

/** Two tenants, each with an admin-scoped key and a write key. */
async function twoTenants() {
  const a = await newTenant(undefined, "a");
  const b = await newTenant(undefined, "b");
  return {
    a: { id: a, admin: await newKey(a, "admin"), write: await newKey(a, "write") },
    b: { id: b, admin: await newKey(b, "admin"), write: await newKey(b, "write") },
  };
}

const works = async (key: string) => (await api(`${base(personaId("probe"))}/session`, { key })).status === 404;

describe("a tenant's self-service (/v1/tenant) with an admin-scoped key", () => {
  it("shows and changes only its own tenant", async () => {
    const { a, b } = await twoTenants();
    const seen = await own("", a.admin.key);
    expect(seen.status).toBe(200);
    expect(seen.json.data).toEqual((await admin(`/tenants/${a.id}`)).json.data);
    const changed = await own("", a.admin.key, { method: "PATCH", body: { settings: { idle_timeout_seconds: 900 } } });
    expect(changed.status).toBe(200);
    expect(changed.json.data).toMatchObject({ tenant_id: a.id, settings: { idle_timeout_seconds: 900 } });
    expect((await admin(`/tenants/${b.id}`)).json.data.settings).toEqual({});
  });

  it("may change settings only: not its name, nor whether it is disabled", async () => {
    const { a } = await twoTenants();
    for (const body of [{ name: "mine" }, { disabled: true }, { settings: { retention_days: 1 }, disabled: false }, {}]) {
      const res = await own("", a.admin.key, { method: "PATCH", body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_ERROR");
    }
    expect((await admin(`/tenants/${a.id}`)).json.data).toMatchObject({ name: null, disabled: false, settings: {} });
  });

  it("lists only its own keys, never a secret", async () => {
    const { a, b } = await twoTenants();
    const res = await own("/keys", a.admin.key);
    expect(res.status).toBe(200);
    const ids = res.json.data.keys.map((k: { key_id: string }) => k.key_id);
    expect(new Set(ids)).toEqual(new Set([a.admin.key_id, a.write.key_id]));
    expect(res.json.data.keys.every((k: { tenant_id: string }) => k.tenant_id === a.id)).toBe(true);
    const text = JSON.stringify(res.json);
    for (const key of [a.admin.key, a.write.key, b.admin.key, b.write.key]) expect(text).not.toContain(key.slice(22));
  });

  it("creates keys for its own tenant only, shown once", async () => {
    const { a, b } = await twoTenants();
    const created = await own("/keys", a.admin.key, { method: "POST", body: { scope: "write", label: "kiosk 7" } });
    expect(created.status).toBe(201);
    expect(created.json.data).toMatchObject({ scope: "write", label: "kiosk 7", expires_at: null });
    // the new key stamps in A's persona space, and is listed under A, not B
    const persona = personaId("made");
    expect((await api(`${base(persona)}/session/start`, { method: "POST", key: created.json.data.key })).status).toBe(201);
    expect((await api(`${base(persona)}/session`, { key: a.write.key })).status).toBe(200);
    expect((await api(`${base(persona)}/session`, { key: b.write.key })).status).toBe(404);
    const listedA = (await admin(`/tenants/${a.id}/keys`)).json.data.keys.map((k: { key_id: string }) => k.key_id);
    const listedB = (await admin(`/tenants/${b.id}/keys`)).json.data.keys.map((k: { key_id: string }) => k.key_id);
    expect(listedA).toContain(created.json.data.key_id);
    expect(listedB).not.toContain(created.json.data.key_id);
    // a body naming another tenant is refused, not obeyed
    const named = await own("/keys", a.admin.key, { method: "POST", body: { scope: "write", tenant_id: b.id } });
    expect(named.status).toBe(400);
  });

  it("revokes its own keys (204, again 204); another tenant's key id is 404 KEY_NOT_FOUND and stays valid", async () => {
    const { a, b } = await twoTenants();
    for (const keyId of [b.write.key_id, b.admin.key_id, "zzzzzzzzzzzzzzzz"]) {
      const res = await own(`/keys/${keyId}`, a.admin.key, { method: "DELETE" });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("KEY_NOT_FOUND");
    }
    expect(await works(b.write.key)).toBe(true);
    expect(await works(b.admin.key)).toBe(true);
    expect((await own(`/keys/${a.write.key_id}`, a.admin.key, { method: "DELETE" })).status).toBe(204);
    expect((await own(`/keys/${a.write.key_id}`, a.admin.key, { method: "DELETE" })).status).toBe(204);
    expect(await works(a.write.key)).toBe(false);
    expect((await own(`/keys/NOPE`, a.admin.key, { method: "DELETE" })).status).toBe(400);
  });

  it("cannot reach another tenant through the admin API: SDK keys are not admin keys", async () => {
    const { a, b } = await twoTenants();
    for (const [method, path, body] of [
      ["GET", `/admin/v1/tenants/${b.id}/keys`],
      ["POST", `/admin/v1/tenants/${b.id}/keys`, { scope: "admin" }],
      ["DELETE", `/admin/v1/tenants/${b.id}/keys/${b.write.key_id}`],
      ["PATCH", `/admin/v1/tenants/${b.id}`, { disabled: true }],
    ] as [string, string, unknown?][]) {
      expect((await api(path, { method, body, key: a.admin.key })).status, `${method} ${path}`).toBe(401);
    }
    expect(await works(b.write.key)).toBe(true);
    expect((await admin(`/tenants/${b.id}/keys`)).json.data.keys).toHaveLength(2);
  });

  it("is refused to read and write keys, registry or static, with 403 FORBIDDEN", async () => {
    const { a } = await twoTenants();
    const read = await newKey(a.id, "read");
    for (const key of [read.key, a.write.key, KEYS.acme, KEYS.acmeReadOnly]) {
      for (const [method, path, body] of [
        ["GET", ""],
        ["PATCH", "", { settings: { retention_days: 1 } }],
        ["GET", "/keys"],
        ["POST", "/keys", { scope: "admin" }],
        ["DELETE", `/keys/${a.admin.key_id}`],
      ] as [string, string, unknown?][]) {
        const res = await own(path, key, { method, body });
        expect(res.status, `${method} /v1/tenant${path}`).toBe(403);
        expect(res.json.error.code).toBe("FORBIDDEN");
      }
    }
    expect(await works(a.admin.key)).toBe(true);
    expect((await admin(`/tenants/${a.id}`)).json.data.settings).toEqual({});
  });

  it("records its changes in the audit log with the SDK key's id as the actor", async () => {
    const { a } = await twoTenants();
    const headers = { "x-request-id": "self-service-1" };
    await own("", a.admin.key, { method: "PATCH", body: { settings: { statuses: ["X"] } }, headers });
    const made = (await own("/keys", a.admin.key, { method: "POST", body: { scope: "read" }, headers })).json.data;
    await own(`/keys/${made.key_id}`, a.admin.key, { method: "DELETE", headers });
    const entries = (await admin(`/audit?tenant_id=${a.id}&limit=3`)).json.data.entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(["key.revoke", "key.create", "tenant.update"]);
    for (const e of entries) {
      expect(e.actor).toEqual({ type: "key", id: a.admin.key_id });
      expect(e.request_id).toBe("self-service-1");
    }
  });

  it("answers 405 with Allow for a wrong method, after authentication", async () => {
    const { a } = await twoTenants();
    const res = await own("", a.admin.key, { method: "PUT", body: { settings: {} } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("PATCH");
    expect((await api("/v1/tenant", { method: "PUT", key: null })).status).toBe(401);
  });
});
