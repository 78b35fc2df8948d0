/**
 * The store registry's routes: a tenant's own under /v1/stores (reads with any key, changes with
 * an admin-scoped one) and the operators' mirror under /admin/v1/tenants/{tenant_id}/stores.
 */
import type { ErrorCode } from "../errors";
import { body, COMMON, errors, ok, route } from "./contract";
import {
  BulkStoresBody,
  BulkStoresResult,
  Store,
  StoreBody,
  StoreList,
  StoreListQuery,
  StoreParams,
  TenantStoreParams,
} from "./store-schemas";
import { ADMIN_COMMON, BODY } from "./tenant-contract";
import { TenantParams } from "./tenant-schemas";

const own = { tags: ["stores"] as [string] };
const admin = { tags: ["admin"] as [string], security: [{ AdminKey: [] }] };
/** What a put of stores can refuse beyond the common refusals. */
const PUT: ErrorCode[] = [...BODY, "STORE_LIMIT_REACHED"];
/** A /v1 route's refusals, and 403 for a key that is not admin-scoped. */
const CHANGE: ErrorCode[] = [...COMMON, "FORBIDDEN"];

export const putStoreRoute = route({
  ...own,
  operationId: "putStore",
  method: "put",
  path: "/v1/stores/{store_id}",
  summary: "Register a store, or replace it (admin-scoped keys)",
  request: { params: StoreParams, body: body(StoreBody, true) },
  responses: {
    200: ok(Store, "Replaced (or given as it was)"),
    201: ok(Store, "Registered"),
    ...errors(...CHANGE, ...PUT),
  },
});

export const putStoresRoute = route({
  ...own,
  operationId: "putStores",
  method: "put",
  path: "/v1/stores",
  summary: "Register or replace up to 1,000 stores in one request, all or none (admin-scoped keys)",
  request: { body: body(BulkStoresBody, true) },
  responses: { 200: ok(BulkStoresResult, "Every store registered as given"), ...errors(...CHANGE, ...PUT) },
});

export const listStoresRoute = route({
  ...own,
  operationId: "listStores",
  method: "get",
  path: "/v1/stores",
  summary: "This tenant's stores in id order, paged",
  request: { query: StoreListQuery },
  responses: { 200: ok(StoreList, "A page of stores"), ...errors(...COMMON) },
});

export const getStoreRoute = route({
  ...own,
  operationId: "getStore",
  method: "get",
  path: "/v1/stores/{store_id}",
  summary: "One store",
  request: { params: StoreParams },
  responses: { 200: ok(Store, "The store"), ...errors(...COMMON, "STORE_NOT_FOUND") },
});

export const deleteStoreRoute = route({
  ...own,
  operationId: "deleteStore",
  method: "delete",
  path: "/v1/stores/{store_id}",
  summary: "Remove a store from the registry (admin-scoped keys); its sessions keep their store_id",
  request: { params: StoreParams },
  responses: { 204: { description: "Removed" }, ...errors(...CHANGE, "STORE_NOT_FOUND") },
});

export const putTenantStoreRoute = route({
  ...admin,
  operationId: "putTenantStore",
  method: "put",
  path: "/admin/v1/tenants/{tenant_id}/stores/{store_id}",
  summary: "Register a tenant's store, or replace it",
  request: { params: TenantStoreParams, body: body(StoreBody, true) },
  responses: {
    200: ok(Store, "Replaced (or given as it was)"),
    201: ok(Store, "Registered"),
    ...errors(...ADMIN_COMMON, ...PUT, "TENANT_NOT_FOUND"),
  },
});

export const putTenantStoresRoute = route({
  ...admin,
  operationId: "putTenantStores",
  method: "put",
  path: "/admin/v1/tenants/{tenant_id}/stores",
  summary: "Register or replace up to 1,000 of a tenant's stores, all or none",
  request: { params: TenantParams, body: body(BulkStoresBody, true) },
  responses: { 200: ok(BulkStoresResult, "Every store registered as given"), ...errors(...ADMIN_COMMON, ...PUT, "TENANT_NOT_FOUND") },
});

export const listTenantStoresRoute = route({
  ...admin,
  operationId: "listTenantStores",
  method: "get",
  path: "/admin/v1/tenants/{tenant_id}/stores",
  summary: "A tenant's stores in id order, paged",
  request: { params: TenantParams, query: StoreListQuery },
  responses: { 200: ok(StoreList, "A page of stores"), ...errors(...ADMIN_COMMON, "TENANT_NOT_FOUND") },
});

export const getTenantStoreRoute = route({
  ...admin,
  operationId: "getTenantStore",
  method: "get",
  path: "/admin/v1/tenants/{tenant_id}/stores/{store_id}",
  summary: "One of a tenant's stores",
  request: { params: TenantStoreParams },
  responses: { 200: ok(Store, "The store"), ...errors(...ADMIN_COMMON, "TENANT_NOT_FOUND", "STORE_NOT_FOUND") },
});

export const deleteTenantStoreRoute = route({
  ...admin,
  operationId: "deleteTenantStore",
  method: "delete",
  path: "/admin/v1/tenants/{tenant_id}/stores/{store_id}",
  summary: "Remove a tenant's store from the registry; its sessions keep their store_id",
  request: { params: TenantStoreParams },
  responses: { 204: { description: "Removed" }, ...errors(...ADMIN_COMMON, "TENANT_NOT_FOUND", "STORE_NOT_FOUND") },
});
