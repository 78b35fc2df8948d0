import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY, end, history, personaId, personaStub, sessionById, sqlIn, stamp, stamps, start } from "./helpers";

async function visits(persona: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await start(persona)).json.data.session_id);
    if (i % 2) await stamp(persona, { status: "CHAT" });
    await end(persona);
  }
  return ids;
}

describe("history", () => {
  it("pages through more sessions than one page, newest first, with no gaps or repeats", async () => {
    const persona = personaId("pages");
    const ids = await visits(persona, 25);
    await start(persona); // the active one is not history
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=10&cursor=${encodeURIComponent(cursor)}` : "?limit=10";
      const res = await history(persona, q);
      expect(res.status).toBe(200);
      seen.push(...res.json.data.sessions.map((s: { session_id: string }) => s.session_id));
      cursor = res.json.data.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    const first = (await history(persona, "?limit=1")).json.data.sessions[0];
    expect(first).toEqual({
      session_id: ids[24],
      started_at: expect.any(String),
      ended_at: expect.any(String),
      end_reason: "client",
      stamp_count: 1,
      store_id: null,
      kiosk_id: null,
    });
  });

  it("keeps the cursor stable while new sessions are added", async () => {
    const persona = personaId("stable");
    const ids = await visits(persona, 5);
    const page1 = (await history(persona, "?limit=2")).json.data;
    await visits(persona, 3);
    const page2 = (await history(persona, `?limit=2&cursor=${page1.next_cursor}`)).json.data;
    expect(page2.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([ids[2], ids[1]]);
  });

  it("defaults to 20 per page and counts ENTER in stamp_count", async () => {
    const persona = personaId("default");
    await visits(persona, 21);
    const res = (await history(persona)).json.data;
    expect(res.sessions).toHaveLength(20);
    expect(res.next_cursor).not.toBeNull();
    expect(res.sessions.map((s: { stamp_count: number }) => s.stamp_count)).toContain(2);
  });

  it("is empty with a null cursor for a persona with no past sessions", async () => {
    const res = await history(personaId("nobody"));
    expect(res.json.data).toEqual({ sessions: [], next_cursor: null });
  });

  it.each(["?limit=0", "?limit=101", "?limit=abc", "?limit=1.5", "?limit=", "?cursor=nope", "?cursor=czpub3QtYS11dWlk"])(
    "refuses %s with 400",
    async (q) => {
      const res = await history(personaId("badq"), q);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_ERROR");
    },
  );

  it("returns one session, active or ended, with all its stamps", async () => {
    const persona = personaId("one");
    const [past] = await visits(persona, 1);
    const live = (await start(persona)).json.data.session_id;
    await stamps(persona, { stamps: [{ status: "A" }, { status: "B", meta: { m: 1 } }] });
    const a = await sessionById(persona, past!);
    expect(a.json.data).toMatchObject({ session_id: past, persona_id: persona, end_reason: "client", stamp_count: 1 });
    const b = await sessionById(persona, live);
    expect(b.json.data).toMatchObject({ session_id: live, ended_at: null, end_reason: null, stamp_count: 3 });
    expect(b.json.data.stamps[2]).toMatchObject({ status: "B", meta: { m: 1 } });
    const missing = await sessionById(persona, crypto.randomUUID());
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("SESSION_NOT_FOUND");
    expect((await sessionById(persona, "not-a-uuid")).status).toBe(400);
  });

  it("deletes ended sessions past SESSION_RETENTION_DAYS in the alarm, keeping newer ones", async () => {
    const persona = personaId("retention");
    const [old, recent] = await visits(persona, 2);
    await sqlIn(persona, "UPDATE sessions SET ended_at = ended_at - ? WHERE session_id = ?", 91 * DAY, old!);
    expect(await runDurableObjectAlarm(personaStub(persona))).toBe(true);
    const left = (await history(persona)).json.data.sessions.map((s: { session_id: string }) => s.session_id);
    expect(left).toEqual([recent]);
    expect(await sqlIn(persona, "SELECT seq FROM stamps WHERE session_id = ?", old!)).toEqual([]);
  });
});
