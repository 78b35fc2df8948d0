import type { MiddlewareHandler } from "hono";
import { listVar } from "../config";
import { findKey, hexBytes, sha256Bytes } from "../tenants/static-keys";
import { bearerToken, refuse } from "./auth";
import type { AppEnv } from "./context";

/**
 * Operators' keys for /admin/v1. `ADMIN_KEYS` (a secret) is a comma-separated list of the lowercase
 * hex SHA-256 of each admin key; several at once allow rotation. None configured: every /admin
 * request gets 401, and a warning is logged.
 */
interface AdminEntry {
  /** The first 12 hex digits of the hash: who made a change, in the audit log. */
  id: string;
  hash: Uint8Array;
}

const HASH = /^[0-9a-f]{64}$/;
const NEEDED = "A valid admin key is required: Authorization: Bearer <admin key>.";
const ACCEPTED_KEYS_MAX = 64;

export function parseAdminKeys(raw: string | undefined): { entries: AdminEntry[]; problems: string[] } {
  const entries: AdminEntry[] = [];
  const problems: string[] = [];
  const items = listVar(raw);
  for (const [i, item] of items.entries()) {
    // Never echo the entry: it may be a pasted key rather than a hash.
    if (!HASH.test(item)) problems.push(`ADMIN_KEYS entry ${i + 1} is not a lowercase hex SHA-256; ignored`);
    else entries.push({ id: item.slice(0, 12), hash: hexBytes(item) });
  }
  if (entries.length === 0) problems.push("ADMIN_KEYS has no valid entry: every /admin request will get 401");
  return { entries, problems };
}

let config: { raw: string | undefined; entries: AdminEntry[]; accepted: Map<string, AdminEntry> } | undefined;

/** Requires `Authorization: Bearer <admin key>`; the actor of the request's changes is that key. */
export function adminKeyAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (config?.raw !== c.env.ADMIN_KEYS) {
      const { entries, problems } = parseAdminKeys(c.env.ADMIN_KEYS);
      for (const problem of problems) console.warn(JSON.stringify({ level: "warn", msg: problem }));
      config = { raw: c.env.ADMIN_KEYS, entries, accepted: new Map() };
    }
    const token = bearerToken(c);
    if (!token) return refuse(c, undefined, NEEDED);
    let entry = config.accepted.get(token) ?? null;
    if (!entry) {
      entry = findKey(await sha256Bytes(token), config.entries);
      if (!entry) return refuse(c, undefined, NEEDED);
      if (config.accepted.size >= ACCEPTED_KEYS_MAX) config.accepted.clear();
      config.accepted.set(token, entry);
    }
    c.set("keyId", `admin:${entry.id}`);
    c.set("scope", "admin");
    c.set("actor", { type: "admin", id: entry.id });
    await next();
  };
}
