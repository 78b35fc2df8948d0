/**
 * The registry's queries (D1, schema in migrations/). Every change is written in one batch (one
 * transaction) with its audit entry, the entry first and on the change's own precondition, so the
 * log never misses a change nor records one that did not happen, under any concurrency.
 */
import type { SqlParam } from "../sql";
import { RegistryDb, type Statement, statement } from "./db";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** What an audit entry records. */
export const AUDIT_ACTIONS = ["tenant.create", "tenant.update", "key.create", "key.revoke"] as const;

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

const TENANT_COLUMNS = "tenant_id, name, settings, disabled, version, created_at, updated_at";
const KEY_COLUMNS = "key_id, tenant_id, scope, label, created_at, expires_at, revoked_at, last_used_at";

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

export class Registry {
  private readonly db: RegistryDb;

  constructor(d1: D1Database) {
    this.db = new RegistryDb(d1);
  }

  // --- authentication

  keyForAuth(keyId: string): Promise<KeyAuthRow | null> {
    return this.db.first<KeyAuthRow>(
      "key for auth",
      `SELECT k.key_id, k.tenant_id, k.secret_hash, k.scope, k.expires_at, k.revoked_at, k.last_used_at, t.settings, t.disabled
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

  async createKey(row: KeyRow, secretHash: string, entry: AuditInput): Promise<void> {
    await this.db.batch([
      statement(
        "create key",
        `INSERT INTO api_keys (${KEY_COLUMNS}, secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        row.key_id,
        row.tenant_id,
        row.scope,
        row.label,
        row.created_at,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        secretHash,
      ),
      audit(entry, "1"),
    ]);
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
