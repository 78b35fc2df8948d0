/**
 * Per-tenant settings: the schema that validates them (and documents them in OpenAPI), how a
 * change applies to what is stored, and what they mean for a request: the persona policy sent to
 * the persona objects and the statuses allow-list the session routes check.
 */
import { z } from "@hono/zod-openapi";
import { defaultPolicy, type PersonaPolicy } from "../config";
import { Status } from "../fields";
import { LIMITS } from "../limits";

const idleRule = `idle_timeout_seconds must be a whole number: 0 (never) or 1 to ${LIMITS.idleTimeoutMaxSeconds}`;
const retentionRule = `retention_days must be a whole number: 0 (keep forever) or 1 to ${LIMITS.retentionMaxDays}`;
const statusesRule = `statuses must be a list of 1 to ${LIMITS.statusesMax} distinct status labels, or null`;

const IdleTimeout = z
  .int({ error: idleRule })
  .min(0, idleRule)
  .max(LIMITS.idleTimeoutMaxSeconds, idleRule)
  .openapi({ description: "Idle sessions end after this many seconds without a start or stamp; 0 = never.", example: 1800 });
const Retention = z
  .int({ error: retentionRule })
  .min(0, retentionRule)
  .max(LIMITS.retentionMaxDays, retentionRule)
  .openapi({ description: "Ended sessions are deleted after this many days; 0 = keep forever.", example: 30 });
const RequireStore = z.boolean({ error: "require_store must be true or false" }).openapi({
  description: "When true, every session start must name a store (or use a key bound to one): else 422 STORE_REQUIRED. Default false.",
  example: true,
});
const Statuses = z
  .array(Status, { error: statusesRule })
  .min(1, statusesRule)
  .max(LIMITS.statusesMax, statusesRule)
  .refine((list) => new Set(list).size === list.length, "statuses must not repeat a label")
  .openapi({
    description: "The only statuses stamps may use (ENTER is always recorded by start). Unset: any status.",
    example: ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"],
  });

/** A change of settings: a field given sets it, `null` returns it to the service default, absent leaves it. */
export const SettingsPatch = z
  .strictObject({
    idle_timeout_seconds: IdleTimeout.nullable().optional(),
    retention_days: Retention.nullable().optional(),
    statuses: Statuses.nullable().optional(),
    require_store: RequireStore.nullable().optional(),
  })
  .openapi("TenantSettingsPatch", { description: "A field given sets it; null returns it to the service default; absent leaves it." });
export type SettingsPatch = z.infer<typeof SettingsPatch>;

/** What a tenant set, as stored: only the fields it set. */
export const StoredSettings = z
  .strictObject({
    idle_timeout_seconds: IdleTimeout.optional(),
    retention_days: Retention.optional(),
    statuses: Statuses.optional(),
    require_store: RequireStore.optional(),
  })
  .openapi("TenantSettings", { description: "The settings this tenant set; the service defaults apply to the others." });
export type StoredSettings = z.infer<typeof StoredSettings>;

/** Every setting as it applies to the tenant's requests: its own, else the service default. */
export const EffectiveSettings = z
  .object({ idle_timeout_seconds: z.int(), retention_days: z.int(), statuses: z.array(z.string()).nullable(), require_store: z.boolean() })
  .openapi("EffectiveTenantSettings");
export type EffectiveSettings = z.infer<typeof EffectiveSettings>;

export function applyPatch(stored: StoredSettings, patch: SettingsPatch): StoredSettings {
  const next: Record<string, unknown> = { ...stored };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next as StoredSettings;
}

/** Settings text from the registry. It was validated before it was written; anything else is a bug, logged, and ignored. */
export function readStoredSettings(json: string): StoredSettings {
  const parsed = StoredSettings.safeParse(JSON.parse(json));
  if (parsed.success) return parsed.data;
  console.error(JSON.stringify({ level: "error", msg: "stored tenant settings are invalid; using the defaults", settings: json }));
  return {};
}

type PolicyVars = Parameters<typeof defaultPolicy>[0];

export function effectiveSettings(stored: StoredSettings, env: PolicyVars): EffectiveSettings {
  const defaults = defaultPolicy(env);
  return {
    idle_timeout_seconds: stored.idle_timeout_seconds ?? defaults.idleTimeoutMs / 1000,
    retention_days: stored.retention_days ?? defaults.retentionMs / 86_400_000,
    statuses: stored.statuses ?? null,
    require_store: stored.require_store ?? false,
  };
}

/** What a request of the tenant needs: the persona objects' policy and the statuses allow-list. */
export interface TenantRules {
  policy: PersonaPolicy;
  /** null: any status. */
  statuses: ReadonlySet<string> | null;
  /** Every start must name a store. */
  requireStore: boolean;
}

export function tenantRules(stored: StoredSettings, env: PolicyVars): TenantRules {
  const effective = effectiveSettings(stored, env);
  return {
    policy: { idleTimeoutMs: effective.idle_timeout_seconds * 1000, retentionMs: effective.retention_days * 86_400_000 },
    statuses: effective.statuses ? new Set(effective.statuses) : null,
    requireStore: effective.require_store,
  };
}
