/**
 * Baseline Worker for `npm run bench`: a plain fetch handler that sends each POST to the Durable
 * Object named by the persona id in the path, which does one INSERT via one RPC call and returns a
 * small JSON body. It reads the body (every scenario sends one) but validates nothing: this is the
 * cost of the platform round trip and the write, which the service's budget is measured against.
 */
import { DurableObject } from "cloudflare:workers";

interface BaselineEnv {
  PERSONA: DurableObjectNamespace<BaselinePersona>;
}

export class BaselinePersona extends DurableObject<BaselineEnv> {
  constructor(ctx: DurableObjectState, env: BaselineEnv) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS stamps (seq INTEGER PRIMARY KEY, status TEXT NOT NULL, ts INTEGER NOT NULL, meta TEXT)",
    );
  }

  record(status: string, meta: string | null): { seq: number; timestamp: string } {
    const now = Date.now();
    const row = this.ctx.storage.sql
      .exec<{ seq: number }>("INSERT INTO stamps (status, ts, meta) VALUES (?, ?, ?) RETURNING seq", status, now, meta)
      .one();
    return { seq: row.seq, timestamp: new Date(now).toISOString() };
  }
}

export default {
  async fetch(request: Request, env: BaselineEnv): Promise<Response> {
    // /v1/persona/{persona_id}/session/{action}
    const parts = new URL(request.url).pathname.split("/");
    const persona = parts[3];
    if (request.method !== "POST" || !persona) return new Response("not found", { status: 404 });
    const text = await request.text();
    let status = parts[5] ?? "STAMP";
    let meta: string | null = null;
    if (text) {
      const body = JSON.parse(text) as { status?: string; meta?: unknown };
      if (typeof body.status === "string") status = body.status;
      if (body.meta !== undefined) meta = JSON.stringify(body.meta);
    }
    const result = await env.PERSONA.getByName(persona).record(status, meta);
    return Response.json({ success: true, data: result }, { status: 201 });
  },
} satisfies ExportedHandler<BaselineEnv>;
