import { describe, expect, it } from "vitest";
import { current, end, personaId, stamp, start } from "./helpers";

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const ahead = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("occurred_at: offline timestamps", () => {
  it("becomes started_at, the stamp's timestamp and ended_at; received_at keeps server time", async () => {
    const persona = personaId("offline");
    const t1 = ago(60_000);
    const t2 = ago(50_000);
    const t6 = ago(40_000);
    const started = await start(persona, { body: { occurred_at: t1 } });
    expect(started.json.data.started_at).toBe(t1);
    const stamped = await stamp(persona, { status: "CHAT", occurred_at: t2 });
    expect(stamped.json.data.timestamp).toBe(t2);
    const ended = await end(persona, { body: { occurred_at: t6 } });
    expect(ended.json.data.ended_at).toBe(t6);
    const [enter, chat] = ended.json.data.stamps;
    expect(enter.timestamp).toBe(t1);
    expect(chat.timestamp).toBe(t2);
    expect(Date.parse(chat.received_at)).toBeGreaterThan(Date.parse(t6));
  });

  it("accepts offsets other than Z and returns UTC", async () => {
    const persona = personaId("offset");
    const res = await start(persona, { body: { occurred_at: "2020-01-01T10:00:00+09:00" } });
    expect(res.json.data.started_at).toBe("2020-01-01T01:00:00.000Z");
  });

  it("refuses more than 60 s ahead of the server clock on start, stamp and end", async () => {
    const persona = personaId("future");
    const bad = await start(persona, { body: { occurred_at: ahead(120_000) } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.rule).toBe("occurred_at_in_future");
    expect((await start(persona, { body: { occurred_at: ahead(30_000) } })).status).toBe(201);
    expect((await stamp(persona, { status: "X", occurred_at: ahead(120_000) })).json.error.details.rule).toBe("occurred_at_in_future");
    expect((await end(persona, { body: { occurred_at: ahead(120_000) } })).json.error.details.rule).toBe("occurred_at_in_future");
    expect((await current(persona)).json.data.stamp_count).toBe(1);
  });

  it("refuses a stamp or end before the session's latest stamp; equal is fine", async () => {
    const persona = personaId("backwards");
    await start(persona, { body: { occurred_at: ago(10_000) } });
    const t = ago(5_000);
    expect((await stamp(persona, { status: "A", occurred_at: t })).status).toBe(201);
    const before = await stamp(persona, { status: "B", occurred_at: ago(8_000) });
    expect(before.status).toBe(400);
    expect(before.json.error.code).toBe("VALIDATION_ERROR");
    expect(before.json.error.details).toMatchObject({ rule: "occurred_at_before_latest_stamp", latest_stamp_at: t });
    expect((await stamp(persona, { status: "C", occurred_at: t })).status).toBe(201);
    expect((await end(persona, { body: { occurred_at: ago(9_000) } })).json.error.details.rule).toBe("occurred_at_before_latest_stamp");
    expect((await current(persona)).json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "A", "C"]);
  });

  it("refuses a start before the previous session's end", async () => {
    const persona = personaId("overlap");
    await start(persona, { body: { occurred_at: ago(60_000) } });
    const endedAt = ago(30_000);
    await end(persona, { body: { occurred_at: endedAt } });
    const bad = await start(persona, { body: { occurred_at: ago(45_000) } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details).toMatchObject({ rule: "occurred_at_before_previous_session_end", previous_ended_at: endedAt });
    expect((await start(persona, { body: { occurred_at: endedAt } })).status).toBe(201);
  });

  it("keeps record order even when server-time stamps follow an offline one", async () => {
    const persona = personaId("order");
    await start(persona);
    await stamp(persona, { status: "LIVE" });
    const res = await stamp(persona, { status: "SOON", occurred_at: ahead(30_000) });
    expect(res.status).toBe(201);
    const live2 = await stamp(persona, { status: "LIVE2" });
    const stored = (await current(persona)).json.data.stamps;
    expect(stored.map((s: { status: string }) => s.status)).toEqual(["ENTER", "LIVE", "SOON", "LIVE2"]);
    // timestamps never go back: the server-time stamp takes the offline one's time; received_at keeps its own
    expect(live2.json.data.timestamp).toBe(res.json.data.timestamp);
    expect(Date.parse(stored[3].received_at)).toBeLessThan(Date.parse(stored[3].timestamp));
    // an end with server time never lands before the latest stamp
    const ended = await end(persona);
    expect(Date.parse(ended.json.data.ended_at)).toBeGreaterThanOrEqual(Date.parse(res.json.data.timestamp));
  });
});
