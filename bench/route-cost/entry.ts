/**
 * Entry of `bench/route-cost.mjs`: the service's Hono app (imported from the tree under test, see
 * the alias in route-cost.mjs) with its persona object replaced by a canned answer, called in a
 * loop inside one request. What it measures is the Worker's own request path: routing,
 * middleware, auth, body reading, validation, envelope. Never deployed; not a test.
 */
import { app } from "service/http/app";

const ANSWER = {
  ok: true,
  data: { session_id: "019ac5a0-8f1e-7c3a-9d2b-5e4f6a7b8c9d", status: "SHOPPING", timestamp: "2026-11-28T10:00:00.000Z" },
};
const persona = { stamp: async () => ANSWER };
const BODY = JSON.stringify({ status: "SHOPPING" });

function stampRequest(key: string): Request {
  return new Request("http://localhost/v1/persona/p-1/session/stamp", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": String(BODY.length) },
    body: BODY,
  });
}

/** The least any handler of this route does: read and parse the body, call the object, answer. */
async function floor(req: Request): Promise<Response> {
  const input = JSON.parse(await req.text()) as { status: string };
  const outcome = await persona.stamp();
  if (input.status !== outcome.data.status) throw new Error("unexpected body");
  return Response.json({ success: true, data: outcome.data }, { status: 201 });
}

export default {
  async fetch(req: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(req.url);
    const n = Number(url.searchParams.get("n"));
    const key = url.searchParams.get("key") ?? "";
    const target = url.searchParams.get("target");
    const withStub = { ...env, PERSONA: { getByName: () => persona } } as unknown as Env;
    // Thousands of log lines inside one request cost workerd far more per line than one line per
    // request does (the bench measures that one), so the loop runs with console.log muted.
    const log = console.log;
    console.log = () => {};
    try {
      for (let i = 0; i < n; i++) {
        const res = target === "app" ? await app.fetch(stampRequest(key), withStub, ctx) : await floor(stampRequest(key));
        if (res.status !== 201) return new Response(`${res.status} ${await res.text()}`, { status: 500 });
        await res.arrayBuffer();
      }
    } finally {
      console.log = log;
    }
    return new Response("ok");
  },
};
