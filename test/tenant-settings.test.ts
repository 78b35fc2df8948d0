import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { authCacheMs } from "../src/config";
import { LIMITS } from "../src/limits";
import { admin, api, base, DAY, KEYS, newKey, newTenant, personaId, personaStub, sqlInTenant, stamp, stamps, start } from "./helpers";

const MINUTE = 60_000;

const patch = (tenant: string, settings: unknown) => admin(`/tenants/${tenant}`, { method: "PATCH", body: { settings } });

async function fieldsOf(res: { status: number; json: { error: { code: string; details: { fields: { path: string }[] } } } }) {
  expect(res.status).toBe(400);
  expect(res.json.error.code).toBe("VALIDATION_ERROR");
  return res.json.error.details.fields.map((f) => f.path);
}

describe("tenant settings are validated, naming the field", () => {
  it.each([
    ["idle_timeout_seconds", -1],
    ["idle_timeout_seconds", LIMITS.idleTimeoutMaxSeconds + 1],
    ["idle_timeout_seconds", 1.5],
    ["idle_timeout_seconds", "60"],
    ["retention_days", -1],
    ["retention_days", LIMITS.retentionMaxDays + 1],
    ["retention_days", true],
    ["statuses", []],
    ["statuses", Array.from({ length: LIMITS.statusesMax + 1 }, (_, i) => `S${i}`)],
    ["statuses", ["A", "A"]],
    ["statuses", "CHAT"],
    ["statuses", [""]],
    ["statuses", ["line\nbreak"]],
    ["statuses", ["x".repeat(LIMITS.statusMaxChars + 1)]],
  ])("%s = %j is refused", async (field, value) => {
    const tenant = await newTenant();
    const paths = await fieldsOf(await patch(tenant, { [field]: value }));
    expect(paths.some((p) => p.startsWith(`settings.${field}`))).toBe(true);
    const created = await admin("/tenants", { method: "POST", body: { tenant_id: `${tenant}-x`, settings: { [field]: value } } });
    expect((await fieldsOf(created)).some((p) => p.startsWith(`settings.${field}`))).toBe(true);
    expect((await admin(`/tenants/${tenant}`)).json.data.settings).toEqual({});
  });

  it("an unknown setting is refused", async () => {
    const paths = await fieldsOf(await patch(await newTenant(), { cors_origins: ["https://x"] }));
    expect(paths).toContain("settings");
  });

  it("the bounds themselves are accepted", async () => {
    const tenant = await newTenant();
    const statuses = Array.from({ length: LIMITS.statusesMax }, (_, i) => `STATUS_${i}`);
    for (const settings of [
      { idle_timeout_seconds: 0, retention_days: 0 },
      { idle_timeout_seconds: 1, retention_days: 1 },
      { idle_timeout_seconds: LIMITS.idleTimeoutMaxSeconds, retention_days: LIMITS.retentionMaxDays, statuses },
    ]) {
      const res = await patch(tenant, settings);
      expect(res.status, JSON.stringify(settings).slice(0, 80)).toBe(200);
      expect(res.json.data.settings).toMatchObject(settings);
    }
  });
});

describe("the statuses allow-list", () => {
  it("refuses a stamp with another status with 422 UNKNOWN_STATUS naming the allowed ones, and records nothing", async () => {
    const tenant = await newTenant({ statuses: ["CHAT", "SHOPPING", "PAYMENT"] });
    const { key } = await newKey(tenant, "write");
    const persona = personaId("allow");
    // ENTER is recorded by start, whatever the list says
    expect((await start(persona, { key })).status).toBe(201);
    expect((await stamp(persona, { status: "CHAT" }, { key })).status).toBe(201);
    const res = await stamp(persona, { status: "DANCING" }, { key });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({
      code: "UNKNOWN_STATUS",
      details: { status: "DANCING", allowed: ["CHAT", "SHOPPING", "PAYMENT"] },
    });
    expect(res.json.error.message).toContain("DANCING");
    // labels are exact: case matters
    expect((await stamp(persona, { status: "chat" }, { key })).status).toBe(422);
    const now = await api(`${base(persona)}/session`, { key });
    expect(now.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT"]);
  });

  it("refuses a whole batch for one unknown status, naming its index, and records none of it", async () => {
    const tenant = await newTenant({ statuses: ["CHAT", "PAYMENT"] });
    const { key } = await newKey(tenant, "write");
    const persona = personaId("allow-batch");
    await start(persona, { key });
    const res = await stamps(persona, { stamps: [{ status: "CHAT" }, { status: "PAYMENT" }, { status: "REFUND" }] }, { key });
    expect(res.status).toBe(422);
    expect(res.json.error.details).toEqual({ status: "REFUND", index: 2, allowed: ["CHAT", "PAYMENT"] });
    expect((await stamps(persona, { stamps: [{ status: "CHAT" }, { status: "PAYMENT" }] }, { key })).status).toBe(201);
    const now = await api(`${base(persona)}/session`, { key });
    expect(now.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT", "PAYMENT"]);
  });

  it("comes after the body's own validation and the key's scope, and before the object is called", async () => {
    const tenant = await newTenant({ statuses: ["CHAT"] });
    const { key } = await newKey(tenant, "write");
    const read = await newKey(tenant, "read");
    const persona = personaId("allow-order");
    // no session: the object would answer 404, but the list answers first
    expect((await stamp(persona, { status: "NOPE" }, { key })).json.error.code).toBe("UNKNOWN_STATUS");
    expect((await stamp(persona, { status: "NOPE", meta: [] }, { key })).json.error.code).toBe("VALIDATION_ERROR");
    expect((await stamp(persona, { status: "NOPE" }, { key: read.key })).json.error.code).toBe("FORBIDDEN");
    expect((await stamp(persona, { status: "CHAT" }, { key })).json.error.code).toBe("NO_ACTIVE_SESSION");
  });

  it("null clears it; static tenants have none", async () => {
    const tenant = await newTenant({ statuses: ["CHAT"] });
    const { key } = await newKey(tenant, "write");
    const persona = personaId("allow-clear");
    await start(persona, { key });
    expect((await stamp(persona, { status: "ANYTHING" }, { key })).status).toBe(422);
    expect((await patch(tenant, { statuses: null })).json.data.settings).toEqual({});
    expect((await stamp(persona, { status: "ANYTHING" }, { key })).status).toBe(201);
    const statik = personaId("allow-static");
    await start(statik, { key: KEYS.acme });
    expect((await stamp(statik, { status: "ANYTHING" }, { key: KEYS.acme })).status).toBe(201);
  });
});

describe("the persona policy comes from the tenant's settings", () => {
  const storedPolicy = async (tenant: string, persona: string) =>
    JSON.parse(((await sqlInTenant(tenant, persona, "SELECT value FROM object_state WHERE key = 'policy'"))[0]?.value as string) ?? "null");

  it("a tenant's idle timeout is what the alarm applies", async () => {
    const tenant = await newTenant({ idle_timeout_seconds: 60 });
    const { key } = await newKey(tenant, "write");
    const persona = personaId("idle-tenant");
    const { session_id } = (await start(persona, { key })).json.data;
    expect(await storedPolicy(tenant, persona)).toEqual({ idleTimeoutMs: MINUTE, retentionMs: 90 * DAY });
    const at = Date.now() - 2 * MINUTE;
    await sqlInTenant(tenant, persona, "UPDATE stamps SET ts = ?, received_at = ?", at, at);
    await sqlInTenant(tenant, persona, "UPDATE sessions SET last_activity_at = ?, last_stamp_at = ?, started_at = ?", at, at, at);
    expect(await runDurableObjectAlarm(personaStub(persona, tenant))).toBe(true);
    const [row] = await sqlInTenant(tenant, persona, "SELECT session_id, ended_at, end_reason FROM sessions");
    // The vars' default (2 h) would have left it active.
    expect(row).toEqual({ session_id, ended_at: at + MINUTE, end_reason: "idle_timeout" });
  });

  it("a change of settings reaches the tenant's next request", async () => {
    const tenant = await newTenant({ idle_timeout_seconds: 120 });
    const { key } = await newKey(tenant, "write");
    const persona = personaId("policy-change");
    await start(persona, { key });
    expect(await storedPolicy(tenant, persona)).toEqual({ idleTimeoutMs: 120_000, retentionMs: 90 * DAY });
    await patch(tenant, { idle_timeout_seconds: 0, retention_days: 7 });
    await stamp(persona, { status: "CHAT" }, { key });
    expect(await storedPolicy(tenant, persona)).toEqual({ idleTimeoutMs: 0, retentionMs: 7 * DAY });
  });
});

describe("AUTH_CACHE_SECONDS", () => {
  it("is 0 to 300 seconds; anything else falls back to 30 with a warning", () => {
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(authCacheMs({ AUTH_CACHE_SECONDS: "0" })).toBe(0);
      expect(authCacheMs({ AUTH_CACHE_SECONDS: "300" })).toBe(300_000);
      expect(authCacheMs({ AUTH_CACHE_SECONDS: "301" })).toBe(30_000);
      expect(authCacheMs({ AUTH_CACHE_SECONDS: "-1" })).toBe(30_000);
      expect(authCacheMs({ AUTH_CACHE_SECONDS: "soon" })).toBe(30_000);
      expect(authCacheMs({})).toBe(30_000);
      expect(spy).toHaveBeenCalledWith(expect.stringContaining("AUTH_CACHE_SECONDS"));
    } finally {
      spy.mockRestore();
    }
    expect(authCacheMs(env)).toBe(1000);
  });
});
