/**
 * A tenant's registered stores on the request path, cached per isolate so that a session start
 * naming a store costs no D1 query: a tenant's stores are read whole, in one query, and trusted for
 * `AUTH_CACHE_SECONDS` (like keys, src/tenants/auth-cache.ts). A store created, replaced or deleted
 * through this isolate counts here at once; elsewhere within the window. Concurrent requests of a
 * tenant share one read, and a flood of made-up store ids costs no query at all. The occupancy
 * board and the store breakdowns of analytics read the same directory.
 */
import { authCacheMs } from "../config";
import { LIMITS } from "../limits";
import { Registry, type StoreInput } from "./registry";

/** What the request path needs of a store: all of it but its times. */
export type StoreInfo = StoreInput;

interface Known {
  stores: ReadonlyMap<string, StoreInfo>;
  fetchedAt: number;
}

const known = new Map<string, Known>();
const inflight = new Map<string, Promise<Known>>();
/** When this isolate last changed a tenant's stores: a read begun before that is not kept. */
const changedAt = new Map<string, number>();
/** Stores held in `known`, all tenants together (bounded by LIMITS.storeCacheMaxStores). */
let held = 0;

function keep(tenant: string, entry: Known): void {
  drop(tenant);
  known.set(tenant, entry);
  held += entry.stores.size;
  // The least recently used tenants go first; the newest entry always stays.
  for (const [oldest, e] of known) {
    if ((known.size <= LIMITS.storeCacheMaxTenants && held <= LIMITS.storeCacheMaxStores) || oldest === tenant) break;
    known.delete(oldest);
    held -= e.stores.size;
  }
}

function drop(tenant: string): void {
  const entry = known.get(tenant);
  if (!entry) return;
  known.delete(tenant);
  held -= entry.stores.size;
}

/** The tenant's registered stores by id, as of at most AUTH_CACHE_SECONDS ago. */
export async function storeDirectory(env: Env, tenant: string): Promise<ReadonlyMap<string, StoreInfo>> {
  const hit = known.get(tenant);
  if (hit && Date.now() - hit.fetchedAt < authCacheMs(env)) {
    // Most recently used last.
    known.delete(tenant);
    known.set(tenant, hit);
    return hit.stores;
  }
  const shared = inflight.get(tenant);
  if (shared) return (await shared).stores;
  const pending = (async () => {
    const fetchedAt = Date.now();
    const rows = await new Registry(env.DB).storeDirectory(tenant);
    const entry: Known = { stores: new Map(rows.map((r) => [r.store_id, r])), fetchedAt };
    if (fetchedAt > (changedAt.get(tenant) ?? -1)) keep(tenant, entry);
    return entry;
  })();
  inflight.set(tenant, pending);
  try {
    return (await pending).stores;
  } finally {
    // A change in this isolate may have replaced this read with a newer one already.
    if (inflight.get(tenant) === pending) inflight.delete(tenant);
  }
}

/** Whether the tenant has registered the store (as of at most AUTH_CACHE_SECONDS ago). */
export async function isRegisteredStore(env: Env, tenant: string, storeId: string): Promise<boolean> {
  return (await storeDirectory(env, tenant)).has(storeId);
}

/**
 * This isolate changed the tenant's stores: the next read goes to the registry, so a store created
 * here is usable here at once, and one deleted here is refused here at once.
 */
export function forgetStores(tenant: string): void {
  drop(tenant);
  // A read begun before the change must not answer requests made after it.
  inflight.delete(tenant);
  changedAt.delete(tenant);
  if (changedAt.size >= LIMITS.storeCacheMaxTenants) changedAt.delete(changedAt.keys().next().value!);
  changedAt.set(tenant, Date.now());
}
