import { Sql } from "../sql";

/**
 * SQLite storage of one persona (one Durable Object): its sessions and their stamps, and the
 * idempotency records of its POSTs. Every method is synchronous so the object can check and
 * write with no await in between.
 *
 * Cost notes (rows written are the billing unit and count index entries too):
 * - sessions and stamps are WITHOUT ROWID tables keyed by their natural keys, so an insert or
 *   update writes one row and there are no secondary indexes.
 * - session ids are UUIDv7, so the primary key order is creation order: the newest session and
 *   history pages come straight off the key.
 * - a stamp is one inserted row and nothing else: an active session's counters (stamp count,
 *   latest stamp time, last activity) are read off its last stamp row, and written to the
 *   sessions row once, when it ends. So the sessions row of an active session holds its counters
 *   as of its start; the methods here always return them current.
 */

export interface SessionRow extends Record<string, SqlStorageValue> {
  session_id: string;
  started_at: number;
  ended_at: number | null;
  end_reason: string | null;
  stamp_count: number;
  /** The latest (largest) stamp timestamp in the session. */
  last_stamp_at: number;
  /** Server receive time of the last start or stamp: what the idle timeout counts from. */
  last_activity_at: number;
  /** Where the session happens (null: not said, or recorded before stores existed). */
  store_id: string | null;
  kiosk_id: string | null;
}

export interface StampRow extends Record<string, SqlStorageValue> {
  seq: number;
  status: string;
  ts: number;
  received_at: number;
  meta: string | null;
}

export interface IdempotencyRow extends Record<string, SqlStorageValue> {
  fingerprint: string;
  outcome: string;
}

/**
 * Schema migrations, applied in order, each once. Bump by appending: never edit a released one.
 * Version 1 is the core API's schema; version 2 adds offline timestamps, idle/end reasons and
 * idempotency; version 3 adds object_state (the tenant policy the object last received); version 4
 * adds where a session happens (store_id, kiosk_id: written with the session's row, so a start
 * still writes the same rows). New columns are nullable and read through COALESCE so an upgrade rewrites no rows.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; statements: readonly string[] }> = [
  {
    version: 1,
    statements: [
      "CREATE TABLE schema_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
      `CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        stamp_count INTEGER NOT NULL,
        last_stamp_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE stamps (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        ts INTEGER NOT NULL,
        meta TEXT,
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    statements: [
      "ALTER TABLE sessions ADD COLUMN end_reason TEXT",
      "ALTER TABLE sessions ADD COLUMN last_activity_at INTEGER",
      "ALTER TABLE stamps ADD COLUMN received_at INTEGER",
      `CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        outcome TEXT NOT NULL
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 3,
    statements: [
      // Small named values of the object itself (its tenant's policy, ...), as JSON text.
      "CREATE TABLE object_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ],
  },
  {
    version: 4,
    statements: ["ALTER TABLE sessions ADD COLUMN store_id TEXT", "ALTER TABLE sessions ADD COLUMN kiosk_id TEXT"],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

const SESSION_COLUMNS = `session_id, started_at, ended_at,
  CASE WHEN ended_at IS NULL THEN NULL ELSE COALESCE(end_reason, 'client') END AS end_reason,
  stamp_count, last_stamp_at, COALESCE(last_activity_at, last_stamp_at) AS last_activity_at, store_id, kiosk_id`;
/** A stamp as the tenant index takes it: no meta, no received time. */
export interface StampLabel {
  seq: number;
  status: string;
  ts: number;
}

/** How many of the newest stamps the store keeps in memory for the index send (halved when full). */
const TAIL_MAX = 256;

const STAMP_COLUMNS = "seq, status, ts, COALESCE(received_at, ts) AS received_at, meta";

export class PersonaStore {
  readonly sql: Sql;
  /**
   * The newest session row as last read or written (undefined: not known). Every write to the
   * sessions table goes through this class and updates it in step; the object calls forget()
   * when a transaction rolls back or storage is wiped, so it never outlives the rows it mirrors.
   * It saves the one query every request would otherwise start with.
   */
  private latest: Readonly<SessionRow> | null | undefined;
  /**
   * The newest stamps of one session, as the tenant index takes them, appended by insertStamp in
   * step with the rows and dropped with `latest`: the index send after each write reads the
   * stamps it just wrote from here instead of from SQLite. Contiguous by seq; at most TAIL_MAX.
   */
  private tail: { sessionId: string; stamps: StampLabel[] } | null = null;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  /** Drops what is cached; the next read goes to SQLite. */
  forget(): void {
    this.latest = undefined;
    this.tail = null;
  }

  schemaVersion(): number {
    const table = this.sql.one<{ name: string }>(
      "schema_meta exists",
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_meta'",
    );
    if (!table) return 0;
    return this.sql.one<{ value: number }>("schema version", "SELECT value FROM schema_meta WHERE key = 'version'")?.value ?? 0;
  }

  /**
   * Whether this persona's database has its schema: false until its first write, so a read of a
   * persona that never stored anything answers from nothing and creates no storage. Once true it
   * stays true (an erasure writes the schema again at once).
   */
  get created(): boolean {
    if (!this.hasSchema) this.hasSchema = this.schemaVersion() > 0;
    return this.hasSchema;
  }
  private hasSchema = false;

  /** At start-up: upgrades a database that has data; one that has none stays empty. */
  open(): void {
    if (this.created) this.migrate();
  }

  /** Brings the schema up to `target` (default: the latest). Safe to call on every start-up. */
  migrate(target = SCHEMA_VERSION): void {
    this.forget();
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

  /** The newest session, active or not: the largest UUIDv7 is the last one started. */
  latestSession(): Readonly<SessionRow> | null {
    if (this.latest === undefined) {
      if (!this.created) return null;
      const row = this.sql.one<SessionRow>("latest session", `SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY session_id DESC LIMIT 1`);
      this.latest = row && this.withCurrentCounters(row);
    }
    return this.latest;
  }

  session(sessionId: string): Readonly<SessionRow> | null {
    if (this.latest?.session_id === sessionId) return this.latest;
    const row = this.sql.one<SessionRow>("session by id", `SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = ?`, sessionId);
    return row && this.withCurrentCounters(row);
  }

  /** An active session's counters come from its last stamp (see the cost notes above). */
  private withCurrentCounters(row: SessionRow): SessionRow {
    if (row.ended_at !== null) return row;
    const last = this.sql.one<{ seq: number; ts: number; received_at: number }>(
      "last stamp",
      "SELECT seq, ts, COALESCE(received_at, ts) AS received_at FROM stamps WHERE session_id = ? ORDER BY seq DESC LIMIT 1",
      row.session_id,
    );
    if (!last || last.seq <= row.stamp_count) return row;
    return {
      ...row,
      stamp_count: last.seq,
      last_stamp_at: Math.max(row.last_stamp_at, last.ts),
      last_activity_at: Math.max(row.last_activity_at, last.received_at),
    };
  }

  /** Sessions from `sessionId` on (all when null), in start order, with current counters. */
  sessionsFrom(sessionId: string | null): SessionRow[] {
    const latest = this.latestSession();
    if (latest && latest.session_id === sessionId) return [latest];
    return this.sql
      .all<SessionRow>(
        "sessions from",
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id >= ? ORDER BY session_id`,
        sessionId ?? "",
      )
      .map((row) => (row.session_id === latest?.session_id ? latest : row));
  }

  /** What the tenant index takes of a session's stamps from `fromSeq` on (no meta). */
  stampLabels(sessionId: string, fromSeq: number): StampLabel[] {
    const tail = this.tail;
    const first = tail?.sessionId === sessionId ? tail.stamps[0]?.seq : undefined;
    if (tail && first !== undefined && first <= fromSeq) return tail.stamps.slice(fromSeq - first);
    return this.sql.all<{ seq: number; status: string; ts: number }>(
      "stamp labels of session",
      "SELECT seq, status, ts FROM stamps WHERE session_id = ? AND seq >= ? ORDER BY seq",
      sessionId,
      fromSeq,
    );
  }

  /** A session's last stamp as the index takes it. */
  lastLabel(sessionId: string): StampLabel | null {
    const tail = this.tail;
    if (tail?.sessionId === sessionId && tail.stamps.length > 0) return tail.stamps[tail.stamps.length - 1]!;
    return this.lastStamp(sessionId);
  }

  lastStamp(sessionId: string): StampRow | null {
    return this.sql.one<StampRow>(
      "last stamp of session",
      `SELECT ${STAMP_COLUMNS} FROM stamps WHERE session_id = ? ORDER BY seq DESC LIMIT 1`,
      sessionId,
    );
  }

  /** Ended sessions, newest first, strictly older than `before` when given. */
  endedSessions(before: string | null, limit: number): SessionRow[] {
    return this.sql.all<SessionRow>(
      "ended sessions page",
      `SELECT ${SESSION_COLUMNS} FROM sessions
        WHERE ended_at IS NOT NULL AND session_id < ?
        ORDER BY session_id DESC LIMIT ?`,
      before ?? "~",
      limit,
    );
  }

  /** The caller inserts the session's first `stampCount` stamps itself, in the same transaction. */
  insertSession(
    sessionId: string,
    startedAt: number,
    receivedAt: number,
    stampCount: number,
    place: { storeId: string | null; kioskId: string | null },
  ): void {
    this.sql.run(
      "insert session",
      `INSERT INTO sessions (session_id, started_at, ended_at, end_reason, stamp_count, last_stamp_at, last_activity_at, store_id, kiosk_id)
        VALUES (?, ?, NULL, NULL, ?, ?, ?, ?, ?)`,
      sessionId,
      startedAt,
      stampCount,
      startedAt,
      receivedAt,
      place.storeId,
      place.kioskId,
    );
    // Session ids only grow (UUIDv7, forced monotonic by the object), so this is now the newest.
    this.tail = { sessionId, stamps: [] };
    this.latest = {
      session_id: sessionId,
      started_at: startedAt,
      ended_at: null,
      end_reason: null,
      stamp_count: stampCount,
      last_stamp_at: startedAt,
      last_activity_at: receivedAt,
      store_id: place.storeId,
      kiosk_id: place.kioskId,
    };
  }

  /** Appends a stamp. Timestamps within a session never decrease (the object sees to that). */
  insertStamp(sessionId: string, seq: number, status: string, ts: number, receivedAt: number, meta: string | null): void {
    this.sql.run(
      "insert stamp",
      "INSERT INTO stamps (session_id, seq, status, ts, received_at, meta) VALUES (?, ?, ?, ?, ?, ?)",
      sessionId,
      seq,
      status,
      ts,
      receivedAt,
      meta,
    );
    const tail = this.tail;
    if (tail?.sessionId === sessionId && (tail.stamps.length === 0 || tail.stamps[tail.stamps.length - 1]!.seq === seq - 1)) {
      tail.stamps.push({ seq, status, ts });
      if (tail.stamps.length > TAIL_MAX) tail.stamps.splice(0, tail.stamps.length - TAIL_MAX / 2);
    } else this.tail = { sessionId, stamps: [{ seq, status, ts }] };
    if (this.latest?.session_id === sessionId) {
      this.latest = {
        ...this.latest,
        stamp_count: seq,
        last_stamp_at: Math.max(this.latest.last_stamp_at, ts),
        last_activity_at: Math.max(this.latest.last_activity_at, receivedAt),
      };
    }
  }

  /** Ends a session, writing its final counters (`session` is its current row). */
  endSession(session: Readonly<SessionRow>, endedAt: number, reason: string): Readonly<SessionRow> {
    this.sql.run(
      "end session",
      `UPDATE sessions SET ended_at = ?, end_reason = ?, stamp_count = ?, last_stamp_at = ?, last_activity_at = ?
        WHERE session_id = ?`,
      endedAt,
      reason,
      session.stamp_count,
      session.last_stamp_at,
      session.last_activity_at,
      session.session_id,
    );
    const ended = { ...session, ended_at: endedAt, end_reason: reason };
    if (this.latest?.session_id === session.session_id) this.latest = ended;
    return ended;
  }

  stamps(sessionId: string, fromSeq = 1, toSeq = Number.MAX_SAFE_INTEGER): StampRow[] {
    return this.sql.all<StampRow>(
      "stamps of session",
      `SELECT ${STAMP_COLUMNS} FROM stamps WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
      sessionId,
      fromSeq,
      toSeq,
    );
  }

  idempotency(key: string): IdempotencyRow | null {
    return this.sql.one<IdempotencyRow>("idempotency by key", "SELECT fingerprint, outcome FROM idempotency WHERE key = ?", key);
  }

  putIdempotency(key: string, createdAt: number, fingerprint: string, outcome: string): void {
    this.sql.run(
      "insert idempotency",
      "INSERT INTO idempotency (key, created_at, fingerprint, outcome) VALUES (?, ?, ?, ?)",
      key,
      createdAt,
      fingerprint,
      outcome,
    );
  }

  /** A named value of `object_state`, as the JSON text stored. */
  state(key: string): string | null {
    if (!this.created) return null;
    return this.sql.one<{ value: string }>("state by key", "SELECT value FROM object_state WHERE key = ?", key)?.value ?? null;
  }

  putState(key: string, value: string): void {
    this.sql.run(
      "put state",
      "INSERT INTO object_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  // The queries below scan whole tables: they run only in the alarm, never on a request path.

  pruneIdempotency(createdBefore: number): void {
    this.sql.run("prune idempotency", "DELETE FROM idempotency WHERE created_at < ?", createdBefore);
  }

  oldestIdempotency(): number | null {
    return this.sql.one<{ t: number | null }>("oldest idempotency", "SELECT MIN(created_at) AS t FROM idempotency")?.t ?? null;
  }

  /** Every session's id and start, in start order (erasure and retention tell the index which). */
  sessionStarts(endedBefore = Number.MAX_SAFE_INTEGER, includeActive = true): { session_id: string; started_at: number }[] {
    return this.sql.all<{ session_id: string; started_at: number }>(
      "session starts",
      `SELECT session_id, started_at FROM sessions
        WHERE (ended_at IS NOT NULL AND ended_at < ?) OR (? AND ended_at IS NULL) ORDER BY session_id`,
      endedBefore,
      includeActive ? 1 : 0,
    );
  }

  deleteEndedBefore(endedBefore: number): void {
    this.sql.run(
      "retention: stamps",
      `DELETE FROM stamps WHERE session_id IN
        (SELECT session_id FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?)`,
      endedBefore,
    );
    this.sql.run("retention: sessions", "DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?", endedBefore);
    this.forget();
  }

  oldestEnded(): number | null {
    return (
      this.sql.one<{ t: number | null }>("oldest ended", "SELECT MIN(ended_at) AS t FROM sessions WHERE ended_at IS NOT NULL")?.t ?? null
    );
  }
}
