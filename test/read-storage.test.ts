import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { monthOf, monthShard } from "../src/tenant-index/messages";
import { api, base, current, history, KEYS, personaId, start } from "./helpers";

/**
 * Whether an object's database holds anything: a table, or the platform's own rows (an alarm, a
 * key-value pair). Locally every object that ever ran has a database file, so the test looks
 * inside it (an object that wrote nothing has an empty one, which costs nothing).
 */
async function holdsStorage(stub: DurableObjectStub): Promise<boolean> {
  return runInDurableObject(stub, (_instance, state) => {
    const tables = state.storage.sql.exec("SELECT name FROM sqlite_master").toArray();
    return tables.length > 0 || state.storage.sql.databaseSize > 4096;
  });
}

const personaObject = (persona: string) => env.PERSONA.getByName(`acme:${persona}`);
const shardObject = (month: string) => env.TENANT_INDEX.getByName(monthShard("acme", month));
const holding = async <T>(items: T[], stub: (item: T) => DurableObjectStub) => {
  const held: T[] = [];
  for (const item of items) if (await holdsStorage(stub(item))) held.push(item);
  return held;
};

describe("a read creates no storage", () => {
  it("reads of personas that never wrote answer 404 or an empty page and leave no persona object with storage; a write does", async () => {
    const personas = Array.from({ length: 10 }, () => personaId("never"));
    for (const persona of personas) {
      const got = await current(persona, { key: KEYS.acmeReadOnly });
      expect(got.status).toBe(404);
      expect(got.json.error.code).toBe("NO_ACTIVE_SESSION");
      const one = await api(`${base(persona)}/sessions/019ac5a0-8f1e-7c3a-9d2b-5e4f6a7b8c9d`, { key: KEYS.acmeReadOnly });
      expect(one.json.error.code).toBe("SESSION_NOT_FOUND");
      expect((await history(persona, "", { key: KEYS.acmeReadOnly })).json.data).toEqual({ sessions: [], next_cursor: null });
    }
    expect(await holding(personas, personaObject)).toEqual([]);

    // The same check sees a persona that wrote, so it can fail.
    const writer = personaId("writer");
    expect((await start(writer)).status).toBe(201);
    expect(await holdsStorage(personaObject(writer))).toBe(true);
    // and a shard the index wrote: the writer's month, once its start is applied
    await expect.poll(() => holdsStorage(shardObject(monthOf(Date.now()))), { timeout: 10_000 }).toBe(true);
  });

  it("erasing a persona that never wrote succeeds and stores nothing", async () => {
    const persona = personaId("never-erased");
    expect((await api(base(persona), { method: "DELETE" })).status).toBe(204);
    expect(await holdsStorage(personaObject(persona))).toBe(false);
    // and it can start a session afterwards
    expect((await start(persona)).status).toBe(201);
    expect((await current(persona)).json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER"]);
  });

  it("search and analytics over months no session started in wake no shard with storage", async () => {
    const months: string[] = [];
    for (let year = 2200; year < 2210; year++) {
      const from = `${year}-01-01T00:00:00Z`;
      const to = `${year}-04-01T00:00:00Z`;
      months.push(`${year}-01`, `${year}-02`, `${year}-03`);
      const search = await api(`/v1/sessions?from=${from}&to=${to}`, { key: KEYS.acmeReadOnly });
      expect(search.status).toBe(200);
      expect(search.json.data.sessions).toEqual([]);
      const range = `from=${from}&to=${to}`;
      const funnel = await api(`/v1/analytics/funnel?step=A&step=B&${range}`, { key: KEYS.acmeReadOnly });
      expect(funnel.json.data.steps.map((s: { sessions: number }) => s.sessions)).toEqual([0, 0]);
      expect((await api(`/v1/analytics/dwell?${range}`, { key: KEYS.acmeReadOnly })).json.data.statuses).toEqual([]);
      const visits = await api(`/v1/analytics/visits?${range}&interval=day`, { key: KEYS.acmeReadOnly });
      expect(visits.json.data.buckets.length).toBe((Date.parse(to) - Date.parse(from)) / 86_400_000);
    }
    expect(await holding(months, shardObject)).toEqual([]);
  });
});
