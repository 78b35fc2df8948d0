import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PersonaSession } from "../src/persona/object";
import type { PersonaStore } from "../src/persona/store";
import type { RowCounts } from "../src/sql";
import { end, personaId, personaStub, stamp, start } from "./helpers";

/** Billed SQL rows spent by one API call, read from the object's own cursor totals. */
async function cost(persona: string, call: () => Promise<unknown>): Promise<RowCounts> {
  const read = () =>
    runInDurableObject(personaStub(persona), (instance: PersonaSession) => ({
      ...(instance as unknown as { store: { sql: { counts: RowCounts } } }).store.sql.counts,
    }));
  const before = await read();
  await call();
  const after = await read();
  return { rowsRead: after.rowsRead - before.rowsRead, rowsWritten: after.rowsWritten - before.rowsWritten };
}

describe("storage cost per operation (the budget of the benchmark issue)", () => {
  it("writes ≤ 4 rows per start, ≤ 2 per stamp, ≤ 3 per stamp with a key", async () => {
    const persona = personaId("cost");
    // A persona's first write creates its schema (a read does not): measure a later start.
    await start(persona);
    await end(persona);
    const startCost = await cost(persona, () => start(persona));
    expect(startCost.rowsWritten).toBeLessThanOrEqual(2); // budget 4: the session row and ENTER
    const stampCost = await cost(persona, () => stamp(persona, { status: "CHAT" }));
    expect(stampCost.rowsWritten).toBe(1); // budget 2: a stamp is its own row and nothing else
    const keyed = await cost(persona, () => stamp(persona, { status: "CHAT" }, { headers: { "idempotency-key": "k1" } }));
    expect(keyed.rowsWritten).toBe(2); // budget 3: plus the idempotency record
    const endCost = await cost(persona, () => end(persona));
    expect(endCost.rowsWritten).toBeLessThanOrEqual(1);
  });

  it("reads per stamp do not grow with the number of stamps in the session", async () => {
    const persona = personaId("flat");
    await start(persona);
    const early = await cost(persona, () => stamp(persona, { status: "EARLY" }));
    for (let i = 0; i < 300; i++) await stamp(persona, { status: `S${i}` });
    const late = await cost(persona, () => stamp(persona, { status: "LATE" }));
    expect(late).toEqual(early);
  });

  it("reads no rows for a stamp, its index send included", async () => {
    const persona = personaId("noread");
    await start(persona);
    await stamp(persona, { status: "CHAT" });
    // A change more than 100 ms after the last send is sent within its own call, so the send's
    // reads are in this window (sooner, it would go on a timer, after it). CHAT's send waited out
    // the 100 ms after start's, so 300 ms clears both.
    await new Promise((r) => setTimeout(r, 300));
    const stampCost = await cost(persona, () => stamp(persona, { status: "SHOPPING" }));
    expect(stampCost).toEqual({ rowsRead: 0, rowsWritten: 1 });
  });

  it("gives the index send the stamps SQLite holds, from memory or, past what it keeps, from SQLite", async () => {
    const persona = personaId("tail");
    const { session_id } = (await start(persona)).json.data;
    for (let i = 0; i < 299; i++) await stamp(persona, { status: `S${i}` });
    await runInDurableObject(personaStub(persona), (instance: PersonaSession) => {
      const store = (instance as unknown as { store: PersonaStore }).store;
      const stored = (from: number) =>
        store.sql.all<{ seq: number; status: string; ts: number }>(
          "test",
          "SELECT seq, status, ts FROM stamps WHERE session_id = ? AND seq >= ? ORDER BY seq",
          session_id,
          from,
        );
      for (const from of [1, 2, 100, 200, 299, 300, 301]) expect(store.stampLabels(session_id, from)).toEqual(stored(from));
      expect(store.lastLabel(session_id)).toEqual(stored(300)[0]);
      // After the cache is dropped (a rollback, an erasure), the next stamps start a new tail.
      store.forget();
      store.insertStamp(session_id, 301, "AFTER", Date.now(), Date.now(), null);
      for (const from of [1, 300, 301, 302]) expect(store.stampLabels(session_id, from)).toEqual(stored(from));
    });
  });
});
