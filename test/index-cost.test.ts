// Billed rows the month shard writes per session, packing into the analytics blocks included
// (docs/scale.md states these figures). Read from the shard's own cursor totals.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../src/ids";
import type { RowCounts } from "../src/sql";
import { applyIndexMessages } from "../src/tenant-index/consumer";
import { type IndexMessage, monthShard, type SessionDelta } from "../src/tenant-index/messages";

const T0 = Date.UTC(2026, 7, 10, 9);
const MONTH = "2026-08";

const counts = (tenant: string) =>
  runInDurableObject(env.TENANT_INDEX.getByName(monthShard(tenant, MONTH)), (instance) => ({
    ...(instance as unknown as { store: { sql: { counts: RowCounts } } }).store.sql.counts,
  }));

/** A session of `n` stamps, as its persona object reports it: a message per stamp, the last with the end. */
function messages(tenant: string, persona: string, started: number, n: number): IndexMessage[] {
  const id = uuidv7(started);
  const labels = ["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"];
  return Array.from({ length: n }, (_, i): IndexMessage => {
    const d: SessionDelta = {
      id,
      started_at: started,
      ended_at: i === n - 1 ? started + n * 60_000 : null,
      end_reason: i === n - 1 ? "client" : null,
      stamp_count: i + 1,
      last_status: labels[i % labels.length]!,
      last_ts: started + i * 60_000,
      idle_at: null,
      store_id: "s-1",
      kiosk_id: "k-1",
      stamps: [[i + 1, labels[i % labels.length]!, started + i * 60_000]],
    };
    return { v: 1, tenant, changes: [{ persona, sessions: [d] }] };
  });
}

describe("rows the month shard writes per session", () => {
  it("a 10-stamp session told stamp by stamp, one batch each: 4 rows more than before blocks", async () => {
    const tenant = `cost-${crypto.randomUUID().slice(0, 8)}`;
    // The shard's first batch creates its schema, and a session as long as the measured one sets the
    // longest packed span: measure a later session, as in steady state.
    await applyIndexMessages(
      messages(tenant, "warm", T0, 10).map((body) => ({ body })),
      env,
    );
    const before = await counts(tenant);
    for (const body of messages(tenant, "p1", T0 + 3_600_000, 10)) await applyIndexMessages([{ body }], env);
    const after = await counts(tenant);
    const written = after.rowsWritten - before.rowsWritten;
    console.log(`month shard rows written for a 10-stamp session, one batch per stamp: ${written}`);
    // 52 before blocks (a stamp row, the session row, 3 meta rows per batch; the first batch's index
    // entries); packing adds 4: the partial index entry, the packed mark, the block row and the
    // day's dwell summary row.
    expect(written).toBeLessThanOrEqual(56);
  });

  it("100 sessions ended in one batch: 2 rows more a session than before blocks, one block and one summary write for all", async () => {
    const tenant = `cost-${crypto.randomUUID().slice(0, 8)}`;
    await applyIndexMessages(
      messages(tenant, "warm", T0, 10).map((body) => ({ body })),
      env,
    );
    const whole = (persona: string, k: number): IndexMessage => {
      const parts = messages(tenant, persona, T0 + 3_600_000 + k * 1000, 10);
      const last = parts.at(-1)!.changes[0]!.sessions[0]!;
      const stamps = parts.flatMap((m) => m.changes[0]!.sessions[0]!.stamps);
      return { v: 1, tenant, changes: [{ persona, sessions: [{ ...last, stamps }] }] };
    };
    const before = await counts(tenant);
    await applyIndexMessages(
      Array.from({ length: 100 }, (_, k) => ({ body: whole(`p${k}`, k) })),
      env,
    );
    const after = await counts(tenant);
    const perSession = (after.rowsWritten - before.rowsWritten) / 100;
    console.log(`month shard rows written per 10-stamp session, 100 in a batch: ${perSession}`);
    // 13.03 before blocks (10 stamps, the session row, 2 index entries; meta rows shared); packing
    // adds 2 (the partial index entry, the packed mark), the block row and the day's summary row
    // shared by the batch.
    expect(perSession).toBeLessThanOrEqual(15.06);
  });
});
