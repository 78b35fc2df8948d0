/**
 * Typed client for kiosk apps, built on Hono's `hc` and the API contract (src/http/contract.ts).
 *
 *   const api = createClient({ baseUrl: "https://api.example.com", sdkKey: "sk_..." });
 *   const started = await api.start("persona-1");
 *   if (started.ok) await api.stamp("persona-1", { status: "CHAT" });
 *
 * Every POST carries an `Idempotency-Key` (one per call, reused by its retries), stamp, stamps
 * and end carry the active `session_id` the client last saw (so a late retry can never land in
 * the next visit), and network failures, 429 and 503 are retried with backoff, honouring
 * `Retry-After`. Results are values, never exceptions: `{ ok: true, data }` or
 * `{ ok: false, error: { code, ... } }` with `code` one of the API's error codes.
 *
 * Depends on no Workers types: a browser or Node kiosk app can use it as is.
 */
import type { z } from "@hono/zod-openapi";
import { hc } from "hono/client";
import type { ErrorCode } from "./errors";
import type { ApiContract } from "./http/contract";
import type { BatchData, HistoryData, SessionData, StampData, StartData } from "./http/schemas";

export type { ErrorCode };

export interface ClientOptions {
  baseUrl: string;
  sdkKey: string;
  /** A fetch implementation; defaults to the global one. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Retries after the first attempt for network failures, 429 and 503 (default 3). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry with jitter (default 250), capped at maxDelayMs (default 10,000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How to wait between retries (tests pass a recorder). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ApiError {
  /** An API error code, or NETWORK_ERROR when no answer came back after every retry. */
  code: ErrorCode | "NETWORK_ERROR";
  message: string;
  details?: Record<string, unknown>;
  request_id?: string;
}

export type Result<T> =
  | { ok: true; status: number; data: T; replayed: boolean; requestId: string | null }
  | { ok: false; status: number; error: ApiError; requestId: string | null };

export type Session = z.infer<typeof SessionData>;
export type Started = z.infer<typeof StartData>;
export type Stamped = z.infer<typeof StampData>;
export type StampedBatch = z.infer<typeof BatchData>;
export type History = z.infer<typeof HistoryData>;

export interface StampInput {
  status: string;
  meta?: Record<string, unknown>;
  /** When the event happened (ISO 8601), for stamps recorded offline. */
  occurredAt?: string;
}

const RETRYABLE = new Set([429, 503]);

/** What the client reads of a response: the part every fetch implementation has. */
interface WireResponse {
  status: number;
  headers: Headers;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The success data a route's typed response carries, as the contract declares it. */
type DataOf<R extends WireResponse> = Awaited<ReturnType<R["json"]>> extends { data: infer D } ? D : undefined;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A stamp as the API takes it: optional fields only when given. */
function stampBody(input: StampInput) {
  return {
    status: input.status,
    ...(input.meta !== undefined ? { meta: input.meta } : {}),
    ...(input.occurredAt ? { occurred_at: input.occurredAt } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function createClient(options: ClientOptions) {
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const retries = options.retries ?? 3;
  const baseDelay = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const sleep = options.sleep ?? defaultSleep;
  const api = hc<ApiContract>(options.baseUrl, {
    fetch: fetchImpl,
    headers: { authorization: `Bearer ${options.sdkKey}` },
  });
  /** The active session per persona, as last seen: the guard sent with stamp, stamps and end. */
  const active = new Map<string, string>();

  function delay(attempt: number, response?: WireResponse): number {
    const retryAfter = Number(response?.headers.get("retry-after"));
    if (Number.isFinite(retryAfter) && retryAfter >= 0 && response?.headers.has("retry-after")) {
      return Math.min(retryAfter * 1000, maxDelay);
    }
    const exp = Math.min(baseDelay * 2 ** attempt, maxDelay);
    return exp / 2 + Math.random() * (exp / 2);
  }

  /** Sends (and re-sends) one logical request; `send` must reuse the same idempotency key. */
  async function call<R extends WireResponse>(send: () => Promise<R>): Promise<Result<DataOf<R>>> {
    let lastNetworkError: unknown;
    for (let attempt = 0; ; attempt++) {
      let response: R;
      try {
        response = await send();
      } catch (err) {
        lastNetworkError = err;
        if (attempt >= retries) break;
        await sleep(delay(attempt));
        continue;
      }
      if (RETRYABLE.has(response.status) && attempt < retries) {
        await response.arrayBuffer().catch(() => undefined);
        await sleep(delay(attempt, response));
        continue;
      }
      return read<DataOf<R>>(response);
    }
    return {
      ok: false,
      status: 0,
      requestId: null,
      error: { code: "NETWORK_ERROR", message: lastNetworkError instanceof Error ? lastNetworkError.message : String(lastNetworkError) },
    };
  }

  async function read<T>(response: WireResponse): Promise<Result<T>> {
    const requestId = response.headers.get("x-request-id");
    if (response.status === 204 || response.status === 304) {
      return { ok: true, status: response.status, data: undefined as T, replayed: false, requestId };
    }
    const body: unknown = await response.json().catch(() => null);
    if (isRecord(body) && body.success === true && "data" in body) {
      // The server's answer for this route; its shape is the contract's success schema.
      const data = body.data as T;
      return { ok: true, status: response.status, data, replayed: response.headers.get("idempotent-replayed") === "true", requestId };
    }
    if (isRecord(body) && isRecord(body.error) && typeof body.error.code === "string") {
      const error = body.error as unknown as ApiError;
      return { ok: false, status: response.status, error, requestId };
    }
    return {
      ok: false,
      status: response.status,
      requestId,
      error: { code: "INTERNAL", message: `Unexpected response (${response.status})` },
    };
  }

  /** Keeps the session guard in step with what the server said. */
  function track<T>(personaId: string, result: Result<T>, sessionOf: (data: T) => string | null): Result<T> {
    if (result.ok) {
      const sessionId = sessionOf(result.data);
      if (sessionId) active.set(personaId, sessionId);
      else active.delete(personaId);
    } else if (result.error.code === "SESSION_ACTIVE" && typeof result.error.details?.session_id === "string") {
      active.set(personaId, result.error.details.session_id);
    } else if (result.error.code === "NO_ACTIVE_SESSION") {
      active.delete(personaId);
    }
    return result;
  }

  const newKey = () => crypto.randomUUID();
  /** The `session_id` guard for a write: the caller's, else the one last seen for the persona. */
  const guard = (personaId: string, sessionId?: string) => {
    const id = sessionId ?? active.get(personaId);
    return id ? { session_id: id } : {};
  };
  const persona = api.v1.persona[":persona_id"];

  return {
    /** The session id this client will send as the guard for `personaId`, if it knows one. */
    activeSession: (personaId: string) => active.get(personaId),

    async start(personaId: string, opts: { occurredAt?: string } = {}): Promise<Result<Started>> {
      const key = newKey();
      const json = opts.occurredAt ? { occurred_at: opts.occurredAt } : {};
      const result = await call(() =>
        persona.session.start.$post({ param: { persona_id: personaId }, header: { "idempotency-key": key }, json }),
      );
      return track(personaId, result, (d) => d.session_id);
    },

    async stamp(personaId: string, input: StampInput, opts: { sessionId?: string } = {}): Promise<Result<Stamped>> {
      const key = newKey();
      const json = { ...stampBody(input), ...guard(personaId, opts.sessionId) };
      const result = await call(() =>
        persona.session.stamp.$post({ param: { persona_id: personaId }, header: { "idempotency-key": key }, json }),
      );
      return track(personaId, result, (d) => d.session_id);
    },

    async stamps(personaId: string, items: StampInput[], opts: { sessionId?: string } = {}): Promise<Result<StampedBatch>> {
      const key = newKey();
      const json = { stamps: items.map(stampBody), ...guard(personaId, opts.sessionId) };
      const result = await call(() =>
        persona.session.stamps.$post({ param: { persona_id: personaId }, header: { "idempotency-key": key }, json }),
      );
      return track(personaId, result, (d) => d.session_id);
    },

    async end(personaId: string, opts: { occurredAt?: string; sessionId?: string } = {}): Promise<Result<Session>> {
      const key = newKey();
      const json = { ...(opts.occurredAt ? { occurred_at: opts.occurredAt } : {}), ...guard(personaId, opts.sessionId) };
      const result = await call(() =>
        persona.session.end.$post({ param: { persona_id: personaId }, header: { "idempotency-key": key }, json }),
      );
      return track(personaId, result, () => null);
    },

    async current(personaId: string): Promise<Result<Session>> {
      // No If-None-Match is sent, so the 304 the contract also lists cannot come back.
      const result = (await call(() => persona.session.$get({ param: { persona_id: personaId } }))) as Result<Session>;
      return track(personaId, result, (d) => d.session_id);
    },

    history(personaId: string, opts: { limit?: number; cursor?: string } = {}): Promise<Result<History>> {
      const query = {
        ...(opts.limit !== undefined ? { limit: String(opts.limit) } : {}),
        ...(opts.cursor ? { cursor: opts.cursor } : {}),
      };
      return call(() => persona.sessions.$get({ param: { persona_id: personaId }, query }));
    },

    session(personaId: string, sessionId: string): Promise<Result<Session>> {
      return call(() => persona.sessions[":session_id"].$get({ param: { persona_id: personaId, session_id: sessionId } }));
    },

    async erase(personaId: string): Promise<Result<undefined>> {
      const result = await call(() => api.v1.persona[":persona_id"].$delete({ param: { persona_id: personaId } }));
      if (result.ok) active.delete(personaId);
      return result;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
