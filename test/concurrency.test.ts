import { describe, expect, it } from "vitest";
import { current, end, personaId, stamp, start } from "./helpers";

describe("concurrency inside one persona's object", () => {
  it("50 concurrent starts give exactly one 201 and 49 × 409 naming the winner", async () => {
    const persona = personaId("race");
    const results = await Promise.all(Array.from({ length: 50 }, () => start(persona)));
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(49);
    const winner = created[0]!.json.data.session_id;
    for (const r of refused) {
      expect(r.json.error.code).toBe("SESSION_ACTIVE");
      expect(r.json.error.details.session_id).toBe(winner);
    }
    expect((await current(persona)).json.data.session_id).toBe(winner);
  });

  it("200 concurrent stamps all land, none lost, each with its own sequence", async () => {
    const persona = personaId("burst");
    await start(persona);
    const labels = Array.from({ length: 200 }, (_, i) => `S${i}`);
    const results = await Promise.all(labels.map((status) => stamp(persona, { status })));
    expect(results.every((r) => r.status === 201)).toBe(true);
    const session = (await current(persona)).json.data;
    expect(session.stamp_count).toBe(201);
    expect(session.stamps).toHaveLength(201);
    expect(new Set(session.stamps.slice(1).map((s: { status: string }) => s.status))).toEqual(new Set(labels));
    const ended = await end(persona);
    expect(ended.json.data.stamps).toHaveLength(201);
  });

  it("concurrent end and stamps: the end wins once, later stamps find no session", async () => {
    const persona = personaId("end-race");
    await start(persona);
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => end(persona)),
      ...Array.from({ length: 10 }, (_, i) => stamp(persona, { status: `X${i}` })),
    ]);
    const ends = results.slice(0, 10);
    expect(ends.filter((r) => r.status === 200)).toHaveLength(1);
    expect(ends.filter((r) => r.status === 404)).toHaveLength(9);
    const final = ends.find((r) => r.status === 200)!.json.data;
    const stampsLanded = results.slice(10).filter((r) => r.status === 201).length;
    expect(final.stamps).toHaveLength(1 + stampsLanded);
  });
});
