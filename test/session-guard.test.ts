import { describe, expect, it } from "vitest";
import { current, end, HOUR, personaId, sqlIn, stamp, stamps, start } from "./helpers";

describe("session_id guard", () => {
  it("lets a request through when it names the active session", async () => {
    const persona = personaId("guard-ok");
    const { session_id } = (await start(persona)).json.data;
    expect((await stamp(persona, { status: "A", session_id })).status).toBe(201);
    expect((await stamps(persona, { stamps: [{ status: "B" }], session_id })).status).toBe(201);
    expect((await end(persona, { body: { session_id } })).status).toBe(200);
  });

  it("refuses a late retry after an idle end with 409 SESSION_MISMATCH and no active session", async () => {
    const persona = personaId("guard-idle");
    const { session_id } = (await start(persona)).json.data;
    await sqlIn(persona, "UPDATE sessions SET last_activity_at = last_activity_at - ?", 3 * HOUR);
    const res = await stamp(persona, { status: "LATE", session_id });
    expect(res.status).toBe(409);
    expect(res.json.error).toMatchObject({ code: "SESSION_MISMATCH", details: { active_session_id: null } });
  });

  it("never lets a late stamp land in the next visit", async () => {
    const persona = personaId("guard-next");
    const old = (await start(persona)).json.data.session_id;
    await end(persona);
    const next = (await start(persona)).json.data.session_id;
    for (const res of [
      await stamp(persona, { status: "LATE", session_id: old }),
      await stamps(persona, { stamps: [{ status: "LATE" }], session_id: old }),
      await end(persona, { body: { session_id: old } }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.json.error.details.active_session_id).toBe(next);
    }
    const live = (await current(persona)).json.data;
    expect(live.session_id).toBe(next);
    expect(live.stamp_count).toBe(1);
  });
});
