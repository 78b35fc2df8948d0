import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PersonaSession } from "../src/persona/object";
import type { RowCounts } from "../src/sql";
import { current, end, personaId, personaStub, stamp, start } from "./helpers";

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
    await current(persona); // the object and its schema exist
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
});
