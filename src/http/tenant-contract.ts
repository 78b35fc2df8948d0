/**
 * The tenant plane's routes: the operators' API under /admin/v1 (ADMIN_KEYS) and a tenant's own
 * settings and keys under /v1/tenant (an admin-scoped SDK key). Like src/http/contract.ts, nothing
 * here depends on the Workers runtime. Each is a `route()` (src/http/contract.ts): operationId,
 * tags, security and documented response headers.
 */
import type { ErrorCode } from "../errors";
import { body, errors, ok, route } from "./contract";
import {
  AuditList,
  AuditQuery,
  CreatedKey,
  CreateKeyBody,
  CreateTenantBody,
  IndexCheckQuery,
  IndexCheckResult,
  KeyList,
  OwnKeyParams,
  PageQuery,
  ResendQuery,
  ResendResult,
  Tenant,
  TenantKeyParams,
  TenantList,
  TenantParams,
  UpdateOwnTenantBody,
  UpdateTenantBody,
} from "./tenant-schemas";

/** Refusals every /admin/v1 route can give before its own checks. */
export const ADMIN_COMMON: ErrorCode[] = ["UNAUTHORIZED", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL"];
/** Refusals every /v1/tenant route can give before its own checks: an SDK key's, and 403 for a key that is not admin-scoped. */
export const TENANT_COMMON: ErrorCode[] = ["UNAUTHORIZED", "TENANT_DISABLED", "FORBIDDEN", "VALIDATION_ERROR", "RATE_LIMITED", "INTERNAL"];
/** What reading a JSON body can add. */
export const BODY: ErrorCode[] = ["UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE", "INVALID_JSON"];

const admin = { tags: ["admin"] as [string], security: [{ AdminKey: [] }] };
const own = { tags: ["tenant"] as [string], security: [{ SdkKey: [] }] };

export const createTenantRoute = route({
  ...admin,
  operationId: "createTenant",
  method: "post",
  path: "/admin/v1/tenants",
  summary: "Create a tenant",
  request: { body: body(CreateTenantBody, true) },
  responses: { 201: ok(Tenant, "The tenant"), ...errors(...ADMIN_COMMON, ...BODY, "TENANT_EXISTS") },
});

export const listTenantsRoute = route({
  ...admin,
  operationId: "listTenants",
  method: "get",
  path: "/admin/v1/tenants",
  summary: "Tenants in id order, paged",
  request: { query: PageQuery },
  responses: { 200: ok(TenantList, "A page of tenants"), ...errors(...ADMIN_COMMON) },
});

export const getTenantRoute = route({
  ...admin,
  operationId: "getTenant",
  method: "get",
  path: "/admin/v1/tenants/{tenant_id}",
  summary: "One tenant",
  request: { params: TenantParams },
  responses: { 200: ok(Tenant, "The tenant"), ...errors(...ADMIN_COMMON, "TENANT_NOT_FOUND") },
});

export const updateTenantRoute = route({
  ...admin,
  operationId: "updateTenant",
  method: "patch",
  path: "/admin/v1/tenants/{tenant_id}",
  summary: "Change a tenant's name, settings, or disable it",
  request: { params: TenantParams, body: body(UpdateTenantBody, true) },
  responses: { 200: ok(Tenant, "The updated tenant"), ...errors(...ADMIN_COMMON, ...BODY, "TENANT_NOT_FOUND", "UNAVAILABLE") },
});

export const createTenantKeyRoute = route({
  ...admin,
  operationId: "createTenantKey",
  method: "post",
  path: "/admin/v1/tenants/{tenant_id}/keys",
  summary: "Create an SDK key for a tenant (the key is shown only in this answer)",
  request: { params: TenantParams, body: body(CreateKeyBody, true) },
  responses: { 201: ok(CreatedKey, "The new key"), ...errors(...ADMIN_COMMON, ...BODY, "TENANT_NOT_FOUND", "UNKNOWN_STORE") },
});

export const listTenantKeysRoute = route({
  ...admin,
  operationId: "listTenantKeys",
  method: "get",
  path: "/admin/v1/tenants/{tenant_id}/keys",
  summary: "A tenant's keys, newest first, paged (never a secret)",
  request: { params: TenantParams, query: PageQuery },
  responses: { 200: ok(KeyList, "A page of keys"), ...errors(...ADMIN_COMMON, "TENANT_NOT_FOUND") },
});

export const revokeTenantKeyRoute = route({
  ...admin,
  operationId: "revokeTenantKey",
  method: "delete",
  path: "/admin/v1/tenants/{tenant_id}/keys/{key_id}",
  summary: "Revoke a tenant's key",
  request: { params: TenantKeyParams },
  responses: { 204: { description: "Revoked (also when it was revoked already)" }, ...errors(...ADMIN_COMMON, "KEY_NOT_FOUND") },
});

export const listAuditEntriesRoute = route({
  ...admin,
  operationId: "listAuditEntries",
  method: "get",
  path: "/admin/v1/audit",
  summary: "Every change to tenants and keys, newest first, paged",
  request: { query: AuditQuery },
  responses: { 200: ok(AuditList, "A page of audit entries"), ...errors(...ADMIN_COMMON) },
});

export const resendTenantIndexRoute = route({
  ...admin,
  operationId: "resendTenantIndex",
  method: "post",
  path: "/admin/v1/tenants/{tenant_id}/index/resend",
  summary: "Rebuild a tenant's index: its known persona objects send their whole state again, a page per call",
  description:
    "Applying is idempotent, so this is safe on a populated index. The tenant may be a registry tenant or a static SDK_KEYS one.",
  request: { params: TenantParams, query: ResendQuery },
  responses: { 200: ok(ResendResult, "A page of persona objects asked"), ...errors(...ADMIN_COMMON, "UNAVAILABLE") },
});

export const checkTenantIndexRoute = route({
  ...admin,
  operationId: "checkTenantIndex",
  method: "post",
  path: "/admin/v1/tenants/{tenant_id}/index/check",
  summary: "Check a month shard's analytics blocks against its session rows, and repair what drifted",
  description:
    "Analytics read ended sessions from column blocks derived from the session rows (docs/scale.md). This compares every block's sessions with their rows; with `repair=true`, each day that differs is rebuilt from its rows. Reads the whole shard: an operator's tool, not a health check to poll.",
  request: { params: TenantParams, query: IndexCheckQuery },
  responses: { 200: ok(IndexCheckResult, "What the check found, and what it repaired"), ...errors(...ADMIN_COMMON, "UNAVAILABLE") },
});

export const getOwnTenantRoute = route({
  ...own,
  operationId: "getOwnTenant",
  method: "get",
  path: "/v1/tenant",
  summary: "This key's tenant (admin-scoped keys)",
  responses: { 200: ok(Tenant, "The tenant"), ...errors(...TENANT_COMMON) },
});

export const updateOwnTenantRoute = route({
  ...own,
  operationId: "updateOwnTenant",
  method: "patch",
  path: "/v1/tenant",
  summary: "Change this tenant's settings (admin-scoped keys)",
  request: { body: body(UpdateOwnTenantBody, true) },
  responses: { 200: ok(Tenant, "The updated tenant"), ...errors(...TENANT_COMMON, ...BODY, "UNAVAILABLE") },
});

export const listOwnKeysRoute = route({
  ...own,
  operationId: "listOwnKeys",
  method: "get",
  path: "/v1/tenant/keys",
  summary: "This tenant's keys, newest first, paged (admin-scoped keys)",
  request: { query: PageQuery },
  responses: { 200: ok(KeyList, "A page of keys"), ...errors(...TENANT_COMMON) },
});

export const createOwnKeyRoute = route({
  ...own,
  operationId: "createOwnKey",
  method: "post",
  path: "/v1/tenant/keys",
  summary: "Create a key for this tenant (admin-scoped keys; the key is shown only in this answer)",
  request: { body: body(CreateKeyBody, true) },
  responses: { 201: ok(CreatedKey, "The new key"), ...errors(...TENANT_COMMON, ...BODY, "UNKNOWN_STORE") },
});

export const revokeOwnKeyRoute = route({
  ...own,
  operationId: "revokeOwnKey",
  method: "delete",
  path: "/v1/tenant/keys/{key_id}",
  summary: "Revoke one of this tenant's keys (admin-scoped keys)",
  request: { params: OwnKeyParams },
  responses: { 204: { description: "Revoked (also when it was revoked already)" }, ...errors(...TENANT_COMMON, "KEY_NOT_FOUND") },
});
