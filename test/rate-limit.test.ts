import { describe, expect, it, vi } from "vitest";
import { api, freshWindow, KEYS, personaId } from "./helpers";

// Bursts wait for a fresh rate-limit window (freshWindow), up to 6 s.
vi.setConfig({ testTimeout: 20_000 });

/** The suite runs with RATE_LIMITS=off; these requests turn the limits on, as production has them. */
function limited(path: string, key: string = KEYS.acme, vars: Partial<Env> = {}) {
  return api(path, { key, env: { RATE_LIMITS: "on", ...vars } });
}

describe("rate limits", () => {
  it("refuses a persona over 120 requests per 10 s with 429 and Retry-After, while another persona of the same key goes on", async () => {
    const busy = personaId("busy");
    const calm = personaId("calm");
    const statuses: number[] = [];
    await freshWindow();
    for (let i = 0; i < 130; i++) statuses.push((await limited(`/v1/persona/${busy}/session`)).status);
    expect(statuses.slice(0, 120).every((s) => s === 404)).toBe(true); // no session: the object answered
    expect(statuses.slice(120).every((s) => s === 429)).toBe(true);

    const refused = await limited(`/v1/persona/${busy}/session`);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect(refused.json.error.code).toBe("RATE_LIMITED");

    expect((await limited(`/v1/persona/${calm}/session`)).status).toBe(404);
    // the same persona id of another tenant is a different persona
    expect((await limited(`/v1/persona/${busy}/session`, KEYS.globex)).status).toBe(404);
  });

  it("comes after authentication: a bad key is 401 even for a limited persona", async () => {
    const busy = personaId("busy401");
    await freshWindow();
    for (let i = 0; i < 121; i++) await limited(`/v1/persona/${busy}/session`);
    expect((await limited(`/v1/persona/${busy}/session`, "sk_wrong")).status).toBe(401);
  });

  it("RATE_LIMITS=off turns them off", async () => {
    const persona = personaId("unlimited");
    for (let i = 0; i < 125; i++) {
      const res = await limited(`/v1/persona/${persona}/session`, KEYS.acmeRotated, { RATE_LIMITS: "off" });
      expect(res.status).toBe(404);
    }
  });
});
