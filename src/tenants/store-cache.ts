/**
 * Which stores a tenant has registered, on the request path, cached per isolate so that a session
 * start naming a store costs no D1 query: a tenant's store ids are read whole, in one query, and
 * trusted for `AUTH_CACHE_SECONDS` (like keys, src/tenants/auth-cache.ts). A store created or
 * deleted through this isolate counts here at once; elsewhere within the window. Concurrent
 * requests of a tenant share one read; a flood of made-up store ids costs no query at all.
 */
import { authCacheMs } from "../config";
import { LIMITS } from "../limits";
import { Registry } from "./registry";

interface Known {
  ids: Set<string>;
  fetchedAt: number;
}

const known = new Map<string, Known>();
const inflight = new Map<string, Promise<Known>>();
/** When this isolate last changed a tenant's stores: a read begun before that is not kept. */
const changedAt = new Map<string, number>();

async function storesOf(env: Env, tenant: string): Promise<Known> {
  const hit = known.get(tenant);
  if (hit && Date.now() - hit.fetchedAt < authCacheMs(env)) {
    // Most recently used last, so the least recently used tenant goes first when the map is full.
    known.delete(tenant);
    known.set(tenant, hit);
    return hit;
  }
  const shared = inflight.get(tenant);
  if (shared) return shared;
  const pending = (async () => {
    const fetchedAt = Date.now();
    const entry = { ids: new Set(await new Registry(env.DB).storeIds(tenant)), fetchedAt };
    if (fetchedAt > (changedAt.get(tenant) ?? -1)) {
      known.delete(tenant);
      if (known.size >= LIMITS.storeCacheMaxTenants) known.delete(known.keys().next().value!);
      known.set(tenant, entry);
    }
    return entry;
  })();
  inflight.set(tenant, pending);
  try {
    return await pending;
  } finally {
    inflight.delete(tenant);
  }
}

/** Whether the tenant has registered the store (as of at most AUTH_CACHE_SECONDS ago). */
export async function isRegisteredStore(env: Env, tenant: string, storeId: string): Promise<boolean> {
  return (await storesOf(env, tenant)).ids.has(storeId);
}

/**
 * This isolate changed the tenant's stores: the next start reads them again, so a store created
 * here is usable here at once, and one deleted here is refused here at once.
 */
export function forgetStores(tenant: string): void {
  known.delete(tenant);
  if (changedAt.size >= LIMITS.storeCacheMaxTenants) changedAt.delete(changedAt.keys().next().value!);
  changedAt.set(tenant, Date.now());
}
