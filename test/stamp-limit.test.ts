import { describe, expect, it } from "vitest";
import { LIMITS } from "../src/limits";
import { current, end, personaId, stamp, stamps, start } from "./helpers";

describe("stamp limit", () => {
  it("allows 1,000 stamps including ENTER and refuses the 1,001st with 409", async () => {
    const persona = personaId("limit");
    await start(persona);
    for (let i = 0; i < 9; i++) {
      expect((await stamps(persona, { stamps: Array.from({ length: 100 }, (_, j) => ({ status: `S${i}-${j}` })) })).status).toBe(201);
    }
    // 901 so far: a batch of 100 would make 1,001 and is refused whole
    const over = await stamps(persona, { stamps: Array.from({ length: 100 }, () => ({ status: "X" })) });
    expect(over.status).toBe(409);
    expect(over.json.error).toMatchObject({ code: "STAMP_LIMIT_REACHED", details: { limit: LIMITS.stampsPerSession, stamp_count: 901 } });
    expect((await stamps(persona, { stamps: Array.from({ length: 99 }, () => ({ status: "Y" })) })).status).toBe(201);
    const last = await stamp(persona, { status: "ONE_TOO_MANY" });
    expect(last.status).toBe(409);
    expect(last.json.error.code).toBe("STAMP_LIMIT_REACHED");
    expect((await current(persona)).json.data.stamp_count).toBe(1000);
    const ended = await end(persona);
    expect(ended.json.data.stamps).toHaveLength(1000);
  });
});
