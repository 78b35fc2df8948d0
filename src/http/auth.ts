import type { MiddlewareHandler } from "hono";
import { defaultPolicy } from "../config";
import { ApiError } from "../errors";
import { LIMITS } from "../limits";
import type { AppEnv } from "./context";

/**
 * SDK keys. `SDK_KEYS` is a comma-separated list of `tenant_id:sha256hex[:read]` entries: only
 * hashes are configured, several entries may name one tenant (key rotation), and `:read` makes
 * a read-only key. A key is accepted when its SHA-256 equals a configured hash (constant time).
 */
export interface KeyEntry {
  tenant: string;
  /** The first 16 hex digits of the hash: names the key in limits without revealing it. */
  id: string;
  hash: Uint8Array;
  readOnly: boolean;
}

const TENANT = new RegExp(`^[a-z0-9_-]{1,${LIMITS.tenantIdMaxChars}}$`);
const HASH = /^[0-9a-f]{64}$/;

export function parseSdkKeys(raw: string | undefined): { entries: KeyEntry[]; problems: string[] } {
  const entries: KeyEntry[] = [];
  const problems: string[] = [];
  const items = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [i, item] of items.entries()) {
    const [tenant = "", hash = "", scope, ...rest] = item.split(":");
    if (!TENANT.test(tenant) || !HASH.test(hash) || (scope !== undefined && scope !== "read") || rest.length) {
      // Never echo the entry: it may be a pasted key rather than a hash.
      problems.push(`SDK_KEYS entry ${i + 1} is not tenant_id:sha256hex[:read]; ignored`);
      continue;
    }
    entries.push({ tenant, id: hash.slice(0, 16), hash: hexBytes(hash), readOnly: scope === "read" });
  }
  if (entries.length === 0) problems.push("SDK_KEYS has no valid entry: every /v1 request will get 401");
  return { entries, problems };
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

interface KeyConfig {
  raw: string | undefined;
  entries: KeyEntry[];
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
  config = { raw, entries, accepted: new Map() };
  return config;
}

export async function findKey(token: string, entries: KeyEntry[]): Promise<KeyEntry | null> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  let found: KeyEntry | null = null;
  // Compare with every entry, matched or not, so timing says nothing about which entry matched.
  for (const entry of entries) {
    if (crypto.subtle.timingSafeEqual(digest, entry.hash) && !found) found = entry;
  }
  return found;
}

const unauthorized = () => new ApiError("UNAUTHORIZED", undefined, undefined, { "WWW-Authenticate": 'Bearer realm="persona-session-api"' });

/** Requires `Authorization: Bearer <SDK key>`; sets `tenant` and `readOnly` for the routes. */
export function sdkKeyAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) throw unauthorized();
    const token = match[1]!;
    const keys = keyConfig(c.env.SDK_KEYS);
    let entry = keys.accepted.get(token) ?? null;
    if (!entry) {
      entry = await findKey(token, keys.entries);
      if (!entry) throw unauthorized();
      if (keys.accepted.size >= ACCEPTED_KEYS_MAX) keys.accepted.clear();
      keys.accepted.set(token, entry);
    }
    c.set("tenant", entry.tenant);
    c.set("keyId", entry.id);
    c.set("readOnly", entry.readOnly);
    c.set("policy", defaultPolicy(c.env));
    await next();
  };
}
