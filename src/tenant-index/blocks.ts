/**
 * Ended sessions packed into column blocks, what analytics read instead of one SQL row per session.
 *
 * Why: a query used to read a row per session (workerd builds strings for its path and times, JS
 * splits and parses them: 2 to 5 µs a session, seconds at a million). An ended session whose
 * stamps the shard all holds never changes again (only erasure and retention remove it), so the
 * shard copies it, in the transaction that completes it, into the block of its start day: typed
 * arrays over one BLOB, read as views without parsing, with the block's labels, paths, stores and
 * kiosks written once in its dictionary. A session costs analytics a few array reads, and its path
 * is matched once per block, not once per session. The rows stay the source of truth (search,
 * erasure, a repack): blocks are derived data, checked and rebuilt from them (store.ts).
 *
 * Layout of a body of n sessions with T stamps in all (little-endian, as typed arrays are on every
 * platform workerd runs on), Int32 sections first so every view is aligned:
 *   Int32 start[n]    started_at − the day's first ms
 *   Int32 endGap[n]   ended_at − last_ts
 *   Int32 lastGap[n]  last_ts − its last stamp's time (0 in practice; kept so nothing is assumed)
 *   Int32 times[T]    each stamp's time − started_at, in record order, session after session
 *   Uint16 store[n], kiosk[n] (0: none, i: dictionary entry i − 1), path[n]
 *   Uint8 reason[n]   index in END_REASONS
 * A session whose figures do not fit (an Int32 overflow: stamps 25 days apart) is not packed: it
 * stays a row, which analytics read as before, so nothing is lost to the format.
 */
import { END_REASONS, type EndReason } from "../fields";

export const DAY_MS = 86_400_000;
/** Sessions per block: a block is rewritten whole when a batch adds to it, so it stays small (~60 KB). */
export const BLOCK_SESSIONS = 1024;

/** A session as analytics see it, from a block or a row. Reused between sessions: copy what you keep. */
export interface SessionView {
  startedAt: number;
  endedAt: number | null;
  endReason: EndReason | null;
  lastTs: number;
  store: string | null;
  kiosk: string | null;
  /** Its labels in record order. The same array for every session of a block with this path. */
  labels: readonly string[];
  /**
   * Its stamps' times (ms), in record order: filled only when the reader asked for times. Read
   * the first labels.length: the array is not shortened between sessions.
   */
  times: number[];
  /**
   * The block being read (null: a row). Within one block, storeIdx, kioskIdx and labelIds are
   * indexes into its dictionary, so a reader can cache what it derives from a store or label per
   * block instead of looking strings up per session.
   */
  source: object | null;
  storeIdx: number;
  kioskIdx: number;
  /** The path's index in the block's dictionary. */
  pathIdx: number;
  labelIds: readonly number[];
}

/** A final session's figures, as packed (or checked against a block). */
export interface PackedSession {
  id: string;
  startedAt: number;
  endedAt: number;
  endReason: EndReason;
  lastTs: number;
  store: string | null;
  kiosk: string | null;
  labels: string[];
  times: number[];
}

const fitsInt32 = (n: number) => Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff;

/** Whether a session can be packed exactly (else it stays a row). */
export function packable(s: PackedSession): boolean {
  const base = Math.floor(s.startedAt / DAY_MS) * DAY_MS;
  if (!Number.isSafeInteger(s.startedAt) || s.labels.length !== s.times.length || s.labels.length === 0) return false;
  if (!fitsInt32(s.startedAt - base) || !fitsInt32(s.endedAt - s.lastTs)) return false;
  if (!fitsInt32(s.lastTs - s.times[s.times.length - 1]!)) return false;
  return s.times.every((t) => fitsInt32(t - s.startedAt));
}

export interface Dictionary {
  labels: string[];
  /** Each path as indexes into labels. */
  paths: number[][];
  stores: string[];
  kiosks: string[];
}

/** Reads a block's sessions: `visit` is called with one reused view per session. */
export class BlockReader {
  private readonly start: Int32Array;
  private readonly endGap: Int32Array;
  private readonly lastGap: Int32Array;
  private readonly times: Int32Array;
  private readonly store: Uint16Array;
  private readonly kiosk: Uint16Array;
  private readonly path: Uint16Array;
  private readonly reason: Uint8Array;
  private readonly labelsOf: string[][];

  constructor(
    readonly day: number,
    readonly n: number,
    readonly dict: Dictionary,
    body: ArrayBuffer,
  ) {
    const c = columns(body, n, (body.byteLength - 12 * n - 6 * n - padding(n) - n) / 4);
    this.start = c.start;
    this.endGap = c.endGap;
    this.lastGap = c.lastGap;
    this.times = c.times;
    this.store = c.store;
    this.kiosk = c.kiosk;
    this.path = c.path;
    this.reason = c.reason;
    this.labelsOf = dict.paths.map((p) => p.map((i) => dict.labels[i]!));
  }

  /**
   * Calls `visit` for each session that started in [from, to). `withTimes`: fill `view.times`
   * (funnel, dwell and the check need them; visits and occupancy do not).
   */
  each(
    from: number,
    to: number,
    withTimes: boolean,
    view: SessionView,
    visit: (view: SessionView) => void,
    /** Which (store, kiosk) dictionary indexes to visit (null: all): the others cost no more than their test. */
    admit: ((store: number, kiosk: number) => boolean) | null = null,
  ): void {
    const base = this.day * DAY_MS;
    let offset = 0;
    for (let i = 0; i < this.n; i++) {
      const labels = this.labelsOf[this.path[i]!]!;
      const startedAt = base + this.start[i]!;
      const length = labels.length;
      if (startedAt < from || startedAt >= to || (admit !== null && !admit(this.store[i]!, this.kiosk[i]!))) {
        offset += length;
        continue;
      }
      const lastStamp = startedAt + this.times[offset + length - 1]!;
      view.startedAt = startedAt;
      view.lastTs = lastStamp + this.lastGap[i]!;
      view.endedAt = view.lastTs + this.endGap[i]!;
      view.endReason = END_REASONS[this.reason[i]!]!;
      const s = this.store[i]!;
      const k = this.kiosk[i]!;
      view.store = s === 0 ? null : this.dict.stores[s - 1]!;
      view.kiosk = k === 0 ? null : this.dict.kiosks[k - 1]!;
      view.labels = labels;
      view.source = this;
      view.storeIdx = s;
      view.kioskIdx = k;
      view.pathIdx = this.path[i]!;
      view.labelIds = this.dict.paths[view.pathIdx]!;
      if (withTimes) {
        const times = view.times;
        for (let j = 0; j < length; j++) times[j] = startedAt + this.times[offset + j]!;
      }
      offset += length;
      visit(view);
    }
  }

  /** `admit` over this block's dictionary indexes, from one over store and kiosk ids (decided once per pair). */
  admitting(admit: (store: string | null, kiosk: string | null) => boolean): (store: number, kiosk: number) => boolean {
    const memo = new Map<number, boolean>();
    return (s, k) => {
      const key = s * 65_536 + k;
      let ok = memo.get(key);
      if (ok === undefined) {
        ok = admit(s === 0 ? null : this.dict.stores[s - 1]!, k === 0 ? null : this.dict.kiosks[k - 1]!);
        memo.set(key, ok);
      }
      return ok;
    };
  }

  /** Every session of the block, with its id, as packed (to rewrite or check the block). */
  sessions(ids: string[]): PackedSession[] {
    const out: PackedSession[] = [];
    const view = newView();
    let i = 0;
    this.each(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, true, view, (v) => {
      out.push({
        id: ids[i++]!,
        startedAt: v.startedAt,
        endedAt: v.endedAt!,
        endReason: v.endReason!,
        lastTs: v.lastTs,
        store: v.store,
        kiosk: v.kiosk,
        labels: [...v.labels],
        times: v.times.slice(0, v.labels.length),
      });
    });
    return out;
  }
}

/** Bytes after the three Uint16 columns so the Uint8 column ends the body on a 4-byte boundary. */
function padding(n: number): number {
  return (4 - ((6 * n + n) % 4)) % 4;
}

export const newView = (): SessionView => ({
  startedAt: 0,
  endedAt: null,
  endReason: null,
  lastTs: 0,
  store: null,
  kiosk: null,
  labels: [],
  times: [],
  source: null,
  storeIdx: 0,
  kioskIdx: 0,
  pathIdx: 0,
  labelIds: [],
});

/** A block's stored columns, as appendTo() extends them. */
export interface StoredBlock {
  n: number;
  dict: Dictionary;
  body: ArrayBuffer;
}

/** The columns of a body of n sessions and T stamps, as views. */
function columns(body: ArrayBuffer, n: number, total: number) {
  const u16 = 4 * (3 * n + total);
  return {
    start: new Int32Array(body, 0, n),
    endGap: new Int32Array(body, 4 * n, n),
    lastGap: new Int32Array(body, 8 * n, n),
    times: new Int32Array(body, 12 * n, total),
    store: new Uint16Array(body, u16, n),
    kiosk: new Uint16Array(body, u16 + 2 * n, n),
    path: new Uint16Array(body, u16 + 4 * n, n),
    reason: new Uint8Array(body, u16 + 6 * n + padding(n), n),
  };
}

const bodyBytes = (n: number, total: number) => 4 * (3 * n + total) + 6 * n + padding(n) + n;

/**
 * Encodes packable sessions of one UTC day (`day`: its index since the epoch) as a block, after
 * the sessions of `base` when given: its columns are copied as they are and its dictionary
 * extended, so adding a batch's sessions to a day's open block costs a copy, not a decode.
 */
export function encodeBlock(day: number, sessions: PackedSession[], base: StoredBlock | null = null): StoredBlock {
  const dict: Dictionary = base
    ? { labels: [...base.dict.labels], paths: [...base.dict.paths], stores: [...base.dict.stores], kiosks: [...base.dict.kiosks] }
    : { labels: [], paths: [], stores: [], kiosks: [] };
  const mapOf = (list: string[]) => new Map(list.map((v, i) => [v, i]));
  const labelIndex = mapOf(dict.labels);
  const pathIndex = new Map(dict.paths.map((p, i) => [p.join(","), i]));
  const storeIndex = mapOf(dict.stores);
  const kioskIndex = mapOf(dict.kiosks);
  const indexIn = (map: Map<string, number>, list: string[], value: string) => {
    let i = map.get(value);
    if (i === undefined) {
      i = list.length;
      list.push(value);
      map.set(value, i);
    }
    return i;
  };
  const n0 = base?.n ?? 0;
  const t0 = base ? (base.body.byteLength - 12 * n0 - 6 * n0 - padding(n0) - n0) / 4 : 0;
  const n = n0 + sessions.length;
  const total = t0 + sessions.reduce((a, s) => a + s.times.length, 0);
  const body = new ArrayBuffer(bodyBytes(n, total));
  const c = columns(body, n, total);
  if (base) {
    const b = columns(base.body, n0, t0);
    c.start.set(b.start);
    c.endGap.set(b.endGap);
    c.lastGap.set(b.lastGap);
    c.times.set(b.times);
    c.store.set(b.store);
    c.kiosk.set(b.kiosk);
    c.path.set(b.path);
    c.reason.set(b.reason);
  }
  const first = day * DAY_MS;
  let offset = t0;
  sessions.forEach((s, j) => {
    const i = n0 + j;
    c.start[i] = s.startedAt - first;
    c.endGap[i] = s.endedAt - s.lastTs;
    c.lastGap[i] = s.lastTs - s.times[s.times.length - 1]!;
    for (const t of s.times) c.times[offset++] = t - s.startedAt;
    c.store[i] = s.store === null ? 0 : indexIn(storeIndex, dict.stores, s.store) + 1;
    c.kiosk[i] = s.kiosk === null ? 0 : indexIn(kioskIndex, dict.kiosks, s.kiosk) + 1;
    const labels = s.labels.map((l) => indexIn(labelIndex, dict.labels, l));
    const key = labels.join(",");
    let p = pathIndex.get(key);
    if (p === undefined) {
      p = dict.paths.length;
      dict.paths.push(labels);
      pathIndex.set(key, p);
    }
    c.path[i] = p;
    c.reason[i] = END_REASONS.indexOf(s.endReason);
  });
  return { n, dict, body };
}

/** The UTC day index of an instant. */
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);
