import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IdempotencyHeaders } from "../src/http/schemas";
import { api, base, current, DAY, end, HOUR, personaId, personaStub, sqlIn, stamp, stamps, start } from "./helpers";

const key = () => `key-${crypto.randomUUID()}`;
const withKey = (k: string) => ({ headers: { "idempotency-key": k } });

describe("Idempotency-Key", () => {
  it("a start whose response was lost, retried with its key, gets the same 201 and session_id", async () => {
    const persona = personaId("lost-start");
    const k = key();
    const first = await start(persona, withKey(k));
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const retry = await start(persona, withKey(k));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.json.data).toEqual(first.json.data);
    expect(retry.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    // without the key a second start is refused as usual
    expect((await start(persona)).status).toBe(409);
  });

  it("20 concurrent identical stamps with one key record exactly one stamp", async () => {
    const persona = personaId("dup-stamp");
    await start(persona);
    const k = key();
    const results = await Promise.all(Array.from({ length: 20 }, () => stamp(persona, { status: "PAYMENT" }, withKey(k))));
    expect(results.every((r) => r.status === 201)).toBe(true);
    expect(new Set(results.map((r) => JSON.stringify(r.json.data))).size).toBe(1);
    expect(results.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(19);
    const session = (await current(persona)).json.data;
    expect(session.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER", "PAYMENT"]);
  });

  it("the same key with another body, path or method gives 422 and changes nothing", async () => {
    const persona = personaId("reuse");
    await start(persona);
    const k = key();
    expect((await stamp(persona, { status: "CHAT" }, withKey(k))).status).toBe(201);
    const other = await stamp(persona, { status: "SHOPPING" }, withKey(k));
    expect(other.status).toBe(422);
    expect(other.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const otherPath = await stamps(persona, { status: "CHAT" }, withKey(k));
    expect(otherPath.status).toBe(400); // not a batch body: refused before the object
    const otherRoute = await end(persona, withKey(k));
    expect(otherRoute.status).toBe(422);
    expect((await current(persona)).json.data.stamp_count).toBe(2);
  });

  it("a replayed 404 stays a 404 even after a session starts", async () => {
    const persona = personaId("replay-404");
    const k = key();
    const first = await stamp(persona, { status: "CHAT" }, withKey(k));
    expect(first.status).toBe(404);
    await start(persona);
    const retry = await stamp(persona, { status: "CHAT" }, withKey(k));
    expect(retry.status).toBe(404);
    expect(retry.json.error.code).toBe("NO_ACTIVE_SESSION");
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect((await current(persona)).json.data.stamp_count).toBe(1);
  });

  it("a replayed 409 keeps its details", async () => {
    const persona = personaId("replay-409");
    const started = await start(persona);
    const k = key();
    const first = await start(persona, withKey(k));
    expect(first.status).toBe(409);
    await end(persona);
    const retry = await start(persona, withKey(k));
    expect(retry.status).toBe(409);
    expect(retry.json.error.details).toEqual({ session_id: started.json.data.session_id });
  });

  it("a retried end returns the same history, even after the next visit started", async () => {
    const persona = personaId("retry-end");
    await start(persona);
    await stamp(persona, { status: "CHAT", meta: { a: 1 } });
    const k = key();
    const first = await end(persona, withKey(k));
    expect(first.status).toBe(200);
    await start(persona);
    await stamp(persona, { status: "OTHER" });
    const retry = await end(persona, withKey(k));
    expect(retry.status).toBe(200);
    expect(retry.json.data).toEqual(first.json.data);
    expect((await current(persona)).status).toBe(200); // the new visit is untouched
  });

  it("a batch is covered by one key", async () => {
    const persona = personaId("batch-key");
    await start(persona);
    const k = key();
    const body = { stamps: [{ status: "A" }, { status: "B" }] };
    const first = await stamps(persona, body, withKey(k));
    const retry = await stamps(persona, body, withKey(k));
    expect(retry.json.data).toEqual(first.json.data);
    expect((await current(persona)).json.data.stamp_count).toBe(3);
  });

  it("does not record requests refused before the object acted", async () => {
    const persona = personaId("not-recorded");
    await start(persona);
    const k = key();
    expect((await stamp(persona, { status: "" }, withKey(k))).status).toBe(400);
    expect((await stamp(persona, { status: "OK" }, withKey(k))).status).toBe(201);
  });

  it.each([
    ["too long", "k".repeat(256)],
    ["a control character", "abc\u0001"],
  ])("refuses a key that is %s with 400", async (_label, k) => {
    const persona = personaId("bad-key");
    const res = await api(`${base(persona)}/session/start`, { method: "POST", headers: { "idempotency-key": k } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toEqual(["idempotency-key"]);
    expect((await current(persona)).status).toBe(404);
  });

  // A fetch in workerd sends a non-ASCII header as UTF-8 bytes (with a warning on the console), and
  // the Worker reads those bytes back one character each: the header schema is what refuses them.
  it("refuses a non-ASCII key, as the bytes a client sent", () => {
    for (const k of ["cl\u00e9", "cl\u00c3\u00a9"]) {
      const parsed = IdempotencyHeaders.safeParse({ "idempotency-key": k });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual(["idempotency-key"]);
    }
  });

  it("accepts a 255-character printable key", async () => {
    const persona = personaId("long-key");
    expect((await start(persona, withKey("~".repeat(255)))).status).toBe(201);
  });

  it("keys are pruned by the alarm after 24 hours, never before", async () => {
    const persona = personaId("prune");
    await start(persona);
    const old = key();
    const fresh = key();
    await stamp(persona, { status: "OLD" }, withKey(old));
    await stamp(persona, { status: "FRESH" }, withKey(fresh));
    await sqlIn(persona, "UPDATE idempotency SET created_at = created_at - ? WHERE key = ?", DAY + HOUR, old);
    await sqlIn(persona, "UPDATE sessions SET last_activity_at = ?", Date.now()); // stay active
    expect(await runDurableObjectAlarm(personaStub(persona))).toBe(true);
    const keys = (await sqlIn(persona, "SELECT key FROM idempotency")).map((r) => r.key);
    expect(keys).toEqual([fresh]);
  });
});
