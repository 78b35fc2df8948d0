import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import { authenticateRegistryKey, blockAddress, isMatchedRegistryKey, type RegistryAuth } from "../tenants/auth-cache";
import { looksLikeRegistryKey } from "../tenants/key-format";
import { type TenantRules, tenantRules } from "../tenants/settings";
import { ACCEPTED_KEYS_MAX, findKey, type KeyEntry, keyConfig, sha256Bytes } from "../tenants/static-keys";
import type { AppEnv } from "./context";
import { clientAddress, rateLimited, rateLimitsOn, withinAuthFailureLimit } from "./rate-limit";

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

function admit(
  c: Context<AppEnv>,
  who: { tenant: string; keyId: string; scope: KeyEntry["scope"] | "admin"; rules: TenantRules; storeId?: string | null },
) {
  c.set("tenant", who.tenant);
  c.set("keyId", who.keyId);
  c.set("scope", who.scope);
  c.set("actor", { type: "key", id: who.keyId });
  c.set("policy", who.rules.policy);
  c.set("statuses", who.rules.statuses);
  c.set("requireStore", who.rules.requireStore);
  c.set("boundStore", who.storeId ?? null);
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
