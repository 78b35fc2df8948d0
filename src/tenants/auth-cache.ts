/**
 * Registry keys on the request path, cached per isolate so that a known key costs no D1 query:
 *
 * - What was read of a key and its tenant (scope, expiry, revocation, disabled, settings) is
 *   trusted for `AUTH_CACHE_SECONDS`, then read again: a change made anywhere reaches every
 *   isolate within that window. Changes made through this isolate apply here at once.
 * - Unknown key ids are remembered too (negatively), in a smaller map of their own, so a flood of
 *   made-up ids cannot push out the keys in use.
 * - Keys already matched are remembered by their text, so a kiosk's every request does not hash
 *   its key again.
 * - Lookups of keys not in the cache are bounded per client address (a few in flight, the rest
 *   wait) and stop while the address is over the failed-authentication limit: a flood of random
 *   well-formed keys becomes a bounded number of queries, not one per request.
 * - `last_used_at` is written at most once a minute per key per isolate, after the response.
 */
import { authCacheMs } from "../config";
import { LIMITS } from "../limits";
import { parseKey } from "./key-format";
import { type KeyAuthRow, Registry, type Scope } from "./registry";
import { readStoredSettings, type TenantRules, tenantRules } from "./settings";

export type RegistryAuth =
  | { ok: true; tenant: string; keyId: string; scope: Scope; rules: TenantRules; storeId: string | null }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired" | "disabled" | "blocked" };

interface Known {
  row: KeyAuthRow;
  hash: Uint8Array;
  rules: TenantRules;
  fetchedAt: number;
  /** When this isolate last knew the key to be used (from the row, or its own write). */
  lastUsedAt: number;
}

const known = new Map<string, Known>();
/** Key ids the registry does not have, with when that was read. */
const unknown = new Map<string, number>();
/** Key text already matched against its hash → key id. */
const accepted = new Map<string, string>();
/** One lookup per key id at a time: concurrent requests with the same key share it. */
const inflight = new Map<string, Promise<Known | null>>();
/** Lookups in flight per client address, and those waiting for a turn. */
const lookups = new Map<string, { active: number; waiting: (() => void)[] }>();
/** Addresses over the failed-authentication limit, until when. */
const blocked = new Map<string, number>();
/** Lookups that found no key, per address, in the current window. */
const misses = new Map<string, { since: number; count: number }>();

function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export interface RegistryAuthRequest {
  env: Env;
  /** A registry-shaped key (see looksLikeRegistryKey). */
  token: string;
  /** The key's SHA-256; computed only when the key text was not matched before. */
  digest: () => Promise<Uint8Array>;
  /** The client address (CF-Connecting-IP), which bounds lookups of unknown keys. */
  address: string;
  /** Whether the failed-authentication limit is on (RATE_LIMITS). */
  limited: boolean;
  waitUntil: (promise: Promise<unknown>) => void;
}

/** True for a key this isolate has matched against its hash before (it needs no hashing now). */
export const isMatchedRegistryKey = (token: string) => accepted.has(token);

export async function authenticateRegistryKey(req: RegistryAuthRequest): Promise<RegistryAuth> {
  const matched = accepted.get(req.token);
  // A malformed key or a wrong checksum (a typo, a truncated paste) is refused before any lookup.
  const keyId = matched ?? parseKey(req.token)?.keyId;
  if (keyId === undefined) return { ok: false, reason: "malformed" };
  const now = Date.now();
  const ttl = authCacheMs(req.env);
  let entry: Known | null | undefined = cached(keyId, now, ttl);
  if (entry === undefined) {
    if (req.limited && isBlocked(req.address, now)) return { ok: false, reason: "blocked" };
    entry = await lookup(req, keyId, ttl);
    if (entry === undefined) return { ok: false, reason: "blocked" };
  }
  if (entry === null) return { ok: false, reason: "unknown" };
  if (matched === undefined) {
    if (!crypto.subtle.timingSafeEqual(await req.digest(), entry.hash)) return { ok: false, reason: "unknown" };
    remember(accepted, req.token, keyId, LIMITS.authCacheMaxKeys);
  }
  const { row } = entry;
  if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
  if (row.expires_at !== null && row.expires_at <= now) return { ok: false, reason: "expired" };
  if (row.disabled) return { ok: false, reason: "disabled" };
  if (now - entry.lastUsedAt >= LIMITS.lastUsedRefreshMs) {
    entry.lastUsedAt = now;
    req.waitUntil(
      new Registry(req.env.DB).touchKey(row.key_id, now, LIMITS.lastUsedRefreshMs).catch((e: unknown) => {
        console.error(JSON.stringify({ level: "error", msg: "could not record last_used_at", error: String(e) }));
      }),
    );
  }
  return { ok: true, tenant: row.tenant_id, keyId: row.key_id, scope: row.scope, rules: entry.rules, storeId: row.store_id };
}

/** The cached answer for a key id: the key, null (no such key), or undefined (not cached, or too old). */
function cached(keyId: string, now: number, ttl: number): Known | null | undefined {
  const hit = known.get(keyId);
  if (hit && now - hit.fetchedAt < ttl) return hit;
  const miss = unknown.get(keyId);
  if (miss !== undefined && now - miss < ttl) return null;
  return undefined;
}

/** Reads the key from the registry, waiting for a turn of its address; undefined when the address got blocked meanwhile. */
async function lookup(req: RegistryAuthRequest, keyId: string, ttl: number): Promise<Known | null | undefined> {
  const shared = inflight.get(keyId);
  if (shared) return shared;
  return withTurn(req.address, async () => {
    const now = Date.now();
    const fresh = cached(keyId, now, ttl);
    if (fresh !== undefined) return fresh;
    if (req.limited && isBlocked(req.address, now)) return undefined;
    const again = inflight.get(keyId);
    if (again) return again;
    const pending = fetchKey(req.env, keyId);
    inflight.set(keyId, pending);
    try {
      const found = await pending;
      if (found === null && req.limited) noteUnknown(req.address, now);
      return found;
    } finally {
      inflight.delete(keyId);
    }
  });
}

/**
 * Counts lookups that found nothing per address, in step with the failed-authentication limit: an
 * address that reaches it here stops costing lookups at once, before the limiter (which counts
 * after the answer) has caught up with the lookups already queued.
 */
function noteUnknown(address: string, now: number): void {
  const windowMs = LIMITS.authFailureWindowSeconds * 1000;
  const seen = misses.get(address);
  if (!seen || now - seen.since >= windowMs) {
    remember(misses, address, { since: now, count: 1 }, LIMITS.authCacheMaxKeys);
    return;
  }
  seen.count += 1;
  if (seen.count >= LIMITS.authFailuresPerWindow) remember(blocked, address, seen.since + windowMs, LIMITS.authCacheMaxKeys);
}

async function fetchKey(env: Env, keyId: string): Promise<Known | null> {
  const fetchedAt = Date.now();
  const row = await new Registry(env.DB).keyForAuth(keyId);
  if (!row) {
    known.delete(keyId);
    remember(unknown, keyId, fetchedAt, LIMITS.authNegativeCacheMaxKeys);
    return null;
  }
  const entry: Known = {
    row,
    hash: hexBytes(row.secret_hash),
    rules: tenantRules(readStoredSettings(row.settings), env),
    fetchedAt,
    lastUsedAt: Math.max(row.last_used_at ?? 0, known.get(keyId)?.lastUsedAt ?? 0),
  };
  unknown.delete(keyId);
  remember(known, keyId, entry, LIMITS.authCacheMaxKeys);
  return entry;
}

async function withTurn<T>(address: string, fn: () => Promise<T>): Promise<T> {
  let slot = lookups.get(address);
  if (!slot) {
    slot = { active: 0, waiting: [] };
    lookups.set(address, slot);
  }
  const turn = slot;
  // A finished lookup hands its turn straight to the next waiting one, so `active` stays as is.
  if (turn.active >= LIMITS.authLookupsInFlightPerAddress) await new Promise<void>((resolve) => turn.waiting.push(resolve));
  else turn.active += 1;
  try {
    return await fn();
  } finally {
    const next = turn.waiting.shift();
    if (next) next();
    else if (--turn.active === 0) lookups.delete(address);
  }
}

function isBlocked(address: string, now: number): boolean {
  const until = blocked.get(address);
  if (until === undefined) return false;
  if (until > now) return true;
  blocked.delete(address);
  return false;
}

/** The failed-authentication limiter refused this address: no lookups for it until the window ends. */
export function blockAddress(address: string, now: number): void {
  if (blocked.size >= LIMITS.authCacheMaxKeys) {
    for (const [a, until] of blocked) if (until <= now) blocked.delete(a);
  }
  remember(blocked, address, now + LIMITS.authFailureWindowSeconds * 1000, LIMITS.authCacheMaxKeys);
}

/** Changes made through this isolate apply here at once; other isolates see them within the cache window. */
export function forgetKey(keyId: string): void {
  known.delete(keyId);
  unknown.delete(keyId);
}

export function forgetTenant(tenantId: string): void {
  for (const [keyId, entry] of known) if (entry.row.tenant_id === tenantId) known.delete(keyId);
}
