import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../src/http/app";
import { LIMITS } from "../src/limits";
import { registryStats } from "../src/tenants/db";
import { crc32, formatKey, generateKey, KEY_PREFIX, parseKey } from "../src/tenants/key-format";
import { admin, api, base, current, freshWindow, KEYS, newKey, newTenant, personaId, registrySql, sleep, stamp, start } from "./helpers";

// Bursts wait for a fresh rate-limit window (freshWindow), up to 6 s.
vi.setConfig({ testTimeout: 20_000 });

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A request straight to the app with the given vars, as from one client address. */
function fromAddress(path: string, key: string, address: string, vars: Partial<Env> = {}) {
  return app.request(
    path,
    { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": address } },
    { ...env, RATE_LIMITS: "on", ...vars },
  );
}

/** An address no other test uses, so each test has its own failed-authentication bucket. */
const address = () => `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;

/** A window no test outlasts: within it, a cached registry answer stands. */
const LONG = 300;

/** A request straight to the app with AUTH_CACHE_SECONDS = `window` (read per request); a body makes it a JSON POST. */
async function within(window: number, path: string, key: string, body?: unknown) {
  const res = await app.request(
    path,
    {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    { ...env, AUTH_CACHE_SECONDS: String(window) },
  );
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the parsed envelope's shape
  return { status: res.status, json: (text ? JSON.parse(text) : null) as any };
}

const lastUsed = async (keyId: string) =>
  (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE key_id = ?").bind(keyId).first<{ last_used_at: number | null }>())
    ?.last_used_at ?? null;

/** Polls until `read` gives a value: last_used_at is written after the response. */
async function eventually<T>(read: () => Promise<T | null>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (value !== null) return value;
    await sleep(20);
  }
  throw new Error("never happened");
}

describe("the registry key format", () => {
  it("is the prefix, a 16-character key id, a 256-bit secret and a checksum, and parses back to its id", () => {
    const { keyId, key } = generateKey();
    expect(key).toMatch(/^psa_[0-9a-z]{16}_[0-9A-Za-z]{49}$/);
    expect(key.startsWith(`${KEY_PREFIX}${keyId}_`)).toBe(true);
    expect(keyId.length).toBeGreaterThanOrEqual(12);
    // 43 base62 characters of secret: 43 × log2(62) ≥ 256 bits.
    expect(43 * Math.log2(62)).toBeGreaterThanOrEqual(256);
    expect(parseKey(key)).toEqual({ keyId });
    expect(key.startsWith("sk_")).toBe(false);
  });

  it("draws a new id and secret every time", () => {
    const keys = Array.from({ length: 200 }, generateKey);
    expect(new Set(keys.map((k) => k.keyId)).size).toBe(200);
    expect(new Set(keys.map((k) => k.key.slice(21, 64))).size).toBe(200);
    // every base62 character turns up in the secrets: no character is left out of the draw
    expect(new Set(keys.flatMap((k) => [...k.key.slice(21, 64)])).size).toBe(62);
  });

  it("uses the standard CRC-32", () => {
    expect(crc32("123456789")).toBe(0xcbf43926);
  });

  it("catches every single-character typo, every swap of neighbours and any truncation offline", () => {
    const { key } = generateKey();
    for (let i = 0; i < key.length; i++) {
      const alphabet = i < 4 ? "abcdefghijklmnopqrstuvwxyz_" : BASE62;
      for (const ch of alphabet) {
        if (ch === key[i]) continue;
        expect(parseKey(key.slice(0, i) + ch + key.slice(i + 1)), `${i}:${ch}`).toBeNull();
      }
      if (i + 1 < key.length && key[i] !== key[i + 1]) {
        expect(parseKey(key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)), `swap ${i}`).toBeNull();
      }
    }
    for (let n = 1; n < key.length; n++) expect(parseKey(key.slice(0, n))).toBeNull();
    expect(parseKey(`${key}x`)).toBeNull();
  });
});

describe("registry keys on the session routes", () => {
  it("work like static keys, in their own tenant's persona space", async () => {
    const tenant = await newTenant();
    const { key } = await newKey(tenant, "write");
    const persona = personaId("reg");
    const mine = await start(persona, { key });
    expect(mine.status).toBe(201);
    expect((await stamp(persona, { status: "CHAT" }, { key })).status).toBe(201);
    // the same persona id under a static tenant is another persona
    expect((await current(persona, { key: KEYS.acme })).status).toBe(404);
    const seen = await current(persona, { key });
    expect(seen.json.data.session_id).toBe(mine.json.data.session_id);
    expect(seen.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "CHAT"]);
  });

  it("refuse a key with a checksum typo with 401 before any registry lookup", async () => {
    const tenant = await newTenant();
    const { key } = await newKey(tenant, "write");
    const typo = key.slice(0, 30) + (key[30] === "a" ? "b" : "a") + key.slice(31);
    const before = registryStats.queries;
    const res = await api(`${base(personaId("typo"))}/session`, { key: typo });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHORIZED");
    expect(res.json.error.message).toMatch(/checksum/);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    for (const malformed of [`${key}0`, key.slice(0, -1), key.replace("psa_", "psa-"), "psa_", `psa_${"a".repeat(16)}`]) {
      expect((await api(`${base(personaId("typo"))}/session`, { key: malformed })).status).toBe(401);
    }
    expect(registryStats.queries - before).toBe(0);
  });

  it("refuse a well-formed key the registry does not have, or with the wrong secret for a real key id", async () => {
    const tenant = await newTenant();
    const real = await newKey(tenant, "write");
    expect((await api(`${base(personaId("unknown"))}/session`, { key: generateKey().key })).status).toBe(401);
    // A well-formed key (checksum and all) that reuses a real key id with another secret.
    const wellFormed = formatKey(real.key_id, generateKey().key.slice(21, 64));
    expect(parseKey(wellFormed)).toEqual({ keyId: real.key_id });
    const res = await api(`${base(personaId("forged"))}/session`, { key: wellFormed });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHORIZED");
    expect((await api(`${base(personaId("forged"))}/session`, { key: real.key })).status).toBe(404);
  });

  it("cost no D1 query per request once a key is known; last_used_at is written at most once a minute", async () => {
    const tenant = await newTenant();
    const { key, key_id } = await newKey(tenant, "write");
    const persona = personaId("hot");
    expect((await within(LONG, `${base(persona)}/session/start`, key, {})).status).toBe(201);
    const used = await eventually(() => lastUsed(key_id));
    expect(used).toBeGreaterThan(Date.now() - 60_000);
    const before = registryStats.queries;
    for (let i = 0; i < 50; i++) expect((await within(LONG, `${base(persona)}/session/stamp`, key, { status: `S${i}` })).status).toBe(201);
    await sleep(100);
    expect(registryStats.queries - before).toBe(0);
    expect(await lastUsed(key_id)).toBe(used);
  });

  it("show last_used_at in the key listing", async () => {
    const tenant = await newTenant();
    const { key, key_id } = await newKey(tenant, "read");
    const listed = async () =>
      (await admin(`/tenants/${tenant}/keys`)).json.data.keys.find((k: { key_id: string }) => k.key_id === key_id).last_used_at;
    expect(await listed()).toBeNull();
    await current(personaId("used"), { key });
    expect(Date.parse(await eventually(listed))).toBeGreaterThan(Date.now() - 60_000);
  });

  it("remember unknown key ids, so a retried unknown key costs one lookup", async () => {
    const unknown = generateKey().key;
    const before = registryStats.queries;
    for (let i = 0; i < 10; i++) expect((await within(LONG, `${base(personaId("neg"))}/session`, unknown)).status).toBe(401);
    expect(registryStats.queries - before).toBe(1);
  });
});

describe("a change made behind an isolate's cache takes effect once AUTH_CACHE_SECONDS has passed", () => {
  // Each change is written straight to D1, as another isolate's change would land. The cache
  // window is read per request: under a long one the cached answer stands; once the entry is
  // older than the window, the registry is read again.
  it("revocation", async () => {
    const tenant = await newTenant();
    const { key, key_id } = await newKey(tenant, "write");
    const p = base(personaId("revoked"));
    expect((await within(LONG, `${p}/session/start`, key, {})).status).toBe(201);
    await registrySql("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", Date.now(), key_id);
    expect((await within(LONG, `${p}/session/stamp`, key, { status: "CACHED" })).status).toBe(201);
    await sleep(1100);
    const res = await within(1, `${p}/session/stamp`, key, { status: "LATE" });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/revoked/);
  });

  it("disabling the tenant", async () => {
    const tenant = await newTenant();
    const { key } = await newKey(tenant, "read");
    const path = `${base(personaId("disabled"))}/session`;
    expect((await within(LONG, path, key)).status).toBe(404);
    await registrySql("UPDATE tenants SET disabled = 1 WHERE tenant_id = ?", tenant);
    expect((await within(LONG, path, key)).status).toBe(404);
    await sleep(1100);
    const res = await within(1, path, key);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("TENANT_DISABLED");
  });

  it("settings", async () => {
    const tenant = await newTenant();
    const { key } = await newKey(tenant, "write");
    const p = base(personaId("settings"));
    await within(LONG, `${p}/session/start`, key, {});
    await registrySql("UPDATE tenants SET settings = ? WHERE tenant_id = ?", JSON.stringify({ statuses: ["CHAT"] }), tenant);
    expect((await within(LONG, `${p}/session/stamp`, key, { status: "SHOPPING" })).status).toBe(201);
    await sleep(1100);
    const res = await within(1, `${p}/session/stamp`, key, { status: "SHOPPING" });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("UNKNOWN_STATUS");
  });

  it("with AUTH_CACHE_SECONDS=0 every request reads the registry", async () => {
    const tenant = await newTenant();
    const { key, key_id } = await newKey(tenant, "read");
    const path = `${base(personaId("nocache"))}/session`;
    expect((await within(0, path, key)).status).toBe(404);
    await registrySql("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", Date.now(), key_id);
    expect((await within(0, path, key)).status).toBe(401);
  });
});

describe("expiry", () => {
  it("a key stops working at its expires_at, to the millisecond, whatever the cache holds", async () => {
    const tenant = await newTenant();
    const expiresAt = Date.now() + 2500;
    const { key } = await newKey(tenant, "read", { expires_at: new Date(expiresAt).toISOString() });
    const path = `${base(personaId("expiring"))}/session`;
    expect((await within(LONG, path, key)).status).toBe(404);
    await sleep(expiresAt - Date.now() + 5);
    // The key was read less than the cache window ago: expiry does not wait for the window.
    const res = await within(LONG, path, key);
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/expired/);
  });
});

describe("failed authentications", () => {
  it(`are limited to ${LIMITS.authFailuresPerWindow} per client address per window: then 429 in place of 401, other addresses unaffected`, async () => {
    const flooding = address();
    const path = `${base(personaId("guess"))}/session`;
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < LIMITS.authFailuresPerWindow + 5; i++) {
      // a wrong static key, a bad checksum and an unknown registry key all count
      const key = i % 3 === 0 ? "sk_wrong" : i % 3 === 1 ? `${generateKey().key.slice(0, -1)}0` : generateKey().key;
      statuses.push((await fromAddress(path, key, flooding)).status);
    }
    expect(statuses.slice(0, LIMITS.authFailuresPerWindow).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(LIMITS.authFailuresPerWindow).every((s) => s === 429)).toBe(true);
    const refused = await fromAddress(path, "sk_wrong", flooding);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe(String(LIMITS.authFailureWindowSeconds));
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
    // a valid key from that address still works; another address still gets 401
    expect((await fromAddress(path, KEYS.acme, flooding)).status).toBe(404);
    expect((await fromAddress(path, "sk_wrong", address())).status).toBe(401);
  });

  it("are not limited with RATE_LIMITS=off", async () => {
    const from = address();
    for (let i = 0; i < LIMITS.authFailuresPerWindow + 5; i++) {
      expect((await fromAddress("/v1/persona/p/session", "sk_wrong", from, { RATE_LIMITS: "off" })).status).toBe(401);
    }
  });

  it("a flood of 1,000 random well-formed registry keys costs a bounded number of D1 queries, sent one by one or all at once", async () => {
    const path = `${base(personaId("flood"))}/session`;
    // Up to one window's failures, plus the lookups already in flight when the limit is reached.
    const bound = LIMITS.authFailuresPerWindow + LIMITS.authLookupsInFlightPerAddress;

    await freshWindow();
    const oneByOne = address();
    let before = registryStats.queries;
    const sequential: number[] = [];
    for (let i = 0; i < 500; i++) sequential.push((await fromAddress(path, generateKey().key, oneByOne)).status);
    expect(registryStats.queries - before).toBeLessThanOrEqual(bound);
    expect(sequential.filter((s) => s === 429).length).toBeGreaterThanOrEqual(500 - bound);
    expect(sequential.every((s) => s === 401 || s === 429)).toBe(true);

    const atOnce = address();
    before = registryStats.queries;
    const concurrent = await Promise.all(Array.from({ length: 500 }, () => fromAddress(path, generateKey().key, atOnce)));
    expect(registryStats.queries - before).toBeLessThanOrEqual(bound);
    expect(concurrent.every((r) => r.status === 401 || r.status === 429)).toBe(true);
  });

  it("the limit in wrangler.toml is the one in src/limits.ts", async () => {
    const toml = (await import("../wrangler.toml?raw")).default as string;
    const block = /name = "AUTH_FAILURE_RATE_LIMITER"[\s\S]*?simple = \{ limit = (\d+), period = (\d+) \}/.exec(toml);
    expect(block?.slice(1).map(Number)).toEqual([LIMITS.authFailuresPerWindow, LIMITS.authFailureWindowSeconds]);
  });
});
