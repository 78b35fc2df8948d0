/**
 * Entry of `bench/route-cost.mjs`: the service's Hono app (imported from the tree under test, see
 * the alias in route-cost.mjs) with its persona object replaced by a canned answer, called in a
 * loop inside one request. What it measures is the Worker's own request path: routing,
 * middleware, auth, body reading, validation, envelope. Never deployed; not a test.
 */
import { app } from "service/http/app";
import { loop, post, STAMP_BODY } from "./loop";

const ANSWER = {
  ok: true,
  data: { session_id: "019ac5a0-8f1e-7c3a-9d2b-5e4f6a7b8c9d", status: "SHOPPING", timestamp: "2026-11-28T10:00:00.000Z" },
};
const persona = { stamp: async () => ANSWER };
const PATH = "/v1/persona/p-1/session/stamp";

/** The least any handler of this route does: read and parse the body, call the object, answer. */
async function floor(req: Request): Promise<Response> {
  const input = JSON.parse(await req.text()) as { status: string };
  const outcome = await persona.stamp();
  if (input.status !== outcome.data.status) throw new Error("unexpected body");
  return Response.json({ success: true, data: outcome.data }, { status: 201 });
}

export default {
  fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const withStub = { ...env, PERSONA: { getByName: () => persona } } as unknown as Env;
    return loop(req, async (_i, target, key) =>
      target === "app" ? app.fetch(post(PATH, key, STAMP_BODY), withStub, ctx) : floor(post(PATH, key, STAMP_BODY)),
    );
  },
};
