/**
 * What the persona object's RPC methods take and return. Plain data only: HTTP status codes,
 * headers and the envelope are the Worker's business (src/http/ renders these).
 */
import type { ErrorCode } from "../errors";
import type { EndReason } from "../fields";

export type { EndReason };

/** Facts about a refusal, flat so they cross the RPC boundary as plain data. */
export type RefusalDetails = Record<string, string | number | null>;

export interface IdempotencyInput {
  key: string;
  /** Identifies the request: method, path and the SHA-256 of the raw body. */
  fingerprint: string;
}

export interface StartInput {
  occurredAt?: number;
  idempotency?: IdempotencyInput;
  /** Where the session happens, as the Worker resolved it (the key's store when the body names none). */
  storeId?: string | null;
  kioskId?: string | null;
  /**
   * The Worker's verdict on the store (not registered, not the key's, required): refused here,
   * after the idempotency check, so a retry of a start that succeeded replays its success.
   */
  refusal?: { code: ErrorCode; message?: string; details?: RefusalDetails };
}

export interface StampItem {
  status: string;
  /** `meta` as JSON text, already validated and measured by the Worker. */
  metaJson?: string;
  occurredAt?: number;
}

export interface StampInput extends StampItem {
  sessionId?: string;
  idempotency?: IdempotencyInput;
}

export interface BatchInput {
  items: StampItem[];
  sessionId?: string;
  idempotency?: IdempotencyInput;
}

export interface EndInput {
  occurredAt?: number;
  sessionId?: string;
  idempotency?: IdempotencyInput;
}

/** A stamp as stored. `meta_json` is the meta object's JSON text; the Worker renders it as `meta`. */
export interface StoredStamp {
  status: string;
  timestamp: string;
  received_at: string;
  meta_json?: string;
}

/** Where a session happens: null when the start named no store or kiosk. */
export interface Place {
  store_id: string | null;
  kiosk_id: string | null;
}

export interface StartData extends Place {
  session_id: string;
  started_at: string;
}

export interface StampData {
  session_id: string;
  status: string;
  timestamp: string;
}

export interface BatchData {
  session_id: string;
  stamps: { status: string; timestamp: string }[];
}

export interface SessionView extends Place {
  session_id: string;
  started_at: string;
  ended_at: string | null;
  end_reason: EndReason | null;
  stamp_count: number;
  stamps: StoredStamp[];
}

export interface SessionSummary extends Place {
  session_id: string;
  started_at: string;
  ended_at: string;
  end_reason: EndReason;
  stamp_count: number;
}

export interface HistoryPage {
  sessions: SessionSummary[];
  /** The session id to continue after, or null on the last page. The Worker makes it opaque. */
  next_after: string | null;
}

export interface CurrentData {
  etag: string;
  /** Absent when the caller's If-None-Match already matches `etag`. */
  session?: SessionView;
}

export type Failure = { ok: false; code: ErrorCode; message?: string; details?: RefusalDetails; replayed?: boolean };
export type Outcome<T> = { ok: true; data: T; replayed?: boolean } | Failure;
