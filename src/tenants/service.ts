/**
 * What the operators' API and a tenant's self-service share: reading and changing tenants and keys,
 * each change written with its audit entry, and how the API shows them.
 */
import { ApiError } from "../errors";
import { iso, sha256Hex } from "../ids";
import { LIMITS } from "../limits";
import { forgetKey, forgetTenant } from "./auth-cache";
import { decodeCursor, encodeCursor } from "./cursor";
import { isUniqueViolation } from "./db";
import { generateKey } from "./key-format";
import {
  type Actor,
  type AuditInput,
  type AuditRow,
  BoundBreached,
  type KeyRow,
  Registry,
  type Scope,
  type StoreInput,
  type StoreRow,
  type TenantRow,
} from "./registry";
import { applyPatch, effectiveSettings, readStoredSettings, type SettingsPatch } from "./settings";
import { staticTenants } from "./static-keys";
import { forgetStores } from "./store-cache";

export function tenantView(row: TenantRow, env: Env) {
  const settings = readStoredSettings(row.settings);
  return {
    tenant_id: row.tenant_id,
    name: row.name,
    settings,
    effective_settings: effectiveSettings(settings, env),
    disabled: row.disabled === 1,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function keyView(row: KeyRow, now: number) {
  const status = row.revoked_at !== null ? "revoked" : row.expires_at !== null && row.expires_at <= now ? "expired" : "active";
  return {
    key_id: row.key_id,
    tenant_id: row.tenant_id,
    scope: row.scope,
    label: row.label,
    status: status as "active" | "expired" | "revoked",
    created_at: iso(row.created_at),
    expires_at: row.expires_at === null ? null : iso(row.expires_at),
    revoked_at: row.revoked_at === null ? null : iso(row.revoked_at),
    last_used_at: row.last_used_at === null ? null : iso(row.last_used_at),
    store_id: row.store_id,
  };
}

export function storeView(row: StoreRow) {
  return {
    store_id: row.store_id,
    name: row.name,
    time_zone: row.time_zone,
    country: row.country,
    // Written by putStores from a validated list of strings.
    tags: JSON.parse(row.tags) as string[],
    capacity: row.capacity,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function auditView(row: AuditRow) {
  return {
    id: row.id,
    at: iso(row.at),
    tenant_id: row.tenant_id,
    actor: { type: row.actor_type, id: row.actor_id },
    action: row.action as AuditInput["action"],
    key_id: row.key_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
    request_id: row.request_id,
  };
}

/** Attempts at a tenant update racing other updates before giving up with 503. */
const UPDATE_ATTEMPTS = 5;

export interface TenantChange {
  name?: string | null;
  settings?: SettingsPatch;
  disabled?: boolean;
}

export interface NewKey {
  scope: Scope;
  label?: string;
  expires_at?: string;
  store_id?: string;
}

/** One request's view of the registry: who acts, under which request id. */
export class TenantService {
  private readonly registry: Registry;

  constructor(
    private readonly env: Env,
    private readonly actor: Actor,
    private readonly requestId: string,
  ) {
    this.registry = new Registry(env.DB);
  }

  private entry(tenantId: string, action: AuditInput["action"], details: Record<string, unknown>, keyId?: string): AuditInput {
    return { tenantId, actor: this.actor, action, keyId, details, requestId: this.requestId, at: Date.now() };
  }

  private async tenantRow(tenantId: string): Promise<TenantRow> {
    const row = await this.registry.getTenant(tenantId);
    if (!row) throw new ApiError("TENANT_NOT_FOUND", undefined, { tenant_id: tenantId });
    return row;
  }

  async createTenant(input: { tenant_id: string; name?: string; settings?: SettingsPatch }) {
    if (staticTenants(this.env).has(input.tenant_id)) {
      throw new ApiError("TENANT_EXISTS", "This tenant_id is reserved: SDK_KEYS names it as a static tenant.", {
        tenant_id: input.tenant_id,
      });
    }
    const now = Date.now();
    const settings = applyPatch({}, input.settings ?? {});
    const row: TenantRow = {
      tenant_id: input.tenant_id,
      name: input.name ?? null,
      settings: JSON.stringify(settings),
      disabled: 0,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.registry.createTenant(row, this.entry(row.tenant_id, "tenant.create", { name: row.name, settings }));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError("TENANT_EXISTS", undefined, { tenant_id: input.tenant_id });
      throw e;
    }
    return tenantView(row, this.env);
  }

  async getTenant(tenantId: string) {
    return tenantView(await this.tenantRow(tenantId), this.env);
  }

  async listTenants(limit: number | undefined, cursor: string | undefined) {
    const after = cursor === undefined ? null : decodeCursor("t", cursor, /^([a-z0-9_-]{1,64})$/)[1]!;
    const size = limit ?? LIMITS.listPageDefault;
    const rows = await this.registry.listTenants(size, after);
    const page = rows.slice(0, size);
    return {
      tenants: page.map((row) => tenantView(row, this.env)),
      next_cursor: rows.length > size ? encodeCursor("t", page.at(-1)!.tenant_id) : null,
    };
  }

  /** Applies a change; one that changes nothing writes nothing and records nothing. */
  async updateTenant(tenantId: string, change: TenantChange) {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const row = await this.tenantRow(tenantId);
      const settingsBefore = readStoredSettings(row.settings);
      const settingsAfter = change.settings === undefined ? settingsBefore : applyPatch(settingsBefore, change.settings);
      const before = { name: row.name, settings: settingsBefore, disabled: row.disabled === 1 };
      const after = {
        name: change.name === undefined ? row.name : change.name,
        settings: settingsAfter,
        disabled: change.disabled ?? before.disabled,
      };
      const changed = (Object.keys(before) as (keyof typeof before)[]).filter(
        (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
      );
      if (changed.length === 0) return tenantView(row, this.env);
      const next: TenantRow = {
        ...row,
        name: after.name,
        settings: JSON.stringify(after.settings),
        disabled: after.disabled ? 1 : 0,
        version: row.version + 1,
        updated_at: Date.now(),
      };
      const details = {
        before: Object.fromEntries(changed.map((k) => [k, before[k]])),
        after: Object.fromEntries(changed.map((k) => [k, after[k]])),
      };
      if (await this.registry.updateTenant(next, this.entry(tenantId, "tenant.update", details))) {
        forgetTenant(tenantId);
        return tenantView(next, this.env);
      }
    }
    throw new ApiError("UNAVAILABLE", "Other requests are changing this tenant; retry.", undefined, { "Retry-After": "1" });
  }

  async createKey(tenantId: string, input: NewKey, tenantChecked = false) {
    const now = Date.now();
    const expiresAt = input.expires_at === undefined ? null : Date.parse(input.expires_at);
    if (expiresAt !== null && expiresAt <= now) {
      throw new ApiError("VALIDATION_ERROR", undefined, { fields: [{ path: "expires_at", message: "expires_at must be in the future" }] });
    }
    if (!tenantChecked) await this.tenantRow(tenantId);
    const { keyId, key } = generateKey();
    const row: KeyRow = {
      key_id: keyId,
      tenant_id: tenantId,
      scope: input.scope,
      label: input.label ?? null,
      created_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      last_used_at: null,
      store_id: input.store_id ?? null,
    };
    const created = {
      scope: row.scope,
      label: row.label,
      expires_at: expiresAt === null ? null : iso(expiresAt),
      store_id: row.store_id,
    };
    if (!(await this.registry.createKey(row, await sha256Hex(key), this.entry(tenantId, "key.create", created, keyId)))) {
      throw new ApiError("UNKNOWN_STORE", "A key can only be bound to a store the tenant has registered.", { store_id: row.store_id });
    }
    return { key_id: keyId, key, ...created, created_at: iso(now) };
  }

  async listKeys(tenantId: string, limit: number | undefined, cursor: string | undefined, tenantChecked = false) {
    let after: { createdAt: number; keyId: string } | null = null;
    if (cursor !== undefined) {
      const match = decodeCursor("k", cursor, /^([0-9]{1,16}):([0-9a-z]{16})$/);
      after = { createdAt: Number(match[1]), keyId: match[2]! };
    }
    if (!tenantChecked) await this.tenantRow(tenantId);
    const size = limit ?? LIMITS.listPageDefault;
    const rows = await this.registry.listKeys(tenantId, size, after);
    const page = rows.slice(0, size);
    const last = page.at(-1);
    const now = Date.now();
    return {
      keys: page.map((row) => keyView(row, now)),
      next_cursor: rows.length > size && last ? encodeCursor("k", `${last.created_at}:${last.key_id}`) : null,
    };
  }

  /** Revokes the tenant's key; revoking it again is fine. Another tenant's key is KEY_NOT_FOUND. */
  async revokeKey(tenantId: string, keyId: string): Promise<void> {
    const row = await this.registry.getKey(tenantId, keyId);
    if (!row) throw new ApiError("KEY_NOT_FOUND", undefined, { key_id: keyId });
    if (row.revoked_at === null) await this.registry.revokeKey(tenantId, keyId, this.entry(tenantId, "key.revoke", {}, keyId));
    forgetKey(keyId);
  }

  // --- stores

  /**
   * Checks that the tenant exists (a registry tenant, or a static SDK_KEYS one: those have stores
   * too). Self-service routes skip it: their key's tenant exists.
   */
  private async checkTenant(tenantId: string, tenantChecked: boolean): Promise<void> {
    if (tenantChecked || staticTenants(this.env).has(tenantId)) return;
    await this.tenantRow(tenantId);
  }

  private auditOf(tenantId: string) {
    return { tenantId, actor: this.actor, requestId: this.requestId, at: Date.now() };
  }

  /** Creates or replaces the stores, all or none; a store given as it is stays as it is (no audit entry). */
  async putStores(tenantId: string, stores: StoreInput[], tenantChecked = false) {
    await this.checkTenant(tenantId, tenantChecked);
    try {
      const result = await this.registry.putStores(tenantId, stores, LIMITS.storesPerTenantMax, this.auditOf(tenantId));
      forgetStores(tenantId);
      return result;
    } catch (e) {
      if (e instanceof BoundBreached) {
        throw new ApiError(
          "STORE_LIMIT_REACHED",
          `A tenant can register at most ${LIMITS.storesPerTenantMax} stores; nothing was changed.`,
          {
            max_stores: LIMITS.storesPerTenantMax,
          },
        );
      }
      throw e;
    }
  }

  /** One store, created (true) or replaced. */
  async putStore(tenantId: string, store: StoreInput, tenantChecked = false) {
    const result = await this.putStores(tenantId, [store], tenantChecked);
    return { store: await this.getStore(tenantId, store.store_id, true), created: result.created === 1 };
  }

  async getStore(tenantId: string, storeId: string, tenantChecked = false) {
    await this.checkTenant(tenantId, tenantChecked);
    const row = await this.registry.getStore(tenantId, storeId);
    if (!row) throw new ApiError("STORE_NOT_FOUND", undefined, { store_id: storeId });
    return storeView(row);
  }

  async listStores(tenantId: string, query: { limit?: number; cursor?: string; tag?: string }, tenantChecked = false) {
    const after = query.cursor === undefined ? null : decodeCursor("st", query.cursor, /^([A-Za-z0-9_.-]{1,64})$/)[1]!;
    await this.checkTenant(tenantId, tenantChecked);
    const size = query.limit ?? LIMITS.listPageDefault;
    const rows = await this.registry.listStores(tenantId, size, after, query.tag ?? null);
    const page = rows.slice(0, size);
    return { stores: page.map(storeView), next_cursor: rows.length > size ? encodeCursor("st", page.at(-1)!.store_id) : null };
  }

  /** Removes the store from the registry (sessions keep their store_id; new starts naming it are refused). */
  async deleteStore(tenantId: string, storeId: string, tenantChecked = false): Promise<void> {
    await this.checkTenant(tenantId, tenantChecked);
    const deleted = await this.registry.deleteStore(tenantId, storeId, this.auditOf(tenantId));
    forgetStores(tenantId);
    if (!deleted) throw new ApiError("STORE_NOT_FOUND", undefined, { store_id: storeId });
  }

  async listAudit(tenantId: string | undefined, limit: number | undefined, cursor: string | undefined) {
    const before = cursor === undefined ? null : Number(decodeCursor("a", cursor, /^([1-9][0-9]{0,15})$/)[1]);
    const size = limit ?? LIMITS.listPageDefault;
    const rows = await this.registry.listAudit(tenantId ?? null, size, before);
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return { entries: page.map(auditView), next_cursor: rows.length > size && last ? encodeCursor("a", String(last.id)) : null };
  }
}
