import { listVar } from "../config";
import { TENANT_ID } from "./key-format";

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

export const ACCEPTED_KEYS_MAX = 1024;
let config: KeyConfig | undefined;

/** Parses once per distinct SDK_KEYS value, logging configuration problems once. */
export function keyConfig(raw: string | undefined): KeyConfig {
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
