/**
 * The registry's queries (D1, schema in migrations/). Every change is written in one batch (one
 * transaction) with its audit entry, the entry first and on the change's own precondition, so the
 * log never misses a change nor records one that did not happen, under any concurrency.
 */
import { QueryError, type SqlParam } from "../sql";
import { RegistryDb, type Statement, statement } from "./db";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** What an audit entry records. */
export const AUDIT_ACTIONS = [
  "tenant.create",
  "tenant.update",
  "key.create",
  "key.revoke",
  "store.create",
  "store.replace",
  "store.delete",
] as const;

export interface TenantRow extends Record<string, unknown> {
  tenant_id: string;
  name: string | null;
  settings: string;
  disabled: number;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface KeyRow extends Record<string, unknown> {
  key_id: string;
  tenant_id: string;
  scope: Scope;
  label: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** The store the key is bound to (null: any). */
  store_id: string | null;
}

/** What authentication needs of a key and its tenant, read in one lookup by key id. */
export interface KeyAuthRow extends Record<string, unknown> {
  key_id: string;
  tenant_id: string;
  secret_hash: string;
  scope: Scope;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  store_id: string | null;
  settings: string;
  disabled: number;
}

export interface AuditRow extends Record<string, unknown> {
  id: number;
  tenant_id: string;
  at: number;
  actor_type: "admin" | "key";
  actor_id: string;
  action: string;
  key_id: string | null;
  details: string;
  request_id: string;
}

/** Who made a change: an operator's admin key (a prefix of its hash) or a tenant's admin-scoped SDK key. */
export interface Actor {
  type: "admin" | "key";
  id: string;
}

/** An audit entry to write with a change. */
export interface AuditInput {
  tenantId: string;
  actor: Actor;
  action: (typeof AUDIT_ACTIONS)[number];
  keyId?: string;
  details: Record<string, unknown>;
  requestId: string;
  at: number;
}

/** A store as stored; `tags` is its JSON array's text. */
export interface StoreRow extends Record<string, unknown> {
  tenant_id: string;
  store_id: string;
  name: string;
  time_zone: string;
  country: string | null;
  tags: string;
  capacity: number | null;
  created_at: number;
  updated_at: number;
}

/** A store as a request gives it (validated by the edge). */
export interface StoreInput {
  store_id: string;
  name: string;
  time_zone: string;
  country: string | null;
  tags: string[];
  capacity: number | null;
}

/** What a put did to each store it named. */
export interface StorePutResult {
  created: number;
  replaced: number;
  unchanged: number;
}

/** A change to the registry broke a bound it keeps (src/limits.ts); the batch was rolled back. */
export class BoundBreached extends Error {
  constructor(readonly bound: string) {
    super(`registry bound breached: ${bound}`);
  }
}

const isBoundBreach = (e: unknown) => {
  const cause = e instanceof QueryError ? e.cause : e;
  return cause instanceof Error && /registry_bound_breached/.test(cause.message);
};

const STORE_COLUMNS = "tenant_id, store_id, name, time_zone, country, tags, capacity, created_at, updated_at";
/** The fields of a store a put compares and an audit entry shows, as a JSON object, from a stores row `s`. */
const STORE_JSON =
  "json_object('name', s.name, 'time_zone', s.time_zone, 'country', s.country, 'tags', json(s.tags), 'capacity', s.capacity)";
/** Whether the stored row `s` differs from the given store `j.value` (a json_each row). */
const STORE_DIFFERS = `(s.name IS NOT j.value->>'name' OR s.time_zone IS NOT j.value->>'time_zone' OR s.country IS NOT j.value->>'country'
  OR s.tags IS NOT j.value->'tags' OR s.capacity IS NOT j.value->>'capacity')`;

const TENANT_COLUMNS = "tenant_id, name, settings, disabled, version, created_at, updated_at";
const KEY_COLUMNS = "key_id, tenant_id, scope, label, created_at, expires_at, revoked_at, last_used_at, store_id";

/** The audit insert, written only if `condition` (SQL, with its own params) holds when it runs. */
function audit(entry: AuditInput, condition: string, ...conditionParams: SqlParam[]): Statement {
  return statement(
    `audit ${entry.action}`,
    `INSERT INTO audit_log (tenant_id, at, actor_type, actor_id, action, key_id, details, request_id)
     SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${condition}`,
    entry.tenantId,
    entry.at,
    entry.actor.type,
    entry.actor.id,
    entry.action,
    entry.keyId ?? null,
    JSON.stringify(entry.details),
    entry.requestId,
    ...conditionParams,
  );
}

/** The audit columns' values, but for the action and the details (SQL given by the caller). */
function auditColumns(entry: Omit<AuditInput, "action" | "details">): SqlParam[] {
  return [entry.tenantId, entry.at, entry.actor.type, entry.actor.id, entry.requestId];
}

export class Registry {
  private readonly db: RegistryDb;

  constructor(d1: D1Database) {
    this.db = new RegistryDb(d1);
  }

  // --- authentication

  keyForAuth(keyId: string): Promise<KeyAuthRow | null> {
    return this.db.first<KeyAuthRow>(
      "key for auth",
      `SELECT k.key_id, k.tenant_id, k.secret_hash, k.scope, k.expires_at, k.revoked_at, k.last_used_at, k.store_id, t.settings, t.disabled
       FROM api_keys k JOIN tenants t ON t.tenant_id = k.tenant_id WHERE k.key_id = ?`,
      keyId,
    );
  }

  /** Approximate: skipped when another isolate wrote it less than `minAgeMs` ago. */
  async touchKey(keyId: string, now: number, minAgeMs: number): Promise<void> {
    await this.db.run(
      "touch key",
      "UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
      now,
      keyId,
      now - minAgeMs,
    );
  }

  // --- tenants

  getTenant(tenantId: string): Promise<TenantRow | null> {
    return this.db.first<TenantRow>("get tenant", `SELECT ${TENANT_COLUMNS} FROM tenants WHERE tenant_id = ?`, tenantId);
  }

  /** Tenants in id order after `after`; one more than `limit` when there is a next page. */
  listTenants(limit: number, after: string | null): Promise<TenantRow[]> {
    return this.db.all<TenantRow>(
      "list tenants",
      `SELECT ${TENANT_COLUMNS} FROM tenants WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?`,
      after ?? "",
      limit + 1,
    );
  }

  /** Throws a QueryError on a taken id (see isUniqueViolation). */
  async createTenant(row: TenantRow, entry: AuditInput): Promise<void> {
    await this.db.batch([
      statement(
        "create tenant",
        `INSERT INTO tenants (${TENANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        row.tenant_id,
        row.name,
        row.settings,
        row.disabled,
        row.version,
        row.created_at,
        row.updated_at,
      ),
      audit(entry, "1"),
    ]);
  }

  /**
   * Writes `next` if the tenant is still at `next.version - 1`; false when another update came
   * first (the caller reads again and retries).
   */
  async updateTenant(next: TenantRow, entry: AuditInput): Promise<boolean> {
    const [, changed] = await this.db.batch([
      // First the entry, on the update's own precondition: in one transaction both see the same
      // row, so the entry is written exactly when the update is (a rival that won from the same
      // version leaves neither behind; checking for version v + 1 afterwards could not tell them apart).
      audit(entry, "EXISTS (SELECT 1 FROM tenants WHERE tenant_id = ? AND version = ?)", next.tenant_id, next.version - 1),
      statement(
        "update tenant",
        "UPDATE tenants SET name = ?, settings = ?, disabled = ?, version = ?, updated_at = ? WHERE tenant_id = ? AND version = ?",
        next.name,
        next.settings,
        next.disabled,
        next.version,
        next.updated_at,
        next.tenant_id,
        next.version - 1,
      ),
    ]);
    return changed === 1;
  }

  // --- keys

  /**
   * Creates the key, and its audit entry, only if the store it is bound to (if any) is registered
   * when the batch runs; false when it is not (nothing written).
   */
  async createKey(row: KeyRow, secretHash: string, entry: AuditInput): Promise<boolean> {
    const storeKnown = "? IS NULL OR EXISTS (SELECT 1 FROM stores WHERE tenant_id = ? AND store_id = ?)";
    const [, created] = await this.db.batch([
      audit(entry, storeKnown, row.store_id, row.tenant_id, row.store_id),
      statement(
        "create key",
        `INSERT INTO api_keys (${KEY_COLUMNS}, secret_hash) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE ${storeKnown}`,
        row.key_id,
        row.tenant_id,
        row.scope,
        row.label,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        row.store_id,
        secretHash,
        row.store_id,
        row.tenant_id,
        row.store_id,
      ),
    ]);
    return created === 1;
  }

  getKey(tenantId: string, keyId: string): Promise<KeyRow | null> {
    return this.db.first<KeyRow>("get key", `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_id = ? AND tenant_id = ?`, keyId, tenantId);
  }

  /** A tenant's keys, newest first, after the (created_at, key_id) position given; one more than `limit` when there is a next page. */
  listKeys(tenantId: string, limit: number, after: { createdAt: number; keyId: string } | null): Promise<KeyRow[]> {
    return after === null
      ? this.db.all<KeyRow>(
          "list keys",
          `SELECT ${KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? ORDER BY created_at DESC, key_id DESC LIMIT ?`,
          tenantId,
          limit + 1,
        )
      : this.db.all<KeyRow>(
          "list keys after",
          `SELECT ${KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND (created_at, key_id) < (?, ?)
           ORDER BY created_at DESC, key_id DESC LIMIT ?`,
          tenantId,
          after.createdAt,
          after.keyId,
          limit + 1,
        );
  }

  /** Revokes an active key; false when it was revoked already (nothing written, nothing audited). */
  async revokeKey(tenantId: string, keyId: string, entry: AuditInput): Promise<boolean> {
    const [, changed] = await this.db.batch([
      // The entry first, on the revocation's own precondition (see updateTenant): one per key, even
      // when two revocations come in the same millisecond.
      audit(entry, "EXISTS (SELECT 1 FROM api_keys WHERE key_id = ? AND tenant_id = ? AND revoked_at IS NULL)", keyId, tenantId),
      statement(
        "revoke key",
        "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND tenant_id = ? AND revoked_at IS NULL",
        entry.at,
        keyId,
        tenantId,
      ),
    ]);
    return changed === 1;
  }

  // --- stores

  getStore(tenantId: string, storeId: string): Promise<StoreRow | null> {
    return this.db.first<StoreRow>(
      "get store",
      `SELECT ${STORE_COLUMNS} FROM stores WHERE tenant_id = ? AND store_id = ?`,
      tenantId,
      storeId,
    );
  }

  /** A tenant's stores in id order after `after`, only those with `tag` when given; one more than `limit` when there is a next page. */
  listStores(tenantId: string, limit: number, after: string | null, tag: string | null): Promise<StoreRow[]> {
    return this.db.all<StoreRow>(
      "list stores",
      `SELECT ${STORE_COLUMNS} FROM stores WHERE tenant_id = ? AND store_id > ?
        AND (? IS NULL OR EXISTS (SELECT 1 FROM json_each(stores.tags) WHERE value = ?))
        ORDER BY store_id LIMIT ?`,
      tenantId,
      after ?? "",
      tag,
      tag,
      limit + 1,
    );
  }

  /** Every store of a tenant as the request path uses them (its cache: one query per tenant per window). */
  async storeDirectory(tenantId: string): Promise<StoreInput[]> {
    const rows = await this.db.all<Omit<StoreInput, "tags"> & { tags: string }>(
      "store directory",
      "SELECT store_id, name, time_zone, country, tags, capacity FROM stores WHERE tenant_id = ?",
      tenantId,
    );
    // tags: written by putStores from a validated list of strings.
    return rows.map((r) => ({ ...r, tags: JSON.parse(r.tags) as string[] }));
  }

  /**
   * Creates or replaces the stores, all or none, in one batch: first the audit entries (one per
   * store created, one per store whose fields change, none for a store given as it is), then the
   * stores, then the bound on stores per tenant, whose breach rolls the whole batch back.
   * Throws BoundBreached("stores") when the tenant would have more than `maxStores`.
   */
  async putStores(
    tenantId: string,
    stores: StoreInput[],
    maxStores: number,
    entry: Omit<AuditInput, "action" | "details">,
  ): Promise<StorePutResult> {
    const given = JSON.stringify(stores);
    const now = entry.at;
    try {
      const [created, replaced] = await this.db.batch([
        statement(
          "audit store.create",
          `INSERT INTO audit_log (tenant_id, at, actor_type, actor_id, action, key_id, details, request_id)
            SELECT ?1, ?2, ?3, ?4, 'store.create', NULL,
              json_object('store_id', j.value->>'store_id', 'after', json_remove(j.value, '$.store_id')), ?5
            FROM json_each(?6) j
            WHERE NOT EXISTS (SELECT 1 FROM stores s WHERE s.tenant_id = ?1 AND s.store_id = j.value->>'store_id')
            ORDER BY j.key`,
          ...auditColumns(entry),
          given,
        ),
        statement(
          "audit store.replace",
          `INSERT INTO audit_log (tenant_id, at, actor_type, actor_id, action, key_id, details, request_id)
            SELECT ?1, ?2, ?3, ?4, 'store.replace', NULL,
              json_object('store_id', s.store_id, 'before', ${STORE_JSON}, 'after', json_remove(j.value, '$.store_id')), ?5
            FROM json_each(?6) j JOIN stores s ON s.tenant_id = ?1 AND s.store_id = j.value->>'store_id'
            WHERE ${STORE_DIFFERS}
            ORDER BY j.key`,
          ...auditColumns(entry),
          given,
        ),
        statement(
          "put stores",
          `INSERT INTO stores (${STORE_COLUMNS})
            SELECT ?1, j.value->>'store_id', j.value->>'name', j.value->>'time_zone', j.value->>'country', j.value->'tags',
              j.value->>'capacity', ?2, ?2
            FROM json_each(?3) j WHERE true
            ON CONFLICT (tenant_id, store_id) DO UPDATE SET
              name = excluded.name, time_zone = excluded.time_zone, country = excluded.country, tags = excluded.tags,
              capacity = excluded.capacity, updated_at = excluded.updated_at
            WHERE stores.name IS NOT excluded.name OR stores.time_zone IS NOT excluded.time_zone
              OR stores.country IS NOT excluded.country OR stores.tags IS NOT excluded.tags OR stores.capacity IS NOT excluded.capacity`,
          tenantId,
          now,
          given,
        ),
        statement(
          "bound: stores per tenant",
          "INSERT INTO bound_breaches (bound) SELECT 'stores' WHERE (SELECT COUNT(*) FROM stores WHERE tenant_id = ?) > ?",
          tenantId,
          maxStores,
        ),
      ]);
      return { created: created!, replaced: replaced!, unchanged: stores.length - created! - replaced! };
    } catch (e) {
      if (isBoundBreach(e)) throw new BoundBreached("stores");
      throw e;
    }
  }

  /** Removes a store and records it; false when there was none (nothing written). */
  async deleteStore(tenantId: string, storeId: string, entry: Omit<AuditInput, "action" | "details">): Promise<boolean> {
    const [, deleted] = await this.db.batch([
      statement(
        "audit store.delete",
        `INSERT INTO audit_log (tenant_id, at, actor_type, actor_id, action, key_id, details, request_id)
          SELECT ?1, ?2, ?3, ?4, 'store.delete', NULL, json_object('store_id', s.store_id, 'before', ${STORE_JSON}), ?5
          FROM stores s WHERE s.tenant_id = ?1 AND s.store_id = ?6`,
        ...auditColumns(entry),
        storeId,
      ),
      statement("delete store", "DELETE FROM stores WHERE tenant_id = ? AND store_id = ?", tenantId, storeId),
    ]);
    return deleted === 1;
  }

  // --- audit

  /** Newest first, before the id given; one more than `limit` when there is a next page. */
  listAudit(tenantId: string | null, limit: number, beforeId: number | null): Promise<AuditRow[]> {
    const before = beforeId ?? Number.MAX_SAFE_INTEGER;
    const columns = "id, tenant_id, at, actor_type, actor_id, action, key_id, details, request_id";
    return tenantId === null
      ? this.db.all<AuditRow>("list audit", `SELECT ${columns} FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit + 1)
      : this.db.all<AuditRow>(
          "list tenant audit",
          `SELECT ${columns} FROM audit_log WHERE tenant_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
          tenantId,
          before,
          limit + 1,
        );
  }
}
