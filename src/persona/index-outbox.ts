import { uuidv7Ms } from "../ids";
import { LIMITS } from "../limits";
import { liveShard, monthOf, monthShard, type PersonaChange, type SessionDelta, STAMPS_PER_CHANGE } from "../tenant-index/messages";
import { sendToIndex } from "./index-sender";
import type { PersonaStore, SessionRow } from "./store";

/**
 * Where a persona's changes stand, in the order they happen: every session before `sid` complete
 * (all its stamps, and its end), and session `sid` up to stamp `seq`, ended or not. Only the newest
 * session ever changes, so one position says what the index has and what it still lacks.
 */
export interface Position {
  sid: string;
  seq: number;
  ended: boolean;
}

export function positionOf(row: SessionRow): Position {
  return { sid: row.session_id, seq: row.stamp_count, ended: row.ended_at !== null };
}

/** Whether `a` is further than `b` (anything is further than nothing). */
export function isAfter(a: Position, b: Position | null): boolean {
  if (b === null) return true;
  if (a.sid !== b.sid) return a.sid > b.sid;
  return a.seq > b.seq || (a.seq === b.seq && a.ended && !b.ended);
}

/** Sessions at or below `id` are gone from the index shards of these months (and the live view). */
export interface Floor {
  id: string;
  months: string[];
}

/**
 * What the object keeps of its index sync, in `object_state` under "index": a watermark and a
 * floor, never a row per event. Written when the index confirms (by the alarm's check: at once
 * when nothing is left unconfirmed, else at most every indexWatermarkWriteMs, so the stored
 * watermark may lag the one in memory, never lead it), and in the same transaction as an erasure
 * or a retention pass.
 */
interface SyncState {
  /** The furthest position the index is known to hold. */
  confirmed: Position | null;
  /** An erasure or retention the index has not yet confirmed. */
  floor: Floor | null;
  /** New session ids must sort after this time's: the last erasure's floor. */
  min_ms: number;
}

export interface OutboxDeps {
  store: PersonaStore;
  env: Env;
  /** `tenant:persona`, the object's name. */
  name: string | undefined;
  idleTimeoutMs: () => number;
  /** The check's due time changed (null: no check due): the object moves its alarm. */
  checkMoved: () => void;
}

/**
 * The persona object's side of the tenant index pipeline. After a change commits, `notify()`
 * sends what changed since the last send to `INDEX_QUEUE`, without the answer waiting for it. The
 * queue is not trusted to deliver (locally it keeps messages in memory; anywhere a message can end
 * in the dead-letter queue): the alarm, about 10 s after a change, asks the index shards what they
 * hold, moves the watermark over what they confirm and re-sends the rest, until nothing is missing.
 */
export class IndexOutbox {
  private state: SyncState = { confirmed: null, floor: null, min_ms: 0 };
  /** What was last handed to the queue (memory only: after a restart, everything unconfirmed). */
  private sent: Position | null = null;
  /**
   * When each unconfirmed position was handed to the queue (memory only; sends within a second
   * share a record, so it stays short). The check tells a lost send from one on its way by it.
   */
  private sends: { pos: Position; at: number }[] = [];
  /** When the state was last written (0: not since start-up, so the next check writes it). */
  private savedAt = 0;
  private floorToSend = false;
  private scheduled = false;
  /** When the next check is due (memory; the object's alarm is at or before it), or null. */
  private checkAt: number | null = null;
  private checking = false;
  /** When flush() last ran. */
  private flushedAt = 0;
  /** When flush() last handed changes to the sender (memory: 0 after a restart). */
  private sentAt = 0;
  /** When verify() last asked the shards (memory: 0 after a restart, so the first check is full). */
  private verifiedAt = 0;
  /** Until when no check is put off: a shard reported a gap. */
  private fullChecksUntil = 0;
  private readonly tenant: string | null;
  private readonly persona: string | null;

  constructor(private readonly deps: OutboxDeps) {
    const name = deps.name ?? "";
    const at = name.indexOf(":");
    // Tenant ids never contain ':', persona ids may: the first ':' splits them.
    this.tenant = at > 0 ? name.slice(0, at) : null;
    this.persona = at > 0 ? name.slice(at + 1) : null;
  }

  /** Reads the stored state (at start-up, and after a rolled-back transaction or an erasure). */
  load(): void {
    const stored = this.deps.store.state("index");
    // Written only by save(), from a SyncState.
    this.state = stored ? (JSON.parse(stored) as SyncState) : { confirmed: null, floor: null, min_ms: 0 };
    this.sent = this.state.confirmed;
    this.sends = [];
    this.savedAt = 0;
    this.floorToSend = this.state.floor !== null;
  }

  /** The earliest millisecond a new session id may carry (after an erasure's floor). */
  minSessionMs(): number {
    return this.state.min_ms;
  }

  /** When the next check is due, or null (the object's alarm covers it). */
  checkDue(): number | null {
    return this.checkAt;
  }

  /** The alarm fired or was deleted: no check is scheduled until a change or the alarm's run asks for one. */
  clearCheck(): void {
    this.checkAt = null;
  }

  /**
   * After any call: if anything changed since the last send, send it and check on it later. A
   * call that comes when the check is (nearly) due runs it at once, without waiting for it.
   */
  notify(): void {
    if (!this.tenant) return;
    const latest = this.deps.store.latestSession();
    const changed = (latest !== null && isAfter(positionOf(latest), this.sent)) || this.floorToSend;
    if (changed && this.checkAt === null) this.moveCheck(Date.now() + LIMITS.indexRecheckMs);
    if (this.checkAt !== null && !this.checking && Date.now() >= this.checkAt - LIMITS.indexCheckLeadMs) void this.check();
    if (!changed || this.scheduled) return;
    // A change after a quiet spell goes at once (a timer per change would cost more than the
    // send); one within indexSendDelayMs of the last send waits out the rest of it, so a busy
    // persona's burst of stamps goes as one change.
    const wait = this.flushedAt + LIMITS.indexSendDelayMs - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.flush();
    }, wait);
  }

  /**
   * Runs the check (from the alarm, or in-band from a call, up to indexCheckLeadMs early). The
   * next one is scheduled first, in the same event, indexRecheckMs after this one was due: if
   * this one fails or the object is evicted while it waits, the alarm is there. Never throws; a
   * failed check is logged and the alarm tries again.
   */
  async check(): Promise<void> {
    if (this.checking) return;
    const now = Date.now();
    if (this.mayPutOff(now)) {
      this.moveCheck(this.sentAt + LIMITS.indexRecheckMs);
      return;
    }
    this.checking = true;
    this.moveCheck(Math.max(Date.now(), this.checkAt ?? 0) + LIMITS.indexRecheckMs);
    try {
      if (!(await this.verify())) this.moveCheck(null);
    } catch (err) {
      console.error(JSON.stringify({ level: "error", msg: "index check failed", error: err instanceof Error ? err.message : String(err) }));
    } finally {
      this.checking = false;
    }
  }

  /**
   * A shard applied a message of this persona's and found stamps missing before it (lost, or still
   * on its way): check soon, when a send still missing counts as lost, and put no check off until
   * the one after.
   */
  gapReported(): void {
    const now = Date.now();
    this.fullChecksUntil = now + LIMITS.indexInFlightMs + LIMITS.indexRecheckMs;
    const at = now + LIMITS.indexInFlightMs;
    this.moveCheck(this.checkAt === null ? at : Math.min(this.checkAt, at));
  }

  /**
   * Whether a due check can be put off (LIMITS.indexFullCheckMs): every unconfirmed change is in
   * the session the index is confirmed to hold (a shard sees a gap inside a session, not one
   * between sessions), the last send is recent, no erasure or retention is waiting, and neither a
   * full check nor a gap's checks are due.
   */
  private mayPutOff(now: number): boolean {
    const { confirmed, floor } = this.state;
    const latest = this.deps.store.latestSession();
    return (
      confirmed !== null &&
      latest !== null &&
      confirmed.sid === latest.session_id &&
      floor === null &&
      !this.floorToSend &&
      now - this.sentAt < LIMITS.indexRecheckMs &&
      now - this.verifiedAt < LIMITS.indexFullCheckMs &&
      now >= this.fullChecksUntil
    );
  }

  private moveCheck(at: number | null): void {
    if (at === this.checkAt) return;
    this.checkAt = at;
    this.deps.checkMoved();
  }

  /** In the erasure, after storage was wiped: the index must drop every session up to `floor`. */
  erased(floor: Floor): void {
    this.save({ confirmed: null, floor: mergeFloor(this.state.floor, floor), min_ms: Math.max(this.state.min_ms, uuidv7Ms(floor.id)) });
    this.sent = null;
    this.sends = [];
    this.floorToSend = true;
  }

  /** In the retention pass's transaction: these sessions were deleted. */
  retired(sessions: { session_id: string; started_at: number }[]): void {
    if (sessions.length === 0) return;
    const floor = { id: sessions[sessions.length - 1]!.session_id, months: [...new Set(sessions.map((s) => monthOf(s.started_at)))] };
    this.save({ ...this.state, floor: mergeFloor(this.state.floor, floor) });
    this.floorToSend = true;
  }

  /** Forgets what the index confirmed, so the whole state is sent again (an index rebuild). */
  resend(): void {
    this.save({ ...this.state, confirmed: null });
    this.sent = null;
    this.floorToSend = this.state.floor !== null;
    this.notify();
  }

  /**
   * The alarm's check: asks the month shards what they hold of the unconfirmed sessions (and, while
   * an erasure or retention is unconfirmed, every shard it concerns), moves the watermark over what
   * they have, and re-sends what was lost. True while anything is unconfirmed.
   *
   * One question per month shard suffices: the consumer applies a tenant's live items before its
   * month items, so a month shard holding a session's latest state proves the live view had it.
   * What was sent moments ago and is not there yet is usually still on its way: it counts as lost
   * once the shard has applied messages queued well after it, or once it is indexInFlightMs old,
   * and then everything unconfirmed is sent again.
   */
  private async verify(): Promise<boolean> {
    const { tenant, persona } = this;
    if (!tenant || !persona) return false;
    const { store, env } = this.deps;
    const latest = store.latestSession();
    const confirmed = this.state.confirmed;
    const pending = latest && isAfter(positionOf(latest), confirmed) ? store.sessionsFrom(confirmed?.sid ?? null) : [];
    const floor = this.state.floor;
    if (pending.length === 0 && !floor) return false;

    const asks = new Map<string, string[]>();
    if (floor) {
      asks.set(liveShard(tenant), []);
      for (const month of floor.months) asks.set(monthShard(tenant, month), []);
    }
    for (const row of pending) {
      const shard = monthShard(tenant, monthOf(row.started_at));
      asks.set(shard, [...(asks.get(shard) ?? []), row.session_id]);
    }
    const answers = new Map(
      await Promise.all(
        [...asks].map(async ([shard, ids]) => [shard, await env.TENANT_INDEX.getByName(shard).syncState(persona, ids)] as const),
      ),
    );
    // Only an answered check counts: after a failed one, the next is not put off.
    this.verifiedAt = Date.now();

    let reached = confirmed;
    for (const row of pending) {
      const held = answers.get(monthShard(tenant, monthOf(row.started_at)))?.sessions.find((s) => s.id === row.session_id);
      const ended = row.ended_at !== null;
      if (held && held.prefix === row.stamp_count && held.stamp_count === row.stamp_count && held.ended === ended) {
        reached = positionOf(row);
        continue;
      }
      // Part of a session: its first stamps, without the end (a busy persona's check rarely finds
      // its newest stamp already applied, and should not re-send what was).
      const part = held ? { sid: row.session_id, seq: Math.min(held.prefix, row.stamp_count), ended: false } : null;
      if (part && part.seq > 0 && isAfter(part, reached)) reached = part;
      break;
    }
    // Other calls may have run while the shards answered: only ever move forward. The move is
    // written below, or by a later check: a stored watermark that lags only makes the object ask
    // about (or, after a restart, send again) a little more than it must; it never skips anything.
    const moved = reached !== null && isAfter(reached, this.state.confirmed);
    if (moved) this.state = { ...this.state, confirmed: reached };
    const floorHeld = floor && [...answers.values()].every((a) => a.floor !== null && a.floor >= floor.id);
    if (floorHeld && this.state.floor?.id === floor.id) this.save({ ...this.state, floor: null });

    const newest = store.latestSession();
    const sessionsMissing = newest !== null && isAfter(positionOf(newest), this.state.confirmed);
    const clock = Date.now();
    // Each write is a storage commit of its own: under a stream of stamps, one a minute will do.
    if (moved && (!sessionsMissing || clock - this.savedAt >= LIMITS.indexWatermarkWriteMs)) this.save(this.state);
    const confirmedNow = this.state.confirmed;
    this.sends = this.sends.filter((s) => isAfter(s.pos, confirmedNow));
    const seen = Math.max(0, ...[...answers.values()].map((a) => a.sent_until));
    // A send about to go (scheduled) covers everything after what was sent. Otherwise, with no
    // record of a send (a restarted object), nothing is on its way: send.
    const lost =
      !this.scheduled &&
      (this.sends.length === 0 ||
        this.sends.some((s) => s.at + LIMITS.indexQueueGraceMs <= seen || clock - s.at >= LIMITS.indexInFlightMs));
    const resendSessions = sessionsMissing && lost;
    const floorMissing = this.state.floor !== null;
    if (resendSessions) this.sent = this.state.confirmed;
    if (floorMissing) this.floorToSend = true;
    if (resendSessions || floorMissing) this.flush();
    return sessionsMissing || floorMissing;
  }

  private save(state: SyncState): void {
    this.state = state;
    this.savedAt = Date.now();
    this.deps.store.putState("index", JSON.stringify(state));
  }

  /** Hands everything after `sent` to the isolate's sender (index-sender.ts). */
  private flush(): void {
    this.flushedAt = Date.now();
    const latest = this.deps.store.latestSession();
    const changes = this.changes(this.deltas(this.sent), this.floorToSend ? this.state.floor : null);
    if (changes.length === 0) return;
    if (latest) {
      this.sent = positionOf(latest);
      const now = Date.now();
      const last = this.sends.at(-1);
      if (last && now - last.at < 1000) last.pos = this.sent;
      else this.sends.push({ pos: this.sent, at: now });
    }
    this.floorToSend = false;
    this.sentAt = Date.now();
    for (const change of changes) sendToIndex(this.deps.env.INDEX_QUEUE, this.tenant!, change);
  }

  /** Every session change after `from`: headers as they are now, and the stamps added since. */
  private deltas(from: Position | null): SessionDelta[] {
    const { store } = this.deps;
    const idle = this.deps.idleTimeoutMs();
    const out: SessionDelta[] = [];
    for (const row of store.sessionsFrom(from?.sid ?? null)) {
      const fromSeq = from && row.session_id === from.sid ? from.seq : 0;
      if (from && row.session_id === from.sid && !isAfter(positionOf(row), from)) continue;
      const stamps = row.stamp_count > fromSeq ? store.stampLabels(row.session_id, fromSeq + 1) : [];
      const last = stamps.at(-1) ?? store.lastLabel(row.session_id);
      if (!last) continue;
      out.push({
        id: row.session_id,
        started_at: row.started_at,
        ended_at: row.ended_at,
        end_reason: row.ended_at === null ? null : (row.end_reason as "client" | "idle_timeout"),
        stamp_count: row.stamp_count,
        last_status: last.status,
        last_ts: last.ts,
        idle_at: row.ended_at === null && idle > 0 ? row.last_activity_at + idle : null,
        store_id: row.store_id,
        kiosk_id: row.kiosk_id,
        stamps: stamps.map((s) => [s.seq, s.status, s.ts]),
      });
    }
    return out;
  }

  /** Deltas as changes of at most STAMPS_PER_CHANGE stamps each; the floor goes first. */
  private changes(deltas: SessionDelta[], floor: Floor | null): PersonaChange[] {
    const persona = this.persona!;
    const changes: PersonaChange[] = [];
    let current: PersonaChange = { persona, sessions: [], ...(floor ? { floor } : {}) };
    let count = 0;
    for (const delta of deltas) {
      for (let i = 0; i === 0 || i < delta.stamps.length; i += STAMPS_PER_CHANGE) {
        const part = { ...delta, stamps: delta.stamps.slice(i, i + STAMPS_PER_CHANGE) };
        if (count + part.stamps.length > STAMPS_PER_CHANGE && current.sessions.length > 0) {
          changes.push(current);
          current = { persona, sessions: [] };
          count = 0;
        }
        current.sessions.push(part);
        count += part.stamps.length;
      }
    }
    if (current.sessions.length > 0 || current.floor) changes.push(current);
    return changes;
  }
}

function mergeFloor(a: Floor | null, b: Floor): Floor {
  if (!a) return b;
  return { id: [a.id, b.id].sort().at(-1)!, months: [...new Set([...a.months, ...b.months])].sort() };
}
