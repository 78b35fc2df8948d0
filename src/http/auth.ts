import type { Context, MiddlewareHandler } from "hono";
import { listVar } from "../config";
import { ApiError } from "../errors";
import { authenticateRegistryKey, blockAddress, isMatchedRegistryKey, type RegistryAuth } from "../tenants/auth-cache";
import { looksLikeRegistryKey } from "../tenants/key-format";
import { TENANT_ID } from "../tenants/schemas";
import { type TenantRules, tenantRules } from "../tenants/settings";
import type { AppEnv } from "./context";
import { clientAddress, rateLimited, rateLimitsOn, withinAuthFailureLimit } from "./rate-limit";

/**
 * SDK keys come from two places, checked in this order:
 *
 * 1. `SDK_KEYS` (static tenants: development, the demo tenant, emergency access): a comma-separated
 *    list of `tenant_id:sha256hex[:read]` entries. Only hashes are configured, several entries may
 *    name one tenant (rotation), `:read` makes a read-only key. A key is accepted when its SHA-256
 *    equals a configured hash (constant time).
 * 2. The tenant registry in D1 (src/tenants/): keys with the registry's own prefix, found by
 *    their id and compared by hash, cached per isolate (src/tenants/auth-cache.ts).
 */
export interface KeyEntry {
  tenant: string;
  /** The first 16 hex digits of the hash: names the key in limits without revealing it. */
  id: string;
  hash: Uint8Array;
  scope: "read" | "write";
}

const HASH = /^[0-9a-f]{64}$/;

export function parseSdkKeys(raw: string | undefined): { entries: KeyEntry[]; problems: string[] } {
  const entries: KeyEntry[] = [];
  const problems: string[] = [];
  const items = listVar(raw);
  for (const [i, item] of items.entries()) {
    const [tenant = "", hash = "", scope, ...rest] = item.split(":");
    if (!TENANT_ID.test(tenant) || !HASH.test(hash) || (scope !== undefined && scope !== "read") || rest.length) {
      // Never echo the entry: it may be a pasted key rather than a hash.
      problems.push(`SDK_KEYS entry ${i + 1} is not tenant_id:sha256hex[:read]; ignored`);
      continue;
    }
    entries.push({ tenant, id: hash.slice(0, 16), hash: hexBytes(hash), scope: scope === "read" ? "read" : "write" });
  }
  // Static keys are optional now that the registry holds tenants; entries that are all wrong are a mistake.
  if (items.length > 0 && entries.length === 0) problems.push("SDK_KEYS has no valid entry: only registry keys are accepted");
  return { entries, problems };
}

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

interface KeyConfig {
  raw: string | undefined;
  entries: KeyEntry[];
  /** The tenants SDK_KEYS names: reserved, the registry cannot create them. */
  tenants: Set<string>;
  /**
   * Keys already accepted under this configuration, so a kiosk's every request does not hash
   * its key again. Only accepted keys are kept (a wrong key is always hashed and compared), the
   * map is bounded, and it is dropped with the configuration it was checked against.
   */
  accepted: Map<string, KeyEntry>;
}

const ACCEPTED_KEYS_MAX = 1024;
let config: KeyConfig | undefined;

/** Parses once per distinct SDK_KEYS value, logging configuration problems once. */
function keyConfig(raw: string | undefined): KeyConfig {
  if (config && config.raw === raw) return config;
  const { entries, problems } = parseSdkKeys(raw);
  for (const problem of problems) console.warn(JSON.stringify({ level: "warn", msg: problem }));
  config = { raw, entries, tenants: new Set(entries.map((e) => e.tenant)), accepted: new Map() };
  return config;
}

/** The tenants of `SDK_KEYS`. */
export const staticTenants = (env: Env): ReadonlySet<string> => keyConfig(env.SDK_KEYS).tenants;

export async function sha256Bytes(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** The entry whose hash is `digest`, comparing with every entry so timing says nothing about which matched. */
export function findKey<E extends { hash: Uint8Array }>(digest: Uint8Array, entries: E[]): E | null {
  let found: E | null = null;
  for (const entry of entries) {
    if (crypto.subtle.timingSafeEqual(digest, entry.hash) && !found) found = entry;
  }
  return found;
}

export function bearerToken(c: Context<AppEnv>): string | null {
  const header = c.req.header("authorization");
  return (header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)?.[1] : undefined) ?? null;
}

const REFUSALS: Record<string, string | undefined> = {
  malformed: "This key is mistyped or truncated: its checksum does not match.",
  revoked: "This key has been revoked.",
  expired: "This key has expired.",
};

/**
 * A failed authentication: 401, or 429 once the client's address is over the failed-authentication
 * limit (and then no lookup of unknown keys from that address until the window ends).
 */
export async function refuse(
  c: Context<AppEnv>,
  reason?: Extract<RegistryAuth, { ok: false }>["reason"],
  message = reason ? REFUSALS[reason] : undefined,
): Promise<never> {
  if (reason === "blocked") throw rateLimited();
  if (!(await withinAuthFailureLimit(c))) {
    blockAddress(clientAddress(c), Date.now());
    throw rateLimited();
  }
  throw new ApiError("UNAUTHORIZED", message, undefined, {
    "WWW-Authenticate": 'Bearer realm="persona-session-api"',
  });
}

function waitUntil(c: Context<AppEnv>) {
  return (promise: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(promise);
    } catch {
      // No execution context (a test calling app.request): the promise runs on by itself.
    }
  };
}

/** Rules of tenants without settings (static tenants), per distinct vars. */
let defaultRules: { env: Env; rules: TenantRules } | undefined;
function staticRules(env: Env): TenantRules {
  if (defaultRules?.env !== env) defaultRules = { env, rules: tenantRules({}, env) };
  return defaultRules.rules;
}

function admit(c: Context<AppEnv>, who: { tenant: string; keyId: string; scope: KeyEntry["scope"] | "admin"; rules: TenantRules }) {
  c.set("tenant", who.tenant);
  c.set("keyId", who.keyId);
  c.set("scope", who.scope);
  c.set("actor", { type: "key", id: who.keyId });
  c.set("policy", who.rules.policy);
  c.set("statuses", who.rules.statuses);
}

/** Requires `Authorization: Bearer <SDK key>`; sets the tenant, scope and tenant rules for the routes. */
export function sdkKeyAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c);
    if (!token) return refuse(c);
    const keys = keyConfig(c.env.SDK_KEYS);
    const registryShaped = looksLikeRegistryKey(token);
    let entry = keys.accepted.get(token) ?? null;
    let digest: Promise<Uint8Array> | undefined;
    const hash = () => (digest ??= sha256Bytes(token));
    // Static keys first, by hash; a registry key this isolate matched before skips the hashing.
    if (!entry && !(registryShaped && isMatchedRegistryKey(token))) {
      entry = findKey(await hash(), keys.entries);
      if (entry) {
        if (keys.accepted.size >= ACCEPTED_KEYS_MAX) keys.accepted.clear();
        keys.accepted.set(token, entry);
      }
    }
    if (entry) {
      admit(c, { tenant: entry.tenant, keyId: entry.id, scope: entry.scope, rules: staticRules(c.env) });
      return next();
    }
    if (!registryShaped) return refuse(c);
    const found = await authenticateRegistryKey({
      env: c.env,
      token,
      digest: hash,
      address: clientAddress(c),
      limited: rateLimitsOn(c.env),
      waitUntil: waitUntil(c),
    });
    if (!found.ok) {
      if (found.reason === "disabled") throw new ApiError("TENANT_DISABLED");
      return refuse(c, found.reason);
    }
    admit(c, found);
    await next();
  };
}

const SCOPE_RANK = { read: 0, write: 1, admin: 2 } as const;

/** Refuses keys below `needed` with 403 FORBIDDEN (`admin` includes `write`, which includes `read`). */
export function requireScope(needed: "write" | "admin", message: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const scope = c.get("scope");
    if (SCOPE_RANK[scope] < SCOPE_RANK[needed]) throw new ApiError("FORBIDDEN", message, { scope, required: needed });
    await next();
  };
}
