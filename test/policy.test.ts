import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DAY, personaId, personaStub, sqlIn } from "./helpers";

const MINUTE = 60_000;

describe("the tenant policy a persona object receives", () => {
  it("is kept in storage, so the alarm applies the idle timeout that came with the last call, after a restart too", async () => {
    const persona = personaId("policy-idle");
    const stub = personaStub(persona);
    const started = await stub.start({ idleTimeoutMs: MINUTE, retentionMs: 0 }, {});
    if (!started.ok) throw new Error(started.code);
    const at = Date.now() - 2 * MINUTE;
    await sqlIn(persona, "UPDATE stamps SET ts = ?, received_at = ?", at, at);
    // sqlIn restarts the object after a write: what it knows of the policy now comes from storage.
    await sqlIn(persona, "UPDATE sessions SET last_activity_at = ?, last_stamp_at = ?, started_at = ?", at, at, at);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [row] = await sqlIn(persona, "SELECT ended_at, end_reason FROM sessions");
    // The vars' default (2 h) would have left it active.
    expect(row).toEqual({ ended_at: at + MINUTE, end_reason: "idle_timeout" });
  });

  it("a changed policy is stored once; an unchanged one writes nothing", async () => {
    const persona = personaId("policy-write");
    const stub = personaStub(persona);
    const policy = { idleTimeoutMs: 5 * MINUTE, retentionMs: 7 * DAY };
    await stub.start(policy, {});
    expect(await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'policy'")).toEqual([{ value: JSON.stringify(policy) }]);
    const before = await stub.current(policy);
    expect(before.ok).toBe(true);
    const longer = { idleTimeoutMs: 10 * MINUTE, retentionMs: 7 * DAY };
    await stub.current(longer);
    expect(await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'policy'")).toEqual([{ value: JSON.stringify(longer) }]);
  });

  it("erasure forgets the policy with everything else; the next call brings it back", async () => {
    const persona = personaId("policy-erase");
    const stub = personaStub(persona);
    const policy = { idleTimeoutMs: MINUTE, retentionMs: 0 };
    await stub.start(policy, {});
    await stub.erase();
    expect(await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'policy'")).toEqual([]);
    await stub.start(policy, {});
    expect(await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'policy'")).toEqual([{ value: JSON.stringify(policy) }]);
  });
});
