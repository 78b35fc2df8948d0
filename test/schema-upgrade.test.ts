import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PersonaStore, SCHEMA_VERSION } from "../src/persona/store";
import { api, current, end, history, personaId, personaStub, sessionById, stamp } from "./helpers";

describe("schema upgrades", () => {
  it("upgrades a version-1 database with data in it, losing nothing", async () => {
    const persona = personaId("upgrade");
    const t0 = Date.UTC(2026, 3, 17, 10, 0, 0);
    const ended = "01963f3a-0000-7000-8000-000000000001";
    const active = "01963f3a-0000-7000-8000-000000000002";

    await runInDurableObject(personaStub(persona), (_instance, state) => {
      const sql = state.storage.sql;
      for (const t of ["stamps", "sessions", "idempotency", "object_state", "schema_meta"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      const store = new PersonaStore(sql);
      store.migrate(1);
      expect(store.schemaVersion()).toBe(1);
      // rows exactly as the core issue's schema wrote them
      sql.exec("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)", ended, t0, t0 + 90 * 60_000, 2, t0 + 60_000);
      sql.exec("INSERT INTO stamps VALUES (?, 1, 'ENTER', ?, NULL)", ended, t0);
      sql.exec("INSERT INTO stamps VALUES (?, 2, 'CHAT', ?, '{\"lane\":1}')", ended, t0 + 60_000);
      sql.exec("INSERT INTO sessions VALUES (?, ?, NULL, ?, ?)", active, Date.now() - 1000, 1, Date.now() - 1000);
      sql.exec("INSERT INTO stamps VALUES (?, 1, 'ENTER', ?, NULL)", active, Date.now() - 1000);

      store.migrate();
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      store.migrate(); // idempotent
    });

    const past = await sessionById(persona, ended);
    expect(past.json.data).toMatchObject({
      session_id: ended,
      started_at: "2026-04-17T10:00:00.000Z",
      ended_at: "2026-04-17T11:30:00.000Z",
      end_reason: "client",
      stamp_count: 2,
      // Recorded before stores existed: no place.
      store_id: null,
      kiosk_id: null,
    });
    expect(past.json.data.stamps[1]).toEqual({
      status: "CHAT",
      timestamp: "2026-04-17T10:01:00.000Z",
      received_at: "2026-04-17T10:01:00.000Z",
      meta: { lane: 1 },
    });
    expect((await history(persona)).json.data.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([ended]);

    // the active v1 session carries on under v2
    expect((await current(persona)).json.data.session_id).toBe(active);
    expect((await stamp(persona, { status: "PAYMENT" })).status).toBe(201);
    const done = await end(persona);
    expect(done.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "PAYMENT"]);
  });

  it("upgrades a version-3 database with data in it to version 4: old sessions have no place, new starts record theirs", async () => {
    const persona = personaId("upgrade-v3");
    const t0 = Date.UTC(2026, 3, 17, 10, 0, 0);
    const ended = "01963f3a-0000-7000-8000-000000000011";
    await runInDurableObject(personaStub(persona), (_instance, state) => {
      const sql = state.storage.sql;
      for (const t of ["stamps", "sessions", "idempotency", "object_state", "schema_meta"]) sql.exec(`DROP TABLE IF EXISTS ${t}`);
      const store = new PersonaStore(sql);
      store.migrate(3);
      sql.exec(
        "INSERT INTO sessions (session_id, started_at, ended_at, stamp_count, last_stamp_at, end_reason, last_activity_at) VALUES (?, ?, ?, 1, ?, 'client', ?)",
        ended,
        t0,
        t0 + 60_000,
        t0,
        t0,
      );
      sql.exec("INSERT INTO stamps (session_id, seq, status, ts, meta, received_at) VALUES (?, 1, 'ENTER', ?, NULL, ?)", ended, t0, t0);
      store.migrate();
      expect(store.schemaVersion()).toBe(4);
    });
    expect((await sessionById(persona, ended)).json.data).toMatchObject({
      session_id: ended,
      stamp_count: 1,
      store_id: null,
      kiosk_id: null,
    });
    const started = await api(`/v1/persona/${persona}/session/start`, { method: "POST", body: { kiosk_id: "k-9" } });
    expect(started.json.data).toMatchObject({ store_id: null, kiosk_id: "k-9" });
    expect((await current(persona)).json.data.kiosk_id).toBe("k-9");
  });
});
