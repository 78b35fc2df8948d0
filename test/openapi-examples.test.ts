import { describe, expect, it } from "vitest";
import { ADMIN_KEYS, api } from "./helpers";
import { type Document, exampleRequest, type Located, type Minted, operations, schemeOf, successStatuses } from "./openapi-requests";

/**
 * Every example in the served document is a request the service accepts: one request per
 * operation, built from the document's examples alone (server-minted ids from the answers that
 * minted them), gets the operation's documented success. An example the service refuses (from
 * equal to to, an expiry in the past, a bound the schema does not state) fails here.
 */

// The order a client would go in: the tenant first, then its keys, sessions and reads, then removals.
const ORDER = [
  "getHealth",
  "getOpenApiDocument",
  "createTenant",
  "getTenant",
  "listTenants",
  // Stores before keys: the example key is bound to the example store.
  "putTenantStore",
  "putTenantStores",
  "getTenantStore",
  "listTenantStores",
  "deleteTenantStore",
  "putStores",
  "putStore",
  "getStore",
  "listStores",
  "createTenantKey",
  "listTenantKeys",
  "getOwnTenant",
  "listOwnKeys",
  "createOwnKey",
  "revokeOwnKey",
  "startSession",
  "recordStamp",
  "recordStamps",
  "getCurrentSession",
  "listActiveSessions",
  "getOccupancy",
  "endSession",
  "listPersonaSessions",
  "getPersonaSession",
  "searchSessions",
  "getFunnel",
  "getDwell",
  "getVisits",
  "getOccupancyAnalytics",
  "getPaths",
  "updateOwnTenant",
  "resendTenantIndex",
  "checkTenantIndex",
  "listAuditEntries",
  "erasePersona",
  "revokeTenantKey",
  "deleteStore",
  "updateTenant",
];

/** The walk's first put of the example store, which registers it (201); every other put replaces (200). */
const FIRST_PUT = "putTenantStore";

describe("the document's examples", () => {
  it("make one request per operation that gets its documented success", async () => {
    const doc = (await api("/openapi.json", { key: null })).json as Document;
    const all = operations(doc);
    // Every operation is in the walk, and the walk names no operation the document lacks.
    expect([...ORDER].sort()).toEqual(all.map((o) => o.op.operationId).sort());

    const minted: Minted = {};
    let adminScoped = ""; // an admin-scoped key of the example tenant, for the /v1/tenant routes
    let tenantKey = ""; // the key the example createTenantKey made (scope from the example)
    const answers: string[] = [];
    for (const id of ORDER) {
      const located = all.find((o) => o.op.operationId === id) as Located;
      const request = exampleRequest(doc, located, minted);
      const scheme = schemeOf(located.op);
      const key = scheme === "AdminKey" ? ADMIN_KEYS.operator : scheme === "SdkKey" ? adminScoped : null;
      const res = await api(request.url, { method: request.method, key, body: request.body, headers: request.headers });
      answers.push(`${id} ${request.method} ${request.url} -> ${res.status}`);
      // The first put of the example store creates it; the walk's later puts replace it.
      const expected = id === FIRST_PUT ? [201] : successStatuses(located.op).filter((s) => s !== 201 || !id.startsWith("put"));
      expect(expected, `${request.method} ${request.url} ${JSON.stringify(request.body)} -> ${JSON.stringify(res.json)}`).toContain(
        res.status,
      );
      const data = res.json?.data;
      if (id === "createTenant") {
        // Set-up beside the walk: the /v1/tenant routes need an admin-scoped key of this tenant.
        const made = await api(`/admin/v1/tenants/${data.tenant_id}/keys`, {
          method: "POST",
          key: ADMIN_KEYS.operator,
          body: { scope: "admin" },
        });
        expect(made.status).toBe(201);
        adminScoped = made.json.data.key;
      }
      if (id === "createTenantKey") tenantKey = data.key_id;
      if (id === "createOwnKey") minted.key_id = data.key_id;
      if (id === "revokeOwnKey") minted.key_id = tenantKey;
      if (id === "startSession") minted.session_id = data.session_id;
    }
    expect(answers).toHaveLength(all.length);
  });
});
