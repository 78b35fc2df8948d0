import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids";
import worker from "../src/index";
import type { IndexMessage, PersonaChange, SessionDelta, ShardItem } from "../src/tenant-index/messages";
import { liveShard, monthShard } from "../src/tenant-index/messages";

const T0 = Date.UTC(2026, 10, 3, 9, 0, 0);
const MONTH = "2026-11";

/** One persona's change, with its tenant: the tests' unit of news. */
type Change = PersonaChange & { tenant: string };

const message = ({ tenant, ...change }: Change): IndexMessage => ({ v: 1, tenant, changes: [change] });

/** Runs the Worker's queue consumer on these changes, one queue message each, as the queue would deliver them. */
async function deliver(changes: Change[]) {
  const batch = createMessageBatch<IndexMessage>(
    "persona-index",
    changes.map((change, i) => ({ id: `m-${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: message(change) })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

/** Every row a tenant's shards hold for a month, in a stable order. */
async function dump(tenant: string) {
  const read = (shard: string, query: string) =>
    runInDurableObject(env.TENANT_INDEX.getByName(shard), (_i, state) => state.storage.sql.exec(query).toArray());
  return {
    sessions: await read(monthShard(tenant, MONTH), "SELECT * FROM sessions ORDER BY session_id"),
    stamps: await read(monthShard(tenant, MONTH), "SELECT * FROM stamps ORDER BY session_id, seq"),
    // The analytics blocks are derived from the rows: duplicates and order must not change them either.
    blocks: await read(
      monthShard(tenant, MONTH),
      "SELECT day, seq, n, first_start, last_start, dict, hex(body) AS body, ids FROM blocks ORDER BY day, seq",
    ),
    live: await read(liveShard(tenant), "SELECT * FROM live ORDER BY persona_id"),
    floors: await read(liveShard(tenant), "SELECT * FROM floors ORDER BY persona_id"),
  };
}

const tenantId = () => `t-${crypto.randomUUID().slice(0, 8)}`;

/** A visit as its persona object would report it, message by message. */
function visit(tenant: string, persona: string) {
  const id = uuidv7(T0);
  const header = (count: number, last: [string, number], ended: number | null): Omit<SessionDelta, "stamps"> => ({
    id,
    started_at: T0,
    store_id: null,
    kiosk_id: null,
    ended_at: ended,
    end_reason: ended === null ? null : "client",
    stamp_count: count,
    last_status: last[0],
    last_ts: last[1],
    idle_at: ended === null ? T0 + 7_200_000 : null,
  });
  const msg = (sessions: SessionDelta[]): Change => ({ tenant, persona, sessions });
  return {
    id,
    messages: [
      msg([{ ...header(1, ["ENTER", T0], null), stamps: [[1, "ENTER", T0]] }]),
      msg([
        {
          ...header(3, ["SHOPPING", T0 + 120_000], null),
          stamps: [
            [2, "CHAT", T0 + 60_000],
            [3, "SHOPPING", T0 + 120_000],
          ],
        },
      ]),
      msg([{ ...header(4, ["PAYMENT", T0 + 180_000], null), stamps: [[4, "PAYMENT", T0 + 180_000]] }]),
      msg([{ ...header(4, ["PAYMENT", T0 + 180_000], T0 + 240_000), stamps: [] }]),
    ],
  };
}

describe("applying index messages", () => {
  it("acknowledges a delivered batch, and holds the session, its stamps and its live row", async () => {
    const tenant = tenantId();
    const { id, messages } = visit(tenant, "p1");
    const result = await deliver(messages);
    expect(result.explicitAcks).toHaveLength(messages.length);
    expect(result.retryMessages).toEqual([]);
    const rows = await dump(tenant);
    expect(rows.sessions).toEqual([
      {
        session_id: id,
        persona_id: "p1",
        started_at: T0,
        ended_at: T0 + 240_000,
        end_reason: "client",
        stamp_count: 4,
        last_status: "PAYMENT",
        last_ts: T0 + 180_000,
        // The labels and times in record order, for analytics.
        path: ["ENTER", "CHAT", "SHOPPING", "PAYMENT"].join("\u0001"),
        path_ts: [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000].join(","),
        stamps_held: 4,
        store_id: null,
        kiosk_id: null,
        // Ended with every stamp held: packed into its day's first analytics block (packed = seq + 1).
        packed: 1,
      },
    ]);
    expect(rows.blocks).toMatchObject([{ n: 1, first_start: T0, last_start: T0, ids: JSON.stringify([id]) }]);
    expect(rows.stamps.map((s) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING", "PAYMENT"]);
    expect(rows.live).toMatchObject([{ persona_id: "p1", session_id: id, ended_at: T0 + 240_000, stamp_count: 4, status: "PAYMENT" }]);
  });

  it("duplicates change nothing: each message twice in a batch, then the whole batch again", async () => {
    const once = tenantId();
    const twice = tenantId();
    await deliver(visit(once, "p1").messages);
    const { messages } = visit(twice, "p1");
    await deliver(messages.flatMap((m) => [m, m]));
    await deliver(messages);
    const [a, b] = [await dump(once), await dump(twice)];
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ session_id: _s, ...rest }) => rest);
    expect(strip(b.sessions)).toEqual(strip(a.sessions));
    expect(strip(b.stamps)).toEqual(strip(a.stamps));
    expect(strip(b.live)).toEqual(strip(a.live));
  });

  it("order changes nothing: the messages in reverse, one batch each, give the same rows", async () => {
    const inOrder = tenantId();
    const reversed = tenantId();
    await deliver(visit(inOrder, "p1").messages);
    for (const message of visit(reversed, "p1").messages.reverse()) await deliver([message]);
    const [a, b] = [await dump(inOrder), await dump(reversed)];
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ session_id: _s, ...rest }) => rest);
    expect(strip(b.sessions)).toEqual(strip(a.sessions));
    expect(strip(b.stamps)).toEqual(strip(a.stamps));
    expect(strip(b.live)).toEqual(strip(a.live));
    expect(b.sessions[0]).toMatchObject({ ended_at: T0 + 240_000, stamp_count: 4, last_status: "PAYMENT" });
  });

  it("what a shard tells a persona's check: the gap-free first stamps it holds, and the newest queue time it applied", async () => {
    const tenant = tenantId();
    const { id, messages } = visit(tenant, "p1");
    const [enter, chatShopping, payment] = messages as [Change, Change, Change];
    const shard = env.TENANT_INDEX.getByName(monthShard(tenant, MONTH));
    // Stamp 1 and stamp 4 arrive; 2 and 3 are still on their way.
    await deliver([enter, payment]);
    let state = await shard.syncState("p1", [id]);
    expect(state.sessions).toEqual([{ id, prefix: 1, stamp_count: 4, ended: false }]);
    const firstSeen = state.sent_until;
    expect(firstSeen).toBeGreaterThan(0);
    await deliver([chatShopping]);
    state = await shard.syncState("p1", [id]);
    expect(state.sessions).toEqual([{ id, prefix: 4, stamp_count: 4, ended: false }]);
    expect(state.sent_until).toBeGreaterThanOrEqual(firstSeen);
    expect((await shard.syncState("p1", [uuidv7(T0)])).sessions).toEqual([]);
  });

  it("news of an older session never replaces the live row of a newer one", async () => {
    const tenant = tenantId();
    const first = visit(tenant, "p1");
    const laterId = uuidv7(T0 + 3_600_000);
    const later: Change = {
      tenant,
      persona: "p1",
      sessions: [
        {
          id: laterId,
          started_at: T0 + 3_600_000,
          store_id: null,
          kiosk_id: null,
          ended_at: null,
          end_reason: null,
          stamp_count: 1,
          last_status: "ENTER",
          last_ts: T0 + 3_600_000,
          idle_at: null,
          stamps: [[1, "ENTER", T0 + 3_600_000]],
        },
      ],
    };
    await deliver([later]);
    await deliver(first.messages);
    expect((await dump(tenant)).live).toMatchObject([{ session_id: laterId, ended_at: null, status: "ENTER" }]);
  });

  it("a floor drops the persona's rows, and a late or duplicate message never brings them back", async () => {
    const tenant = tenantId();
    const { id, messages } = visit(tenant, "p1");
    const keep = visit(tenant, "p2");
    await deliver([...messages, ...keep.messages]);
    const floor: Change = {
      tenant,
      persona: "p1",
      sessions: [],
      floor: { id: `${id.slice(0, 13)}-ffff-ffff-ffffffffffff`, months: [MONTH] },
    };
    await deliver([floor]);
    await deliver(messages);
    await deliver([messages[1]!, floor, messages[0]!]);
    const rows = await dump(tenant);
    expect(rows.sessions.map((s) => s.persona_id)).toEqual(["p2"]);
    expect(rows.stamps.every((s) => s.session_id === keep.id)).toBe(true);
    expect(rows.live.map((r) => r.persona_id)).toEqual(["p2"]);
    expect(rows.floors).toMatchObject([{ persona_id: "p1" }]);
  });

  it("the live view's daily clean-up drops rows of sessions that ended over a week ago, and keeps the rest", async () => {
    const tenant = tenantId();
    const old = visit(tenant, "old");
    const recent = visit(tenant, "recent");
    const active = visit(tenant, "active");
    await deliver([...old.messages, ...recent.messages, ...active.messages.slice(0, 2)]);
    const live = env.TENANT_INDEX.getByName(liveShard(tenant));
    await runInDurableObject(live, (_i, state) => {
      state.storage.sql.exec("UPDATE live SET ended_at = ? WHERE persona_id = 'old'", Date.now() - 8 * 86_400_000);
      state.storage.sql.exec("UPDATE live SET ended_at = ? WHERE persona_id = 'recent'", Date.now() - 86_400_000);
    });
    expect(await runDurableObjectAlarm(live)).toBe(true);
    expect((await dump(tenant)).live.map((r) => r.persona_id)).toEqual(["active", "recent"]);
  });

  it("a live row past its idle deadline is not listed as active, even before its end arrives", async () => {
    const tenant = tenantId();
    const { messages } = visit(tenant, "p1");
    const first = messages[0]!;
    await deliver([{ ...first, sessions: first.sessions.map((s) => ({ ...s, idle_at: Date.now() - 1000 })) }]);
    const page = await env.TENANT_INDEX.getByName(liveShard(tenant)).active({ status: null, store: null, after: null, limit: 10 });
    expect(page.sessions).toEqual([]);
    expect(page.total).toBe(0);
    await deliver([{ ...first, persona: "p2", sessions: first.sessions.map((s) => ({ ...s, idle_at: Date.now() + 60_000 })) }]);
    const later = await env.TENANT_INDEX.getByName(liveShard(tenant)).active({ status: null, store: null, after: null, limit: 10 });
    expect(later.sessions.map((s) => s.persona_id)).toEqual(["p2"]);
  });

  it("an unreadable message is acknowledged (retrying cannot help) and logged; the rest of the batch applies", async () => {
    const tenant = tenantId();
    const { messages } = visit(tenant, "p1");
    const batch = createMessageBatch<unknown>("persona-index", [
      { id: "bad", timestamp: new Date(), attempts: 1, body: { v: 1, tenant, sessions: "nope" } },
      { id: "good", timestamp: new Date(), attempts: 1, body: message(messages[0]!) },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["bad", "good"]);
    expect((await dump(tenant)).sessions).toHaveLength(1);
  });

  it("one message may carry many personas' changes (as the sending isolate packs them)", async () => {
    const tenant = tenantId();
    const a = visit(tenant, "pa");
    const b = visit(tenant, "pb");
    const packed: IndexMessage = { v: 1, tenant, changes: [...a.messages, ...b.messages].map(({ tenant: _t, ...change }) => change) };
    const batch = createMessageBatch<IndexMessage>("persona-index", [{ id: "packed", timestamp: new Date(), attempts: 1, body: packed }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual(["packed"]);
    const rows = await dump(tenant);
    expect(rows.sessions.map((r) => [r.persona_id, r.stamp_count, r.ended_at]).sort()).toEqual([
      ["pa", 4, T0 + 240_000],
      ["pb", 4, T0 + 240_000],
    ]);
  });

  it("one transaction per shard per batch: 100 messages of 25 personas are one apply on each shard", async () => {
    const tenant = tenantId();
    const messages = Array.from({ length: 25 }, (_, i) => visit(tenant, `p${i}`).messages).flat();
    expect(messages).toHaveLength(100);
    await deliver(messages);
    const applies = (shard: string) =>
      runInDurableObject(env.TENANT_INDEX.getByName(shard), (_i, state) =>
        state.storage.sql.exec("SELECT value FROM shard_meta WHERE key = 'applies'").one(),
      );
    expect(await applies(monthShard(tenant, MONTH))).toEqual({ value: 1 });
    expect(await applies(liveShard(tenant))).toEqual({ value: 1 });
    const rows = await dump(tenant);
    expect(rows.sessions).toHaveLength(25);
    expect(rows.stamps).toHaveLength(100);
  });

  it("a shard reports the personas of whose sessions it knows stamps it lacks, judged once all of a call's items are in", async () => {
    const shard = env.TENANT_INDEX.getByName(monthShard(tenantId(), MONTH));
    const item = (persona: string, id: string, count: number, seqs: number[]): ShardItem => ({
      kind: "session",
      persona,
      session: {
        id,
        started_at: T0,
        store_id: null,
        kiosk_id: null,
        ended_at: null,
        end_reason: null,
        stamp_count: count,
        last_status: `S${count}`,
        last_ts: T0 + count,
        idle_at: null,
        stamps: seqs.map((n) => [n, `S${n}`, T0 + n]),
      },
    });
    const a = uuidv7(T0);
    expect(await shard.apply([item("pa", a, 2, [1, 2])])).toEqual([]);
    expect(await shard.apply([item("pa", a, 4, [4])])).toEqual(["pa"]); // stamp 3 is missing
    expect(await shard.apply([item("pa", a, 4, [4])])).toEqual([]); // a duplicate: nothing new to tell
    expect(await shard.apply([item("pa", a, 3, [3])])).toEqual([]); // the late one fills it
    // A long session sent in parts: the first part alone is short of the count, the call is not.
    const b = uuidv7(T0 + 1);
    expect(await shard.apply([item("pb", b, 4, [1, 2]), item("pb", b, 4, [3, 4])])).toEqual([]);
    // A duplicate after the gap in the same call does not hide it.
    const d = uuidv7(T0 + 3);
    expect(await shard.apply([item("pd", d, 2, [1, 2])])).toEqual([]);
    expect(await shard.apply([item("pd", d, 4, [4]), item("pd", d, 2, [1, 2])])).toEqual(["pd"]);
    // A header that counts more than the shard ever got (an end whose stamps were lost).
    const c = uuidv7(T0 + 2);
    expect(await shard.apply([item("pc", c, 3, [])])).toEqual(["pc"]);
  });
});
