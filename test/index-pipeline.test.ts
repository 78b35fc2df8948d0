import { describe, expect, it } from "vitest";
import { api, end, KEYS, personaId, stamp, start } from "./helpers";

/** Polls `read` until `done` holds (the queue delivers in batches within a second or two). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the tenant index, fed through the queue", () => {
  it("shows a started session as active, with its current status, then drops it when it ends", async () => {
    const persona = personaId("live");
    const started = (await start(persona)).json.data;
    await stamp(persona, { status: "CHAT" });
    const active = await eventually(
      () => api("/v1/sessions/active?limit=100"),
      (r) => r.json.data.sessions.some((s: { persona_id: string; status: string }) => s.persona_id === persona && s.status === "CHAT"),
    );
    const mine = active.json.data.sessions.find((s: { persona_id: string }) => s.persona_id === persona);
    expect(mine).toMatchObject({ session_id: started.session_id, status: "CHAT", stamp_count: 2, started_at: started.started_at });
    await end(persona);
    const after = await eventually(
      () => api("/v1/sessions/active?limit=100"),
      (r) => !r.json.data.sessions.some((s: { persona_id: string }) => s.persona_id === persona),
    );
    expect(after.json.data.sessions.some((s: { persona_id: string }) => s.persona_id === persona)).toBe(false);
    const found = await eventually(
      () => api(`/v1/sessions?persona_id=${persona}`),
      (r) => r.json.data.sessions.length === 1 && r.json.data.sessions[0].ended_at !== null,
    );
    expect(found.json.data.sessions[0]).toMatchObject({ session_id: started.session_id, stamp_count: 2, end_reason: "client", last_status: "CHAT" });
    // Tenant B sees nothing of A's.
    const other = await api(`/v1/sessions?persona_id=${persona}`, { key: KEYS.globex });
    expect(other.json.data.sessions).toEqual([]);
  });
});
