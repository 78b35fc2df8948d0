import { describe, expect, it } from "vitest";
import { current, end, erase, history, personaId, sqlIn, stamp, start } from "./helpers";

describe("DELETE /v1/persona/{persona_id}", () => {
  it("erases sessions, history and idempotency records; a new start works; a second call is 204 too", async () => {
    const persona = personaId("erase");
    const key = { headers: { "idempotency-key": "erase-key" } };
    const first = await start(persona, key);
    await end(persona);
    await start(persona);
    await stamp(persona, { status: "CHAT" });

    const res = await erase(persona);
    expect(res.status).toBe(204);
    expect(res.json).toBeNull();
    expect((await current(persona)).status).toBe(404);
    expect((await history(persona)).json.data.sessions).toEqual([]);
    expect(await sqlIn(persona, "SELECT key FROM idempotency")).toEqual([]);

    const again = await start(persona, key); // the old key is gone: a real start, not a replay
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.json.data.session_id).not.toBe(first.json.data.session_id);
    expect((await erase(persona)).status).toBe(204);
    expect((await erase(persona)).status).toBe(204);
  });

  it("erases only that persona", async () => {
    const keep = personaId("keep");
    const gone = personaId("gone");
    await start(keep);
    await start(gone);
    await erase(gone);
    expect((await current(keep)).status).toBe(200);
  });
});
