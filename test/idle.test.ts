import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { defaultPolicy } from "../src/config";
import { current, HOUR, history, personaId, personaStub, sessionById, sqlIn, stamp, start } from "./helpers";

const TIMEOUT = 7200 * 1000; // the default SESSION_IDLE_TIMEOUT_SECONDS

/** Pretends the session's last start or stamp was received `ago` ms ago. */
async function idleFor(persona: string, ago: number) {
  const at = Date.now() - ago;
  await sqlIn(
    persona,
    "UPDATE stamps SET ts = ?, received_at = ? WHERE session_id IN (SELECT session_id FROM sessions WHERE ended_at IS NULL)",
    at,
    at,
  );
  await sqlIn(persona, "UPDATE sessions SET last_activity_at = ?, last_stamp_at = ? WHERE ended_at IS NULL", at, at);
  return at;
}

describe("idle auto-end", () => {
  it("the alarm ends an idle session at last activity + timeout with end_reason idle_timeout", async () => {
    const persona = personaId("idle-alarm");
    const { session_id } = (await start(persona)).json.data;
    const lastActivity = await idleFor(persona, TIMEOUT + HOUR);
    expect(await runDurableObjectAlarm(personaStub(persona))).toBe(true);
    const [row] = await sqlIn(persona, "SELECT ended_at, end_reason FROM sessions WHERE session_id = ?", session_id);
    expect(row).toEqual({ ended_at: lastActivity + TIMEOUT, end_reason: "idle_timeout" });
    const res = await sessionById(persona, session_id);
    expect(res.json.data.end_reason).toBe("idle_timeout");
    expect(res.json.data.ended_at).toBe(new Date(lastActivity + TIMEOUT).toISOString());
  });

  it("an alarm that fires early re-arms from the last activity and ends nothing", async () => {
    const persona = personaId("idle-early");
    const { session_id } = (await start(persona)).json.data;
    await idleFor(persona, TIMEOUT / 2);
    expect(await runDurableObjectAlarm(personaStub(persona))).toBe(true);
    const [row] = await sqlIn(persona, "SELECT ended_at FROM sessions WHERE session_id = ?", session_id);
    expect(row!.ended_at).toBeNull();
    // re-armed: another alarm is scheduled
    expect(await runDurableObjectAlarm(personaStub(persona))).toBe(true);
  });

  it("an alarm run twice changes nothing the second time", async () => {
    const persona = personaId("idle-twice");
    await start(persona);
    await idleFor(persona, TIMEOUT + HOUR);
    await runDurableObjectAlarm(personaStub(persona));
    const once = await sqlIn(persona, "SELECT * FROM sessions");
    // force a second run even if nothing is scheduled
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(personaStub(persona), (instance) => instance.alarm());
    expect(await sqlIn(persona, "SELECT * FROM sessions")).toEqual(once);
  });

  it("without the alarm, a request applies a due expiry first (lazy path)", async () => {
    const persona = personaId("idle-lazy");
    const first = (await start(persona)).json.data.session_id;
    await idleFor(persona, TIMEOUT + 1000);
    expect((await current(persona)).status).toBe(404);
    const again = await start(persona);
    expect(again.status).toBe(201);
    const past = (await history(persona)).json.data.sessions;
    expect(past).toHaveLength(1);
    expect(past[0]).toMatchObject({ session_id: first, end_reason: "idle_timeout" });
  });

  it("a stamp after the timeout finds no session; one just before keeps it alive", async () => {
    const persona = personaId("idle-edge");
    await start(persona);
    await idleFor(persona, TIMEOUT - 5000);
    expect((await stamp(persona, { status: "STILL_HERE" })).status).toBe(201);
    await idleFor(persona, TIMEOUT + 1);
    expect((await stamp(persona, { status: "TOO_LATE" })).status).toBe(404);
  });

  it("reads are not activity", async () => {
    const persona = personaId("idle-reads");
    await start(persona);
    const at = await idleFor(persona, TIMEOUT - 60_000);
    await current(persona);
    await history(persona);
    const [row] = await sqlIn(persona, "SELECT last_activity_at FROM sessions");
    expect(row!.last_activity_at).toBe(at);
    expect(await sqlIn(persona, "SELECT received_at FROM stamps")).toEqual([{ received_at: at }]);
  });

  it("SESSION_IDLE_TIMEOUT_SECONDS=0 disables it; malformed values fall back to the default", () => {
    expect(defaultPolicy({ SESSION_IDLE_TIMEOUT_SECONDS: "0" }).idleTimeoutMs).toBe(0);
    expect(defaultPolicy({ SESSION_IDLE_TIMEOUT_SECONDS: "60" }).idleTimeoutMs).toBe(60_000);
    expect(defaultPolicy({ SESSION_IDLE_TIMEOUT_SECONDS: "soon" }).idleTimeoutMs).toBe(TIMEOUT);
    expect(defaultPolicy({}).retentionMs).toBe(90 * 24 * HOUR);
  });
});
