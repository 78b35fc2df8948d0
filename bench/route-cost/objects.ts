/**
 * Entry of `bench/route-cost.mjs --objects`: the service (its app and its real Durable Objects,
 * SQLite included) beside the bench's baseline, each called in a loop inside one request, so the
 * two can be compared per stamp without HTTP, the load generator or Miniflare's entry Worker in
 * the figure. Never deployed; not a test.
 */
import service, { PersonaSession, TenantIndex } from "service/index";
import baseline, { BaselinePersona } from "../baseline/index";

export { BaselinePersona, PersonaSession, TenantIndex };

const BODY = JSON.stringify({ status: "SHOPPING" });
/** Stamps per persona before the loop moves to the next (the session limit is 1,000). */
const PER_PERSONA = 900;

function post(path: string, key: string, body?: string): Request {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": String(body.length) });
  return new Request(`http://localhost${path}`, { method: "POST", headers, body });
}

type LoopEnv = Env & { BASE: DurableObjectNamespace<BaselinePersona> };

export default {
  async fetch(req: Request, env: LoopEnv, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n"));
    const key = url.searchParams.get("key") ?? "";
    const target = url.searchParams.get("target");
    const run = crypto.randomUUID().slice(0, 8);
    const baseEnv = { PERSONA: env.BASE };
    const log = console.log;
    console.log = () => {};
    try {
      for (let i = 0; i < n; i++) {
        const persona = `rc-${run}-${Math.floor(i / PER_PERSONA)}`;
        const path = `/v1/persona/${persona}/session`;
        let res: Response;
        if (target === "service") {
          if (i % PER_PERSONA === 0) await (await service.fetch(post(`${path}/start`, key), env, ctx)).arrayBuffer();
          res = await service.fetch(post(`${path}/stamp`, key, BODY), env, ctx);
        } else {
          res = await baseline.fetch(post(`${path}/stamp`, key, BODY), baseEnv);
        }
        if (res.status !== 201) return new Response(`${res.status} ${await res.text()}`, { status: 500 });
        await res.arrayBuffer();
      }
    } finally {
      console.log = log;
    }
    return new Response("ok");
  },
  queue: service.queue,
} satisfies ExportedHandler<LoopEnv>;
