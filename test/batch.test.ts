import { describe, expect, it } from "vitest";
import { LIMITS } from "../src/limits";
import { current, personaId, stamp, stamps, start } from "./helpers";

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function active(label: string) {
  const persona = personaId(label);
  await start(persona, { body: { occurred_at: ago(60_000) } });
  return persona;
}

const statuses = async (persona: string) => (await current(persona)).json.data.stamps.map((s: { status: string }) => s.status);

describe("POST /session/stamps: batches", () => {
  it("records the items in order and returns each timestamp", async () => {
    const persona = await active("batch");
    const res = await stamps(persona, {
      stamps: [
        { status: "CHAT", occurred_at: ago(50_000) },
        { status: "SHOPPING", meta: { zone: "wine" }, occurred_at: ago(40_000) },
        { status: "PAYMENT" },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["CHAT", "SHOPPING", "PAYMENT"]);
    const stored = (await current(persona)).json.data.stamps;
    expect(stored.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING", "PAYMENT"]);
    expect(stored[2].meta).toEqual({ zone: "wine" });
    expect(stored.slice(1).map((s: { timestamp: string }) => s.timestamp)).toEqual(
      res.json.data.stamps.map((s: { timestamp: string }) => s.timestamp),
    );
  });

  it("refuses the whole batch when one item is invalid", async () => {
    const persona = await active("batch-invalid");
    const res = await stamps(persona, { stamps: [{ status: "OK" }, { status: "x".repeat(65) }, { status: "OK2" }] });
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields[0].path).toBe("stamps.1.status");
    expect(await statuses(persona)).toEqual(["ENTER"]);
  });

  it("refuses the whole batch when an item goes back in time, naming its index", async () => {
    const persona = await active("batch-order");
    const res = await stamps(persona, {
      stamps: [
        { status: "A", occurred_at: ago(30_000) },
        { status: "B", occurred_at: ago(40_000) },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json.error.details).toMatchObject({ rule: "occurred_at_before_latest_stamp", index: 1 });
    expect(await statuses(persona)).toEqual(["ENTER"]);
  });

  it.each([
    ["empty", { stamps: [] }],
    ["over 100 items", { stamps: Array.from({ length: 101 }, () => ({ status: "A" })) }],
    ["not an array", { stamps: { status: "A" } }],
    ["an unknown item field", { stamps: [{ status: "A", session_id: "x" }] }],
  ])("refuses a batch that is %s with 400", async (_label, body) => {
    const persona = await active("batch-shape");
    const res = await stamps(persona, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
  });

  it("takes bodies past 16 KiB up to 256 KiB, and refuses more with 413", async () => {
    const persona = await active("batch-size");
    const item = { status: "A", meta: { pad: "x".repeat(2000) } };
    const mid = { stamps: Array.from({ length: 20 }, () => item) };
    expect(JSON.stringify(mid).length).toBeGreaterThan(LIMITS.bodyMaxBytes);
    expect((await stamps(persona, mid)).status).toBe(201);
    const huge = { stamps: Array.from({ length: 100 }, () => ({ status: "A", meta: { pad: "x".repeat(2700) } })) };
    expect(JSON.stringify(huge).length).toBeGreaterThan(LIMITS.batchBodyMaxBytes);
    const res = await stamps(persona, huge);
    expect(res.status).toBe(413);
  });

  it("a single stamp body stays limited to 16 KiB", async () => {
    const persona = await active("single-size");
    const res = await stamp(persona, { status: "A", meta: { pad: "x".repeat(20_000) } });
    expect(res.status).toBe(413);
  });
});
