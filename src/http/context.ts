import type { PersonaPolicy } from "../config";
import type { ErrorCode } from "../errors";
import type { Actor, Scope } from "../tenants/registry";

/** The Hono context type, defined once for every middleware and route. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** The key's tenant (SDK keys only). */
    tenant: string;
    /** A short, non-secret id of the key used (a registry key's id, a prefix of a static key's hash), for per-key limits. */
    keyId: string;
    /** What the key may do: `read` (GET session routes), `write` (every session route), `admin` (also its tenant's keys and settings). */
    scope: Scope;
    /** Who is making a change, for the audit log. */
    actor: Actor;
    /** The tenant's idle timeout and retention, sent with every persona object call. */
    policy: PersonaPolicy;
    /** The tenant's statuses allow-list; null allows any status. */
    statuses: ReadonlySet<string> | null;
    /** The store the key is bound to (null: any store). */
    boundStore: string | null;
    /** Whether the tenant requires a store on every session start (`require_store`). */
    requireStore: boolean;
    /** The request body as parsed JSON (`{}` when absent), before the route's schema checks it. */
    json: unknown;
    /** The raw request body, kept for the idempotency fingerprint. */
    rawBody: ArrayBuffer;
    /** Set when the response is an error, for the request log. */
    errorCode: ErrorCode;
  };
}
