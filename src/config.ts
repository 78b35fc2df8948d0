/**
 * Vars the code reads, with their defaults. A missing or malformed value falls back to the
 * default (and is logged once) so that a typo in a var never stops the service from starting.
 */
import { LIMITS } from "./limits";

/**
 * What a persona object needs to know of its tenant's settings. The Worker sends it with every
 * call (a tenant's settings, or these vars' defaults) and the object keeps the latest it received,
 * so its alarm applies it too.
 */
export interface PersonaPolicy {
  idleTimeoutMs: number;
  retentionMs: number;
}

export const DEFAULTS = {
  SESSION_IDLE_TIMEOUT_SECONDS: 7200,
  SESSION_RETENTION_DAYS: 90,
  AUTH_CACHE_SECONDS: 30,
} as const;

type VarSource = Partial<Record<keyof typeof DEFAULTS, string | undefined>>;

const warned = new Set<string>();

function nonNegativeInt(name: keyof typeof DEFAULTS, raw: string | undefined, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined || raw.trim() === "") return DEFAULTS[name];
  const n = Number(raw);
  if (Number.isSafeInteger(n) && n >= 0 && n <= max) return n;
  const range = max === Number.MAX_SAFE_INTEGER ? ">= 0" : `from 0 to ${max}`;
  const warning = `${name}=${JSON.stringify(raw)} is not a whole number ${range}; using ${DEFAULTS[name]}`;
  if (!warned.has(warning)) {
    warned.add(warning);
    console.warn(JSON.stringify({ level: "warn", msg: warning }));
  }
  return DEFAULTS[name];
}

let authCache: { raw: string | undefined; ms: number } | undefined;

/**
 * How long an isolate trusts what it read of a registry key and its tenant (revocation, expiry,
 * disabling and settings reach every isolate within it). Read per request, parsed once per value.
 */
export function authCacheMs(env: VarSource): number {
  const raw = env.AUTH_CACHE_SECONDS;
  if (authCache === undefined || authCache.raw !== raw) {
    authCache = { raw, ms: nonNegativeInt("AUTH_CACHE_SECONDS", raw, LIMITS.authCacheMaxSeconds) * 1000 };
  }
  return authCache.ms;
}

/** The service-wide policy from the vars: what tenants without settings of their own get. */
export function defaultPolicy(env: VarSource): PersonaPolicy {
  return {
    idleTimeoutMs: nonNegativeInt("SESSION_IDLE_TIMEOUT_SECONDS", env.SESSION_IDLE_TIMEOUT_SECONDS) * 1000,
    retentionMs: nonNegativeInt("SESSION_RETENTION_DAYS", env.SESSION_RETENTION_DAYS) * 86_400_000,
  };
}

/** A comma-separated var (SDK_KEYS, ADMIN_KEYS, CORS_ORIGINS) as its trimmed, non-empty items. */
export function listVar(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
