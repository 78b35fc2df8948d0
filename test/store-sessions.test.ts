// Where a session happens: store_id and kiosk_id on starts, key binding, the registry check and
// its cache, every session shape carrying them, the per-store live view, occupancy and search.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { liveShard, monthOf, monthShard } from "../src/tenant-index/messages";
import { SCHEMA_VERSION as INDEX_SCHEMA_VERSION, IndexStore } from "../src/tenant-index/store";
import { registryStats } from "../src/tenants/db";
import { admin, api, base, DAY, end, newKey, newTenant, personaId, registrySql, sleep } from "./helpers";

vi.setConfig({ testTimeout: 20_000 });

const STORE = { time_zone: "Europe/Paris", country: "FR" };

/** A registry tenant with the given stores, and its admin and write keys. */
async function tenantWithStores(stores: Record<string, { capacity?: number; tags?: string[] }> = {}, settings?: Record<string, unknown>) {
  const tenant = await newTenant(settings);
  const list = Object.entries(stores).map(([store_id, extra]) => ({ store_id, name: `Store ${store_id}`, ...STORE, ...extra }));
  if (list.length) expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores: list } })).status).toBe(200);
  return { tenant, admin: (await newKey(tenant, "admin")).key, writer: (await newKey(tenant, "write")).key };
}

const startIn = (persona: string, key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  api(`${base(persona)}/session/start`, { method: "POST", key, body, headers });

/** Polls `read` until `done` holds (the index has a change within a second or two). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await sleep(100);
  }
}

const sessionRows = async (tenant: string, persona: string) =>
  runInDurableObject(env.PERSONA.getByName(`${tenant}:${persona}`), (_i, state) => {
    const exists = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'sessions'").toArray().length > 0;
    return exists ? state.storage.sql.exec("SELECT session_id, store_id, kiosk_id FROM sessions").toArray() : [];
  });

describe("where a session happens", () => {
  it("carries store_id and kiosk_id in every shape of the session", async () => {
    const { writer } = await tenantWithStores({ "lyon-01": {} });
    const persona = personaId("place");
    const started = await startIn(persona, writer, { store_id: "lyon-01", kiosk_id: "k-3" });
    expect(started.status).toBe(201);
    expect(started.json.data).toMatchObject({ persona_id: persona, store_id: "lyon-01", kiosk_id: "k-3" });
    const sid = started.json.data.session_id;
    const place = { store_id: "lyon-01", kiosk_id: "k-3" };
    expect((await api(`${base(persona)}/session`, { key: writer })).json.data).toMatchObject(place);
    const active = await eventually(
      () => api("/v1/sessions/active", { key: writer }),
      (r) => r.json.data.sessions.length === 1,
    );
    expect(active.json.data.sessions[0]).toMatchObject({ persona_id: persona, ...place });
    const ended = await end(persona, { key: writer });
    expect(ended.json.data).toMatchObject(place);
    expect((await api(`${base(persona)}/sessions`, { key: writer })).json.data.sessions[0]).toMatchObject({ session_id: sid, ...place });
    expect((await api(`${base(persona)}/sessions/${sid}`, { key: writer })).json.data).toMatchObject(place);
    const search = await eventually(
      () => api(`/v1/sessions?persona_id=${persona}`, { key: writer }),
      (r) => r.json.data.sessions[0]?.ended_at != null,
    );
    expect(search.json.data.sessions[0]).toMatchObject({ session_id: sid, ...place });
  });

  it("has null store_id and kiosk_id when the start names none", async () => {
    const { writer } = await tenantWithStores();
    const persona = personaId("noplace");
    const started = await startIn(persona, writer);
    expect(started.json.data).toMatchObject({ store_id: null, kiosk_id: null });
    expect((await end(persona, { key: writer })).json.data).toMatchObject({ store_id: null, kiosk_id: null });
  });

  it("puts a bound key's starts in its store, and refuses another store with 403 STORE_FORBIDDEN", async () => {
    const { tenant } = await tenantWithStores({ a: {}, b: {} });
    const bound = (await newKey(tenant, "write", { store_id: "a" })).key;
    const p1 = personaId("bound");
    expect((await startIn(p1, bound, { kiosk_id: "k1" })).json.data).toMatchObject({ store_id: "a", kiosk_id: "k1" });
    const p2 = personaId("bound");
    expect((await startIn(p2, bound, { store_id: "a" })).json.data.store_id).toBe("a");
    const p3 = personaId("bound");
    const other = await startIn(p3, bound, { store_id: "b" });
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ code: "STORE_FORBIDDEN", details: { store_id: "b", bound_store_id: "a" } });
    expect(await sessionRows(tenant, p3)).toEqual([]);
    // The key's listing shows its binding.
    const keys = (await admin(`/tenants/${tenant}/keys?limit=100`)).json.data.keys;
    expect(keys.filter((k: { store_id: string | null }) => k.store_id === "a")).toHaveLength(1);
  });

  it("refuses a store the tenant has not registered, or deleted, with 422 UNKNOWN_STORE, storing nothing", async () => {
    const { tenant, writer, admin: adminKey } = await tenantWithStores({ kept: {}, gone: {} });
    const p1 = personaId("unknown");
    const res = await startIn(p1, writer, { store_id: "never-registered" });
    expect(res.status).toBe(422);
    expect(res.json.error).toMatchObject({ code: "UNKNOWN_STORE", details: { store_id: "never-registered" } });
    expect(await sessionRows(tenant, p1)).toEqual([]);
    expect((await api("/v1/stores/gone", { method: "DELETE", key: adminKey })).status).toBe(204);
    // Deleted through this isolate: refused here at once.
    const p2 = personaId("unknown");
    expect((await startIn(p2, writer, { store_id: "gone" })).json.error.code).toBe("UNKNOWN_STORE");
    expect(await sessionRows(tenant, p2)).toEqual([]);
    // Another tenant's store is not this tenant's.
    const other = await tenantWithStores({ theirs: {} });
    expect((await startIn(personaId("unknown"), writer, { store_id: "theirs" })).json.error.code).toBe("UNKNOWN_STORE");
    expect(other.tenant).not.toBe(tenant);
  });

  it("requires a store when the tenant's require_store is on: 422 STORE_REQUIRED, unless the key is bound", async () => {
    const { tenant, writer } = await tenantWithStores({ s1: {} }, { require_store: true });
    expect((await admin(`/tenants/${tenant}`)).json.data.effective_settings.require_store).toBe(true);
    const p1 = personaId("req");
    const res = await startIn(p1, writer);
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("STORE_REQUIRED");
    expect(await sessionRows(tenant, p1)).toEqual([]);
    expect((await startIn(personaId("req"), writer, { store_id: "s1" })).status).toBe(201);
    const bound = (await newKey(tenant, "write", { store_id: "s1" })).key;
    expect((await startIn(personaId("req"), bound)).json.data.store_id).toBe("s1");
  });

  it("replays a start that succeeded even after its store was deleted (the refusal comes after the idempotency check)", async () => {
    const { writer, admin: adminKey } = await tenantWithStores({ brief: {} });
    const persona = personaId("replay");
    const key = { "idempotency-key": `start-${persona}` };
    const first = await startIn(persona, writer, { store_id: "brief" }, key);
    expect(first.status).toBe(201);
    await api("/v1/stores/brief", { method: "DELETE", key: adminKey });
    const retry = await startIn(persona, writer, { store_id: "brief" }, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.json.data).toEqual(first.json.data);
  });
});

describe("the store check on the start path", () => {
  it("costs no D1 query per start: a tenant's stores are read once per AUTH_CACHE_SECONDS", async () => {
    const { writer } = await tenantWithStores({ c1: {}, c2: {} });
    // Warm: the key and the tenant's stores are read once.
    expect((await startIn(personaId("cache"), writer, { store_id: "c1" })).status).toBe(201);
    const before = registryStats.queries;
    for (let i = 0; i < 20; i++) {
      const res = await startIn(personaId("cache"), writer, { store_id: i % 2 ? "c1" : "c2" });
      expect(res.status).toBe(201);
    }
    // Made-up store ids cost no query either.
    for (let i = 0; i < 20; i++) expect((await startIn(personaId("cache"), writer, { store_id: `nope-${i}` })).status).toBe(422);
    // AUTH_CACHE_SECONDS is 1 in the tests: the 40 starts may cross one window (a key and a stores read).
    expect(registryStats.queries - before).toBeLessThanOrEqual(2);
  });

  it("sees a store created here at once, and one created elsewhere within AUTH_CACHE_SECONDS", async () => {
    const { tenant, writer, admin: adminKey } = await tenantWithStores({ first: {} });
    expect((await startIn(personaId("fresh"), writer, { store_id: "first" })).status).toBe(201);
    // Through this isolate: usable at once, though this isolate had the tenant's stores cached.
    expect((await api("/v1/stores/here", { method: "PUT", key: adminKey, body: { name: "Here", time_zone: "UTC" } })).status).toBe(201);
    expect((await startIn(personaId("fresh"), writer, { store_id: "here" })).status).toBe(201);
    // Behind this isolate's back (as another isolate's write lands): refused until the window passes.
    expect((await startIn(personaId("fresh"), writer, { store_id: "here" })).status).toBe(201);
    await registrySql(
      "INSERT INTO stores (tenant_id, store_id, name, time_zone, tags, created_at, updated_at) VALUES (?, 'elsewhere', 'E', 'UTC', '[]', 1, 1)",
      tenant,
    );
    expect((await startIn(personaId("fresh"), writer, { store_id: "elsewhere" })).status).toBe(422);
    await sleep(1100);
    expect((await startIn(personaId("fresh"), writer, { store_id: "elsewhere" })).status).toBe(201);
  });
});

describe("bad place input", () => {
  it.each([
    ["store_id", { store_id: "has space" }],
    ["store_id", { store_id: "x".repeat(65) }],
    ["store_id", { store_id: "" }],
    ["kiosk_id", { kiosk_id: "k/1" }],
    ["kiosk_id", { kiosk_id: 7 }],
  ])("%s %j is 400 VALIDATION_ERROR naming it, and nothing is stored", async (field, body) => {
    const { tenant, writer } = await tenantWithStores({ ok: {} });
    const persona = personaId("bad");
    const res = await startIn(persona, writer, body);
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(await sessionRows(tenant, persona)).toEqual([]);
  });

  it("a key bound to an unregistered store is refused at creation with 422 UNKNOWN_STORE, and no key is made", async () => {
    const tenant = await newTenant();
    const res = await admin(`/tenants/${tenant}/keys`, { method: "POST", body: { scope: "write", store_id: "ghost" } });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("UNKNOWN_STORE");
    expect((await admin(`/tenants/${tenant}/keys`)).json.data.keys).toEqual([]);
    const bad = await admin(`/tenants/${tenant}/keys`, { method: "POST", body: { scope: "write", store_id: "no spaces" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.fields[0].path).toBe("store_id");
  });
});

describe("live, per store", () => {
  it("restricts the active view, its counts and its total to one store", async () => {
    const { writer } = await tenantWithStores({ north: {}, south: {} });
    const inNorth = [personaId("n"), personaId("n")];
    const inSouth = personaId("s");
    for (const p of inNorth) await startIn(p, writer, { store_id: "north" });
    await startIn(inSouth, writer, { store_id: "south" });
    await api(`${base(inNorth[0]!)}/session/stamp`, { method: "POST", key: writer, body: { status: "CHAT" } });
    const north = await eventually(
      () => api("/v1/sessions/active?store_id=north", { key: writer }),
      (r) => r.json.data.total_active === 2 && r.json.data.counts_by_status.CHAT === 1,
    );
    expect(north.json.data.sessions.map((s: { persona_id: string }) => s.persona_id).sort()).toEqual([...inNorth].sort());
    expect(north.json.data.counts_by_status).toEqual({ CHAT: 1, ENTER: 1 });
    const south = await api("/v1/sessions/active?store_id=south", { key: writer });
    expect(south.json.data).toMatchObject({ total_active: 1, counts_by_status: { ENTER: 1 } });
    expect((await api("/v1/sessions/active", { key: writer })).json.data.total_active).toBe(3);
    expect((await api("/v1/sessions/active?store_id=bad%20id", { key: writer })).status).toBe(400);
  });

  it("reports occupancy for every registered store (zero included) and unregistered ones in use, busiest first", async () => {
    const { writer, admin: adminKey } = await tenantWithStores({
      big: { capacity: 4, tags: ["mall"] },
      small: { capacity: 3 },
      empty: { capacity: 10, tags: ["mall"] },
      nocap: {},
      retired: {},
    });
    for (let i = 0; i < 3; i++) await startIn(personaId("o"), writer, { store_id: "big" });
    await startIn(personaId("o"), writer, { store_id: "small" });
    await startIn(personaId("o"), writer, { store_id: "retired" });
    await startIn(personaId("o"), writer, { store_id: "retired" });
    await startIn(personaId("o"), writer);
    // Deleted while sessions are in it: still shown, by id, with no name.
    await api("/v1/stores/retired", { method: "DELETE", key: adminKey });
    const res = await eventually(
      () => api("/v1/occupancy", { key: writer }),
      (r) => r.json.data.total_active === 6 && r.json.data.no_store_active === 1,
    );
    expect(res.json.data.stores).toEqual([
      { store_id: "big", name: "Store big", active: 3, capacity: 4, utilization: 0.75, by_status: { ENTER: 3 } },
      { store_id: "retired", name: null, active: 2, capacity: null, utilization: null, by_status: { ENTER: 2 } },
      { store_id: "small", name: "Store small", active: 1, capacity: 3, utilization: 0.3333, by_status: { ENTER: 1 } },
      { store_id: "empty", name: "Store empty", active: 0, capacity: 10, utilization: 0, by_status: {} },
      { store_id: "nocap", name: "Store nocap", active: 0, capacity: null, utilization: null, by_status: {} },
    ]);
    expect(res.json.data.next_cursor).toBeNull();
    const mall = await api("/v1/occupancy?tag=mall", { key: writer });
    expect(mall.json.data.stores.map((s: { store_id: string }) => s.store_id)).toEqual(["big", "empty"]);
    expect(mall.json.data.total_active).toBe(3);
    // Paged: the same order, no gaps or repeats.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof api>> = await api(`/v1/occupancy?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: writer });
      seen.push(...page.json.data.stores.map((s: { store_id: string }) => s.store_id));
      cursor = page.json.data.next_cursor;
    } while (cursor);
    expect(seen).toEqual(["big", "retired", "small", "empty", "nocap"]);
    expect((await api("/v1/occupancy?cursor=bogus", { key: writer })).status).toBe(400);
  });
});

describe("search by store and kiosk", () => {
  it("filters sessions by store_id and kiosk_id", async () => {
    const { writer } = await tenantWithStores({ x: {}, y: {} });
    const px = personaId("sx");
    const py = personaId("sy");
    await startIn(px, writer, { store_id: "x", kiosk_id: "k1" });
    await startIn(py, writer, { store_id: "y", kiosk_id: "k1" });
    const from = new Date(Date.now() - DAY).toISOString();
    const inX = await eventually(
      () => api(`/v1/sessions?from=${from}&store_id=x`, { key: writer }),
      (r) => r.json.data.sessions.length === 1,
    );
    expect(inX.json.data.sessions.map((s: { persona_id: string }) => s.persona_id)).toEqual([px]);
    const k1 = await eventually(
      () => api(`/v1/sessions?from=${from}&kiosk_id=k1`, { key: writer }),
      (r) => r.json.data.sessions.length === 2,
    );
    expect(k1.json.data.sessions).toHaveLength(2);
    expect((await api(`/v1/sessions?from=${from}&store_id=y&kiosk_id=k2`, { key: writer })).json.data.sessions).toEqual([]);
  });
});

describe("the index shard's schema upgrade", () => {
  it("upgrades a version-1 shard with data in it: its sessions and live rows get null places and stay readable", async () => {
    const tenant = `up-${crypto.randomUUID().slice(0, 8)}`;
    const now = Date.now();
    const sid = "01963f3a-0000-7000-8000-0000000000aa";
    const shard = env.TENANT_INDEX.getByName(monthShard(tenant, monthOf(now)));
    await runInDurableObject(shard, (_i, state) => {
      const sql = state.storage.sql;
      const store = new IndexStore(sql);
      store.migrate(1);
      sql.exec(
        `INSERT INTO sessions (session_id, persona_id, started_at, ended_at, end_reason, stamp_count, last_status, last_ts, path, path_ts, stamps_held)
          VALUES (?, 'p1', ?, NULL, NULL, 1, 'ENTER', ?, 'ENTER', ?, 1)`,
        sid,
        now,
        now,
        String(now),
      );
      store.migrate();
      expect(sql.exec("SELECT value FROM schema_meta WHERE key = 'version'").one().value).toBe(INDEX_SCHEMA_VERSION);
      expect(sql.exec("SELECT store_id, kiosk_id, path FROM sessions").toArray()).toEqual([
        { store_id: null, kiosk_id: null, path: "ENTER" },
      ]);
    });
    const live = env.TENANT_INDEX.getByName(liveShard(tenant));
    await runInDurableObject(live, (_i, state) => {
      const store = new IndexStore(state.storage.sql);
      store.migrate(1);
      state.storage.sql.exec(
        "INSERT INTO live (persona_id, session_id, started_at, ended_at, stamp_count, status, status_since, idle_at) VALUES ('p1', ?, ?, NULL, 1, 'ENTER', ?, NULL)",
        sid,
        now,
        now,
      );
      store.migrate();
    });
    const page = await live.active({ status: null, store: null, after: null, limit: 10 });
    expect(page.sessions).toEqual([expect.objectContaining({ persona_id: "p1", store_id: null, kiosk_id: null })]);
    expect((await live.active({ status: null, store: "s", after: null, limit: 10 })).total).toBe(0);
  });
});
