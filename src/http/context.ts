import type { PersonaPolicy } from "../config";
import type { ErrorCode } from "../errors";

/** The Hono context type, defined once for every middleware and route. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    tenant: string;
    /** A short, non-secret id of the SDK key used (a prefix of its hash), for per-key limits. */
    keyId: string;
    readOnly: boolean;
    /** The tenant's idle timeout and retention, sent with every persona object call. */
    policy: PersonaPolicy;
    /** The raw request body, kept for the idempotency fingerprint. */
    rawBody: ArrayBuffer;
    /** Set when the response is an error, for the request log. */
    errorCode: ErrorCode;
  };
}
