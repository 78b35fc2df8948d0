import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { current, end, personaId, personaStub, stamp, start } from "./helpers";

describe("durability", () => {
  it("keeps the active session and its stamps across an eviction of the object", async () => {
    const persona = personaId("evict");
    const started = await start(persona);
    await stamp(persona, { status: "CHAT", meta: { lane: 3 } });
    const before = (await current(persona)).json.data;

    await evictDurableObject(personaStub(persona));

    const after = await current(persona);
    expect(after.status).toBe(200);
    expect(after.json.data).toEqual(before);
    // the single-session rule still holds after the restart
    expect((await start(persona)).status).toBe(409);
    await stamp(persona, { status: "PAYMENT" });
    const ended = await end(persona);
    expect(ended.json.data.session_id).toBe(started.json.data.session_id);
    expect(ended.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT", "PAYMENT"]);
  });
});
