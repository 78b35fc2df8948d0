import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../src/http/app";
import { sha256Hex } from "../src/ids";
import { LIMITS } from "../src/limits";
import { ADMIN_KEYS, admin, api, base, current, KEYS, newKey, newTenant, personaId, tenantId } from "./helpers";

const sha12 = async (key: string) => (await sha256Hex(key)).slice(0, 12);

interface AuditEntry {
  id: number;
  at: string;
  tenant_id: string;
  actor: { type: string; id: string };
  action: string;
  key_id: string | null;
  details: Record<string, unknown>;
  request_id: string;
}

async function auditOf(tenant: string): Promise<AuditEntry[]> {
  const res = await admin(`/audit?tenant_id=${tenant}&limit=100`);
  expect(res.status).toBe(200);
  return res.json.data.entries;
}

describe("admin authentication", () => {
  it("refuses a missing, wrong or SDK key on every admin route with 401", async () => {
    const tenant = await newTenant();
    const sdk = await newKey(tenant, "admin");
    const routes: [string, string, unknown?][] = [
      ["POST", "/admin/v1/tenants", { tenant_id: tenantId() }],
      ["GET", "/admin/v1/tenants"],
      ["GET", `/admin/v1/tenants/${tenant}`],
      ["PATCH", `/admin/v1/tenants/${tenant}`, { disabled: true }],
      ["POST", `/admin/v1/tenants/${tenant}/keys`, { scope: "admin" }],
      ["GET", `/admin/v1/tenants/${tenant}/keys`],
      ["DELETE", `/admin/v1/tenants/${tenant}/keys/${sdk.key_id}`],
      ["GET", "/admin/v1/audit"],
      ["GET", "/admin/v1/no-such-route"],
    ];
    for (const key of [null, "adm_wrong", KEYS.acme, sdk.key]) {
      for (const [method, path, body] of routes) {
        const res = await api(path, { method, key, body });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.json.error.code).toBe("UNAUTHORIZED");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    }
    // nothing changed behind the refusals
    expect((await admin(`/tenants/${tenant}`)).json.data.disabled).toBe(false);
    expect((await current(personaId("still"), { key: sdk.key })).status).toBe(404);
  });

  it("accepts every key in ADMIN_KEYS (rotation)", async () => {
    expect((await admin("/tenants", { key: ADMIN_KEYS.operator })).status).toBe(200);
    expect((await admin("/tenants", { key: ADMIN_KEYS.rotated })).status).toBe(200);
  });

  it("fails closed with no ADMIN_KEYS: 401, and the log says why", async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      for (const keys of ["", "not-a-hash"]) {
        const res = await app.request(
          "/admin/v1/tenants",
          { headers: { authorization: `Bearer ${ADMIN_KEYS.operator}` } },
          { ...env, ADMIN_KEYS: keys },
        );
        expect(res.status).toBe(401);
      }
    } finally {
      spy.mockRestore();
    }
    expect(warnings.join("\n")).toMatch(/ADMIN_KEYS has no valid entry/);
    expect(warnings.join("\n")).not.toContain("not-a-hash");
  });
});

describe("tenants", () => {
  it("are created with a name and settings, and read back", async () => {
    const id = tenantId("create");
    const res = await admin("/tenants", {
      method: "POST",
      body: { tenant_id: id, name: "Acme Stores", settings: { idle_timeout_seconds: 600, statuses: ["CHAT", "PAYMENT"] } },
    });
    expect(res.status).toBe(201);
    expect(res.json.data).toMatchObject({
      tenant_id: id,
      name: "Acme Stores",
      settings: { idle_timeout_seconds: 600, statuses: ["CHAT", "PAYMENT"] },
      // the rest comes from the vars
      effective_settings: { idle_timeout_seconds: 600, retention_days: 90, statuses: ["CHAT", "PAYMENT"] },
      disabled: false,
    });
    expect(res.json.data.created_at).toBe(res.json.data.updated_at);
    expect((await admin(`/tenants/${id}`)).json.data).toEqual(res.json.data);
  });

  it("refuse a taken id, and the id of a static SDK_KEYS tenant, with 409 TENANT_EXISTS", async () => {
    const id = await newTenant();
    for (const tenant_id of [id, "acme", "globex"]) {
      const res = await admin("/tenants", { method: "POST", body: { tenant_id } });
      expect(res.status, tenant_id).toBe(409);
      expect(res.json.error.code).toBe("TENANT_EXISTS");
    }
    expect((await admin("/tenants/acme")).status).toBe(404);
  });

  it.each([
    ["upper case", { tenant_id: "Acme" }, "tenant_id"],
    ["a colon", { tenant_id: "a:b" }, "tenant_id"],
    ["empty", { tenant_id: "" }, "tenant_id"],
    ["too long", { tenant_id: "a".repeat(LIMITS.tenantIdMaxChars + 1) }, "tenant_id"],
    ["missing", {}, "tenant_id"],
    ["a long name", { tenant_id: "ok-name", name: "n".repeat(LIMITS.tenantNameMaxChars + 1) }, "name"],
    ["a control character in the name", { tenant_id: "ok-name", name: "a\u0007b" }, "name"],
    ["an unknown field", { tenant_id: "ok-name", plan: "gold" }, "(body)"],
    ["bad settings", { tenant_id: "ok-name", settings: { retention_days: -1 } }, "settings.retention_days"],
  ])("refuse %s with 400 VALIDATION_ERROR naming the field", async (_label, body, field) => {
    const res = await admin("/tenants", { method: "POST", body });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it("answer 404 TENANT_NOT_FOUND for an unknown tenant on every route that names one", async () => {
    const ghost = tenantId("ghost");
    for (const [method, path, body] of [
      ["GET", `/tenants/${ghost}`],
      ["PATCH", `/tenants/${ghost}`, { disabled: true }],
      ["POST", `/tenants/${ghost}/keys`, { scope: "write" }],
      ["GET", `/tenants/${ghost}/keys`],
    ] as [string, string, unknown?][]) {
      const res = await admin(path, { method, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe("TENANT_NOT_FOUND");
    }
    const revoke = await admin(`/tenants/${ghost}/keys/aaaaaaaaaaaaaaaa`, { method: "DELETE" });
    expect(revoke.json.error.code).toBe("KEY_NOT_FOUND");
  });

  it("are listed in id order, paged by an opaque cursor", async () => {
    const mine = [await newTenant(undefined, "list"), await newTenant(undefined, "list"), await newTenant(undefined, "list")];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/tenants?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.json.data.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.data.tenants.map((t: { tenant_id: string }) => t.tenant_id));
      cursor = res.json.data.next_cursor;
    } while (cursor);
    expect([...seen].sort()).toEqual(seen);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of mine) expect(seen).toContain(id);
  });

  it.each([
    ["a cursor it never gave out", "cursor=bm9wZQ", "cursor"],
    ["limit 0", "limit=0", "limit"],
    ["limit over the maximum", `limit=${LIMITS.listPageMax + 1}`, "limit"],
  ])("refuse %s with 400 naming it", async (_label, query, field) => {
    for (const path of [`/tenants?${query}`, `/audit?${query}`, `/tenants/${await newTenant()}/keys?${query}`]) {
      const res = await admin(path);
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    }
  });

  it("refuse a cursor of another listing with 400 naming it", async () => {
    const auditCursor = encodeURIComponent(btoa("a:12"));
    const tenantCursor = encodeURIComponent(btoa("t:acme"));
    for (const path of [
      `/tenants?cursor=${auditCursor}`,
      `/audit?cursor=${tenantCursor}`,
      `/tenants/${await newTenant()}/keys?cursor=${auditCursor}`,
    ]) {
      const res = await admin(path);
      expect(res.status, path).toBe(400);
      expect(res.json.error.details.fields[0].path).toBe("cursor");
    }
  });

  it("are changed by PATCH: name, settings field by field (null returns one to the default), disabled", async () => {
    const id = await newTenant({ idle_timeout_seconds: 60, retention_days: 7 });
    const res = await admin(`/tenants/${id}`, {
      method: "PATCH",
      body: { name: "Renamed", settings: { idle_timeout_seconds: null, statuses: ["A"] } },
    });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      name: "Renamed",
      settings: { retention_days: 7, statuses: ["A"] },
      effective_settings: { idle_timeout_seconds: 7200, retention_days: 7, statuses: ["A"] },
    });
    expect(res.json.data.settings).not.toHaveProperty("idle_timeout_seconds");
    expect(Date.parse(res.json.data.updated_at)).toBeGreaterThanOrEqual(Date.parse(res.json.data.created_at));
    expect((await admin(`/tenants/${id}`)).json.data).toEqual(res.json.data);
    const bad = await admin(`/tenants/${id}`, { method: "PATCH", body: { disabled: "yes" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.fields[0].path).toBe("disabled");
  });

  it("disabled: every key of the tenant gets 403 TENANT_DISABLED (its admin key on self-service too) until enabled again", async () => {
    const id = await newTenant();
    const write = await newKey(id, "write");
    const own = await newKey(id, "admin");
    const persona = personaId("off");
    expect((await api(`${base(persona)}/session/start`, { method: "POST", key: write.key })).status).toBe(201);
    expect((await admin(`/tenants/${id}`, { method: "PATCH", body: { disabled: true } })).json.data.disabled).toBe(true);
    for (const [key, path, method] of [
      [write.key, `${base(persona)}/session/stamp`, "POST"],
      [write.key, `${base(persona)}/session`, "GET"],
      [own.key, "/v1/tenant", "GET"],
      [own.key, "/v1/tenant/keys", "POST"],
    ]) {
      const res = await api(path!, { method, key, body: method === "POST" ? { status: "X", scope: "read" } : undefined });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe("TENANT_DISABLED");
    }
    await admin(`/tenants/${id}`, { method: "PATCH", body: { disabled: false } });
    expect((await api(`${base(persona)}/session`, { key: write.key })).status).toBe(200);
  });
});

describe("keys through the admin API", () => {
  it("are created with a scope, label and expiry; the key is shown once, the listing never shows a secret", async () => {
    const id = await newTenant();
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const res = await admin(`/tenants/${id}/keys`, { method: "POST", body: { scope: "read", label: "lobby screen", expires_at: expires } });
    expect(res.status).toBe(201);
    expect(res.json.data).toEqual({
      key_id: expect.stringMatching(/^[0-9a-z]{16}$/),
      key: expect.stringMatching(/^psa_/),
      scope: "read",
      label: "lobby screen",
      created_at: expect.any(String),
      expires_at: expires,
      store_id: null,
    });
    const list = await admin(`/tenants/${id}/keys`);
    expect(list.status).toBe(200);
    expect(list.json.data.keys).toEqual([
      {
        key_id: res.json.data.key_id,
        tenant_id: id,
        scope: "read",
        label: "lobby screen",
        status: "active",
        created_at: res.json.data.created_at,
        expires_at: expires,
        revoked_at: null,
        last_used_at: null,
        store_id: null,
      },
    ]);
    expect(JSON.stringify(list.json)).not.toContain(res.json.data.key.slice(22));
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE key_id = ?").bind(res.json.data.key_id).first();
    expect(JSON.stringify(stored)).not.toContain(res.json.data.key.slice(22));
    expect(stored!.secret_hash).toBe(await sha256Hex(res.json.data.key));
  });

  it.each([
    ["an unknown scope", { scope: "owner" }, "scope"],
    ["no scope", {}, "scope"],
    ["an expiry in the past", { scope: "write", expires_at: "2020-01-01T00:00:00Z" }, "expires_at"],
    ["an expiry without a zone", { scope: "write", expires_at: "2030-01-01T00:00:00" }, "expires_at"],
    ["a long label", { scope: "write", label: "l".repeat(LIMITS.keyLabelMaxChars + 1) }, "label"],
  ])("refuse %s with 400 naming the field", async (_label, body, field) => {
    const res = await admin(`/tenants/${await newTenant()}/keys`, { method: "POST", body });
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
  });

  it("are listed newest first, paged", async () => {
    const id = await newTenant();
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await newKey(id, "read", { label: `k${i}` })).key_id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/tenants/${id}/keys?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      seen.push(...res.json.data.keys.map((k: { key_id: string }) => k.key_id));
      cursor = res.json.data.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(made));
    const labels = (await admin(`/tenants/${id}/keys`)).json.data.keys.map((k: { label: string }) => k.label);
    expect(labels).toEqual(["k4", "k3", "k2", "k1", "k0"].filter((l) => labels.includes(l)));
  });

  it("are revoked by DELETE (204, again 204), at once in this isolate; another tenant's or an unknown key id is 404 KEY_NOT_FOUND", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const aKey = await newKey(a, "write");
    const bKey = await newKey(b, "write");
    const persona = personaId("rv");
    expect((await current(persona, { key: aKey.key })).status).toBe(404);
    for (const path of [`/tenants/${a}/keys/${bKey.key_id}`, `/tenants/${a}/keys/zzzzzzzzzzzzzzzz`]) {
      const res = await admin(path, { method: "DELETE" });
      expect(res.status, path).toBe(404);
      expect(res.json.error.code).toBe("KEY_NOT_FOUND");
    }
    expect((await current(persona, { key: bKey.key })).status).toBe(404);
    const malformed = await admin(`/tenants/${a}/keys/NOT-AN-ID`, { method: "DELETE" });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.details.fields[0].path).toBe("key_id");

    expect((await admin(`/tenants/${a}/keys/${aKey.key_id}`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/tenants/${a}/keys/${aKey.key_id}`, { method: "DELETE" })).status).toBe(204);
    const refused = await current(persona, { key: aKey.key });
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toMatch(/revoked/);
    const listed = (await admin(`/tenants/${a}/keys`)).json.data.keys[0];
    expect(listed).toMatchObject({ key_id: aKey.key_id, status: "revoked" });
    expect(listed.revoked_at).not.toBeNull();
    expect((await current(persona, { key: bKey.key })).status).toBe(404);
  });
});

describe("the audit log", () => {
  it("records every change made through /admin/v1: who, what, when and the request id, newest first", async () => {
    const id = tenantId("audited");
    const requestId = `req-${crypto.randomUUID()}`;
    const headers = { "x-request-id": requestId };
    await admin("/tenants", { method: "POST", body: { tenant_id: id, name: "A" }, headers });
    await admin(`/tenants/${id}`, { method: "PATCH", body: { settings: { retention_days: 30 } }, headers, key: ADMIN_KEYS.rotated });
    const key = (await admin(`/tenants/${id}/keys`, { method: "POST", body: { scope: "write", label: "k" }, headers })).json.data;
    await admin(`/tenants/${id}/keys/${key.key_id}`, { method: "DELETE", headers });
    // changes that change nothing are not recorded
    await admin(`/tenants/${id}/keys/${key.key_id}`, { method: "DELETE", headers });
    await admin(`/tenants/${id}`, { method: "PATCH", body: { settings: { retention_days: 30 } }, headers });
    await admin(`/tenants/${id}`, { method: "PATCH", body: {}, headers });

    const entries = await auditOf(id);
    expect(entries.map((e) => e.action)).toEqual(["key.revoke", "key.create", "tenant.update", "tenant.create"]);
    for (const e of entries) {
      expect(e.tenant_id).toBe(id);
      expect(e.request_id).toBe(requestId);
      expect(e.actor.type).toBe("admin");
      expect(Date.now() - Date.parse(e.at)).toBeLessThan(60_000);
    }
    const [operator, rotated] = [await sha12(ADMIN_KEYS.operator), await sha12(ADMIN_KEYS.rotated)];
    expect(entries.map((e) => e.actor.id)).toEqual([operator, operator, rotated, operator]);
    expect(entries[0]!.key_id).toBe(key.key_id);
    expect(entries[1]).toMatchObject({ key_id: key.key_id, details: { scope: "write", label: "k", expires_at: null } });
    expect(entries[2]!.details).toEqual({ before: { settings: {} }, after: { settings: { retention_days: 30 } } });
    expect(entries[3]!.details).toEqual({ name: "A", settings: {} });
    expect(JSON.stringify(entries)).not.toContain(key.key);
  });

  it("is paged newest first across tenants, and filtered by tenant", async () => {
    const a = await newTenant();
    const b = await newTenant();
    for (let i = 0; i < 3; i++) await newKey(a, "read");
    await newKey(b, "read");
    const first = await admin("/audit?limit=2");
    expect(first.json.data.entries).toHaveLength(2);
    const second = await admin(`/audit?limit=2&cursor=${encodeURIComponent(first.json.data.next_cursor)}`);
    const ids = [...first.json.data.entries, ...second.json.data.entries].map((e: AuditEntry) => e.id);
    expect([...ids].sort((x, y) => y - x)).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    const onlyA = await auditOf(a);
    expect(onlyA.map((e) => e.action)).toEqual(["key.create", "key.create", "key.create", "tenant.create"]);
    const paged = await admin(`/audit?tenant_id=${a}&limit=3`);
    const rest = await admin(`/audit?tenant_id=${a}&limit=3&cursor=${encodeURIComponent(paged.json.data.next_cursor)}`);
    expect(rest.json.data).toEqual({ entries: [onlyA[3]], next_cursor: null });
    expect((await admin("/audit?tenant_id=Not_Valid")).status).toBe(400);
  });
});
