import { describe, expect, it } from "vitest";
import { current, end, personaId, stamp, start } from "./helpers";

describe("ETag on GET /session", () => {
  it("answers 304 with no body while unchanged, and 200 with a new tag after a stamp", async () => {
    const persona = personaId("etag");
    await start(persona);
    const first = await current(persona);
    const tag = first.headers.get("etag");
    expect(tag).toMatch(/^".+"$/);

    for (const header of [tag!, `W/${tag}`, `"other", ${tag}`, "*"]) {
      const same = await current(persona, { headers: { "if-none-match": header } });
      expect(same.status, header).toBe(304);
      expect(same.json).toBeNull();
      expect(same.headers.get("etag")).toBe(tag);
    }

    await stamp(persona, { status: "CHAT" });
    const changed = await current(persona, { headers: { "if-none-match": tag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(tag);
    expect(changed.json.data.stamps).toHaveLength(2);
  });

  it("a 304 never hides that the session ended", async () => {
    const persona = personaId("etag-end");
    await start(persona);
    const tag = (await current(persona)).headers.get("etag")!;
    await end(persona);
    const res = await current(persona, { headers: { "if-none-match": tag } });
    expect(res.status).toBe(404);
  });
});
