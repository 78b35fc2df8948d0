/** What both route-cost entries share: the request they send and the timed loop around it. */

export const STAMP_BODY = JSON.stringify({ status: "SHOPPING" });

/** A POST as a kiosk sends it: with a body, its type and length; without one, neither. */
export function post(path: string, key: string, body?: string): Request {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": String(body.length) });
  return new Request(`http://localhost${path}`, { method: "POST", headers, body });
}

/**
 * Runs `step` for i = 0..n-1 (`?n=`), with the `?target=` and `?key=` route-cost.mjs sends, and
 * answers "ok", or the first answer that was not a 201.
 */
export async function loop(req: Request, step: (i: number, target: string, key: string) => Promise<Response>): Promise<Response> {
  const url = new URL(req.url);
  const n = Number(url.searchParams.get("n"));
  const key = url.searchParams.get("key") ?? "";
  const target = url.searchParams.get("target") ?? "";
  // Thousands of log lines inside one request cost workerd far more per line than one line per
  // request does (the bench measures that one), so the loop runs with console.log muted.
  const log = console.log;
  console.log = () => {};
  try {
    for (let i = 0; i < n; i++) {
      const res = await step(i, target, key);
      if (res.status !== 201) return new Response(`${res.status} ${await res.text()}`, { status: 500 });
      await res.arrayBuffer();
    }
  } finally {
    console.log = log;
  }
  return new Response("ok");
}
