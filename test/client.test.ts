import { describe, expect, it } from "vitest";
import { createAdminClient, createClient, operationRoutes } from "../client/src/index";
import { ADMIN_KEYS, current, documentedFetch, KEYS, personaId } from "./helpers";

type Fetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
/** The real Worker; every answer is held to the served document. */
const worker: Fetch = documentedFetch;

function client(fetchImpl: Fetch = worker, sleeps: number[] = []) {
  return createClient({
    baseUrl: "https://api.test",
    sdkKey: KEYS.acme,
    fetch: fetchImpl,
    sleep: async (ms) => void sleeps.push(ms),
  });
}

describe("typed client against the real Worker", () => {
  it("walks the seed's journey with typed results", async () => {
    const api = client();
    const persona = personaId("client");
    const started = await api.start(persona);
    expect(started.ok).toBe(true);
    if (!started.ok) return;
    expect(started.status).toBe(201);
    expect(api.activeSession(persona)).toBe(started.data.session_id);
    for (const status of ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"]) {
      const r = await api.stamp(persona, { status, meta: status === "SHOPPING" ? { zone: "wine" } : undefined });
      expect(r.ok && r.data.status).toBe(status);
    }
    const batch = await api.stamps(persona, [{ status: "A" }, { status: "B" }]);
    expect(batch.ok && batch.data.stamps.length).toBe(2);
    const live = await api.current(persona);
    expect(live.ok && live.data.stamp_count).toBe(7);
    const ended = await api.end(persona);
    expect(ended.ok && ended.data.stamps.map((s) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE", "A", "B"]);
    expect(api.activeSession(persona)).toBeUndefined();
    const past = await api.history(persona, { limit: 5 });
    expect(past.ok && past.data.sessions[0]?.session_id).toBe(started.data.session_id);
    const one = await api.session(persona, started.data.session_id);
    expect(one.ok && one.data.end_reason).toBe("client");
    const erased = await api.erase(persona);
    expect(erased.ok && erased.status).toBe(204);
    const health = await api.health();
    expect(health.ok && health.data.status).toBe("ok");
    const document = await api.openApiDocument();
    expect(document.ok && document.data.openapi).toBe("3.1.0");
  });

  it("implements every operation the served document has, at its method and path", async () => {
    const { paths } = (await (await worker("https://api.test/openapi.json")).json()) as {
      paths: Record<string, Record<string, { operationId: string }>>;
    };
    const documented = Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => [op.operationId, method, path].join(" ")),
    );
    const implemented = Object.entries(operationRoutes).map(([id, [method, path]]) => [id, method, path].join(" "));
    expect(implemented.sort()).toEqual(documented.sort());
  });

  it("returns typed error codes", async () => {
    const api = client();
    const persona = personaId("client-err");
    const res = await api.stamp(persona, { status: "CHAT" });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.status).toBe(404);
    expect(res.error.code).toBe("NO_ACTIVE_SESSION");
    expect(res.error.request_id).toBe(res.requestId);
  });

  it("retries a stamp whose response was lost without duplicating it (same Idempotency-Key)", async () => {
    const persona = personaId("client-lost");
    let dropped = 0;
    const keys: string[] = [];
    const flaky: Fetch = async (input, init) => {
      const req = new Request(input, init);
      if (req.method === "POST") keys.push(req.headers.get("idempotency-key") ?? "");
      const res = await worker(req);
      if (req.url.endsWith("/session/stamp") && dropped === 0) {
        dropped++;
        throw new TypeError("network connection lost"); // the server acted; the answer never came
      }
      return res;
    };
    const sleeps: number[] = [];
    const api = client(flaky, sleeps);
    await api.start(persona);
    const res = await api.stamp(persona, { status: "PAYMENT" });
    expect(res.ok).toBe(true);
    expect(res.ok && res.replayed).toBe(true);
    expect(sleeps).toHaveLength(1);
    expect(keys[1]).toBe(keys[2]);
    expect((await current(persona)).json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "PAYMENT"]);
  });

  it("retries 429 and 503, honouring Retry-After, and gives up after its retries", async () => {
    const persona = personaId("client-busy");
    let busy = 2;
    const sleeps: number[] = [];
    const api = client(async (input, init) => {
      if (busy-- > 0) {
        return new Response(JSON.stringify({ success: false, error: { code: "RATE_LIMITED", message: "slow down" } }), {
          status: busy === 1 ? 429 : 503,
          headers: { "retry-after": "2", "content-type": "application/json" },
        });
      }
      return worker(input, init);
    }, sleeps);
    expect((await api.start(persona)).ok).toBe(true);
    expect(sleeps).toEqual([2000, 2000]);

    const down = client(async () => {
      throw new TypeError("offline");
    });
    const res = await down.current(persona);
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error.code).toBe("NETWORK_ERROR");
  });

  it("sends the session guard, so a stale client cannot stamp into the next visit", async () => {
    const persona = personaId("client-guard");
    const kiosk = client();
    const other = client();
    await kiosk.start(persona);
    await other.end(persona); // someone else ends the visit and starts the next one
    await other.start(persona);
    const late = await kiosk.stamp(persona, { status: "LATE" });
    expect(late.ok).toBe(false);
    expect(!late.ok && late.error.code).toBe("SESSION_MISMATCH");
    expect((await current(persona)).json.data.stamp_count).toBe(1);
  });
});

describe("typed client: tenant-wide routes", () => {
  it("lists active sessions, searches, and reads the funnel (repeated step parameters), dwell and visits", async () => {
    const api = client();
    const persona = personaId("client-wide");
    const label = `CW-${crypto.randomUUID().slice(0, 8)}`;
    const started = await api.start(persona, { occurredAt: new Date(Date.now() - 60_000).toISOString() });
    if (!started.ok) throw new Error(started.error.code);
    await api.stamp(persona, { status: label });
    let active = await api.activeSessions({ status: label });
    for (let i = 0; i < 80 && !(active.ok && active.data.sessions.length === 1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      active = await api.activeSessions({ status: label });
    }
    expect(active.ok && active.data.sessions.map((s) => s.persona_id)).toEqual([persona]);
    const found = await api.searchSessions({ personaId: persona, status: label, limit: 5 });
    expect(found.ok && found.data.sessions.map((s) => s.session_id)).toEqual([started.data.session_id]);
    const from = new Date(Date.now() - 120_000).toISOString();
    const to = new Date(Date.now() + 1000).toISOString();
    const funnel = await api.funnel({ steps: ["ENTER", label], from, to });
    expect(funnel.ok && funnel.data.steps.map((s) => s.status)).toEqual(["ENTER", label]);
    expect(funnel.ok && funnel.data.steps[1]!.sessions).toBeGreaterThanOrEqual(1);
    const dwell = await api.dwell({ from, to });
    expect(dwell.ok && dwell.data.statuses.some((s) => s.status === "ENTER")).toBe(true);
    const visits = await api.visits({ from, to, interval: "hour", tz: "Europe/Paris" });
    expect(visits.ok && visits.data.tz).toBe("Europe/Paris");
    // The store scope: kiosk filter and a breakdown, as query parameters the API takes.
    const byKiosk = await api.funnel({ steps: ["ENTER", label], from, to, groupBy: "kiosk" });
    expect(byKiosk.ok && byKiosk.data.groups?.reduce((n, g) => n + g.steps[1]!.sessions, 0)).toBe(
      funnel.ok && funnel.data.steps[1]!.sessions,
    );
    // Occupancy by kiosk: the groups' sessions present add up to every session present.
    const occupancy = await api.occupancyAnalytics({ from, to, interval: "hour", groupBy: "kiosk" });
    expect(occupancy.ok && occupancy.data.groups?.reduce((n, g) => n + g.sessions, 0)).toBeGreaterThanOrEqual(1);
    const none = await api.visits({ from, to, tz: "store", fallbackTz: "UTC", kioskId: "no-such-kiosk" });
    expect(none.ok && none.data.buckets.reduce((n, b) => n + b.sessions, 0)).toBe(0);
    const bad = await api.funnel({ steps: ["ONLY"], from, to });
    expect(!bad.ok && bad.error.code).toBe("VALIDATION_ERROR");
  });
});

describe("typed clients: the tenant's own settings and keys, and the operators' admin client", () => {
  it("onboards a tenant with the admin client, then manages it with its admin-scoped key; key creation is never retried", async () => {
    const calls: string[] = [];
    const recording: Fetch = (input, init) => {
      calls.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return worker(input, init);
    };
    const admin = createAdminClient({ baseUrl: "https://api.test", adminKey: ADMIN_KEYS.operator, fetch: recording });
    const tenantId = `cli-${crypto.randomUUID().slice(0, 8)}`;
    const created = await admin.createTenant({ tenant_id: tenantId, name: "Client test" });
    expect(created.ok && created.data.tenant_id).toBe(tenantId);
    const key = await admin.createKey(tenantId, { scope: "admin", label: "ops" });
    if (!key.ok) throw new Error(key.error.code);
    expect(key.data.key).toMatch(/^psa_/);

    const own = createClient({ baseUrl: "https://api.test", sdkKey: key.data.key, fetch: recording });
    expect((await own.tenant()).ok).toBe(true);
    const updated = await own.updateTenant({ idle_timeout_seconds: 600 });
    expect(updated.ok && updated.data.effective_settings.idle_timeout_seconds).toBe(600);
    const reader = await own.createKey({ scope: "read" });
    if (!reader.ok) throw new Error(reader.error.code);
    const listed = await own.keys();
    expect(listed.ok && listed.data.keys.map((k) => k.key_id).sort()).toEqual([key.data.key_id, reader.data.key_id].sort());
    expect((await own.revokeKey(reader.data.key_id)).status).toBe(204);
    expect((await admin.listKeys(tenantId)).ok).toBe(true);
    const audit = await admin.audit({ tenantId });
    expect(audit.ok && audit.data.entries.map((e) => e.action)).toContain("key.revoke");

    // A 503 on key creation is returned as is: retrying could make a second key whose secret nobody saw.
    let hits = 0;
    const unavailable: Fetch = async () => {
      hits += 1;
      const body = { success: false, error: { code: "UNAVAILABLE", message: "busy", request_id: "r" } };
      return new Response(JSON.stringify(body), { status: 503, headers: { "retry-after": "0" } });
    };
    const busy = createAdminClient({
      baseUrl: "https://api.test",
      adminKey: ADMIN_KEYS.operator,
      fetch: unavailable,
      sleep: async () => {},
    });
    const once = await busy.createKey(tenantId, { scope: "write" });
    expect(!once.ok && once.error.code).toBe("UNAVAILABLE");
    expect(hits).toBe(1);
    // Reads are retried as usual.
    await busy.listKeys(tenantId);
    expect(hits).toBe(1 + 1 + 3);
  });
});
