import { DurableObject } from "cloudflare:workers";
import { LIMITS } from "../limits";
import {
  type Carry,
  type DwellPart,
  type FunnelPart,
  type Grouped,
  grouped,
  groupedDwell,
  groupedFunnel,
  groupedPresence,
  groupedVisits,
  groupSizes,
  OTHER_GROUP,
  type Presence,
  pathCounts,
  presentIn,
  type Scope,
  type SeriesPart,
  type Sessions,
  type SparseVisits,
  sweep,
  type VisitBuckets,
} from "./analytics";
import type { ShardItem } from "./messages";
import { type BlockCheck, type IndexedSession, IndexStore, type LiveRow, type SearchQuery, type SessionSyncState } from "./store";
import { mergeDwellSummary, subtractDwell } from "./summaries";

export interface ActivePage {
  sessions: LiveRow[];
  counts: Record<string, number>;
  total: number;
  applied_at: number | null;
}

export interface SearchPage {
  sessions: IndexedSession[];
  applied_at: number | null;
}

/**
 * One shard of a tenant's index (see messages.ts for how shards are named and what each holds).
 * The queue consumer applies a whole batch in one transaction; persona objects ask it what it
 * holds of their sessions, so they know when their changes have landed.
 */
export class TenantIndex extends DurableObject<Env> {
  /** Protected so tests can read its row counts; no route exposes it. */
  protected readonly store: IndexStore;

  /** Whether a clean-up alarm is set (read at start-up, so apply() need not await). */
  private alarmSet = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new IndexStore(ctx.storage.sql);
    void ctx.blockConcurrencyWhile(async () => {
      this.store.open();
      this.alarmSet = (await ctx.storage.getAlarm()) !== null;
    });
  }

  /**
   * Daily clean-up of the live view: a persona's row outlives its session's end by a week (late
   * messages of that session change nothing while it is there; queue messages live at most 4 days),
   * then goes, so the live shard holds the personas seen lately, not every persona ever.
   */
  override async alarm(): Promise<void> {
    this.alarmSet = false;
    const remaining = this.store.dropEndedLive(Date.now() - LIMITS.liveEndedKeepMs);
    if (remaining > 0) this.armCleanUp();
  }

  private armCleanUp(): void {
    if (this.alarmSet) return;
    this.alarmSet = true;
    void this.ctx.storage.setAlarm(Date.now() + 86_400_000);
  }

  /**
   * Applies items in order, all in one transaction. Idempotent and order-independent per session.
   * Returns the personas of whose sessions this shard now knows stamps it lacks (an earlier message
   * is missing), so their objects can check on what they sent without waiting for their own time.
   */
  apply(items: ShardItem[], sentUntil: number | null = null): string[] {
    // By session, the last item's verdict: a long session comes in parts, the first ones short of its count.
    const gaps = new Map<string, { persona: string; gap: boolean }>();
    const finals: string[] = [];
    this.ctx.storage.transactionSync(() => {
      // The first batch a shard applies creates its schema (reads never do).
      if (!this.store.created) this.store.migrate();
      const floors = new Map<string, string | null>();
      const floorOf = (persona: string) => {
        if (!floors.has(persona)) floors.set(persona, this.store.floor(persona));
        return floors.get(persona) ?? null;
      };
      for (const item of items) {
        if (item.kind === "floor") {
          this.store.applyFloor(item.persona, item.floor);
          floors.delete(item.persona);
          continue;
        }
        // A session at or below the floor was erased or retired: late news never brings it back.
        const floor = floorOf(item.persona);
        if (floor !== null && item.session.id <= floor) continue;
        if (item.kind === "session") {
          const applied = this.store.applySession(item.persona, item.session);
          // A duplicate or older news says nothing new: the verdict of what came before it stands.
          if (applied !== null) gaps.set(item.session.id, { persona: item.persona, gap: applied.gap });
          if (applied?.final) finals.push(item.session.id);
        } else {
          this.store.applyLive(item.persona, item.session);
          if (item.session.ended_at !== null) this.armCleanUp();
        }
      }
      // After every item: a floor later in the batch may have removed a session that ended earlier in it.
      this.store.pack(finals);
      this.store.markApplied(Date.now(), sentUntil);
    });
    return [...new Set([...gaps.values()].filter((g) => g.gap).map((g) => g.persona))];
  }

  /**
   * What this shard holds of a persona: the given sessions, its floor, and the newest queue
   * timestamp it has applied (a send older than that which is not here was lost, not delayed).
   */
  syncState(persona: string, sessionIds: string[]): { sessions: SessionSyncState[]; floor: string | null; sent_until: number } {
    return { sessions: this.store.syncState(sessionIds), floor: this.store.floor(persona), sent_until: this.store.sentUntil() };
  }

  active(query: { status: string | null; store: string | null; after: [number, string] | null; limit: number }): ActivePage {
    const now = Date.now();
    const counts = Object.fromEntries(this.store.activeCounts(now, query.store).map((r) => [r.status, r.n]));
    return {
      sessions: this.store.active(now, query.status, query.store, query.after, query.limit),
      counts,
      total: Object.values(counts).reduce((a, b) => a + b, 0),
      applied_at: this.store.appliedAt(),
    };
  }

  /** Active sessions per store and status, now (the occupancy board). */
  occupancy(): { rows: { store_id: string | null; status: string; n: number }[]; applied_at: number | null } {
    return { rows: this.store.occupancy(Date.now()), applied_at: this.store.appliedAt() };
  }

  search(query: SearchQuery): SearchPage {
    return { sessions: this.store.search(query), applied_at: this.store.appliedAt() };
  }

  /** The sessions that started in [from, to), from blocks and rows (IndexStore.eachSession). */
  private sessions(from: number, to: number, need: { path: boolean; times: boolean }): Sessions {
    return (visit) => this.store.eachSession(from, to, need, visit);
  }

  /**
   * The size of each group `scope` splits the sessions started in [from, to) into: sessions, and
   * those with a stamp labelled `step` (a funnel's first step). What the Worker ranks groups by.
   */
  groupSizes(
    from: number,
    to: number,
    scope: Scope,
    step: string | null,
  ): { keys: (string | null)[]; sessions: number[]; reached: number[]; applied_at: number | null } {
    // Sessions per store with no filter (dwell's and visits' ranking): the whole days from their
    // summaries, the rest scanned. A funnel ranks by its first step's reach, which a summary does not hold.
    const summarized = step === null && scope.stores === null && scope.kiosk === null && (scope.groupBy ?? "store") === "store";
    const { stores, days } = summarized ? this.store.storeSummaries(from, to) : { stores: null, days: new Set<number>() };
    let groups = groupSizes(
      (visit) => this.store.eachSession(from, to, { path: step !== null, times: false }, visit, { skipBlocksOf: days }),
      scope,
      step,
    );
    if (stores !== null && days.size > 0) {
      const merged = new Map(stores);
      for (const g of groups) merged.set(g.key, (merged.get(g.key) ?? 0) + g.part.sessions);
      groups = [...merged].map(([key, sessions]) => ({ key, part: { sessions, reached: 0 } }));
    }
    return {
      keys: groups.map((g) => g.key),
      sessions: groups.map((g) => g.part.sessions),
      reached: groups.map((g) => g.part.reached),
      applied_at: this.store.appliedAt(),
    };
  }

  /** Funnel parts of the sessions started in [from, to) that `scope` takes, per group. */
  funnel(
    from: number,
    to: number,
    steps: string[],
    withinMs: number | null,
    scope: Scope,
  ): { parts: Grouped<FunnelPart>[]; applied_at: number | null } {
    const sessions = this.sessions(from, to, { path: true, times: true });
    return { parts: groupedFunnel(sessions, scope, steps, withinMs), applied_at: this.store.appliedAt() };
  }

  /**
   * Dwell parts per group. With no store or kiosk filter, the whole days of the range come from
   * their summaries (store.ts), and only the sessions those do not hold are scanned; grouped, only
   * the listed groups' sessions are, and the rest is the total minus the listed groups, bin for
   * bin (summaries.ts): the same parts a scan of every session gives.
   */
  dwell(from: number, to: number, scope: Scope): { parts: Grouped<DwellPart>[]; applied_at: number | null } {
    const need = { path: true, times: true };
    const applied_at = this.store.appliedAt();
    const top = scope.groupBy !== null && scope.top ? new Set(scope.top) : null;
    const summarized = scope.stores === null && scope.kiosk === null && (scope.groupBy === null || top !== null);
    const { summary, days } = summarized ? this.store.dwellSummaries(from, to) : { summary: null, days: new Set<number>() };
    if (summary === null || days.size === 0) return { parts: groupedDwell(this.sessions(from, to, need), scope), applied_at };
    const unsummarized: Sessions = (visit) => this.store.eachSession(from, to, need, visit, { skipBlocksOf: days });
    const total = mergeDwellSummary(
      summary,
      groupedDwell(unsummarized, { ...scope, groupBy: null, top: null })[0]?.part ?? { sessions: 0, values: new Map() },
    );
    if (top === null) return { parts: total.sessions > 0 ? [{ key: null, part: total }] : [], applied_at };
    const keyOf = scope.groupBy === "store" ? (store: string | null) => store : (_: string | null, kiosk: string | null) => kiosk;
    const listedOnly: Sessions = (visit) =>
      this.store.eachSession(from, to, need, visit, { admit: (store, kiosk) => top.has(keyOf(store, kiosk)) });
    const listed = groupedDwell(listedOnly, scope);
    for (const { part } of listed) subtractDwell(total, part);
    return { parts: total.sessions > 0 ? [...listed, { key: OTHER_GROUP, part: total }] : listed, applied_at };
  }

  visits(from: number, to: number, how: VisitBuckets, scope: Scope): { parts: Grouped<SparseVisits>[]; applied_at: number | null } {
    const sessions = this.sessions(from, to, { path: false, times: false });
    return { parts: groupedVisits(sessions, scope, how), applied_at: this.store.appliedAt() };
  }

  paths(from: number, to: number, scope: Scope): { counts: Map<string, number>; applied_at: number | null } {
    return { counts: pathCounts(this.sessions(from, to, { path: true, times: false }), scope), applied_at: this.store.appliedAt() };
  }

  /**
   * Occupancy, first pass: with `counts`, per store or kiosk key (scope.groupBy), how many of the
   * sessions that started in [since, to) are present in [from, until); and the presence (clipped
   * to [from, until)) of those still present at `boundary`, the next month shard's start, with
   * their key: what that shard's sweep needs from this one. Bounded by the stores and by the
   * sessions present at one instant, not by the sessions in range. Blocks of sessions that started
   * too long before to reach the instants asked about are not read (IndexStore.packedSpan).
   */
  presenceEdge(
    since: number,
    to: number,
    from: number,
    until: number,
    boundary: number | null,
    scope: Scope,
    counts: boolean,
  ): { keys: (string | null)[]; sessions: number[]; spill: Carry; applied_at: number | null } {
    const longest = this.store.packedSpan();
    const reach = (at: number) => (longest === null ? since : at - longest);
    const wide = { ...scope, top: null };
    let keys: (string | null)[] = [];
    let sessions: number[] = [];
    if (counts) {
      // By store with no filter, the whole days of [from, until) from their summaries (a session
      // that started in one is present iff its presence is not empty), the rest scanned.
      const summarized = scope.stores === null && scope.kiosk === null && scope.groupBy === "store";
      const { stores, days } = summarized
        ? this.store.storeSummaries(from, Math.min(to, until), true)
        : { stores: null, days: new Set<number>() };
      const parts = grouped(
        (visit) => this.store.eachSession(since, to, { path: false, times: false }, visit, { blocksFrom: reach(from), skipBlocksOf: days }),
        wide,
        () => ({ n: 0 }),
        (part, view) => {
          const [start, end] = presentIn(view, from, until);
          if (end > start) part.n += 1;
        },
      );
      const merged = new Map(stores ?? []);
      for (const { key, part } of parts) if (part.n > 0) merged.set(key, (merged.get(key) ?? 0) + part.n);
      keys = [...merged.keys()];
      sessions = [...merged.values()];
    }
    const spill: Carry = { starts: [], ends: [], keys: [] };
    if (boundary !== null && boundary < until) {
      const parts = grouped(
        (visit) =>
          this.store.eachSession(since, Math.min(to, boundary), { path: false, times: false }, visit, { blocksFrom: reach(boundary) }),
        wide,
        (): Presence => ({ starts: [], ends: [] }),
        (part, view) => {
          const [start, end] = presentIn(view, from, until);
          if (end > start && end > boundary) {
            part.starts.push(start);
            part.ends.push(end);
          }
        },
      );
      for (const { key, part } of parts) {
        part.starts.forEach((start, i) => {
          spill.starts.push(start);
          spill.ends.push(part.ends[i]!);
          spill.keys.push(key);
        });
      }
    }
    return { keys, sessions, spill, applied_at: this.store.appliedAt() };
  }

  /**
   * Occupancy, second pass: the bucket series over [lo, hi) (this shard's month within the query)
   * of the sessions that started here in [since, to) and the presence earlier months carry into it:
   * the total, each answer group's (a list of store or kiosk keys), and the rest's. The sweep runs
   * here, so what crosses to the Worker is groups × buckets, not two instants a session.
   */
  presenceSeries(
    since: number,
    to: number,
    from: number,
    until: number,
    span: { lo: number; hi: number; bounds: number[] },
    scope: Scope,
    groups: (string | null)[][] | null,
    carry: Carry,
  ): { total: SeriesPart; groups: SeriesPart[]; other: SeriesPart | null; applied_at: number | null } {
    const byKey = new Map<string | null, Presence>();
    const longest = this.store.packedSpan();
    const own: Sessions = (visit) =>
      this.store.eachSession(since, Math.min(to, span.hi), { path: false, times: false }, visit, {
        blocksFrom: longest === null ? since : span.lo - longest,
      });
    for (const { key, part } of groupedPresence(own, { ...scope, top: null }, from, until)) byKey.set(key, part);
    carry.keys.forEach((key, i) => {
      let part = byKey.get(key);
      if (part === undefined) {
        part = { starts: [], ends: [] };
        byKey.set(key, part);
      }
      part.starts.push(carry.starts[i]!);
      part.ends.push(carry.ends[i]!);
    });
    const series = (keys: Iterable<string | null>) => {
      const starts: number[] = [];
      const ends: number[] = [];
      for (const key of keys) {
        const part = byKey.get(key);
        if (part === undefined) continue;
        for (const t of part.starts) starts.push(t);
        for (const t of part.ends) ends.push(t);
      }
      return sweep(starts, ends, span.bounds, span.lo, span.hi);
    };
    const listed = new Set((groups ?? []).flat());
    return {
      total: series(byKey.keys()),
      groups: (groups ?? []).map((keys) => series(keys)),
      other: groups === null ? null : series([...byKey.keys()].filter((k) => !listed.has(k))),
      applied_at: this.store.appliedAt(),
    };
  }

  /**
   * The drift check of the analytics blocks (derived data) against the session rows; with
   * `repair`, each drifted day's blocks are rebuilt from its rows, one transaction per day, and
   * checked again.
   */
  checkBlocks(repair: boolean): BlockCheck & { repaired_days: string[]; after: BlockCheck | null } {
    const found = this.store.checkBlocks();
    if (!repair || found.drifted_days.length === 0) return { ...found, repaired_days: [], after: null };
    for (const day of found.drifted_days) {
      this.ctx.storage.transactionSync(() => this.store.repackDay(Date.parse(day) / 86_400_000));
    }
    return { ...found, repaired_days: found.drifted_days, after: this.store.checkBlocks() };
  }

  personas(after: string, limit: number): string[] {
    return this.store.personas(after, limit);
  }
}
