/**
 * Storage probe for `npm run bench` (never deployed): the real app and the real persona object,
 * plus read-only RPC methods and `GET /__probe/{tenant}/{persona_id}`, which reports the object's
 * cumulative billed SQL rows (the `rowsRead`/`rowsWritten` of every cursor it ran, see
 * src/sql.ts) and its database size, and `POST /__probe/{tenant}/{persona_id}/alarm`, which runs
 * its alarm now (to measure the index check without waiting for it). The harness reads the
 * counts before and after each API request.
 */
import { app } from "../../src/http/app";
import { PersonaSession as Base } from "../../src/persona/object";
import { consumeIndexBatch } from "../../src/tenant-index/consumer";

export { TenantIndex } from "../../src/tenant-index/object";

export class PersonaSession extends Base {
  probeCounts(): { rows_read: number; rows_written: number; db_bytes: number } {
    const { rowsRead, rowsWritten } = this.store.sql.counts;
    return { rows_read: rowsRead, rows_written: rowsWritten, db_bytes: this.ctx.storage.sql.databaseSize };
  }

  async probeAlarm(): Promise<void> {
    await this.alarm();
  }
}

interface ProbeEnv extends Omit<Env, "PERSONA"> {
  PERSONA: DurableObjectNamespace<PersonaSession>;
}

export default {
  async fetch(request: Request, env: ProbeEnv, ctx: ExecutionContext): Promise<Response> {
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
