import type { EndReason } from "../fields";
import { Sql } from "../sql";
import {
  BLOCK_SESSIONS,
  BlockReader,
  DAY_MS,
  type Dictionary,
  dayOf,
  encodeBlock,
  newView,
  type PackedSession,
  packable,
  type SessionView,
  type StoredBlock,
} from "./blocks";
import type { SessionDelta, SessionHeader } from "./messages";
import {
  addToDay,
  type DaySummary,
  type DwellSummary,
  decodeDwell,
  decodeStores,
  encodeDay,
  mergeDwellSummary,
  newDaySummary,
  newDwellSummary,
} from "./summaries";

/**
 * SQLite storage of one tenant index shard. A month shard uses `sessions` and `stamps`; the live
 * shard uses `live`; every shard keeps the `floors` of the personas whose rows it dropped.
 * Every method is synchronous, so a batch is applied in one `transactionSync`.
 */

/** Labels cannot contain control characters, so the stored path separates them with U+0001. */
export const PATH_SEPARATOR = "\u0001";

export const MIGRATIONS: ReadonlyArray<{ version: number; statements: readonly string[] }> = [
  {
    version: 1,
    statements: [
      "CREATE TABLE schema_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
      `CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        persona_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT,
        stamp_count INTEGER NOT NULL,
        last_status TEXT NOT NULL,
        last_ts INTEGER NOT NULL,
        path TEXT NOT NULL DEFAULT '',
        path_ts TEXT NOT NULL DEFAULT '',
        stamps_held INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID`,
      // Search and analytics select by start time; erasure and sync checks by persona.
      "CREATE INDEX sessions_by_start ON sessions (started_at, session_id)",
      "CREATE INDEX sessions_by_persona ON sessions (persona_id, session_id)",
      `CREATE TABLE stamps (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE live (
        persona_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        stamp_count INTEGER NOT NULL,
        status TEXT NOT NULL,
        status_since INTEGER NOT NULL,
        idle_at INTEGER
      ) WITHOUT ROWID`,
      // Only active sessions are listed and counted: the indexes hold only them.
      "CREATE INDEX live_active ON live (started_at, persona_id) WHERE ended_at IS NULL",
      "CREATE INDEX live_active_status ON live (status, started_at, persona_id) WHERE ended_at IS NULL",
      "CREATE TABLE floors (persona_id TEXT PRIMARY KEY, floor TEXT NOT NULL) WITHOUT ROWID",
      "CREATE TABLE shard_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    ],
  },
  {
    // Where each session happens. No index: the filters ride on the start-time and live indexes.
    version: 2,
    statements: [
      "ALTER TABLE sessions ADD COLUMN store_id TEXT",
      "ALTER TABLE sessions ADD COLUMN kiosk_id TEXT",
      "ALTER TABLE live ADD COLUMN store_id TEXT",
      "ALTER TABLE live ADD COLUMN kiosk_id TEXT",
    ],
  },
  {
    // Ended sessions packed into column blocks for analytics (blocks.ts). `packed` is the block's
    // seq + 1 for a session in a block (its day is its start's), 0 for one that is not; the partial index finds the others (active, incomplete, or not yet
    // packed), which analytics read as rows. Existing shards pack their ended sessions in the
    // batches after the upgrade (`pack_backlog`): answers are the same meanwhile, only slower.
    version: 3,
    statements: [
      `CREATE TABLE blocks (
        day INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        n INTEGER NOT NULL,
        first_start INTEGER NOT NULL,
        last_start INTEGER NOT NULL,
        dict TEXT NOT NULL,
        body BLOB NOT NULL,
        ids TEXT NOT NULL,
        PRIMARY KEY (day, seq)
      ) WITHOUT ROWID`,
      "ALTER TABLE sessions ADD COLUMN packed INTEGER NOT NULL DEFAULT 0",
      "CREATE INDEX sessions_unpacked ON sessions (started_at) WHERE packed = 0",
      "INSERT INTO shard_meta (key, value) VALUES ('pack_backlog', 1) ON CONFLICT (key) DO UPDATE SET value = 1",
    ],
  },
  {
    // Per-day summaries of the packed sessions (summaries.ts: dwell, and sessions per store), one
    // row per UTC day that has blocks. A shard upgraded with blocks builds its days' summaries in
    // the batches after the upgrade (`summary_backlog`); a day without one is scanned meanwhile,
    // so answers are the same.
    version: 4,
    statements: [
      "CREATE TABLE day_summaries (day INTEGER PRIMARY KEY, dwell TEXT NOT NULL, stores TEXT NOT NULL) WITHOUT ROWID",
      "INSERT INTO shard_meta (key, value) VALUES ('summary_backlog', 1) ON CONFLICT (key) DO UPDATE SET value = 1",
      // The longest packed session (IndexStore.packedSpan): known from the start only for a shard with no blocks yet.
      "INSERT INTO shard_meta (key, value) SELECT 'max_packed_ms', 0 WHERE NOT EXISTS (SELECT 1 FROM blocks)",
    ],
  },
];

/** How many days' summaries a batch builds from the backlog an upgrade left. */
const SUMMARY_BACKLOG_PER_BATCH = 4;

const NO_DAYS: ReadonlySet<number> = new Set();

/** How many ended sessions a batch packs from the backlog an upgrade left (beyond its own). */
const PACK_BACKLOG_PER_BATCH = 2000;

/** The row columns a session is packed from (and checked against). */
type PackRow = [
  session_id: string,
  started_at: number,
  ended_at: number | null,
  end_reason: EndReason | null,
  last_ts: number,
  path: string,
  path_ts: string,
  store_id: string | null,
  kiosk_id: string | null,
  stamps_held: number,
  stamp_count: number,
  packed: number,
];
const PACK_COLUMNS =
  "session_id, started_at, ended_at, end_reason, last_ts, path, path_ts, store_id, kiosk_id, stamps_held, stamp_count, packed";

/** A row as a packed session, or null while it can still change (active, or missing stamps). */
function finalSession(r: PackRow): PackedSession | null {
  if (r[2] === null || r[3] === null || r[9] !== r[10] || r[5] === "") return null;
  return {
    id: r[0],
    startedAt: r[1],
    endedAt: r[2],
    endReason: r[3],
    lastTs: r[4],
    store: r[7],
    kiosk: r[8],
    labels: r[5].split(PATH_SEPARATOR),
    times: timesOf(r[6], []),
  };
}

/**
 * The stamps' times of a stored path (`path_ts`: whole milliseconds, comma-separated), parsed
 * without a string per number.
 */
export function timesOf(pathTs: string, into: number[]): number[] {
  into.length = 0;
  if (pathTs === "") return into;
  let n = 0;
  let start = 0;
  for (let i = 0; i <= pathTs.length; i++) {
    const c = i < pathTs.length ? pathTs.charCodeAt(i) : 44;
    if (c === 44) {
      into.push(n);
      n = 0;
      start = i + 1;
    } else if (c >= 48 && c <= 57) n = n * 10 + (c - 48);
    else {
      // Not a whole number (never written so; kept exact should it be): parse it as written.
      const end = pathTs.indexOf(",", i);
      into.push(Number(pathTs.slice(start, end < 0 ? undefined : end)));
      i = end < 0 ? pathTs.length : end;
      n = 0;
      start = i + 1;
    }
  }
  return into;
}

/** What a drift check found in a shard's blocks. */
export interface BlockCheck {
  blocks: number;
  /** Sessions read from blocks and compared with their rows. */
  sessions: number;
  /** UTC days (YYYY-MM-DD) whose blocks differ from their rows: a session missing, extra, or different. */
  drifted_days: string[];
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** In a RETURNING clause: 1 when the session is ended, holds every stamp, and is not packed yet. */
const FINAL = "(ended_at IS NOT NULL AND stamps_held = stamp_count AND packed = 0) AS final";

export interface IndexedSession extends Record<string, SqlStorageValue> {
  session_id: string;
  persona_id: string;
  started_at: number;
  ended_at: number | null;
  end_reason: EndReason | null;
  stamp_count: number;
  last_status: string;
  last_ts: number;
  store_id: string | null;
  kiosk_id: string | null;
}

export interface LiveRow extends Record<string, SqlStorageValue> {
  persona_id: string;
  session_id: string;
  started_at: number;
  ended_at: number | null;
  stamp_count: number;
  status: string;
  status_since: number;
  idle_at: number | null;
  store_id: string | null;
  kiosk_id: string | null;
}

/** What a shard holds of one session, for the persona object's check that nothing was lost. */
export interface SessionSyncState {
  id: string;
  /** How many of its first stamps (1, 2, ...) the shard holds without a gap. */
  prefix: number;
  stamp_count: number;
  ended: boolean;
}

export class IndexStore {
  readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  /**
   * Whether the shard has its schema: false until it first applies a batch, so a read of a shard
   * that holds nothing (a month no session started in) answers from nothing and creates no storage.
   */
  get created(): boolean {
    if (!this.hasSchema) this.hasSchema = this.schemaVersion() > 0;
    return this.hasSchema;
  }
  private hasSchema = false;

  private schemaVersion(): number {
    const table = this.sql.one("schema_meta exists", "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_meta'");
    return table
      ? (this.sql.one<{ value: number }>("schema version", "SELECT value FROM schema_meta WHERE key = 'version'")?.value ?? 0)
      : 0;
  }

  /** At start-up: upgrades a shard that has data; one that has none stays empty. */
  open(): void {
    if (this.created) this.migrate();
  }

  /** Brings the schema up to `target` (default: the latest). */
  migrate(target = SCHEMA_VERSION): void {
    let version = this.schemaVersion();
    for (const migration of MIGRATIONS) {
      if (migration.version <= version || migration.version > target) continue;
      for (const statement of migration.statements) this.sql.run(`migration ${migration.version}`, statement);
      this.sql.run(
        "set schema version",
        "INSERT INTO schema_meta (key, value) VALUES ('version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        migration.version,
      );
      version = migration.version;
    }
    this.hasSchema = version > 0;
  }

  floor(persona: string): string | null {
    if (!this.created) return null;
    return this.sql.one<{ floor: string }>("floor of persona", "SELECT floor FROM floors WHERE persona_id = ?", persona)?.floor ?? null;
  }

  /** Raises the persona's floor and drops every row at or below it. */
  applyFloor(persona: string, floor: string): void {
    const known = this.floor(persona);
    if (known !== null && known >= floor) return;
    this.sql.run(
      "raise floor",
      "INSERT INTO floors (persona_id, floor) VALUES (?, ?) ON CONFLICT (persona_id) DO UPDATE SET floor = excluded.floor",
      persona,
      floor,
    );
    this.unpack(
      this.sql.all<{ session_id: string; started_at: number; packed: number }>(
        "floor: packed sessions",
        "SELECT session_id, started_at, packed FROM sessions WHERE persona_id = ? AND session_id <= ? AND packed > 0",
        persona,
        floor,
      ),
    );
    this.sql.run(
      "floor: stamps",
      "DELETE FROM stamps WHERE session_id IN (SELECT session_id FROM sessions WHERE persona_id = ? AND session_id <= ?)",
      persona,
      floor,
    );
    this.sql.run("floor: sessions", "DELETE FROM sessions WHERE persona_id = ? AND session_id <= ?", persona, floor);
    this.sql.run("floor: live", "DELETE FROM live WHERE persona_id = ? AND session_id <= ?", persona, floor);
  }

  /**
   * Month shards: the session's new stamps, then its header merged with what is known in one
   * upsert. States only move forward (more stamps, then ended), so the merge keeps the furthest of
   * each part, whatever order messages come in. The path is extended in the same statement when
   * the new stamps are exactly the ones after those it holds (as they nearly always are), and
   * rebuilt from the stamps when they are not. True when the shard now knows of stamps it does
   * not hold (the header counts more than it has): an earlier message is missing, lost or late;
   * null when the delta changed nothing (a duplicate, or older news). `final`: the session is now
   * ended with every stamp held and not yet packed (the caller packs it, pack()).
   */
  applySession(persona: string, delta: SessionDelta): { gap: boolean; final: boolean } | null {
    let added = 0;
    for (const [seq, status, ts] of delta.stamps) {
      added += this.sql.all(
        "insert stamp",
        "INSERT INTO stamps (session_id, seq, status, ts) VALUES (?, ?, ?, ?) ON CONFLICT (session_id, seq) DO NOTHING RETURNING seq",
        delta.id,
        seq,
        status,
        ts,
      ).length;
    }
    const first = delta.stamps[0]?.[0] ?? 0;
    const appendable = added > 0 && added === delta.stamps.length && delta.stamps.every(([seq], i) => seq === first + i);
    const held = this.sql.one<{ stamps_held: number; stamp_count: number; final: number }>(
      "upsert session",
      `INSERT INTO sessions (session_id, persona_id, started_at, ended_at, end_reason, stamp_count, last_status, last_ts, path, path_ts, stamps_held,
          store_id, kiosk_id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
          CASE WHEN ?9 AND ?10 = 1 THEN ?11 ELSE '' END, CASE WHEN ?9 AND ?10 = 1 THEN ?12 ELSE '' END, CASE WHEN ?9 AND ?10 = 1 THEN ?13 ELSE 0 END,
          ?14, ?15)
        ON CONFLICT (session_id) DO UPDATE SET
          ended_at = COALESCE(sessions.ended_at, excluded.ended_at),
          end_reason = COALESCE(sessions.end_reason, excluded.end_reason),
          last_status = CASE WHEN excluded.stamp_count > sessions.stamp_count THEN excluded.last_status ELSE sessions.last_status END,
          last_ts = CASE WHEN excluded.stamp_count > sessions.stamp_count THEN excluded.last_ts ELSE sessions.last_ts END,
          stamp_count = MAX(sessions.stamp_count, excluded.stamp_count),
          path = CASE WHEN ?9 AND ?10 = sessions.stamps_held + 1
            THEN CASE WHEN sessions.path = '' THEN ?11 ELSE sessions.path || char(1) || ?11 END ELSE sessions.path END,
          path_ts = CASE WHEN ?9 AND ?10 = sessions.stamps_held + 1
            THEN CASE WHEN sessions.path_ts = '' THEN ?12 ELSE sessions.path_ts || ',' || ?12 END ELSE sessions.path_ts END,
          stamps_held = CASE WHEN ?9 AND ?10 = sessions.stamps_held + 1 THEN sessions.stamps_held + ?13 ELSE sessions.stamps_held END
        WHERE excluded.stamp_count > sessions.stamp_count
          OR (sessions.ended_at IS NULL AND excluded.ended_at IS NOT NULL)
          OR (?9 AND ?10 = sessions.stamps_held + 1)
        RETURNING stamps_held, stamp_count, ${FINAL}`,
      delta.id,
      persona,
      delta.started_at,
      delta.ended_at,
      delta.ended_at === null ? null : delta.end_reason,
      delta.stamp_count,
      delta.last_status,
      delta.last_ts,
      appendable ? 1 : 0,
      first,
      delta.stamps.map(([, status]) => status).join(PATH_SEPARATOR),
      delta.stamps.map(([, , ts]) => ts).join(","),
      delta.stamps.length,
      delta.store_id,
      delta.kiosk_id,
    );
    // New stamps the path did not take (out of order, or after a gap): rebuild it from the stamps.
    if (added > 0 && held?.stamps_held !== first + delta.stamps.length - 1) {
      const after = this.writePath(delta.id);
      return after === null ? { gap: false, final: false } : { gap: after.stamps_held < after.stamp_count, final: after.final === 1 };
    }
    return held === null ? null : { gap: held.stamps_held < held.stamp_count, final: held.final === 1 };
  }

  /**
   * The session's labels and times in record order, kept on its row so analytics read one row per
   * session instead of its stamps. Labels cannot contain control characters, so U+0001 separates them.
   */
  /** Rebuilds a session's path from its stamps; its counts after that (null: no such session). */
  private writePath(sessionId: string): { stamps_held: number; stamp_count: number; final: number } | null {
    return this.sql.one<{ stamps_held: number; stamp_count: number; final: number }>(
      "write path",
      `UPDATE sessions SET
        path = (SELECT group_concat(status, char(1) ORDER BY seq) FROM stamps WHERE session_id = ?1),
        path_ts = (SELECT group_concat(ts, ',' ORDER BY seq) FROM stamps WHERE session_id = ?1),
        stamps_held = (SELECT COUNT(*) FROM stamps WHERE session_id = ?1)
        WHERE session_id = ?1
        RETURNING stamps_held, stamp_count, ${FINAL}`,
      sessionId,
    );
  }

  /**
   * Calls `visit` for every session that started in [from, to): the packed ones from their blocks,
   * the others (active, missing stamps, or not packed yet) from their rows, through the partial
   * index that holds only them. `withPath`: fill labels (funnel, dwell, paths); `withTimes`: and
   * their times. The view is reused: a visitor copies what it keeps.
   */
  eachSession(
    from: number,
    to: number,
    need: { path: boolean; times: boolean },
    visit: (view: SessionView) => void,
    only: {
      /** Days whose blocks are left out (a summary holds their packed sessions); their rows are still read. */
      skipBlocksOf?: ReadonlySet<number>;
      /** Which sessions to visit by their store and kiosk; the others are skipped before their times are read. */
      admit?: (store: string | null, kiosk: string | null) => boolean;
      /** Packed sessions only from this start on (rows from `from`): what cannot matter before it, see packedSpan(). */
      blocksFrom?: number;
    } = {},
  ): void {
    if (!this.created) return;
    const view = newView();
    const skip = only.skipBlocksOf ?? NO_DAYS;
    const blocksFrom = Math.max(from, only.blocksFrom ?? from);
    for (const [day, n, dict, body] of this.sql.raw<[number, number, string, ArrayBuffer]>(
      "analytics blocks",
      "SELECT day, n, dict, body FROM blocks WHERE day >= ?1 AND day <= ?2 AND last_start >= ?3 AND first_start < ?4",
      dayOf(blocksFrom),
      dayOf(to - 1),
      blocksFrom,
      to,
    )) {
      if (skip.has(day)) continue;
      const reader = new BlockReader(day, n, JSON.parse(dict) as Dictionary, body);
      reader.each(blocksFrom, to, need.times, view, visit, only.admit ? reader.admitting(only.admit) : null);
    }
    const admit = only.admit ?? null;
    const empty: string[] = [];
    for (const [startedAt, endedAt, endReason, lastTs, path, pathTs, store, kiosk] of this.sql.raw<
      [number, number | null, EndReason | null, number, string, string, string | null, string | null]
    >(
      need.path ? "analytics rows" : "analytics rows without paths",
      `SELECT started_at, ended_at, end_reason, last_ts, ${need.path ? "path" : "''"}, ${need.times ? "path_ts" : "''"}, store_id, kiosk_id
        FROM sessions WHERE packed = 0 AND started_at >= ? AND started_at < ?`,
      from,
      to,
    )) {
      if (admit !== null && !admit(store, kiosk)) continue;
      view.startedAt = startedAt;
      view.endedAt = endedAt;
      view.endReason = endReason;
      view.lastTs = lastTs;
      view.store = store;
      view.kiosk = kiosk;
      view.labels = path === "" ? empty : path.split(PATH_SEPARATOR);
      view.source = null;
      timesOf(pathTs, view.times);
      visit(view);
    }
  }

  /**
   * Packs sessions that became final (ended, every stamp held) into their start day's open block,
   * in the caller's transaction, then up to PACK_BACKLOG_PER_BATCH of those an upgrade left. A
   * session that is not final, already packed, or does not fit the format stays a row.
   */
  pack(sessionIds: Iterable<string>): void {
    const rows: PackRow[] = [];
    for (const id of new Set(sessionIds)) {
      const row = this.sql.firstRaw<PackRow>("row to pack", `SELECT ${PACK_COLUMNS} FROM sessions WHERE session_id = ?`, id);
      if (row) rows.push(row);
    }
    if (this.sql.one<{ value: number }>("pack backlog", "SELECT value FROM shard_meta WHERE key = 'pack_backlog'")?.value === 1) {
      const backlog = [
        ...this.sql.raw<PackRow>(
          "backlog to pack",
          `SELECT ${PACK_COLUMNS} FROM sessions WHERE packed = 0 AND ended_at IS NOT NULL AND stamps_held = stamp_count LIMIT ?`,
          PACK_BACKLOG_PER_BATCH,
        ),
      ];
      rows.push(...backlog);
      if (backlog.length < PACK_BACKLOG_PER_BATCH)
        this.sql.run("backlog packed", "UPDATE shard_meta SET value = 0 WHERE key = 'pack_backlog'");
    }
    const byDay = new Map<number, PackedSession[]>();
    const seen = new Set<string>();
    for (const row of rows) {
      if (row[11] !== 0 || seen.has(row[0])) continue;
      seen.add(row[0]);
      const session = finalSession(row);
      if (session === null || !packable(session)) continue;
      const day = dayOf(session.startedAt);
      const list = byDay.get(day) ?? [];
      list.push(session);
      byDay.set(day, list);
    }
    let longest = 0;
    for (const list of byDay.values()) for (const s of list) longest = Math.max(longest, s.endedAt - s.startedAt);
    const known = this.packedSpan();
    if (known !== null && longest > known)
      this.sql.run("longest packed", "UPDATE shard_meta SET value = ? WHERE key = 'max_packed_ms'", longest);
    for (const [day, sessions] of byDay) {
      const summary = this.daySummary(day);
      const open = this.sql.firstRaw<[number, number, string, ArrayBuffer, string, number, number]>(
        "open block",
        "SELECT seq, n, dict, body, ids, first_start, last_start FROM blocks WHERE day = ? ORDER BY seq DESC LIMIT 1",
        day,
      );
      let seq = 0;
      let rest = sessions;
      const mark = (list: PackedSession[], at: number) => {
        for (const s of list) this.sql.run("mark packed", "UPDATE sessions SET packed = ? WHERE session_id = ?", at + 1, s.id);
      };
      if (open) {
        seq = open[0];
        const room = BLOCK_SESSIONS - open[1];
        if (room > 0) {
          const [, n, dict, body, ids, first, last] = open;
          const added = rest.slice(0, room);
          this.writeBlock(day, seq, added, {
            n,
            dict: JSON.parse(dict) as Dictionary,
            body,
            ids: JSON.parse(ids) as string[],
            first,
            last,
          });
          mark(added, seq);
          rest = rest.slice(room);
        }
        seq += 1;
      }
      for (let i = 0; i < rest.length; i += BLOCK_SESSIONS) {
        const added = rest.slice(i, i + BLOCK_SESSIONS);
        this.writeBlock(day, seq, added);
        mark(added, seq);
        seq += 1;
      }
      // A day with blocks but no summary (an upgrade's backlog) gets one from all its blocks;
      // otherwise the new sessions are added to it.
      if (summary === null && open) this.summarizeDay(day);
      else {
        const next = summary ?? newDaySummary();
        for (const s of sessions) addToDay(next, s, 1);
        this.writeSummary(day, next);
      }
    }
    this.summaryBacklog();
  }

  /**
   * The longest a packed session lasted (start to end, ms), so a reader of presence can skip the
   * blocks of sessions that started too early to overlap its range; null when unknown (a shard
   * packed before version 4 kept no record of it: its readers read every block).
   */
  packedSpan(): number | null {
    if (!this.created) return 0;
    return this.sql.one<{ value: number }>("longest packed", "SELECT value FROM shard_meta WHERE key = 'max_packed_ms'")?.value ?? null;
  }

  /** The day's summary as stored (null: none). */
  private daySummary(day: number): DaySummary | null {
    const row = this.sql.firstRaw<[string, string]>("day summary", "SELECT dwell, stores FROM day_summaries WHERE day = ?", day);
    if (!row) return null;
    // One that does not decode is rebuilt from the blocks by the caller, as a missing one is.
    const dwell = decodeDwell(row[0]);
    const stores = decodeStores(row[1]);
    return dwell === null || stores === null ? null : { dwell, stores };
  }

  private writeSummary(day: number, summary: DaySummary): void {
    const encoded = encodeDay(summary);
    if (summary.dwell.sessions === 0) this.sql.run("drop day summary", "DELETE FROM day_summaries WHERE day = ?", day);
    else
      this.sql.run(
        "write day summary",
        "INSERT INTO day_summaries (day, dwell, stores) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET dwell = excluded.dwell, stores = excluded.stores",
        day,
        encoded.dwell,
        encoded.stores,
      );
  }

  /** The day's summary computed from its blocks (what the stored one must equal). */
  private summaryFromBlocks(day: number): DaySummary {
    const summary = newDaySummary();
    for (const block of this.sql.raw<[number, number, string, ArrayBuffer, string]>(
      "blocks of day",
      "SELECT seq, n, dict, body, ids FROM blocks WHERE day = ?",
      day,
    )) {
      for (const s of this.blockSessions(day, block)) addToDay(summary, s, 1);
    }
    return summary;
  }

  private summarizeDay(day: number): void {
    this.writeSummary(day, this.summaryFromBlocks(day));
  }

  /** After an upgrade: a few days with blocks and no summary get theirs, each batch, until none is left. */
  private summaryBacklog(): void {
    if (this.sql.one<{ value: number }>("summary backlog", "SELECT value FROM shard_meta WHERE key = 'summary_backlog'")?.value !== 1)
      return;
    const days = [
      ...this.sql.raw<[number]>(
        "days to summarize",
        "SELECT DISTINCT day FROM blocks WHERE day NOT IN (SELECT day FROM day_summaries) ORDER BY day LIMIT ?",
        SUMMARY_BACKLOG_PER_BATCH,
      ),
    ];
    for (const [day] of days) this.summarizeDay(day);
    if (days.length < SUMMARY_BACKLOG_PER_BATCH)
      this.sql.run("summaries built", "UPDATE shard_meta SET value = 0 WHERE key = 'summary_backlog'");
  }

  /**
   * The dwell summaries of the whole UTC days in [from, to) that have one, added up, and which
   * days they are (their packed sessions are in the sum: a scan leaves those days' blocks out).
   */
  dwellSummaries(from: number, to: number): { summary: DwellSummary; days: Set<number> } {
    const summary = newDwellSummary();
    const days = this.wholeDays(from, to, "dwell", (text) => {
      const decoded = decodeDwell(text);
      if (decoded !== null) mergeDwellSummary(summary, decoded);
      return decoded !== null;
    });
    return { summary, days };
  }

  /**
   * Like dwellSummaries: per store, the sessions of the whole days in [from, to) that have a
   * summary (or, with `present`, those of them present for some time), and which days.
   */
  storeSummaries(from: number, to: number, present = false): { stores: Map<string | null, number>; days: Set<number> } {
    const stores = new Map<string | null, number>();
    const days = this.wholeDays(from, to, "stores", (text) => {
      const decoded = decodeStores(text);
      for (const [store, c] of decoded ?? []) {
        const n = present ? c.present : c.sessions;
        if (n > 0) stores.set(store, (stores.get(store) ?? 0) + n);
      }
      return decoded !== null;
    });
    return { stores, days };
  }

  /** Reads one column of the summaries of the whole UTC days in [from, to); the days whose `read` took it. */
  private wholeDays(from: number, to: number, column: "dwell" | "stores", read: (text: string) => boolean): Set<number> {
    const days = new Set<number>();
    const first = Math.ceil(from / DAY_MS);
    const last = Math.floor(to / DAY_MS) - 1;
    if (!this.created || last < first) return days;
    for (const [day, text] of this.sql.raw<[number, string]>(
      `day summaries: ${column}`,
      `SELECT day, ${column} FROM day_summaries WHERE day >= ? AND day <= ?`,
      first,
      last,
    )) {
      if (read(text)) days.add(day);
    }
    return days;
  }

  private blockSessions(day: number, [, n, dict, body, ids]: [number, number, string, ArrayBuffer, string]): PackedSession[] {
    return new BlockReader(day, n, JSON.parse(dict) as Dictionary, body).sessions(JSON.parse(ids) as string[]);
  }

  /** Writes a block of these sessions, after those of `base` (the block's stored columns) when given; none at all drops it. */
  private writeBlock(
    day: number,
    seq: number,
    sessions: PackedSession[],
    base: (StoredBlock & { ids: string[]; first: number; last: number }) | null = null,
  ): void {
    if (sessions.length === 0 && (base === null || base.n === 0)) {
      this.sql.run("drop block", "DELETE FROM blocks WHERE day = ? AND seq = ?", day, seq);
      return;
    }
    const block = encodeBlock(day, sessions, base);
    // The range of starts over the whole block, its earlier sessions' from what is stored.
    let first = base?.first ?? Number.POSITIVE_INFINITY;
    let last = base?.last ?? Number.NEGATIVE_INFINITY;
    for (const s of sessions) {
      first = Math.min(first, s.startedAt);
      last = Math.max(last, s.startedAt);
    }
    this.sql.run(
      "write block",
      `INSERT INTO blocks (day, seq, n, first_start, last_start, dict, body, ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (day, seq) DO UPDATE SET n = excluded.n, first_start = excluded.first_start, last_start = excluded.last_start,
          dict = excluded.dict, body = excluded.body, ids = excluded.ids`,
      day,
      seq,
      block.n,
      first,
      last,
      JSON.stringify(block.dict),
      block.body,
      JSON.stringify([...(base?.ids ?? []), ...sessions.map((s) => s.id)]),
    );
  }

  /**
   * Takes sessions out of their blocks (before their rows are deleted): each block that holds one
   * (its row says which) is rewritten without them, or dropped when none is left.
   */
  private unpack(sessions: { session_id: string; started_at: number; packed: number }[]): void {
    const blocks = new Map<string, { day: number; seq: number; ids: Set<string> }>();
    for (const s of sessions) {
      const day = dayOf(s.started_at);
      const key = `${day}:${s.packed}`;
      const block = blocks.get(key) ?? { day, seq: s.packed - 1, ids: new Set() };
      block.ids.add(s.session_id);
      blocks.set(key, block);
    }
    for (const { day, seq, ids } of blocks.values()) {
      const block = this.sql.firstRaw<[number, number, string, ArrayBuffer, string]>(
        "block of session",
        "SELECT seq, n, dict, body, ids FROM blocks WHERE day = ? AND seq = ?",
        day,
        seq,
      );
      // Missing: drift, which the check finds and the repair rebuilds from the rows.
      if (!block) continue;
      const all = this.blockSessions(day, block);
      this.writeBlock(
        day,
        seq,
        all.filter((s) => !ids.has(s.id)),
      );
      const summary = this.daySummary(day);
      if (summary !== null) {
        for (const s of all) if (ids.has(s.id)) addToDay(summary, s, -1);
        this.writeSummary(day, summary);
        // None, or one that does not decode: the day's, from its blocks as they are now.
      } else this.summarizeDay(day);
    }
  }

  /**
   * The drift check: every block's sessions compared with their rows (the source of truth), and
   * each day's count of packed rows with its blocks'. Reads the whole shard: an operator's tool.
   */
  checkBlocks(): BlockCheck {
    if (!this.created) return { blocks: 0, sessions: 0, drifted_days: [] };
    const drifted = new Set<number>();
    const inBlocks = new Map<number, number>();
    // Each day's summary as its blocks' sessions make it, built in the same pass (what the stored one must equal).
    const fromBlocks = new Map<number, DaySummary>();
    let blocks = 0;
    let sessions = 0;
    for (const block of this.sql.raw<[number, number, number, string, ArrayBuffer, string]>(
      "every block",
      "SELECT day, seq, n, dict, body, ids FROM blocks",
    )) {
      blocks += 1;
      const [day, seq, n, dict, body, ids] = block;
      let packedSessions: PackedSession[];
      try {
        packedSessions = this.blockSessions(day, [seq, n, dict, body, ids]);
      } catch {
        drifted.add(day);
        continue;
      }
      inBlocks.set(day, (inBlocks.get(day) ?? 0) + packedSessions.length);
      let summary = fromBlocks.get(day);
      if (summary === undefined) {
        summary = newDaySummary();
        fromBlocks.set(day, summary);
      }
      for (const s of packedSessions) {
        sessions += 1;
        addToDay(summary, s, 1);
        const row = this.sql.firstRaw<PackRow>("row of packed", `SELECT ${PACK_COLUMNS} FROM sessions WHERE session_id = ?`, s.id);
        const expected = row && row[11] === seq + 1 ? finalSession(row) : null;
        if (expected === null || JSON.stringify(expected) !== JSON.stringify(s) || dayOf(s.startedAt) !== day) drifted.add(day);
      }
    }
    const inRows = new Map(
      this.sql.raw<[number, number]>(
        "packed rows per day",
        "SELECT started_at / 86400000, COUNT(*) FROM sessions WHERE packed > 0 GROUP BY 1",
      ),
    );
    for (const day of new Set([...inBlocks.keys(), ...inRows.keys()])) {
      if ((inBlocks.get(day) ?? 0) !== (inRows.get(day) ?? 0)) drifted.add(day);
    }
    // Each day's summary against its blocks' sessions (a day still in an upgrade's backlog has none yet).
    const backlog =
      this.sql.one<{ value: number }>("summary backlog", "SELECT value FROM shard_meta WHERE key = 'summary_backlog'")?.value === 1;
    const summarized = new Map(
      [...this.sql.raw<[number, string, string]>("every summary", "SELECT day, dwell, stores FROM day_summaries")].map(
        ([day, dwell, stores]) => [day, JSON.stringify([dwell, stores])],
      ),
    );
    for (const day of new Set([...inBlocks.keys(), ...summarized.keys()])) {
      const stored = summarized.get(day);
      if (stored === undefined && backlog) continue;
      const e = encodeDay(fromBlocks.get(day) ?? newDaySummary());
      if (stored !== JSON.stringify([e.dwell, e.stores]) && !(stored === undefined && (inBlocks.get(day) ?? 0) === 0)) drifted.add(day);
    }
    return {
      blocks,
      sessions,
      drifted_days: [...drifted].sort((a, b) => a - b).map((d) => new Date(d * DAY_MS).toISOString().slice(0, 10)),
    };
  }

  /** The repair: a day's blocks rebuilt from its rows (in the caller's transaction). */
  repackDay(day: number): void {
    this.sql.run("drop day's blocks", "DELETE FROM blocks WHERE day = ?", day);
    this.sql.run("drop day's summary", "DELETE FROM day_summaries WHERE day = ?", day);
    const from = day * DAY_MS;
    const to = from + DAY_MS;
    this.sql.run("unmark day", "UPDATE sessions SET packed = 0 WHERE packed > 0 AND started_at >= ? AND started_at < ?", from, to);
    const ids = this.sql
      .all<{ session_id: string }>(
        "finals of day",
        "SELECT session_id FROM sessions WHERE packed = 0 AND started_at >= ? AND started_at < ? AND ended_at IS NOT NULL AND stamps_held = stamp_count",
        from,
        to,
      )
      .map((r) => r.session_id);
    this.pack(ids);
  }

  /**
   * The live shard: the persona's latest session, merged like a month shard's session in one
   * upsert; news of an older session changes nothing.
   */
  applyLive(persona: string, header: SessionHeader): void {
    this.sql.run(
      "upsert live",
      `INSERT INTO live (persona_id, session_id, started_at, ended_at, stamp_count, status, status_since, idle_at, store_id, kiosk_id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?4 IS NULL THEN ?8 END, ?9, ?10)
        ON CONFLICT (persona_id) DO UPDATE SET
          session_id = excluded.session_id,
          started_at = excluded.started_at,
          store_id = excluded.store_id,
          kiosk_id = excluded.kiosk_id,
          ended_at = CASE WHEN excluded.session_id > live.session_id THEN excluded.ended_at ELSE COALESCE(live.ended_at, excluded.ended_at) END,
          stamp_count = CASE WHEN excluded.session_id > live.session_id THEN excluded.stamp_count
            ELSE MAX(live.stamp_count, excluded.stamp_count) END,
          status = CASE WHEN excluded.session_id > live.session_id OR excluded.stamp_count > live.stamp_count
            THEN excluded.status ELSE live.status END,
          status_since = CASE WHEN excluded.session_id > live.session_id OR excluded.stamp_count > live.stamp_count
            THEN excluded.status_since ELSE live.status_since END,
          idle_at = CASE
            WHEN (CASE WHEN excluded.session_id > live.session_id THEN excluded.ended_at
              ELSE COALESCE(live.ended_at, excluded.ended_at) END) IS NOT NULL THEN NULL
            WHEN excluded.session_id > live.session_id OR excluded.stamp_count > live.stamp_count THEN excluded.idle_at
            ELSE live.idle_at END
        WHERE excluded.session_id > live.session_id
          OR (excluded.session_id = live.session_id
            AND (excluded.stamp_count > live.stamp_count OR (live.ended_at IS NULL AND excluded.ended_at IS NOT NULL)))`,
      persona,
      header.id,
      header.started_at,
      header.ended_at,
      header.stamp_count,
      header.last_status,
      header.last_ts,
      header.idle_at,
      header.store_id,
      header.kiosk_id,
    );
  }

  /** Drops live rows of sessions that ended before `before`; returns how many ended rows remain. */
  dropEndedLive(before: number): number {
    if (!this.created) return 0;
    this.sql.run("drop ended live rows", "DELETE FROM live WHERE ended_at IS NOT NULL AND ended_at < ?", before);
    return this.sql.one<{ n: number }>("ended live rows", "SELECT COUNT(*) AS n FROM live WHERE ended_at IS NOT NULL")?.n ?? 0;
  }

  syncState(sessionIds: string[]): SessionSyncState[] {
    if (!this.created) return [];
    return sessionIds.flatMap((id) => {
      const row = this.sql.one<{ stamp_count: number; ended_at: number | null; stamps: number; top: number | null }>(
        "sync state",
        "SELECT stamp_count, ended_at, stamps_held AS stamps, (SELECT MAX(seq) FROM stamps WHERE session_id = ?1) AS top FROM sessions WHERE session_id = ?1",
        id,
      );
      if (!row) return [];
      // Stamps are numbered from 1 without repeats: when the highest held is the count held, none is missing below it.
      const prefix = row.top === row.stamps ? row.stamps : this.prefix(id);
      return [{ id, prefix, stamp_count: row.stamp_count, ended: row.ended_at !== null }];
    });
  }

  /** The length of the gap-free run of stamps from 1 (only after out-of-order delivery). */
  private prefix(sessionId: string): number {
    let n = 0;
    for (const { seq } of this.sql.all<{ seq: number }>(
      "stamp numbers",
      "SELECT seq FROM stamps WHERE session_id = ? ORDER BY seq",
      sessionId,
    )) {
      if (seq !== n + 1) break;
      n = seq;
    }
    return n;
  }

  /**
   * Records a batch applied: when (the answers' `as_of`), how many batches so far, and the newest
   * queue timestamp among its messages (persona objects' checks compare it with when they sent).
   */
  markApplied(at: number, sentUntil: number | null): void {
    this.sql.run(
      "mark applied",
      `INSERT INTO shard_meta (key, value) VALUES ('applies', 1), ('applied_at', ?1), ('sent_until', ?2)
        ON CONFLICT (key) DO UPDATE SET value = CASE key WHEN 'applies' THEN value + 1 ELSE MAX(value, excluded.value) END`,
      at,
      sentUntil ?? 0,
    );
  }

  /** The newest queue timestamp of any message applied here (0: none). */
  sentUntil(): number {
    if (!this.created) return 0;
    return this.sql.one<{ value: number }>("sent until", "SELECT value FROM shard_meta WHERE key = 'sent_until'")?.value ?? 0;
  }

  appliedAt(): number | null {
    if (!this.created) return null;
    return this.sql.one<{ value: number }>("applied at", "SELECT value FROM shard_meta WHERE key = 'applied_at'")?.value ?? null;
  }

  /** Active sessions, longest-running first, after the (started_at, persona_id) cursor; one store's when `store` is given. */
  active(now: number, status: string | null, store: string | null, after: [number, string] | null, limit: number): LiveRow[] {
    if (!this.created) return [];
    return this.sql.all<LiveRow>(
      "active sessions",
      `SELECT persona_id, session_id, started_at, ended_at, stamp_count, status, status_since, idle_at, store_id, kiosk_id FROM live
        WHERE ended_at IS NULL AND (idle_at IS NULL OR idle_at > ?1)
          AND (?2 IS NULL OR status = ?2)
          AND (?6 IS NULL OR store_id = ?6)
          AND (?3 IS NULL OR (started_at, persona_id) > (?3, ?4))
        ORDER BY started_at, persona_id LIMIT ?5`,
      now,
      status,
      after?.[0] ?? null,
      after?.[1] ?? null,
      limit,
      store,
    );
  }

  activeCounts(now: number, store: string | null): { status: string; n: number }[] {
    if (!this.created) return [];
    return this.sql.all<{ status: string; n: number }>(
      "active counts",
      `SELECT status, COUNT(*) AS n FROM live WHERE ended_at IS NULL AND (idle_at IS NULL OR idle_at > ?1)
        AND (?2 IS NULL OR store_id = ?2) GROUP BY status ORDER BY status`,
      now,
      store,
    );
  }

  /** Active sessions per store (null: sessions that named none) and current status. */
  occupancy(now: number): { store_id: string | null; status: string; n: number }[] {
    if (!this.created) return [];
    return this.sql.all<{ store_id: string | null; status: string; n: number }>(
      "occupancy",
      `SELECT store_id, status, COUNT(*) AS n FROM live WHERE ended_at IS NULL AND (idle_at IS NULL OR idle_at > ?)
        GROUP BY store_id, status`,
      now,
    );
  }

  /** Sessions started in [from, to), newest first, before the (started_at, session_id) cursor. */
  search(q: SearchQuery): IndexedSession[] {
    if (!this.created) return [];
    return this.sql.all<IndexedSession>(
      "search sessions",
      `SELECT session_id, persona_id, started_at, ended_at, end_reason, stamp_count, last_status, last_ts, store_id, kiosk_id FROM sessions
        WHERE started_at >= ?1 AND started_at < ?2
          AND (?3 IS NULL OR (started_at, session_id) < (?3, ?4))
          AND (?5 IS NULL OR persona_id = ?5)
          AND (?6 IS NULL OR end_reason = ?6)
          AND (?9 IS NULL OR store_id = ?9)
          AND (?10 IS NULL OR kiosk_id = ?10)
          AND (?7 IS NULL OR EXISTS (SELECT 1 FROM stamps WHERE stamps.session_id = sessions.session_id AND stamps.status = ?7))
        ORDER BY started_at DESC, session_id DESC LIMIT ?8`,
      q.from,
      q.to,
      q.before?.[0] ?? null,
      q.before?.[1] ?? null,
      q.persona,
      q.endReason,
      q.status,
      q.limit,
      q.store,
      q.kiosk,
    );
  }

  /** Personas this shard knows, for a rebuild: after `after`, in id order. */
  personas(after: string, limit: number): string[] {
    if (!this.created) return [];
    return this.sql
      .all<{ persona_id: string }>(
        "known personas",
        `SELECT persona_id FROM live WHERE persona_id > ?1
          UNION SELECT DISTINCT persona_id FROM sessions WHERE persona_id > ?1
          ORDER BY persona_id LIMIT ?2`,
        after,
        limit,
      )
      .map((r) => r.persona_id);
  }
}

export interface SearchQuery {
  from: number;
  to: number;
  before: [number, string] | null;
  persona: string | null;
  endReason: EndReason | null;
  status: string | null;
  store: string | null;
  kiosk: string | null;
  limit: number;
}
