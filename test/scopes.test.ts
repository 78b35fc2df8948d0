import { describe, expect, it } from "vitest";
import { app } from "../src/http/app";
import { ADMIN_KEYS, admin, api, base, KEYS, newKey, newTenant, personaId } from "./helpers";

type Kind = "read" | "write" | "admin";

interface Route {
  name: string;
  kind: Kind;
  method: string;
  path: string;
  body?: unknown;
  ok: number;
}

/**
 * Every /v1 route, in an order that lets each succeed when allowed: reads of an active session
 * first, then writes, a new start after the end, erasure last; then the tenant routes.
 */
function routes(persona: string, sessionId: string, revocable: string): Route[] {
  const p = base(persona);
  return [
    { name: "current", kind: "read", method: "GET", path: `${p}/session`, ok: 200 },
    { name: "history", kind: "read", method: "GET", path: `${p}/sessions`, ok: 200 },
    { name: "session", kind: "read", method: "GET", path: `${p}/sessions/${sessionId}`, ok: 200 },
    { name: "active sessions", kind: "read", method: "GET", path: "/v1/sessions/active", ok: 200 },
    { name: "session search", kind: "read", method: "GET", path: "/v1/sessions", ok: 200 },
    { name: "occupancy", kind: "read", method: "GET", path: "/v1/occupancy", ok: 200 },
    { name: "funnel", kind: "read", method: "GET", path: `/v1/analytics/funnel?step=ENTER&step=CHAT&${RANGE}`, ok: 200 },
    { name: "dwell", kind: "read", method: "GET", path: `/v1/analytics/dwell?${RANGE}`, ok: 200 },
    { name: "visits", kind: "read", method: "GET", path: `/v1/analytics/visits?${RANGE}`, ok: 200 },
    { name: "paths", kind: "read", method: "GET", path: `/v1/analytics/paths?${RANGE}`, ok: 200 },
    { name: "occupancy analytics", kind: "read", method: "GET", path: `/v1/analytics/occupancy?${RANGE}`, ok: 200 },
    { name: "stamp", kind: "write", method: "POST", path: `${p}/session/stamp`, body: { status: "CHAT" }, ok: 201 },
    { name: "stamps", kind: "write", method: "POST", path: `${p}/session/stamps`, body: { stamps: [{ status: "PAY" }] }, ok: 201 },
    { name: "end", kind: "write", method: "POST", path: `${p}/session/end`, ok: 200 },
    { name: "start", kind: "write", method: "POST", path: `${p}/session/start`, ok: 201 },
    { name: "erase", kind: "write", method: "DELETE", path: p, ok: 204 },
    { name: "list stores", kind: "read", method: "GET", path: "/v1/stores", ok: 200 },
    { name: "get store", kind: "read", method: "GET", path: `/v1/stores/${SCOPE_STORE}`, ok: 200 },
    { name: "put store", kind: "admin", method: "PUT", path: `/v1/stores/${SCOPE_STORE}`, body: SCOPE_STORE_BODY, ok: 200 },
    {
      name: "put stores",
      kind: "admin",
      method: "PUT",
      path: "/v1/stores",
      body: { stores: [{ store_id: SCOPE_STORE, ...SCOPE_STORE_BODY }] },
      ok: 200,
    },
    { name: "delete store", kind: "admin", method: "DELETE", path: `/v1/stores/${SCOPE_STORE}`, ok: 204 },
    { name: "get own tenant", kind: "admin", method: "GET", path: "/v1/tenant", ok: 200 },
    { name: "update own tenant", kind: "admin", method: "PATCH", path: "/v1/tenant", body: { settings: { retention_days: 30 } }, ok: 200 },
    { name: "list own keys", kind: "admin", method: "GET", path: "/v1/tenant/keys", ok: 200 },
    { name: "create own key", kind: "admin", method: "POST", path: "/v1/tenant/keys", body: { scope: "read" }, ok: 201 },
    { name: "revoke own key", kind: "admin", method: "DELETE", path: `/v1/tenant/keys/${revocable}`, ok: 204 },
  ];
}

/** A store registered (by the operators' API) before each walk, so reading it can succeed. */
const SCOPE_STORE = "matrix-store";
const SCOPE_STORE_BODY = { name: "Scope store", time_zone: "UTC" };

const RANGE = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

const RANK: Record<Kind, number> = { read: 0, write: 1, admin: 2 };

async function sessionFor(writer: string) {
  const persona = personaId("scope");
  const started = await api(`${base(persona)}/session/start`, { method: "POST", key: writer });
  expect(started.status).toBe(201);
  return { persona, sessionId: started.json.data.session_id as string };
}

async function walk(key: string, scope: Kind, writer: string, revocable: string, tenant: string) {
  expect((await admin(`/tenants/${tenant}/stores/${SCOPE_STORE}`, { method: "PUT", body: SCOPE_STORE_BODY })).status).toBeLessThan(300);
  const { persona, sessionId } = await sessionFor(writer);
  for (const route of routes(persona, sessionId, revocable)) {
    const res = await api(route.path, { method: route.method, key, body: route.body });
    const where = `${scope} key: ${route.name}`;
    if (RANK[scope] >= RANK[route.kind]) {
      expect(res.status, `${where} ${JSON.stringify(res.json)}`).toBe(route.ok);
    } else {
      expect(res.status, where).toBe(403);
      expect(res.json.error.code, where).toBe("FORBIDDEN");
      expect(res.json.error.details).toEqual({ scope, required: route.kind });
    }
  }
}

describe("the scope matrix: what each key may do on every /v1 route", () => {
  it.each(["read", "write", "admin"] as const)("a registry %s key", async (scope) => {
    const tenant = await newTenant();
    const key = (await newKey(tenant, scope)).key;
    const writer = (await newKey(tenant, "admin")).key;
    const revocable = await newKey(tenant, "read");
    await walk(key, scope, writer, revocable.key_id, tenant);
    // a refused revocation changed nothing; an allowed one took effect
    const after = await api(`${base(personaId("after"))}/session`, { key: revocable.key });
    expect(after.status).toBe(scope === "admin" ? 401 : 404);
  });

  it.each([
    ["read", KEYS.acmeReadOnly],
    ["write", KEYS.acme],
  ] as const)("a static SDK_KEYS %s key (never admin: the tenant routes are 403)", async (scope, key) => {
    await walk(key, scope, KEYS.acme, "aaaaaaaaaaaaaaaa", "acme");
  });

  it("covers every /v1 route the app serves", () => {
    const template = (path: string) => path.split("?")[0]!.replace(/\/(p|scope)-[^/]+/, "/{persona_id}");
    const walked = new Set(
      routes("p-x", "{session_id}", "{key_id}").map((r) => `${r.method} ${template(r.path).replace(SCOPE_STORE, "{store_id}")}`),
    );
    const served = app.routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    for (const route of served) expect(walked, route).toContain(route);
  });

  it("an admin key of ADMIN_KEYS is not an SDK key, and an SDK key is not an admin key", async () => {
    const tenant = await newTenant();
    const own = await newKey(tenant, "admin");
    const asSdk = await api("/v1/tenant", { key: ADMIN_KEYS.operator });
    expect(asSdk.status).toBe(401);
    expect((await admin(`/tenants/${tenant}`, { key: own.key })).status).toBe(401);
  });
});
