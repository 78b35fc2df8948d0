import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PersonaStore } from "../src/persona/store";
import { current, personaId, personaStub, stamp, start } from "./helpers";

interface Internals {
  store: PersonaStore;
  transaction<R>(fn: () => R): R;
}

describe("a transaction that fails", () => {
  it("leaves neither rows nor the object's cached session row and stamps behind", async () => {
    const persona = personaId("rollback");
    const { session_id } = (await start(persona)).json.data;
    await stamp(persona, { status: "CHAT" });

    await runInDurableObject(personaStub(persona), (instance) => {
      const inside = instance as unknown as Internals;
      expect(() =>
        inside.transaction(() => {
          inside.store.insertStamp(session_id, 3, "NEVER", Date.now(), Date.now(), null);
          expect(inside.store.latestSession()?.stamp_count).toBe(3); // the cache saw the write...
          expect(inside.store.stampLabels(session_id, 3).map((s) => s.status)).toEqual(["NEVER"]);
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(inside.store.latestSession()?.stamp_count).toBe(2); // ...and forgot it with the rollback
      expect(inside.store.stampLabels(session_id, 1).map((s) => s.status)).toEqual(["ENTER", "CHAT"]);
      expect(inside.store.lastLabel(session_id)?.status).toBe("CHAT");
    });

    const after = (await current(persona)).json.data;
    expect(after.stamp_count).toBe(2);
    expect(after.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT"]);
    expect((await stamp(persona, { status: "NEXT" })).json.data.status).toBe("NEXT");
    expect((await current(persona)).json.data.stamp_count).toBe(3);
  });
});
