/**
 * Storage probe for `npm run bench` (never deployed): the real app and the real persona object,
 * plus read-only RPC methods and `GET /__probe/{tenant}/{persona_id}`, which reports the object's
 * cumulative billed SQL rows (the `rowsRead`/`rowsWritten` of every cursor it ran, see
 * src/sql.ts) and its database size, and `POST /__probe/{tenant}/{persona_id}/alarm`, which runs
 * its alarm now (to measure the index check without waiting for it). The harness reads the
 * counts before and after each API request.
 */
import { app } from "../../src/http/app";
import { uuidv7 } from "../../src/ids";
import { LIMITS } from "../../src/limits";
import { PersonaSession as Base } from "../../src/persona/object";
import { applyIndexMessages, consumeIndexBatch } from "../../src/tenant-index/consumer";
import type { IndexMessage } from "../../src/tenant-index/messages";

export { TenantIndex } from "../../src/tenant-index/object";

export class PersonaSession extends Base {
  probeCounts(): { rows_read: number; rows_written: number; db_bytes: number } {
    const { rowsRead, rowsWritten } = this.store.sql.counts;
    return { rows_read: rowsRead, rows_written: rowsWritten, db_bytes: this.ctx.storage.sql.databaseSize };
  }

  /**
   * Runs the alarm as it runs when the check is due: 10 s after the latest send, the stream paused
   * (run at once, a check would find the persona still streaming and be put off, asking nothing).
   */
  async probeAlarm(): Promise<void> {
    (this as unknown as { outbox: { sentAt: number } }).outbox.sentAt -= LIMITS.indexRecheckMs;
    await this.alarm();
  }
}

interface ProbeEnv extends Omit<Env, "PERSONA"> {
  PERSONA: DurableObjectNamespace<PersonaSession>;
}

/**
 * `POST /__probe/seed-index {tenant, first, count, from, to}`: sessions `first`..`first+count-1` of
 * a synthetic tenant history, applied through the index's own write path (the consumer's grouping,
 * one call per shard) in batches of 100 messages, as the queue would deliver them. Deterministic
 * for a given index, so the bench can seed in parts.
 */
async function seedIndex(env: Env, body: { tenant: string; first: number; count: number; from: number; to: number }) {
  const labels = ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE", "HELP", "BROWSING"];
  const messages: { body: IndexMessage }[] = [];
  for (let k = body.first; k < body.first + body.count; k++) {
    // A cheap deterministic spread of start times, lengths and paths.
    const r = (n: number) => ((k * 2654435761 + n * 40503) >>> 0) / 2 ** 32;
    const started = Math.floor(body.from + r(1) * (body.to - body.from));
    const stamps: [number, string, number][] = [[1, "ENTER", started]];
    let t = started;
    const length = 3 + Math.floor(r(2) * 6);
    for (let i = 0; i < length; i++) {
      t += 5_000 + Math.floor(r(3 + i) * 600_000);
      stamps.push([i + 2, labels[Math.floor(r(20 + i) * (i < 3 ? 2 : labels.length)) + (i < 3 ? i : 0)]!, t]);
    }
    const idle = r(40) < 0.2;
    const last = stamps[stamps.length - 1]!;
    messages.push({
      body: {
        v: 1,
        tenant: body.tenant,
        changes: [
          {
            persona: `seed-${k}`,
            sessions: [
              {
                id: uuidv7(started),
                started_at: started,
                ended_at: idle ? last[2] + 7_200_000 : last[2] + 30_000,
                end_reason: idle ? "idle_timeout" : "client",
                stamp_count: stamps.length,
                last_status: last[1],
                last_ts: last[2],
                idle_at: null,
                // 2,000 stores (registered by the harness), 5 kiosks each.
                store_id: `store-${k % 2000}`,
                kiosk_id: `kiosk-${k % 5}`,
                stamps,
              },
            ],
          },
        ],
      },
    });
  }
  // Delivered in start order, 100 to a batch, as live traffic comes: sessions end about when they
  // started, so a batch completes the sessions of a day or two, not of the whole range (each day
  // a batch touches rewrites that day's open analytics block).
  const startOf = (m: { body: IndexMessage }) => m.body.changes[0]!.sessions[0]!.started_at;
  messages.sort((a, b) => startOf(a) - startOf(b));
  for (let i = 0; i < messages.length; i += 100) await applyIndexMessages(messages.slice(i, i + 100), env);
}

export default {
  async fetch(request: Request, env: ProbeEnv, ctx: ExecutionContext): Promise<Response> {
    if (new URL(request.url).pathname === "/__probe/seed-index") {
      await seedIndex(env as unknown as Env, await request.json());
      return Response.json({ ok: true });
    }
    const match = /^\/__probe\/([^/]+)\/([^/]+)(\/alarm)?$/.exec(new URL(request.url).pathname);
    if (!match) return app.fetch(request, env as unknown as Env, ctx);
    // Same object name as the service's routes use: tenant and persona id.
    const persona = env.PERSONA.getByName(`${match[1]}:${match[2]}`);
    if (match[3]) {
      await persona.probeAlarm();
      return Response.json({ ok: true });
    }
    return Response.json(await persona.probeCounts());
  },
  queue: (batch, env) => consumeIndexBatch(batch, env as unknown as Env),
} satisfies ExportedHandler<ProbeEnv>;
