import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { defaultPolicy, type PersonaPolicy } from "../config";
import { ERRORS, type ErrorCode } from "../errors";
import { iso, uuidv7, uuidv7Max, uuidv7Ms } from "../ids";
import { LIMITS } from "../limits";
import { monthOf } from "../tenant-index/messages";
import type {
  BatchData,
  BatchInput,
  CurrentData,
  EndInput,
  EndReason,
  Failure,
  HistoryPage,
  IdempotencyInput,
  Outcome,
  RefusalDetails,
  SessionSummary,
  SessionView,
  StampData,
  StampInput,
  StampItem,
  StartData,
  StartInput,
  StoredStamp,
} from "./domain";
import { IndexOutbox } from "./index-outbox";
import { PersonaStore, type SessionRow, type StampRow } from "./store";

/**
 * What an idempotency record keeps: enough to render the answer again, never a copy of a
 * history (an ended session no longer changes, so a reference to it is exact).
 */
const StoredOutcome = z.discriminatedUnion("k", [
  z.object({
    k: z.literal("error"),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string().optional(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
  }),
  z.object({ k: z.literal("start"), sid: z.string() }),
  z.object({ k: z.literal("stamps"), sid: z.string(), from: z.number(), to: z.number() }),
  z.object({ k: z.literal("end"), sid: z.string() }),
]);
type StoredOutcome = z.infer<typeof StoredOutcome>;

/** What an operation decided: the record to keep, and its answer when it is known already. */
interface Decision<T = unknown> {
  record: StoredOutcome;
  data?: T;
}

function refuse(code: ErrorCode, details?: RefusalDetails, message?: string): Decision<never> {
  return { record: { k: "error", code, details, message } };
}

/**
 * One persona of one tenant. Its methods are the domain operations. Each mutating one checks and
 * writes synchronously, with no await in between, so the object's serialized execution makes
 * every check-then-write exact without locks; a write of more than one statement runs in one
 * `transactionSync`.
 */
export class PersonaSession extends DurableObject<Env> {
  /** Protected so the bench's storage probe (bench/) can read its row counts; no route exposes it. */
  protected readonly store: PersonaStore;
  /** The tenant policy the object last received (kept in object_state, so the alarm has it too). */
  private config!: PersonaPolicy;
  /** Tells the tenant index what changed, and makes sure it got it. */
  private readonly outbox: IndexOutbox;
  /**
   * The alarm serves two schedules: housekeeping (idle end, idempotency pruning, retention), which
   * only ever moves earlier until the alarm runs, and the index check (the outbox's), which calls
   * move later. The alarm is at the earlier; `alarmAt` mirrors it, so it is written only on a move.
   */
  private alarmAt: number | null = null;
  private housekeepingAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new PersonaStore(ctx.storage.sql);
    this.outbox = new IndexOutbox({
      store: this.store,
      env,
      name: ctx.id.name,
      idleTimeoutMs: () => this.config.idleTimeoutMs,
      checkMoved: () => this.syncAlarm(),
    });
    void ctx.blockConcurrencyWhile(async () => {
      this.store.open();
      this.loadPolicy();
      this.outbox.load();
      // Whatever it was set for, it may not move later before it runs.
      this.alarmAt = this.housekeepingAt = await ctx.storage.getAlarm();
    });
  }

  start(policy: PersonaPolicy, input: StartInput): Outcome<StartData> {
    return this.write<StartData>(policy, input.idempotency, (now) => {
      if (input.refusal) return refuse(input.refusal.code, input.refusal.details, input.refusal.message);
      const latest = this.expireIfIdle(now);
      if (latest && latest.ended_at === null) return refuse("SESSION_ACTIVE", { session_id: latest.session_id });
      let startedAt = now;
      if (input.occurredAt !== undefined) {
        const bad =
          this.checkNotFuture(input.occurredAt, now) ??
          (latest?.ended_at != null && input.occurredAt < latest.ended_at
            ? refuse(
                "VALIDATION_ERROR",
                { rule: "occurred_at_before_previous_session_end", previous_ended_at: iso(latest.ended_at) },
                "occurred_at is before the end of this persona's previous session.",
              )
            : null);
        if (bad) return bad;
        startedAt = input.occurredAt;
      }
      // Strictly increasing ids even if the clock steps back, so key order stays start order, and
      // always above the last erasure's floor, which the index never lets a session back under.
      const sessionId = uuidv7(Math.max(now, latest ? uuidv7Ms(latest.session_id) + 1 : 0, this.outbox.minSessionMs() + 1));
      const place = { storeId: input.storeId ?? null, kioskId: input.kioskId ?? null };
      this.store.insertSession(sessionId, startedAt, now, 1, place);
      this.store.insertStamp(sessionId, 1, "ENTER", startedAt, now, null);
      if (this.config.idleTimeoutMs > 0) this.armAlarm(now + this.config.idleTimeoutMs);
      return {
        record: { k: "start", sid: sessionId },
        data: { session_id: sessionId, started_at: iso(startedAt), store_id: place.storeId, kiosk_id: place.kioskId },
      };
    });
  }

  stamp(policy: PersonaPolicy, input: StampInput): Outcome<StampData> {
    const outcome = this.record(policy, { items: [input], sessionId: input.sessionId, idempotency: input.idempotency }, false);
    if (!outcome.ok) return outcome;
    const stamp = outcome.data.stamps[0]!;
    return { ok: true, data: { session_id: outcome.data.session_id, ...stamp }, replayed: outcome.replayed };
  }

  /** Records the items in order, all or nothing. */
  stamps(policy: PersonaPolicy, input: BatchInput): Outcome<BatchData> {
    return this.record(policy, input, true);
  }

  private record(policy: PersonaPolicy, input: BatchInput, batch: boolean): Outcome<BatchData> {
    return this.write<BatchData>(
      policy,
      input.idempotency,
      (now) => {
        const { session, refused } = this.activeFor(input.sessionId, now);
        if (refused) return refused;
        const count = session.stamp_count + input.items.length;
        if (count > LIMITS.stampsPerSession) {
          return refuse("STAMP_LIMIT_REACHED", { limit: LIMITS.stampsPerSession, stamp_count: session.stamp_count });
        }
        // Timestamps never go back within a session: a server-time stamp after an offline one that
        // was a little ahead of this clock takes that one's time (received_at keeps the real one).
        let latest = session.last_stamp_at;
        const timestamps: number[] = [];
        for (const [index, item] of input.items.entries()) {
          const ts = item.occurredAt ?? Math.max(now, latest);
          if (item.occurredAt !== undefined) {
            const bad = this.checkNotFuture(ts, now) ?? this.checkNotBefore(ts, latest);
            if (bad)
              return batch && bad.record.k === "error" ? { record: { ...bad.record, details: { ...bad.record.details, index } } } : bad;
          }
          latest = Math.max(latest, ts);
          timestamps.push(ts);
        }
        const from = session.stamp_count + 1;
        input.items.forEach((item: StampItem, i) => {
          this.store.insertStamp(session.session_id, from + i, item.status, timestamps[i]!, now, item.metaJson ?? null);
        });
        return {
          record: { k: "stamps", sid: session.session_id, from, to: count },
          data: {
            session_id: session.session_id,
            stamps: input.items.map((item, i) => ({ status: item.status, timestamp: iso(timestamps[i]!) })),
          },
        };
        // One stamp is one INSERT (or, when the session had gone idle, the one UPDATE that ends it).
      },
      { oneStatement: input.items.length === 1 },
    );
  }

  end(policy: PersonaPolicy, input: EndInput): Outcome<SessionView> {
    return this.write<SessionView>(
      policy,
      input.idempotency,
      (now) => {
        const { session, refused } = this.activeFor(input.sessionId, now);
        if (refused) return refused;
        let endedAt = Math.max(now, session.last_stamp_at);
        if (input.occurredAt !== undefined) {
          const bad = this.checkNotFuture(input.occurredAt, now) ?? this.checkNotBefore(input.occurredAt, session.last_stamp_at);
          if (bad) return bad;
          endedAt = input.occurredAt;
        }
        this.endSession(session, endedAt, "client");
        return { record: { k: "end", sid: session.session_id } };
      },
      { oneStatement: true },
    );
  }

  /** The active session; `ifNoneMatch` lets a poller skip the stamps when nothing changed. */
  current(policy: PersonaPolicy, ifNoneMatch?: string): Outcome<CurrentData> {
    return this.read(fail("NO_ACTIVE_SESSION"), () => {
      this.adopt(policy);
      const latest = this.expireIfIdle(Date.now());
      if (!latest || latest.ended_at !== null) return fail("NO_ACTIVE_SESSION");
      const etag = `"${latest.session_id}.${latest.stamp_count}"`;
      if (ifNoneMatch !== undefined && matchesEtag(ifNoneMatch, etag)) return { ok: true, data: { etag } };
      return { ok: true, data: { etag, session: this.view(latest) } };
    });
  }

  session(policy: PersonaPolicy, sessionId: string): Outcome<SessionView> {
    return this.read(fail("SESSION_NOT_FOUND"), () => {
      this.adopt(policy);
      this.expireIfIdle(Date.now());
      const row = this.store.session(sessionId);
      return row ? { ok: true, data: this.view(row) } : fail("SESSION_NOT_FOUND");
    });
  }

  /** Ended sessions, newest first, after the session id `after` when given. */
  history(policy: PersonaPolicy, limit: number, after: string | null): Outcome<HistoryPage> {
    return this.read({ ok: true, data: { sessions: [], next_after: null } }, () => {
      this.adopt(policy);
      this.expireIfIdle(Date.now());
      const rows = this.store.endedSessions(after, limit + 1);
      const page = rows.slice(0, limit);
      return {
        ok: true,
        data: {
          sessions: page.map((row) => this.summary(row)),
          next_after: rows.length > limit ? page[page.length - 1]!.session_id : null,
        },
      };
    });
  }

  /** Deletes everything stored for this persona. A second call finds nothing and succeeds. */
  async erase(): Promise<void> {
    // Nothing was ever stored, so the index holds nothing of it either: nothing to erase or to write.
    if (!this.store.created) return;
    await this.ctx.storage.deleteAlarm();
    // Storage calls keep other calls out (input gate) from here to the wipe: nothing starts between.
    const sessions = this.store.sessionStarts();
    const latest = sessions.at(-1)?.session_id ?? "";
    const now = uuidv7Max(Date.now());
    const floor = { id: [latest, now].sort().at(-1)!, months: [...new Set(sessions.map((s) => monthOf(s.started_at)))] };
    await this.ctx.storage.deleteAll();
    this.store.forget();
    this.alarmAt = this.housekeepingAt = null;
    this.outbox.clearCheck();
    this.store.migrate();
    // The policy went with the rest: the next call stores its own again.
    this.loadPolicy();
    // The index drops the persona's rows too, and never takes them back.
    this.outbox.erased(floor);
    this.outbox.notify();
  }

  /** A shard of the tenant index found this persona's earlier changes missing (see IndexOutbox.gapReported). */
  indexGap(): void {
    if (this.store.created) this.outbox.gapReported();
  }

  /** Sends this persona's whole state to the tenant index again (rebuilding the index). */
  resendToIndex(): void {
    if (this.store.created) this.outbox.resend();
  }

  /** The index check, idle expiry, idempotency pruning and retention. Idempotent: alarms are at-least-once. */
  override async alarm(): Promise<void> {
    this.alarmAt = this.housekeepingAt = null;
    if (!this.store.created) return;
    this.outbox.clearCheck();
    // First what the index lacks of earlier changes, then this run's own changes (sent after).
    await this.outbox.check();
    const next = this.transaction(() => {
      const now = Date.now();
      const latest = this.expireIfIdle(now);
      this.store.pruneIdempotency(now - LIMITS.idempotencyRetentionMs);
      if (this.config.retentionMs > 0) {
        const cutoff = now - this.config.retentionMs;
        const retired = this.store.sessionStarts(cutoff, false);
        if (retired.length > 0) {
          this.store.deleteEndedBefore(cutoff);
          this.outbox.retired(retired);
        }
      }
      const due: number[] = [];
      if (latest && latest.ended_at === null && this.config.idleTimeoutMs > 0) {
        due.push(latest.last_activity_at + this.config.idleTimeoutMs);
      }
      const oldestKey = this.store.oldestIdempotency();
      if (oldestKey !== null) due.push(oldestKey + LIMITS.idempotencyRetentionMs + 1);
      const oldestEnded = this.config.retentionMs > 0 ? this.store.oldestEnded() : null;
      if (oldestEnded !== null) due.push(oldestEnded + this.config.retentionMs + 1);
      return due.length ? Math.min(...due) : null;
    });
    this.outbox.notify();
    if (next !== null) this.armAlarm(next);
  }

  /**
   * Runs a mutating operation in one transaction, with its idempotency record when a key is given.
   * A replay is rendered from the record and the rows it references, which no longer change, so it
   * is the first answer again (a test holds the two paths to that).
   */
  private write<T>(
    policy: PersonaPolicy,
    idempotency: IdempotencyInput | undefined,
    decide: (now: number) => Decision<T>,
    { oneStatement = false }: { oneStatement?: boolean } = {},
  ): Outcome<T> {
    // One SQL statement is atomic by itself; anything more runs in a transaction. A new policy is
    // a write of its own, so its first request runs in a transaction too.
    // The first write of a persona creates its schema (reads never do).
    if (!this.store.created) this.transaction(() => this.store.migrate());
    const single = oneStatement && !idempotency && this.samePolicy(policy);
    const run = single ? <R>(fn: () => R) => fn() : <R>(fn: () => R) => this.transaction(fn);
    const outcome = run((): Outcome<T> => {
      this.adopt(policy);
      const now = Date.now();
      if (idempotency) {
        const stored = this.store.idempotency(idempotency.key);
        if (stored) {
          if (stored.fingerprint !== idempotency.fingerprint) return fail("IDEMPOTENCY_KEY_REUSED");
          return { ...this.render<T>(StoredOutcome.parse(JSON.parse(stored.outcome))), replayed: true };
        }
      }
      const { record, data } = decide(now);
      if (idempotency) {
        this.store.putIdempotency(idempotency.key, now, idempotency.fingerprint, JSON.stringify(record));
        this.armAlarm(now + LIMITS.idempotencyRetentionMs + 1);
      }
      return data !== undefined ? { ok: true, data } : this.render<T>(record);
    });
    this.outbox.notify();
    return outcome;
  }

  /**
   * A read in one transaction; it may end an idle session first, which the index hears of. A
   * persona that never stored anything gets `empty` without a transaction: a read creates no
   * storage (nor does adopting the policy it came with, which the first write stores).
   */
  private read<R>(empty: R, fn: () => R): R {
    if (!this.store.created) return empty;
    const result = this.transaction(fn);
    this.outbox.notify();
    return result;
  }

  /** The stored policy, or the vars' defaults before any call brought one. */
  private loadPolicy(): void {
    const stored = this.store.state("policy");
    // Written only by adopt(), from a PersonaPolicy.
    this.config = stored ? (JSON.parse(stored) as PersonaPolicy) : defaultPolicy(this.env);
  }

  private samePolicy(policy: PersonaPolicy): boolean {
    return policy.idleTimeoutMs === this.config.idleTimeoutMs && policy.retentionMs === this.config.retentionMs;
  }

  /**
   * Takes the policy that came with a call. Stored only when it changed, so an unchanged policy
   * costs no write; an earlier idle or retention deadline moves the alarm, a later one is found
   * by the alarm when it runs and re-arms.
   */
  private adopt(policy: PersonaPolicy): void {
    if (this.samePolicy(policy)) return;
    const next = { idleTimeoutMs: policy.idleTimeoutMs, retentionMs: policy.retentionMs };
    this.store.putState("policy", JSON.stringify(next));
    this.config = next;
    const latest = this.store.latestSession();
    if (latest && latest.ended_at === null && next.idleTimeoutMs > 0) this.armAlarm(latest.last_activity_at + next.idleTimeoutMs);
    const oldestEnded = next.retentionMs > 0 ? this.store.oldestEnded() : null;
    if (oldestEnded !== null) this.armAlarm(oldestEnded + next.retentionMs + 1);
  }

  /** A synchronous transaction; if it fails, the store forgets what it cached of the rolled-back state. */
  private transaction<R>(fn: () => R): R {
    try {
      return this.ctx.storage.transactionSync(fn);
    } catch (err) {
      this.store.forget();
      this.loadPolicy();
      this.outbox.load();
      throw err;
    }
  }

  private render<T>(record: StoredOutcome): Outcome<T> {
    // Each branch's data type is fixed by the operation that stored it; T names it for the caller.
    const ok = (data: unknown): Outcome<T> => ({ ok: true, data: data as T });
    switch (record.k) {
      case "error":
        return fail(record.code, record.details, record.message);
      case "start": {
        const row = this.mustSession(record.sid);
        return ok({
          session_id: row.session_id,
          started_at: iso(row.started_at),
          store_id: row.store_id,
          kiosk_id: row.kiosk_id,
        } satisfies StartData);
      }
      case "stamps": {
        const rows = this.store.stamps(record.sid, record.from, record.to);
        return ok({
          session_id: record.sid,
          stamps: rows.map((s) => ({ status: s.status, timestamp: iso(s.ts) })),
        } satisfies BatchData);
      }
      case "end":
        return ok(this.view(this.mustSession(record.sid)) satisfies SessionView);
    }
  }

  private mustSession(sessionId: string): SessionRow {
    const row = this.store.session(sessionId);
    if (!row) throw new Error(`session ${sessionId} referenced by an idempotency record is missing`);
    return row;
  }

  /** The newest session after ending it if it has been idle too long. */
  private expireIfIdle(now: number): SessionRow | null {
    const latest = this.store.latestSession();
    if (!latest || latest.ended_at !== null || this.config.idleTimeoutMs <= 0) return latest;
    const due = latest.last_activity_at + this.config.idleTimeoutMs;
    if (due > now) return latest;
    return this.endSession(latest, Math.max(due, latest.last_stamp_at), "idle_timeout");
  }

  private endSession(session: Readonly<SessionRow>, endedAt: number, reason: EndReason): Readonly<SessionRow> {
    const ended = this.store.endSession(session, endedAt, reason);
    if (this.config.retentionMs > 0) this.armAlarm(endedAt + this.config.retentionMs + 1);
    return ended;
  }

  /** The active session, if it is the one the client named (when it named one). */
  private activeFor(
    sessionId: string | undefined,
    now: number,
  ): { session: SessionRow; refused?: never } | { session?: never; refused: Decision<never> } {
    const latest = this.expireIfIdle(now);
    const active = latest && latest.ended_at === null ? latest : null;
    if (sessionId !== undefined && sessionId !== active?.session_id) {
      return { refused: refuse("SESSION_MISMATCH", { active_session_id: active?.session_id ?? null }) };
    }
    return active ? { session: active } : { refused: refuse("NO_ACTIVE_SESSION") };
  }

  private checkNotFuture(ts: number, now: number): Decision<never> | null {
    if (ts <= now + LIMITS.occurredAtMaxSkewMs) return null;
    return refuse(
      "VALIDATION_ERROR",
      { rule: "occurred_at_in_future", max_skew_seconds: LIMITS.occurredAtMaxSkewMs / 1000, server_time: iso(now) },
      `occurred_at is more than ${LIMITS.occurredAtMaxSkewMs / 1000} seconds ahead of the server clock.`,
    );
  }

  private checkNotBefore(ts: number, latestStamp: number): Decision<never> | null {
    if (ts >= latestStamp) return null;
    return refuse(
      "VALIDATION_ERROR",
      { rule: "occurred_at_before_latest_stamp", latest_stamp_at: iso(latestStamp) },
      "occurred_at is before the session's latest stamp.",
    );
  }

  /** Housekeeping due at `at`: the alarm moves earlier if it must. */
  private armAlarm(at: number): void {
    if (this.housekeepingAt !== null && this.housekeepingAt <= at) return;
    this.housekeepingAt = at;
    this.syncAlarm();
  }

  /** Puts the alarm at the earlier of housekeeping and the index check, writing it only if it moves. */
  private syncAlarm(): void {
    const check = this.outbox.checkDue();
    const at = check === null ? this.housekeepingAt : this.housekeepingAt === null ? check : Math.min(check, this.housekeepingAt);
    if (at === this.alarmAt) return;
    this.alarmAt = at;
    void (at === null ? this.ctx.storage.deleteAlarm() : this.ctx.storage.setAlarm(at));
  }

  private view(row: SessionRow): SessionView {
    return {
      session_id: row.session_id,
      started_at: iso(row.started_at),
      ended_at: row.ended_at === null ? null : iso(row.ended_at),
      end_reason: row.ended_at === null ? null : (row.end_reason as EndReason),
      stamp_count: row.stamp_count,
      store_id: row.store_id,
      kiosk_id: row.kiosk_id,
      stamps: this.store.stamps(row.session_id).map(stampView),
    };
  }

  private summary(row: SessionRow): SessionSummary {
    return {
      session_id: row.session_id,
      started_at: iso(row.started_at),
      ended_at: iso(row.ended_at ?? 0),
      end_reason: row.end_reason as EndReason,
      stamp_count: row.stamp_count,
      store_id: row.store_id,
      kiosk_id: row.kiosk_id,
    };
  }
}

function fail(code: ErrorCode, details?: RefusalDetails, message?: string): Failure {
  return { ok: false, code, ...(message ? { message } : {}), ...(details ? { details } : {}) };
}

/** If-None-Match: `*`, or a list of tags compared weakly (a `W/` prefix is ignored). */
function matchesEtag(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

function stampView(row: StampRow): StoredStamp {
  const view: StoredStamp = { status: row.status, timestamp: iso(row.ts), received_at: iso(row.received_at) };
  if (row.meta !== null) view.meta_json = row.meta;
  return view;
}
