/**
 * Entry of `bench/route-cost.mjs --objects`: the service (its app and its real Durable Objects,
 * SQLite included) beside the bench's baseline, each called in a loop inside one request, so the
 * two can be compared per stamp without HTTP, the load generator or Miniflare's entry Worker in
 * the figure. Never deployed; not a test.
 */
import service, { PersonaSession, TenantIndex } from "service/index";
import baseline, { BaselinePersona } from "../baseline/index";
import { loop, post, STAMP_BODY } from "./loop";

export { BaselinePersona, PersonaSession, TenantIndex };

/** Stamps per persona before the loop moves to the next (the session limit is 1,000). */
const PER_PERSONA = 900;

type LoopEnv = Env & { BASE: DurableObjectNamespace<BaselinePersona> };

export default {
  fetch(req: Request, env: LoopEnv, ctx: ExecutionContext): Promise<Response> {
    const run = crypto.randomUUID().slice(0, 8);
    const baseEnv = { PERSONA: env.BASE };
    return loop(req, async (i, target, key) => {
      const path = `/v1/persona/rc-${run}-${Math.floor(i / PER_PERSONA)}/session`;
      if (target !== "service") return baseline.fetch(post(`${path}/stamp`, key, STAMP_BODY), baseEnv);
      if (i % PER_PERSONA === 0) await (await service.fetch(post(`${path}/start`, key), env, ctx)).arrayBuffer();
      return service.fetch(post(`${path}/stamp`, key, STAMP_BODY), env, ctx);
    });
  },
  queue: service.queue,
} satisfies ExportedHandler<LoopEnv>;
