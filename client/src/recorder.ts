/**
 * An offline-first recorder for kiosks: `start`, `stamp` and `end` resolve once the event is in
 * durable storage, and the recorder delivers it in the background, exactly once and in order per
 * persona, through network loss, reloads, crashes and wrong clocks. docs/kiosk-recorder.md states
 * the guarantees and how each is kept; in short:
 *
 * - Each event gets its Idempotency-Key when it is queued. Before a request is sent, what it holds
 *   (its events, key, path and exact body) is written to storage as the persona's operation in
 *   flight; until the API has answered it for good, every retry, in this run or after a crash, sends
 *   that same request, which the API answers from its idempotency record once it has applied it.
 * - One operation in flight per persona, so order holds; consecutive stamps go as one batch.
 * - Stamps and ends carry the session guard once the start's answer named the session.
 * - Events are timed in the server's clock (clock.ts), not the device's.
 */
import { type ClockSource, ServerClock, systemClock } from "./clock.js";
import { isRecord, newKey } from "./common.js";
import type { RecorderStorage } from "./storage.js";
import { indexedDbStorage } from "./storage.js";

declare const setTimeout: (callback: () => void, ms: number) => unknown;
declare const clearTimeout: (handle: unknown) => void;

/** What a queued event holds, as `deadLetters()` shows it. */
export interface RecordedEvent {
  persona_id: string;
  kind: "start" | "stamp" | "end";
  status?: string;
  meta?: Record<string, unknown>;
  store_id?: string;
  kiosk_id?: string;
  /** When it was recorded: in the server's clock when the recorder knew it, else the device's. */
  occurred_at: string;
  idempotency_key: string;
}

/** Why an event will not be delivered: the API's refusal (`status` its HTTP status), or the recorder's own (`status` 0). */
export interface DeliveryError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface DeadLetter {
  event: RecordedEvent;
  error: DeliveryError;
}

export interface RecorderStatus {
  /** Events queued and not yet delivered (dead letters excluded). */
  pending: number;
  /** How long ago the oldest of them was recorded (ms), null when none is pending. */
  oldest_pending_age_ms: number | null;
  dead_letters: number;
  /** Server clock − device clock (ms), null until measured once (ever, on this storage). */
  clock_offset_ms: number | null;
  /** True when this run has heard from the API: events are timed in its clock, within half a round trip. */
  clock_synced: boolean;
  /** The latest failure to deliver (a retry is pending, or the event was dead-lettered), null after a delivery succeeds. */
  last_error: DeliveryError | null;
}

/** A new event would pass the queue's limit: it was not queued (the app decides what to do with it). */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
  readonly code = "QUEUE_FULL";
  constructor(
    readonly limit: "count" | "bytes",
    message: string,
  ) {
    super(message);
  }
}

export interface KioskRecorderOptions {
  baseUrl: string;
  /** An SDK key with `write` scope. */
  key: string;
  /** Where undelivered events live (default: indexedDbStorage()). */
  storage?: RecorderStorage;
  /** Events pending at most (default 10,000); past it, new events are refused with QueueFullError. */
  maxPending?: number;
  /** Bytes of pending events and dead letters together, as stored JSON (default 5,000,000). */
  maxBytes?: number;
  /** A prefix for the storage keys, so several recorders can share one storage (default "ps:"). */
  namespace?: string;
  /** Personas delivered at the same time (default 4); each persona's events go one request at a time. */
  concurrency?: number;
  /** First retry delay (ms, default 1,000): the n-th retry waits a random time up to min(maxDelayMs, base × 2^n). */
  baseDelayMs?: number;
  /** Longest wait between retries (ms, default 60,000), Retry-After excepted. */
  maxDelayMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: RecorderFetch;
  /** A request with no answer after this long (ms, default 30,000) is abandoned and retried like a network failure. */
  timeoutMs?: number;
  /** The device's clocks (default: Date.now and performance.now); tests pass their own. */
  clock?: ClockSource;
}

export type RecorderFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: unknown },
) => Promise<{ status: number; headers: { get(name: string): string | null }; text(): Promise<string> }>;

export interface PersonaRecorder {
  start(where?: { store_id?: string; kiosk_id?: string }): Promise<void>;
  stamp(status: string, meta?: Record<string, unknown>): Promise<void>;
  stamps(items: readonly { status: string; meta?: Record<string, unknown> }[]): Promise<void>;
  end(): Promise<void>;
}

/** A stamp batch's limits: the API's 100 stamps and 256 KiB body, with room to spare for the envelope. */
const BATCH_STAMPS = 100;
const BATCH_BYTES = 200_000;
/** How many times a start refused with SESSION_ACTIVE ends the stale session and tries again. */
const MAX_RESTARTS = 3;

interface QueuedEvent {
  seq: number;
  persona: string;
  kind: "start" | "stamp" | "end";
  key: string;
  status?: string;
  meta?: Record<string, unknown>;
  store_id?: string;
  kiosk_id?: string;
  /** When it was recorded: server time if `synced`, else the device's clock plus the offset last measured then. */
  at: number;
  synced: boolean;
  /** The run it was recorded in, and that run's monotonic clock then: timed exactly if the same run syncs later. */
  run: string;
  mono: number;
  /** How many stale sessions its start has ended (start only). */
  restarts?: number;
}

/** A request written down before it is sent: every retry sends exactly this. */
interface InFlight {
  kind: "start" | "stamps" | "end" | "close";
  seqs: number[];
  key: string;
  path: string;
  /** Null for a `close` whose stale session has not been read yet. */
  body: string | null;
  /** close: the stale session it ends. */
  closes?: string;
}

/** What the recorder knows of a persona's session, from the answers it got. */
interface Lane {
  session_id: string | null;
  /** The last start was dead-lettered: the stamps and end after it are too, until a start succeeds. */
  start_failed: boolean;
  /** The latest occurred_at sent: later events are never timed before it (the API refuses that). */
  last_at: number;
  /** Events up to this seq go one per request: a batch holding them was refused. */
  solo_until: number;
}

const newLane = (): Lane => ({ session_id: null, start_failed: false, last_at: 0, solo_until: -1 });

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00) {
      // A surrogate pair: one 4-byte character.
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const isFlight = (v: unknown): v is InFlight =>
  isRecord(v) &&
  (v.kind === "start" || v.kind === "stamps" || v.kind === "end" || v.kind === "close") &&
  Array.isArray(v.seqs) &&
  v.seqs.every((n) => typeof n === "number") &&
  typeof v.key === "string" &&
  typeof v.path === "string" &&
  (v.body === null || typeof v.body === "string") &&
  (v.kind !== "close" || typeof v.closes === "string");

const isLane = (v: unknown): v is Lane =>
  isRecord(v) &&
  (v.session_id === null || typeof v.session_id === "string") &&
  typeof v.start_failed === "boolean" &&
  typeof v.last_at === "number" &&
  typeof v.solo_until === "number";

/** A stored event as this recorder writes them (storage is the app's: what else is there is not trusted). */
const isEvent = (v: unknown): v is QueuedEvent =>
  isRecord(v) &&
  typeof v.seq === "number" &&
  typeof v.persona === "string" &&
  (v.kind === "start" || v.kind === "stamp" || v.kind === "end") &&
  typeof v.key === "string" &&
  typeof v.at === "number" &&
  typeof v.mono === "number" &&
  (v.kind !== "stamp" || typeof v.status === "string");

type Outcome =
  | { kind: "network"; message: string }
  | { kind: "answer"; status: number; data: unknown; error: DeliveryError | null; retryAfter: number | null };

export function createKioskRecorder(options: KioskRecorderOptions) {
  const storage = options.storage ?? indexedDbStorage();
  const ns = options.namespace ?? "ps:";
  const maxPending = options.maxPending ?? 10_000;
  const maxBytes = options.maxBytes ?? 5_000_000;
  const concurrency = options.concurrency ?? 4;
  const baseDelay = options.baseDelayMs ?? 1_000;
  const maxDelay = options.maxDelayMs ?? 60_000;
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const source = options.clock ?? systemClock();
  const fetchImpl: RecorderFetch = options.fetch ?? ((url, init) => (globalThis as unknown as { fetch: RecorderFetch }).fetch(url, init));
  const clock = new ServerClock(source);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let storedOffset: number | null = null;
  const run = newKey();

  const K = {
    event: (seq: number) => `${ns}e:${String(seq).padStart(16, "0")}`,
    dead: (seq: number) => `${ns}d:${String(seq).padStart(16, "0")}`,
    flight: (persona: string) => `${ns}f:${persona}`,
    lane: (persona: string) => `${ns}l:${persona}`,
    clock: `${ns}clock`,
  };

  const events = new Map<string, QueuedEvent[]>();
  const flights = new Map<string, InFlight>();
  const lanes = new Map<string, Lane>();
  const dead = new Map<number, DeadLetter & { bytes: number }>();
  const sizes = new Map<number, number>();
  let pending = 0;
  let bytes = 0;
  let nextSeq = 0;
  let lastError: DeliveryError | null = null;
  let closed = false;
  const listeners = new Set<(status: RecorderStatus) => void>();

  /** Storage writes, one at a time in call order: an event's record is never overtaken by a later one's. */
  let writes: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const next = writes.then(task);
    writes = next.catch(() => undefined);
    return next;
  };

  // One recorder per storage namespace at a time, where the platform can say (browsers' Web Locks):
  // two tabs delivering the same queue would each compose their own batches of it. A second one
  // waits, reading nothing, until the first is closed or its page gone; a reload waits for the
  // page it replaces, a few milliseconds.
  let unlock: (() => void) | null = null;
  let holding = false;
  const locks = (
    globalThis as {
      navigator?: { locks?: { request(name: string, callback: () => Promise<void>): Promise<void> } };
    }
  ).navigator?.locks;
  const locked =
    locks && storage.name !== undefined
      ? new Promise<void>((held) => {
          void locks.request(`persona-session-recorder:${storage.name}:${ns}`, () => {
            holding = true;
            held();
            // Closed while it waited: let the next one have it at once.
            return closed
              ? Promise.resolve()
              : new Promise<void>((release) => {
                  unlock = release;
                });
          });
        })
      : Promise.resolve().then(() => {
          holding = true;
        });
  const loaded = locked.then(() => (closed ? undefined : load()));

  async function load() {
    const keys = (await storage.getAllKeys()).filter((k) => k.startsWith(ns)).sort();
    for (const key of keys) {
      const raw = await storage.getItem(key);
      if (raw === null) continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        lastError = { status: 0, code: "STORAGE_CORRUPT", message: `Unreadable record ${key} left in storage.` };
        continue;
      }
      const rest = key.slice(ns.length);
      if (rest.startsWith("e:") && isEvent(value)) {
        const ev = value;
        laneEvents(ev.persona).push(ev);
        pending += 1;
        sizes.set(ev.seq, raw.length);
        bytes += raw.length;
        nextSeq = Math.max(nextSeq, ev.seq + 1);
      } else if (rest.startsWith("e:")) {
        lastError = { status: 0, code: "STORAGE_CORRUPT", message: `Record ${key} is not an event: left in storage.` };
      } else if (rest.startsWith("d:") && isRecord(value)) {
        const seq = Number(rest.slice(2));
        dead.set(seq, { ...(value as unknown as DeadLetter), bytes: raw.length });
        bytes += raw.length;
        nextSeq = Math.max(nextSeq, seq + 1);
      } else if (rest.startsWith("f:") && isFlight(value)) flights.set(rest.slice(2), value);
      else if (rest.startsWith("l:") && isLane(value)) lanes.set(rest.slice(2), value);
      else if (rest.startsWith("f:") || rest.startsWith("l:")) {
        lastError = { status: 0, code: "STORAGE_CORRUPT", message: `Record ${key} is not the recorder's: left in storage.` };
      } else if (rest === "clock" && isRecord(value) && typeof value.offset === "number") clock.offset = storedOffset = value.offset;
    }
    for (const list of events.values()) list.sort((a, b) => a.seq - b.seq);
    addListeners();
    emit();
    pump();
  }

  function laneEvents(persona: string) {
    let list = events.get(persona);
    if (!list) {
      list = [];
      events.set(persona, list);
    }
    return list;
  }
  const laneOf = (persona: string) => lanes.get(persona) ?? newLane();

  function status(): RecorderStatus {
    let oldest: number | null = null;
    for (const list of events.values()) {
      const first = list[0];
      if (first && (oldest === null || timeOf(first) < oldest)) oldest = timeOf(first);
    }
    return {
      pending,
      oldest_pending_age_ms: oldest === null ? null : Math.max(0, clock.now() - oldest),
      dead_letters: dead.size,
      clock_offset_ms: clock.offset === null ? null : Math.round(clock.offset),
      clock_synced: clock.synced,
      last_error: lastError,
    };
  }

  function emit() {
    if (listeners.size === 0) return;
    const s = status();
    for (const fn of listeners) fn(s);
  }

  /** The event's time in the server's clock, as well as the recorder knows it now. */
  function timeOf(ev: QueuedEvent): number {
    if (ev.synced) return ev.at;
    if (ev.run === run) {
      const exact = clock.at(ev.mono);
      if (exact !== null) return exact;
    }
    return ev.at;
  }

  const publicEvent = (ev: QueuedEvent): RecordedEvent => ({
    persona_id: ev.persona,
    kind: ev.kind,
    ...(ev.status !== undefined ? { status: ev.status } : {}),
    ...(ev.meta !== undefined ? { meta: ev.meta } : {}),
    ...(ev.store_id !== undefined ? { store_id: ev.store_id } : {}),
    ...(ev.kiosk_id !== undefined ? { kiosk_id: ev.kiosk_id } : {}),
    occurred_at: new Date(timeOf(ev)).toISOString(),
    idempotency_key: ev.key,
  });

  // ---- recording -------------------------------------------------------------------------------

  async function enqueue(persona: string, items: Omit<QueuedEvent, "seq" | "persona" | "key" | "at" | "synced" | "run" | "mono">[]) {
    if (typeof persona !== "string" || persona.length === 0) throw new TypeError("persona id: a non-empty string");
    await loaded;
    if (closed) throw new Error("This recorder is closed.");
    const mono = source.mono();
    const server = clock.at(mono);
    const records = items.map((item) => {
      const ev: QueuedEvent = {
        ...item,
        seq: nextSeq++,
        persona,
        key: newKey(),
        // Not synced in this run: the device's clock corrected by the offset last measured (if any).
        at: server ?? clock.now(),
        synced: server !== null,
        run,
        mono,
      };
      return { ev, raw: JSON.stringify(ev) };
    });
    const size = records.reduce((n, r) => n + r.raw.length, 0);
    if (pending + records.length > maxPending) {
      throw new QueueFullError("count", `The queue holds ${pending} events, its limit is ${maxPending}: nothing was queued.`);
    }
    if (bytes + size > maxBytes) {
      throw new QueueFullError("bytes", `The queue holds ${bytes} bytes, its limit is ${maxBytes}: nothing was queued.`);
    }
    // Counted before the writes, so concurrent calls cannot pass the limits together.
    pending += records.length;
    bytes += size;
    try {
      await serial(async () => {
        for (const { ev, raw } of records) await storage.setItem(K.event(ev.seq), raw);
      });
    } catch (err) {
      pending -= records.length;
      bytes -= size;
      // The call fails whole: what of it was written goes again (best effort; storage just failed).
      await serial(async () => {
        for (const { ev } of records) await storage.removeItem(K.event(ev.seq)).catch(() => undefined);
      });
      throw err;
    }
    const list = laneEvents(persona);
    for (const { ev, raw } of records) {
      list.push(ev);
      sizes.set(ev.seq, raw.length);
    }
    emit();
    pump();
  }

  function checkStatus(status: unknown) {
    if (typeof status !== "string" || status.length === 0) throw new TypeError("status: a non-empty string");
  }
  function checkMeta(meta: unknown) {
    if (meta !== undefined && !isRecord(meta)) throw new TypeError("meta: a plain object");
  }

  function persona(id: string): PersonaRecorder {
    return {
      start: (where = {}) =>
        enqueue(id, [
          {
            kind: "start",
            ...(where.store_id !== undefined ? { store_id: where.store_id } : {}),
            ...(where.kiosk_id !== undefined ? { kiosk_id: where.kiosk_id } : {}),
          },
        ]),
      stamp: async (status, meta) => {
        checkStatus(status);
        checkMeta(meta);
        return enqueue(id, [{ kind: "stamp", status, ...(meta !== undefined ? { meta } : {}) }]);
      },
      stamps: async (items) => {
        if (!Array.isArray(items) || items.length === 0) throw new TypeError("stamps: a non-empty array");
        for (const item of items) {
          checkStatus(item?.status);
          checkMeta(item?.meta);
        }
        return enqueue(
          id,
          items.map((item) => ({ kind: "stamp" as const, status: item.status, ...(item.meta !== undefined ? { meta: item.meta } : {}) })),
        );
      },
      end: () => enqueue(id, [{ kind: "end" }]),
    };
  }

  // ---- delivery --------------------------------------------------------------------------------

  /** Per persona: a request of its in progress, and when it may next be tried. */
  const busy = new Set<string>();
  const retry = new Map<string, { at: number; attempt: number }>();
  let timer: unknown = null;
  let idle: (() => void)[] = [];

  /** Personas with something to send (a request in flight after a crash counts, events or not), oldest event first. */
  const waiting = () =>
    [...new Set([...flights.keys(), ...events.keys()])].sort((a, b) => (events.get(a)?.[0]?.seq ?? -1) - (events.get(b)?.[0]?.seq ?? -1));

  function pump() {
    if (closed) return settle();
    const now = source.mono();
    const ready = waiting().filter((p) => !busy.has(p) && (retry.get(p)?.at ?? 0) <= now);
    for (const p of ready) {
      if (busy.size >= concurrency) break;
      busy.add(p);
      void deliver(p)
        .catch((err: unknown) => {
          // Storage refused a write: nothing was forgotten that was not written; try again later.
          backoff(p, { kind: "network", message: `storage: ${err instanceof Error ? err.message : String(err)}` });
        })
        .finally(() => {
          busy.delete(p);
          pump();
        });
    }
    if (busy.size === 0) settle();
    schedule();
  }

  function settle() {
    const waiters = idle;
    idle = [];
    for (const resolve of waiters) resolve();
  }

  function schedule() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    let soonest = Number.POSITIVE_INFINITY;
    for (const p of waiting()) {
      const r = retry.get(p);
      if (r && !busy.has(p)) soonest = Math.min(soonest, r.at);
    }
    if (closed || soonest === Number.POSITIVE_INFINITY) return;
    timer = setTimeout(pump, Math.max(0, soonest - source.mono()));
  }

  async function post(path: string, key: string, body: string): Promise<Outcome> {
    return request("POST", path, { "content-type": "application/json", "idempotency-key": key }, body);
  }

  async function request(method: string, path: string, extra: Record<string, string>, body?: string): Promise<Outcome> {
    const m0 = source.mono();
    let res: Awaited<ReturnType<RecorderFetch>>;
    let text: string;
    const Abort = (globalThis as { AbortController?: new () => { signal: unknown; abort(): void } }).AbortController;
    const abort = Abort ? new Abort() : null;
    const timeout = abort ? setTimeout(() => abort.abort(), timeoutMs) : null;
    try {
      res = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.key}`, ...extra },
        ...(body !== undefined ? { body } : {}),
        ...(abort ? { signal: abort.signal } : {}),
      });
      text = await res.text();
    } catch (err) {
      return { kind: "network", message: err instanceof Error ? err.message : String(err) };
    } finally {
      if (timeout !== null) clearTimeout(timeout);
    }
    if (
      clock.sample(res.headers.get("x-server-time"), m0, source.mono()) &&
      (storedOffset === null || Math.abs((clock.offset ?? 0) - storedOffset) > 50)
    ) {
      // Kept for the next run's events before it hears from the API; rewritten only when it moved.
      storedOffset = clock.offset;
      // Best effort: a lost offset only leaves the next run on the device's clock until it hears from the API.
      serial(() => storage.setItem(K.clock, JSON.stringify({ offset: storedOffset }))).catch(() => undefined);
    }
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: a proxy's page; classified by its status below
    }
    const retryAfter = Number(res.headers.get("retry-after") ?? Number.NaN);
    const envelope = isRecord(parsed) ? parsed : {};
    const error = isRecord(envelope.error)
      ? {
          status: res.status,
          code: String(envelope.error.code),
          message: String(envelope.error.message ?? ""),
          ...(isRecord(envelope.error.details) ? { details: envelope.error.details } : {}),
        }
      : res.status >= 300
        ? { status: res.status, code: `HTTP_${res.status}`, message: text.slice(0, 200) }
        : null;
    return {
      kind: "answer",
      status: res.status,
      data: envelope.data,
      error,
      retryAfter: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
    };
  }

  const retryable = (o: Outcome) => o.kind === "network" || o.status === 408 || o.status === 429 || o.status >= 500;

  function backoff(p: string, o: Outcome) {
    const attempt = (retry.get(p)?.attempt ?? 0) + 1;
    const jitter = Math.random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));
    const after = o.kind === "answer" && o.retryAfter !== null ? o.retryAfter * 1000 : 0;
    retry.set(p, { at: source.mono() + Math.max(after, jitter), attempt });
    lastError =
      o.kind === "network"
        ? { status: 0, code: "NETWORK_ERROR", message: o.message }
        : (o.error ?? { status: o.status, code: `HTTP_${o.status}`, message: "" });
    emit();
  }

  /** Composes the persona's next request from its queue, and writes it down before it is sent. */
  async function compose(p: string): Promise<InFlight | null> {
    const list = events.get(p) ?? [];
    const first = list[0];
    if (!first) return null;
    const lane = laneOf(p);
    if (first.kind !== "start" && lane.start_failed) {
      await deadLetter(p, [first], {
        status: 0,
        code: "START_FAILED",
        message: "The session's start was dead-lettered, so its stamps and end are too.",
      });
      return null;
    }
    // Never before the latest time sent (the API refuses a stamp before the session's latest one),
    // and never ahead of the server's clock once it is known.
    const time = (ev: QueuedEvent) => {
      let t = Math.max(Math.round(timeOf(ev)), lane.last_at);
      if (clock.synced) t = Math.max(lane.last_at, Math.min(t, Math.round(clock.now())));
      return t;
    };
    const iso = (t: number) => new Date(t).toISOString();
    const guard = lane.session_id !== null ? { session_id: lane.session_id } : {};
    const path = (op: string) => `/v1/persona/${encodeURIComponent(p)}/session/${op}`;
    let flight: InFlight;
    if (first.kind === "start") {
      const body = {
        occurred_at: iso(time(first)),
        ...(first.store_id !== undefined ? { store_id: first.store_id } : {}),
        ...(first.kiosk_id !== undefined ? { kiosk_id: first.kiosk_id } : {}),
      };
      flight = { kind: "start", seqs: [first.seq], key: first.key, path: path("start"), body: JSON.stringify(body) };
    } else if (first.kind === "end") {
      flight = {
        kind: "end",
        seqs: [first.seq],
        key: first.key,
        path: path("end"),
        body: JSON.stringify({ occurred_at: iso(time(first)), ...guard }),
      };
    } else {
      const batch: QueuedEvent[] = [];
      const stamps: { status: string; meta?: Record<string, unknown>; occurred_at: string }[] = [];
      let size = 100;
      let last = lane.last_at;
      for (const ev of list) {
        if (ev.kind !== "stamp" || batch.length >= BATCH_STAMPS) break;
        if (batch.length > 0 && ev.seq <= lane.solo_until) break;
        const t = Math.max(time(ev), last);
        const item = { status: ev.status!, ...(ev.meta !== undefined ? { meta: ev.meta } : {}), occurred_at: iso(t) };
        const itemSize = utf8Length(JSON.stringify(item)) + 1;
        if (batch.length > 0 && size + itemSize > BATCH_BYTES) break;
        batch.push(ev);
        stamps.push(item);
        size += itemSize;
        last = t;
        if (ev.seq <= lane.solo_until) break;
      }
      const key = batch.length === 1 ? batch[0]!.key : `${batch[0]!.key}~${batch[batch.length - 1]!.key}`;
      flight = { kind: "stamps", seqs: batch.map((e) => e.seq), key, path: path("stamps"), body: JSON.stringify({ stamps, ...guard }) };
    }
    await serial(() => storage.setItem(K.flight(p), JSON.stringify(flight)));
    flights.set(p, flight);
    return flight;
  }

  async function deliver(p: string) {
    if (!flights.has(p) && !clock.synced) {
      // Before timing a new request: events recorded in this run become exact once the clock is known.
      const o = await request("GET", "/healthz", {});
      if (o.kind === "network") return backoff(p, o);
    }
    const flight = flights.get(p) ?? (await compose(p));
    if (!flight) return;
    if (flight.kind === "close") return closeStale(p, flight);
    const o = await post(flight.path, flight.key, flight.body!);
    if (retryable(o)) return backoff(p, o);
    retry.delete(p);
    if (o.kind === "network") return;
    const mine = flight.seqs.map((s) => (events.get(p) ?? []).find((e) => e.seq === s)).filter((e): e is QueuedEvent => e !== undefined);
    if (o.error === null) {
      lastError = null;
      const lane = laneOf(p);
      const sent = JSON.parse(flight.body!) as { occurred_at?: string; stamps?: { occurred_at: string }[] };
      const times = sent.stamps ? sent.stamps.map((s) => Date.parse(s.occurred_at)) : [Date.parse(sent.occurred_at!)];
      const data = isRecord(o.data) ? o.data : {};
      const next: Lane = {
        ...lane,
        last_at: Math.max(lane.last_at, ...times),
        ...(flight.kind === "start"
          ? { session_id: typeof data.session_id === "string" ? data.session_id : null, start_failed: false }
          : {}),
        ...(flight.kind === "end" ? { session_id: null } : {}),
      };
      await finish(p, mine, next);
      return;
    }
    if (
      flight.kind === "start" &&
      o.error.code === "SESSION_ACTIVE" &&
      typeof o.error.details?.session_id === "string" &&
      (mine[0]?.restarts ?? 0) < MAX_RESTARTS
    ) {
      // A session left open (a crash between start and end): end it at its last stamp, then start again.
      const close: InFlight = {
        kind: "close",
        seqs: flight.seqs,
        key: newKey(),
        path: flight.path.replace(/start$/, "end"),
        body: null,
        closes: o.error.details.session_id,
      };
      await serial(() => storage.setItem(K.flight(p), JSON.stringify(close)));
      flights.set(p, close);
      return closeStale(p, close);
    }
    if (flight.seqs.length > 1) {
      // A batch refused whole: its stamps go one at a time, so only the one at fault is set aside.
      const lane = { ...laneOf(p), solo_until: Math.max(...flight.seqs) };
      await serial(async () => {
        await storage.setItem(K.lane(p), JSON.stringify(lane));
        await storage.removeItem(K.flight(p));
      });
      lanes.set(p, lane);
      flights.delete(p);
      return;
    }
    await deadLetter(p, mine, o.error, flight.kind === "start");
  }

  /** The stale session of a refused start: read its last stamp, end it there, then queue the start again under a new key. */
  async function closeStale(p: string, flight: InFlight) {
    if (flight.body === null) {
      const read = await request("GET", `/v1/persona/${encodeURIComponent(p)}/sessions/${encodeURIComponent(flight.closes!)}`, {});
      if (retryable(read)) return backoff(p, read);
      if (read.kind === "answer" && read.error === null && isRecord(read.data)) {
        const stamps = Array.isArray(read.data.stamps) ? read.data.stamps : [];
        const last = stamps[stamps.length - 1];
        const at = isRecord(last) && typeof last.timestamp === "string" ? last.timestamp : String(read.data.started_at);
        flight = { ...flight, body: JSON.stringify({ occurred_at: at, session_id: flight.closes }) };
        const written = flight;
        await serial(() => storage.setItem(K.flight(p), JSON.stringify(written)));
        flights.set(p, flight);
      }
    }
    if (flight.body !== null) {
      const o = await post(flight.path, flight.key, flight.body);
      if (retryable(o)) return backoff(p, o);
    }
    // Ended now, or gone already (ended, erased): either way the start can go again.
    retry.delete(p);
    const start = (events.get(p) ?? []).find((e) => e.seq === flight.seqs[0]);
    await serial(async () => {
      if (start) {
        start.key = newKey();
        start.restarts = (start.restarts ?? 0) + 1;
        const raw = JSON.stringify(start);
        await storage.setItem(K.event(start.seq), raw);
      }
      await storage.removeItem(K.flight(p));
    });
    flights.delete(p);
  }

  /** Delivered: the lane's new state, then the events and the request forgotten (a crash in between resends the request, which is answered as a replay). */
  async function finish(p: string, mine: QueuedEvent[], lane: Lane) {
    await serial(async () => {
      await storage.setItem(K.lane(p), JSON.stringify(lane));
      for (const ev of mine) await storage.removeItem(K.event(ev.seq));
      await storage.removeItem(K.flight(p));
    });
    lanes.set(p, lane);
    flights.delete(p);
    forget(p, mine);
    emit();
  }

  function forget(p: string, gone: QueuedEvent[]) {
    const seqs = new Set(gone.map((e) => e.seq));
    const list = (events.get(p) ?? []).filter((e) => !seqs.has(e.seq));
    if (list.length === 0) events.delete(p);
    else events.set(p, list);
    for (const ev of gone) {
      pending -= 1;
      bytes -= sizes.get(ev.seq) ?? 0;
      sizes.delete(ev.seq);
    }
  }

  async function deadLetter(p: string, gone: QueuedEvent[], error: DeliveryError, failedStart = false) {
    lastError = error;
    const lane = failedStart ? { ...laneOf(p), start_failed: true, session_id: null } : null;
    const letters = gone.map((ev) => {
      const letter: DeadLetter = { event: publicEvent(ev), error };
      return { seq: ev.seq, letter, raw: JSON.stringify(letter) };
    });
    await serial(async () => {
      for (const { seq, raw } of letters) await storage.setItem(K.dead(seq), raw);
      if (lane) await storage.setItem(K.lane(p), JSON.stringify(lane));
      await storage.removeItem(K.flight(p));
      for (const ev of gone) await storage.removeItem(K.event(ev.seq));
    });
    if (lane) lanes.set(p, lane);
    flights.delete(p);
    forget(p, gone);
    for (const { seq, letter, raw } of letters) {
      dead.set(seq, { ...letter, bytes: raw.length });
      bytes += raw.length;
    }
    emit();
  }

  // ---- the app's controls ----------------------------------------------------------------------

  /** Tries every persona now, backoff or not; resolves when nothing more can be sent now (all delivered, or waiting to retry). */
  async function flush(): Promise<RecorderStatus> {
    await loaded;
    retry.clear();
    if (!clock.synced) await request("GET", "/healthz", {});
    for (;;) {
      await new Promise<void>((resolve) => {
        idle.push(resolve);
        pump();
      });
      const now = source.mono();
      const more = waiting().some((p) => !busy.has(p) && (retry.get(p)?.at ?? 0) <= now);
      if (!more || closed) break;
    }
    return status();
  }

  function addListeners() {
    const g = globalThis as { addEventListener?: (type: string, fn: () => void) => void };
    g.addEventListener?.("online", onOnline);
  }
  const onOnline = () => void flush();

  return {
    persona,
    flush,
    status: () => status(),
    /** Resolves once what storage held has been read (every method waits for it too). */
    ready: () => loaded.then(() => undefined),
    deadLetters: (): DeadLetter[] => [...dead.entries()].sort((a, b) => a[0] - b[0]).map(([, d]) => ({ event: d.event, error: d.error })),
    async clearDeadLetters(): Promise<void> {
      await loaded;
      const seqs = [...dead.keys()];
      await serial(async () => {
        for (const seq of seqs) await storage.removeItem(K.dead(seq));
      });
      for (const seq of seqs) {
        bytes -= dead.get(seq)?.bytes ?? 0;
        dead.delete(seq);
      }
      emit();
    },
    on(event: "change", fn: (status: RecorderStatus) => void): () => void {
      if (event !== "change") throw new TypeError(`Unknown event ${String(event)}: "change" is the one there is.`);
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    /** Stops delivering (timers and listeners removed); what is queued stays in storage for the next recorder. */
    async close(): Promise<void> {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const g = globalThis as { removeEventListener?: (type: string, fn: () => void) => void };
      g.removeEventListener?.("online", onOnline);
      settle();
      // Still waiting for another recorder's lock: nothing was read, nothing to finish.
      if (!holding) return;
      await loaded.catch(() => undefined);
      // Requests under way end within timeoutMs; what they learn is written before this resolves.
      while (busy.size > 0) await new Promise<void>((resolve) => setTimeout(resolve, 5));
      await writes;
      (unlock as (() => void) | null)?.();
    },
  };
}

export type KioskRecorder = ReturnType<typeof createKioskRecorder>;
