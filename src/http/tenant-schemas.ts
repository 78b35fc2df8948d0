/**
 * Schemas of the tenant plane's routes (/admin/v1 and /v1/tenant): validation, types and the
 * OpenAPI document from one source. Limits come from src/limits.ts.
 */
import { z } from "@hono/zod-openapi";
import { Instant, StoreId } from "../fields";
import { LIMITS } from "../limits";
import { KEY_ID, TENANT_ID } from "../tenants/key-format";
import { AUDIT_ACTIONS, SCOPES } from "../tenants/registry";
import { EffectiveSettings, SettingsPatch, StoredSettings } from "../tenants/settings";
import { OccurredAt, pageLimit, Timestamp } from "./schemas";

/** Tenant ids never contain ':', so `tenant:persona` names a persona object unambiguously. */

export const TenantId = z
  .string()
  .regex(TENANT_ID, `tenant_id must be 1 to ${LIMITS.tenantIdMaxChars} characters of a-z 0-9 _ -`)
  .openapi({ example: "acme-stores" });
export const KeyId = z
  .string()
  .regex(KEY_ID, "key_id must be 16 characters of 0-9 a-z")
  .openapi({ description: "A key's public id (never secret).", example: "k3v9q2m7x1c8b4n6" });
export const Scope = z.enum(SCOPES).openapi({
  description: "read: GET session routes only; write: every session route; admin: also its own tenant's keys and settings.",
});

/**
 * Free text: 1 to `max` code points, no control characters, no lone surrogates. Validated with a
 * `u` regex; documented without flags (JSON Schema patterns are ECMA-262 without flags), where a
 * character outside the BMP is a surrogate pair: the second alternative.
 */
export const text = (field: string, max: number) =>
  z
    .string()
    .regex(new RegExp(`^[^\\p{Cc}\\p{Cs}]{1,${max}}$`, "u"), `${field} must be 1 to ${max} characters with no control characters`)
    .openapi({
      pattern: `^(?:[^\\x00-\\x1F\\x7F-\\x9F\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]){1,${max}}$`,
      minLength: 1,
      maxLength: max,
    });

const TenantName = text("name", LIMITS.tenantNameMaxChars).openapi({ example: "Acme Stores" });
const KeyLabel = text("label", LIMITS.keyLabelMaxChars).openapi({ example: "store 12, kiosk 3" });

export const TenantParams = z.object({ tenant_id: TenantId.openapi({ param: { name: "tenant_id", in: "path" } }) });
export const TenantKeyParams = TenantParams.extend({ key_id: KeyId.openapi({ param: { name: "key_id", in: "path" } }) });
export const OwnKeyParams = z.object({ key_id: KeyId.openapi({ param: { name: "key_id", in: "path" } }) });

export const PageQuery = z.object({
  limit: pageLimit(LIMITS.listPageMax, LIMITS.listPageDefault),
  cursor: z
    .string()
    .max(300)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor from the previous page" }),
});
export const ResendQuery = PageQuery.extend({
  since: Instant.optional().openapi({
    param: { name: "since", in: "query" },
    description: `Also ask the personas of month shards from this time's month on (default: 92 days ago). Not in the future and at most ${LIMITS.retentionMaxDays} days ago.`,
  }),
});

export const ResendResult = z
  .object({
    personas: z.number().int().openapi({ description: "Persona objects asked to send their whole state again in this call." }),
    next_cursor: z.string().nullable().openapi({ description: "Call again with it for the next page; null when done." }),
  })
  .openapi("IndexResend");

export const IndexCheckQuery = z.object({
  month: z
    .string()
    .regex(/^[0-9]{4}-(0[1-9]|1[0-2])$/)
    .optional()
    .openapi({
      param: { name: "month", in: "query" },
      description: "The month shard to check, `YYYY-MM` (UTC; default: the current month).",
      example: "2026-11",
    }),
  repair: z
    .enum(["true", "false"])
    .optional()
    .openapi({
      param: { name: "repair", in: "query" },
      description: "`true`: rebuild each drifted day's blocks from the session rows, then check again (default `false`: only check).",
    }),
});

const BlockCheck = z.object({
  blocks: z.number().int().openapi({ description: "Analytics blocks read." }),
  sessions: z.number().int().openapi({ description: "Sessions in them, each compared with its row." }),
  drifted_days: z.array(z.string()).openapi({
    description: "UTC days (`YYYY-MM-DD`) whose blocks differ from the session rows: a session missing, extra or different.",
  }),
});

export const IndexCheckResult = BlockCheck.extend({
  month: z.string(),
  repaired_days: z.array(z.string()).openapi({ description: "The days rebuilt from their rows (only with `repair=true`)." }),
  after: BlockCheck.nullable().openapi({ description: "The check again after the repair (null: nothing was repaired)." }),
}).openapi("IndexCheck");

export const AuditQuery = PageQuery.extend({
  tenant_id: TenantId.optional().openapi({ param: { name: "tenant_id", in: "query" }, description: "Only this tenant's entries." }),
});

export const CreateTenantBody = z
  .strictObject({ tenant_id: TenantId, name: TenantName.optional(), settings: SettingsPatch.optional() })
  .openapi("CreateTenantRequest");
export const UpdateTenantBody = z
  .strictObject({
    name: TenantName.nullable().optional(),
    settings: SettingsPatch.optional(),
    disabled: z.boolean().optional().openapi({ description: "A disabled tenant's keys all get 403 TENANT_DISABLED." }),
  })
  .openapi("UpdateTenantRequest");
export const UpdateOwnTenantBody = z.strictObject({ settings: SettingsPatch }).openapi("UpdateOwnTenantRequest");
export const CreateKeyBody = z
  .strictObject({
    scope: Scope,
    label: KeyLabel.optional(),
    expires_at: OccurredAt.optional().openapi({
      description: "When the key stops working (ISO 8601 with zone, in the future). Absent: never.",
      example: "2099-01-01T00:00:00Z",
    }),
    store_id: StoreId.optional().openapi({
      description:
        "Binds the key to a registered store: its session starts are in that store when they name none, and naming another is 403 STORE_FORBIDDEN.",
    }),
  })
  .openapi("CreateKeyRequest");

export const Tenant = z
  .object({
    tenant_id: z.string(),
    name: z.string().nullable(),
    settings: StoredSettings,
    effective_settings: EffectiveSettings,
    disabled: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Tenant");
export const TenantList = z.object({ tenants: z.array(Tenant), next_cursor: z.string().nullable() }).openapi("TenantList");

export const Key = z
  .object({
    key_id: z.string(),
    tenant_id: z.string(),
    scope: Scope,
    label: z.string().nullable(),
    status: z.enum(["active", "expired", "revoked"]),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
    last_used_at: Timestamp.nullable().openapi({ description: "Approximate: refreshed at most about once a minute." }),
    store_id: z.string().nullable().openapi({ description: "The store the key is bound to; null: any store." }),
  })
  .openapi("Key", { description: "An SDK key as listed: never its secret." });
export const KeyList = z.object({ keys: z.array(Key), next_cursor: z.string().nullable() }).openapi("KeyList");
export const CreatedKey = z
  .object({
    key_id: z.string(),
    key: z.string().openapi({ description: "The key itself. Shown only in this response: it is stored only as a hash." }),
    scope: Scope,
    label: z.string().nullable(),
    created_at: Timestamp,
    expires_at: Timestamp.nullable(),
    store_id: z.string().nullable(),
  })
  .openapi("CreatedKey");

export const AuditEntry = z
  .object({
    id: z.int(),
    at: Timestamp,
    tenant_id: z.string(),
    actor: z.object({
      type: z.enum(["admin", "key"]),
      id: z.string().openapi({ description: "admin: the first 12 hex digits of the admin key's SHA-256; key: the SDK key's id." }),
    }),
    action: z.enum(AUDIT_ACTIONS),
    key_id: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    request_id: z.string(),
  })
  .openapi("AuditEntry");
export const AuditList = z.object({ entries: z.array(AuditEntry), next_cursor: z.string().nullable() }).openapi("AuditLog");
