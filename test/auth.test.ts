import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { parseSdkKeys } from "../src/tenants/static-keys";
import { api, base, current, KEYS, personaId, stamp, start } from "./helpers";

const routes = (p: string): [string, string, unknown?][] => [
  ["POST", `${base(p)}/session/start`],
  ["POST", `${base(p)}/session/stamp`, { status: "CHAT" }],
  ["POST", `${base(p)}/session/stamps`, { stamps: [{ status: "CHAT" }] }],
  ["POST", `${base(p)}/session/end`],
  ["GET", `${base(p)}/session`],
  ["GET", `${base(p)}/sessions`],
  ["GET", `${base(p)}/sessions/019ac5a0-8f1e-7c3a-9d2b-5e4f6a7b8c9d`],
  ["DELETE", base(p)],
];

describe("SDK key authentication", () => {
  it.each([
    ["missing", null, {}],
    ["unknown key", "sk_not_a_real_key", {}],
    ["wrong scheme", null, { authorization: `Basic ${KEYS.acme}` }],
    ["empty bearer", null, { authorization: "Bearer " }],
  ])("refuses a %s key on every route with 401 and WWW-Authenticate", async (_label, key, headers) => {
    const persona = personaId("auth");
    for (const [method, path, body] of routes(persona)) {
      const res = await api(path, { method, key, body, headers });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHORIZED");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    // and nothing was created behind the refusal
    expect((await current(persona)).status).toBe(404);
  });

  it("with no valid SDK_KEYS no static key is accepted, and a configuration with only bad entries is logged", async () => {
    const warnings: string[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((line: string) => void warnings.push(line));
    try {
      for (const keys of ["", "not-an-entry"]) {
        const res = await api(`/v1/persona/${personaId("closed")}/session`, { env: { SDK_KEYS: keys } });
        expect(res.status).toBe(401);
      }
    } finally {
      spy.mockRestore();
    }
    expect(warnings.join("\n")).toMatch(/SDK_KEYS has no valid entry/);
  });

  it("stops accepting a key as soon as its entry is removed from SDK_KEYS", async () => {
    const path = `/v1/persona/${personaId("revoke")}/session`;
    const key = KEYS.acmeRotated;
    expect((await api(path, { key, env: {} })).status).toBe(404); // accepted (no session)
    const without = env.SDK_KEYS.split(",").slice(0, 1).join(",");
    expect((await api(path, { key, env: { SDK_KEYS: without } })).status).toBe(401);
    expect((await api(path, { key: KEYS.acme, env: { SDK_KEYS: without } })).status).toBe(404);
  });

  it("accepts every key configured for a tenant (rotation) and both see the same personas", async () => {
    const persona = personaId("rotate");
    const started = await start(persona, { key: KEYS.acme });
    expect(started.status).toBe(201);
    const seen = await current(persona, { key: KEYS.acmeRotated });
    expect(seen.status).toBe(200);
    expect(seen.json.data.session_id).toBe(started.json.data.session_id);
  });

  it("keeps tenants apart: another tenant's same persona id sees and touches nothing", async () => {
    const persona = personaId("shared-id");
    const a = await start(persona, { key: KEYS.acme });
    expect(a.status).toBe(201);
    const bView = await current(persona, { key: KEYS.globex });
    expect(bView.status).toBe(404);
    expect(bView.json.error.code).toBe("NO_ACTIVE_SESSION");
    const bStamp = await stamp(persona, { status: "CHAT" }, { key: KEYS.globex });
    expect(bStamp.status).toBe(404);
    const bOther = await api(`${base(persona)}/sessions/${a.json.data.session_id}`, { key: KEYS.globex });
    expect(bOther.status).toBe(404);
    expect(bOther.json.error.code).toBe("SESSION_NOT_FOUND");
    // B starting its own session leaves A's alone
    expect((await start(persona, { key: KEYS.globex })).status).toBe(201);
    const aView = await current(persona, { key: KEYS.acme });
    expect(aView.json.data.session_id).toBe(a.json.data.session_id);
    expect(aView.json.data.stamps).toHaveLength(1);
  });

  it("lets a read-only key read but refuses every write with 403", async () => {
    const persona = personaId("readonly");
    await start(persona);
    expect((await current(persona, { key: KEYS.acmeReadOnly })).status).toBe(200);
    expect((await api(`${base(persona)}/sessions`, { key: KEYS.acmeReadOnly })).status).toBe(200);
    for (const [method, path, body] of routes(persona).filter(([m]) => m !== "GET")) {
      const res = await api(path, { method, body, key: KEYS.acmeReadOnly });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.error.code).toBe("FORBIDDEN");
    }
    expect((await current(persona)).json.data.stamps).toHaveLength(1);
  });
});

describe("SDK_KEYS parsing", () => {
  const hash = "a".repeat(64);
  it("reads entries, scopes and several keys per tenant", () => {
    const { entries, problems } = parseSdkKeys(` acme:${hash} , acme:${"b".repeat(64)}:read,globex:${hash}`);
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.tenant, e.scope])).toEqual([
      ["acme", "write"],
      ["acme", "read"],
      ["globex", "write"],
    ]);
  });

  it("ignores malformed entries without echoing them, and says so when none is valid", () => {
    const { entries, problems } = parseSdkKeys(`Acme:${hash},acme:short,acme:${hash}:write,sk_live_secret`);
    expect(entries).toEqual([]);
    expect(problems).toHaveLength(5);
    expect(problems.join(" ")).not.toContain("sk_live_secret");
    expect(problems.at(-1)).toMatch(/no valid entry/);
    // With the registry, static keys are optional: none configured is not a problem.
    expect(parseSdkKeys(undefined)).toEqual({ entries: [], problems: [] });
    expect(parseSdkKeys("")).toEqual({ entries: [], problems: [] });
  });
});
