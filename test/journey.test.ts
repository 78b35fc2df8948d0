import { describe, expect, it } from "vitest";
import { current, end, personaId, stamp, start } from "./helpers";

const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("the seed's journey", () => {
  it("start, CHAT, SHOPPING with meta, PAYMENT, COMPLETE, end gives the exact history", async () => {
    const persona = personaId("journey");
    const started = await start(persona);
    expect(started.status).toBe(201);
    expect(started.json.success).toBe(true);
    const { session_id, started_at } = started.json.data;
    expect(session_id).toMatch(UUID);
    expect(started.json.data.persona_id).toBe(persona);
    expect(started_at).toMatch(ISO_Z);

    const statuses = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
    const recorded = [];
    for (const status of statuses) {
      const body = status === "SHOPPING" ? { status, meta: { zone: "processed_food", cart_items: 3 } } : { status };
      const res = await stamp(persona, body);
      expect(res.status).toBe(201);
      expect(res.json.data).toEqual({ session_id, status, timestamp: expect.stringMatching(ISO_Z) });
      recorded.push(res.json.data.timestamp);
    }

    const live = await current(persona);
    expect(live.status).toBe(200);
    expect(live.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", ...statuses]);
    expect(live.json.data.ended_at).toBeNull();

    const ended = await end(persona);
    expect(ended.status).toBe(200);
    const data = ended.json.data;
    expect(data.session_id).toBe(session_id);
    expect(data.persona_id).toBe(persona);
    expect(data.started_at).toBe(started_at);
    expect(data.ended_at).toMatch(ISO_Z);
    expect(Date.parse(data.ended_at)).toBeGreaterThanOrEqual(Date.parse(recorded[3]));
    expect(data.end_reason).toBe("client");
    expect(data.stamps).toEqual([
      { status: "ENTER", timestamp: started_at, received_at: started_at },
      { status: "CHAT", timestamp: recorded[0], received_at: recorded[0] },
      { status: "SHOPPING", timestamp: recorded[1], received_at: recorded[1], meta: { zone: "processed_food", cart_items: 3 } },
      { status: "PAYMENT", timestamp: recorded[2], received_at: recorded[2] },
      { status: "COMPLETE", timestamp: recorded[3], received_at: recorded[3] },
    ]);

    const after = await current(persona);
    expect(after.status).toBe(404);
    expect(after.json.error.code).toBe("NO_ACTIVE_SESSION");

    const again = await start(persona);
    expect(again.status).toBe(201);
    expect(again.json.data.session_id).not.toBe(session_id);
  });
});
