// Analytics read ended sessions from column blocks derived from the session rows (docs/scale.md).
// Whatever happens to the rows, the answers must equal a recomputation from the sessions that
// remain: here, a fresh tenant given only those sessions, each once, in order. Each test also
// checks that the blocks were used at all (so a test cannot pass by reading rows only).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { uuidv7 } from "../src/ids";
import { applyIndexMessages } from "../src/tenant-index/consumer";
import { type IndexMessage, monthShard, type PersonaChange, type SessionDelta } from "../src/tenant-index/messages";
import type { IndexStore } from "../src/tenant-index/store";
import { admin, api, newKey, newTenant, random } from "./helpers";

vi.setConfig({ testTimeout: 60_000 });

const HOUR = 3_600_000;
const FROM = Date.UTC(2026, 8, 1);
const TO = Date.UTC(2026, 8, 8);
const MONTH = "2026-09";
/** The range, its end `k` ms after TO: answers are cached for 5 s by their arguments, so each comparison asks its own. */
const range = (k: number) => `from=${new Date(FROM).toISOString()}&to=${new Date(TO + k).toISOString()}`;
let asked = 0;

interface Visit {
  persona: string;
  id: string;
  store: string | null;
  labels: string[];
  times: number[];
  ended: number | null;
  reason: "client" | "idle_timeout" | null;
}

/** `n` visits over the week, three per persona (so retention can take one and keep the rest), mostly ended. */
function fixture(seed: number, n: number, days = 7): Visit[] {
  const rand = random(seed);
  const labels = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
  const out: Visit[] = [];
  for (let k = 0; k < n; k++) {
    const started = FROM + Math.floor(rand() * (days * 24 * HOUR - 4 * HOUR));
    const path = ["ENTER"];
    const times = [started];
    let t = started;
    while (path.length < 8 && rand() < 0.75) {
      t += Math.floor(rand() * 900_000);
      path.push(labels[Math.floor(rand() * labels.length)]!);
      times.push(t);
    }
    const fate = rand();
    out.push({
      persona: `f${seed}-${Math.floor(k / 3)}`,
      id: uuidv7(started),
      store: rand() < 0.1 ? null : `s-${Math.floor(rand() * 12)}`,
      labels: path,
      times,
      ended: fate < 0.9 ? t + Math.floor(rand() * 120_000) : null,
      reason: fate < 0.7 ? "client" : fate < 0.9 ? "idle_timeout" : null,
    });
  }
  // A persona's sessions in id order, as its object numbers them.
  return out.sort((a, b) => (a.persona < b.persona ? -1 : a.persona > b.persona ? 1 : a.id < b.id ? -1 : 1));
}

/** The session as its persona object would tell the index: stamps [from, to) of it, ended only with its last. */
function delta(v: Visit, from = 0, to = v.labels.length): SessionDelta {
  const whole = to === v.labels.length;
  return {
    id: v.id,
    started_at: v.times[0]!,
    ended_at: whole ? v.ended : null,
    end_reason: whole ? v.reason : null,
    stamp_count: to,
    last_status: v.labels[to - 1]!,
    last_ts: v.times[to - 1]!,
    idle_at: null,
    store_id: v.store,
    kiosk_id: null,
    stamps: v.labels.slice(from, to).map((label, i) => [from + i + 1, label, v.times[from + i]!]),
  };
}

const message = (tenant: string, change: PersonaChange): IndexMessage => ({ v: 1, tenant, changes: [change] });

async function deliver(bodies: IndexMessage[], batch = 100) {
  for (let i = 0; i < bodies.length; i += batch)
    await applyIndexMessages(
      bodies.slice(i, i + batch).map((body) => ({ body })),
      env,
    );
}

/** A tenant holding these visits, each told once, whole, in order: the recomputation the others must equal. */
async function fresh(visits: Visit[]) {
  const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "fresh");
  await deliver(visits.map((v) => message(tenant, { persona: v.persona, sessions: [delta(v)] })));
  return tenant;
}

/** Every analytics route's answer over range(k), without `as_of` (when each shard last applied). */
async function answers(tenant: string, k: number) {
  const key = (await newKey(tenant, "read")).key;
  const out: Record<string, unknown> = {};
  for (const path of [
    "funnel?step=ENTER&step=CHAT&step=PAYMENT&step=COMPLETE",
    "funnel?step=CHAT&step=SHOPPING&step=CHAT&within_seconds=1200&group_by=store",
    "dwell?x=1",
    "dwell?group_by=store",
    "visits?interval=hour",
    "visits?interval=day&group_by=store",
    "paths?limit=50",
    "occupancy?interval=day&group_by=store",
  ]) {
    const res = await api(`/v1/analytics/${path}&${range(k)}`, { key });
    expect(res.status, path).toBe(200);
    const data = { ...res.json.data };
    delete data.as_of;
    out[path] = data;
  }
  return out;
}

/** Both tenants' answers to the same questions, asked afresh. */
async function expectSameAnswers(tenant: string, other: string | Promise<string>) {
  const k = ++asked;
  expect(await answers(tenant, k)).toEqual(await answers(await other, k));
}

const shardSql = (tenant: string, query: string, ...params: (string | number | ArrayBuffer)[]) =>
  runInDurableObject(env.TENANT_INDEX.getByName(monthShard(tenant, MONTH)), (_i, state) =>
    state.storage.sql.exec(query, ...params).toArray(),
  );

/** How many sessions the tenant's blocks hold. */
const packedCount = async (tenant: string) => Number((await shardSql(tenant, "SELECT COALESCE(SUM(n), 0) AS n FROM blocks"))[0]!.n);

const endedCount = (visits: Visit[]) => visits.filter((v) => v.ended !== null).length;

describe("the analytics blocks follow the session rows", () => {
  it("duplicated and reordered messages, and stamps out of order: the same answers as each session told once", async () => {
    const visits = fixture(11, 240);
    const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "follow");
    const rand = random(5);
    const bodies: IndexMessage[] = [];
    for (const v of visits) {
      // The later stamps (and the end) first, then the earlier ones; a third of them twice.
      const cut = Math.max(1, Math.floor(v.labels.length / 2));
      const parts = cut < v.labels.length ? [delta(v, cut), delta(v, 0, cut)] : [delta(v)];
      for (const d of parts) {
        bodies.push(message(tenant, { persona: v.persona, sessions: [d] }));
        if (rand() < 0.33) bodies.push(message(tenant, { persona: v.persona, sessions: [d] }));
      }
    }
    for (let i = bodies.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [bodies[i], bodies[j]] = [bodies[j]!, bodies[i]!];
    }
    await deliver(bodies, 7);
    // Every ended session is in a block, once, whatever order its parts came in.
    expect(await packedCount(tenant)).toBe(endedCount(visits));
    await expectSameAnswers(tenant, fresh(visits));
  });

  it("an idle end: the session is read from its row while active, then from a block, with the same answers", async () => {
    const visits = fixture(12, 60).map((v) => ({ ...v, ended: null, reason: null }) as Visit);
    const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "idle");
    await deliver(visits.map((v) => message(tenant, { persona: v.persona, sessions: [delta(v)] })));
    expect(await packedCount(tenant)).toBe(0);
    await expectSameAnswers(tenant, fresh(visits));
    const ended = visits.map((v) => ({ ...v, ended: v.times[v.times.length - 1]! + 600_000, reason: "idle_timeout" }) as Visit);
    // The idle end as the persona object reports it: the header ended, no new stamps.
    await deliver(ended.map((v) => message(tenant, { persona: v.persona, sessions: [{ ...delta(v), stamps: [] }] })));
    expect(await packedCount(tenant)).toBe(ended.length);
    await expectSameAnswers(tenant, fresh(ended));
  });

  it("erasure and retention: a floor takes the persona's sessions out of their blocks, and late news never puts them back", async () => {
    const visits = fixture(13, 300);
    const tenant = await fresh(visits);
    expect(await packedCount(tenant)).toBe(endedCount(visits));
    const personas = [...new Set(visits.map((v) => v.persona))];
    // Erasure: every session of a tenth of the personas.
    const erased = new Set(personas.filter((_, i) => i % 10 === 0));
    // Retention: the oldest session of another tenth; their later sessions stay.
    const retired = new Map<string, string>();
    for (const p of personas.filter((_, i) => i % 10 === 5)) retired.set(p, visits.find((v) => v.persona === p)!.id);
    const floors: IndexMessage[] = [];
    for (const p of erased) {
      const last = visits.filter((v) => v.persona === p).at(-1)!.id;
      floors.push(message(tenant, { persona: p, sessions: [], floor: { id: last, months: [MONTH] } }));
    }
    for (const [p, id] of retired) floors.push(message(tenant, { persona: p, sessions: [], floor: { id, months: [MONTH] } }));
    await deliver(floors);
    const remaining = visits.filter((v) => !erased.has(v.persona) && retired.get(v.persona) !== v.id);
    expect(remaining.length).toBeLessThan(visits.length - erased.size);
    expect(await packedCount(tenant)).toBe(endedCount(remaining));
    const want = await fresh(remaining);
    await expectSameAnswers(tenant, want);
    // A late duplicate of an erased session's messages changes nothing.
    await deliver(visits.filter((v) => erased.has(v.persona)).map((v) => message(tenant, { persona: v.persona, sessions: [delta(v)] })));
    await expectSameAnswers(tenant, want);
  });
});

describe("a day of more sessions than a block holds (1,024)", () => {
  it("fills several blocks, and a floor takes sessions out of each of them", async () => {
    const visits = fixture(17, 2600, 1);
    const tenant = await fresh(visits);
    const blocks = await shardSql(tenant, "SELECT seq, n FROM blocks ORDER BY seq");
    expect(blocks.map((b) => Number(b.n))).toEqual([1024, 1024, endedCount(visits) - 2048]);
    // Each persona's sessions sit in whichever block was open when they ended: erase every
    // seventh persona, which reaches all three blocks.
    const personas = [...new Set(visits.map((v) => v.persona))].filter((_, i) => i % 7 === 0);
    const erased = new Set(personas);
    const rows = await shardSql(
      tenant,
      "SELECT DISTINCT packed FROM sessions WHERE persona_id IN (SELECT value FROM json_each(?)) AND packed > 0",
      JSON.stringify(personas),
    );
    expect(rows.map((r) => Number(r.packed)).sort()).toEqual([1, 2, 3]);
    await deliver(
      personas.map((p) =>
        message(tenant, { persona: p, sessions: [], floor: { id: visits.filter((v) => v.persona === p).at(-1)!.id, months: [MONTH] } }),
      ),
    );
    const remaining = visits.filter((v) => !erased.has(v.persona));
    expect(await packedCount(tenant)).toBe(endedCount(remaining));
    await expectSameAnswers(tenant, fresh(remaining));
  });
});

describe("an upgrade from schema version 2 (sessions only, no blocks)", () => {
  it("answers the same from rows at once, and the batches after it pack the ended sessions", async () => {
    const visits = fixture(15, 240);
    const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "upgrade");
    await runInDurableObject(env.TENANT_INDEX.getByName(monthShard(tenant, MONTH)), (instance, state) => {
      const store = (instance as unknown as { store: IndexStore }).store;
      store.migrate(2);
      // Rows as version 2 wrote them: the session with its path, and its stamps.
      for (const v of visits) {
        const ended = v.ended !== null;
        state.storage.sql.exec(
          `INSERT INTO sessions (session_id, persona_id, started_at, ended_at, end_reason, stamp_count, last_status, last_ts, path, path_ts,
            stamps_held, store_id, kiosk_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
          v.id,
          v.persona,
          v.times[0]!,
          ended ? v.ended : null,
          ended ? v.reason : null,
          v.labels.length,
          v.labels.at(-1)!,
          v.times.at(-1)!,
          v.labels.join("\u0001"),
          v.times.join(","),
          v.labels.length,
          v.store,
        );
        v.labels.forEach((label, i) => {
          state.storage.sql.exec("INSERT INTO stamps (session_id, seq, status, ts) VALUES (?, ?, ?, ?)", v.id, i + 1, label, v.times[i]!);
        });
      }
      // What the object does when it starts on an old shard.
      store.migrate();
    });
    expect(await packedCount(tenant)).toBe(0);
    await expectSameAnswers(tenant, fresh(visits));
    // The next batch (any news) packs the backlog.
    const late = fixture(16, 1);
    await deliver(late.map((v) => message(tenant, { persona: v.persona, sessions: [delta(v)] })));
    expect(await packedCount(tenant)).toBe(endedCount([...visits, ...late]));
    await expectSameAnswers(tenant, fresh([...visits, ...late]));
  });
});

describe("an upgrade from schema version 3 (blocks, no dwell summaries)", () => {
  it("answers the same at once, scanning the days without a summary, and the batches after it build them", async () => {
    const visits = fixture(17, 300);
    const tenant = await fresh(visits);
    const summaries = async () => Number((await shardSql(tenant, "SELECT COUNT(*) AS n FROM day_summaries"))[0]!.n);
    expect(await summaries()).toBe(7);
    // The shard as version 3 left it: blocks, no summary table; then what the object does when it starts.
    await runInDurableObject(env.TENANT_INDEX.getByName(monthShard(tenant, MONTH)), (instance, state) => {
      state.storage.sql.exec("DROP TABLE day_summaries");
      state.storage.sql.exec("DELETE FROM shard_meta WHERE key = 'summary_backlog'");
      state.storage.sql.exec("UPDATE schema_meta SET value = 3 WHERE key = 'version'");
      (instance as unknown as { store: IndexStore }).store.migrate();
    });
    expect(await summaries()).toBe(0);
    await expectSameAnswers(tenant, fresh(visits));
    // Each batch builds up to 4 days' summaries: two batches for the week.
    const late = fixture(18, 2);
    for (const v of late) await deliver([message(tenant, { persona: v.persona, sessions: [delta(v)] })]);
    expect(await summaries()).toBe(7);
    await expectSameAnswers(tenant, fresh([...visits, ...late]));
    const check = await admin(`/tenants/${tenant}/index/check?month=${MONTH}`, { method: "POST" });
    expect(check.json.data.drifted_days).toEqual([]);
  });
});

describe("the drift check and repair (POST /admin/v1/tenants/{id}/index/check)", () => {
  it("finds each day whose blocks differ from the rows, and the repair rebuilds them from the rows", async () => {
    const visits = fixture(14, 300);
    const tenant = await fresh(visits);
    const want = await fresh(visits);
    const check = async (repair = false) => {
      const res = await admin(`/tenants/${tenant}/index/check?month=${MONTH}${repair ? "&repair=true" : ""}`, { method: "POST" });
      expect(res.status).toBe(200);
      return res.json.data;
    };
    const clean = await check();
    expect(clean).toMatchObject({ month: MONTH, sessions: endedCount(visits), drifted_days: [], repaired_days: [], after: null });
    expect(clean.blocks).toBeGreaterThanOrEqual(7);

    // Five kinds of drift, on five days: a block lost, a session's figure changed in a block,
    // a packed session's row marked unpacked (it would count twice: block and row), a day's
    // dwell summary off by one stamp's dwell, and a summary that does not decode.
    const days = (await shardSql(tenant, "SELECT DISTINCT day FROM blocks ORDER BY day")).map((r) => Number(r.day));
    const [summary] = await shardSql(tenant, "SELECT dwell FROM day_summaries WHERE day = ?", days[6]!);
    const stored = JSON.parse(String(summary!.dwell)) as [number, [string, number, number, number[]][]];
    stored[1][0]![1] -= 1;
    stored[1][0]![3][1]! -= 1;
    await shardSql(tenant, "UPDATE day_summaries SET dwell = ? WHERE day = ?", JSON.stringify(stored), days[6]!);
    // And one that does not decode at all: read as if missing (its day's blocks are scanned), and named.
    await shardSql(tenant, "UPDATE day_summaries SET stores = 'not json' WHERE day = ?", days[0]!);
    await shardSql(tenant, "DELETE FROM blocks WHERE day = ?", days[1]!);
    const [block] = await shardSql(tenant, "SELECT seq, body FROM blocks WHERE day = ? LIMIT 1", days[3]!);
    const body = new Int32Array((block!.body as ArrayBuffer).slice(0));
    body[0]! += 1; // its first session's start, one ms later
    await shardSql(tenant, "UPDATE blocks SET body = ? WHERE day = ? AND seq = ?", body.buffer, days[3]!, Number(block!.seq));
    await shardSql(
      tenant,
      "UPDATE sessions SET packed = 0 WHERE session_id = (SELECT session_id FROM sessions WHERE packed > 0 AND started_at >= ? AND started_at < ? LIMIT 1)",
      days[5]! * 86_400_000,
      (days[5]! + 1) * 86_400_000,
    );
    const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
    expect((await check()).drifted_days).toEqual([iso(days[0]!), iso(days[1]!), iso(days[3]!), iso(days[5]!), iso(days[6]!)]);
    const k = ++asked;
    const drifted = await answers(tenant, k);
    const wanted = await answers(want, k);
    expect(drifted).not.toEqual(wanted);
    // The dwell answer reads the summaries (the blocks' drift alone leaves day 6 right).
    expect(drifted["dwell?x=1"]).not.toEqual(wanted["dwell?x=1"]);

    const repaired = await check(true);
    expect(repaired.repaired_days).toEqual([iso(days[0]!), iso(days[1]!), iso(days[3]!), iso(days[5]!), iso(days[6]!)]);
    expect(repaired.after).toMatchObject({ sessions: endedCount(visits), drifted_days: [] });
    await expectSameAnswers(tenant, want);
  });

  it("refuses a month that is not YYYY-MM and a repair that is not true or false", async () => {
    const tenant = await newTenant();
    for (const q of ["month=2026-13", "month=26-01", "repair=yes"]) {
      const res = await admin(`/tenants/${tenant}/index/check?${q}`, { method: "POST" });
      expect(res.status, q).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_ERROR");
    }
  });
});
