import { describe, expect, it } from "vitest";
import { LIMITS } from "../src/limits";
import { api, base, current, personaId, stamp, start } from "./helpers";

async function withSession(label: string) {
  const persona = personaId(label);
  expect((await start(persona)).status).toBe(201);
  return persona;
}

describe("persona_id", () => {
  it.each([
    ["too long", "x".repeat(LIMITS.personaIdMaxChars + 1)],
    ["a space", "a%20b"],
    ["a slash", "a%2Fb"],
    ["non-ASCII", "caf%C3%A9"],
    ["only dots", "..."],
  ])("refuses %s with 400 VALIDATION_ERROR", async (_label, id) => {
    const res = await api(`/v1/persona/${id}/session/start`, { method: "POST" });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details.fields[0].path).toBe("persona_id");
  });

  it("accepts the longest allowed id and every allowed character", async () => {
    const id = `A-z_0.9:${crypto.randomUUID()}`.padEnd(LIMITS.personaIdMaxChars, "x");
    expect((await start(id)).status).toBe(201);
  });
});

describe("stamp body", () => {
  it.each([
    ["missing status", {}, "status"],
    ["empty status", { status: "" }, "status"],
    ["status too long", { status: "S".repeat(LIMITS.statusMaxChars + 1) }, "status"],
    ["status with a control character", { status: "CH\nAT" }, "status"],
    ["status not a string", { status: 7 }, "status"],
    ["meta an array", { status: "CHAT", meta: [1, 2] }, "meta"],
    ["meta null", { status: "CHAT", meta: null }, "meta"],
    ["meta a string", { status: "CHAT", meta: "zone" }, "meta"],
    ["a typo'd field", { stauts: "CHAT", status: "CHAT" }, "(body)"],
    ["occurred_at without a zone", { status: "CHAT", occurred_at: "2026-04-17T10:00:00" }, "occurred_at"],
    ["a session_id that is no UUID", { status: "CHAT", session_id: "abc" }, "session_id"],
  ])("refuses %s with 400 VALIDATION_ERROR naming the field, and records nothing", async (_label, body, field) => {
    const persona = await withSession("bad-stamp");
    const res = await stamp(persona, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
    expect(res.json.error.details.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect((await current(persona)).json.data.stamps).toHaveLength(1);
  });

  it("names unknown fields in details", async () => {
    const persona = await withSession("typo");
    const res = await stamp(persona, { stauts: "CHAT" });
    const unknown = res.json.error.details.fields.find((f: { keys?: string[] }) => f.keys);
    expect(unknown.keys).toEqual(["stauts"]);
  });

  it("stores a 64-character label with any Unicode exactly as given", async () => {
    const persona = await withSession("unicode");
    const status = `会計🧾${"済".repeat(LIMITS.statusMaxChars - 3)}`;
    expect([...status]).toHaveLength(LIMITS.statusMaxChars);
    expect((await stamp(persona, { status })).status).toBe(201);
    expect((await current(persona)).json.data.stamps[1].status).toBe(status);
  });

  it("takes meta up to 8 KiB as JSON and refuses one byte more", async () => {
    const persona = await withSession("meta-size");
    const overhead = JSON.stringify({ k: "" }).length;
    const fits = { k: "x".repeat(LIMITS.metaMaxBytes - overhead) };
    expect((await stamp(persona, { status: "A", meta: fits })).status).toBe(201);
    const over = { k: "x".repeat(LIMITS.metaMaxBytes - overhead + 1) };
    const res = await stamp(persona, { status: "B", meta: over });
    expect(res.status).toBe(400);
    expect(res.json.error.details.fields[0].path).toBe("meta");
  });

  it("round-trips meta as JSON, keeping key order and nesting", async () => {
    const persona = await withSession("meta-roundtrip");
    // biome-ignore lint/correctness/noPrecisionLoss: the precision loss is what this test documents
    const meta = { z: 1, a: { nested: [1, "two", null, true] }, 日本: "語", big: 9007199254740993 };
    await stamp(persona, { status: "CHAT", meta });
    const stored = (await current(persona)).json.data.stamps[1].meta;
    expect(Object.keys(stored)).toEqual(["z", "a", "日本", "big"]);
    expect(stored.a).toEqual({ nested: [1, "two", null, true] });
    expect(stored.big).toBe(9007199254740992); // beyond 2^53: precision is lost, as documented
  });
});

describe("bodies", () => {
  it("refuses malformed JSON with 400 INVALID_JSON", async () => {
    const persona = await withSession("badjson");
    for (const body of ["{", "{'status': 'x'}", "   ", '{"status": "A"} trailing']) {
      const res = await stamp(persona, body, { headers: { "content-type": "application/json" } });
      expect(res.status, body).toBe(400);
      expect(res.json.error.code).toBe("INVALID_JSON");
    }
  });

  it("refuses invalid UTF-8 as INVALID_JSON", async () => {
    const persona = await withSession("badutf8");
    const bytes = new Uint8Array([...new TextEncoder().encode('{"status":"'), 0xff, ...new TextEncoder().encode('"}')]);
    const res = await stamp(persona, bytes, { headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_JSON");
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "application/jsonx"])("refuses Content-Type %s with 415", async (type) => {
    const persona = await withSession("media");
    const res = await stamp(persona, '{"status":"CHAT"}', { headers: { "content-type": type } });
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("refuses a body with no Content-Type with 415", async () => {
    const persona = await withSession("notype");
    const res = await stamp(persona, '{"status":"CHAT"}');
    expect(res.status).toBe(415);
  });

  it("accepts application/json with a charset", async () => {
    const persona = await withSession("charset");
    const res = await stamp(persona, '{"status":"CHAT"}', { headers: { "content-type": "application/json; charset=utf-8" } });
    expect(res.status).toBe(201);
  });

  it("refuses a body over 16 KiB with 413", async () => {
    const persona = await withSession("big");
    const body = JSON.stringify({ status: "CHAT", meta: { k: "x".repeat(LIMITS.bodyMaxBytes) } });
    const res = await stamp(persona, body, { headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("takes start and end with no body, an empty body or {}", async () => {
    const persona = personaId("nobody");
    expect((await start(persona)).status).toBe(201);
    expect(
      (await api(`${base(persona)}/session/end`, { method: "POST", body: "", headers: { "content-type": "application/json" } })).status,
    ).toBe(200);
    expect((await start(persona, { body: {} })).status).toBe(201);
    // a body is still validated before the object answers (400, not the 409 a valid start gets)
    expect((await api(`${base(persona)}/session/start`, { method: "POST", body: { extra: 1 } })).status).toBe(400);
    expect((await start(persona)).status).toBe(409);
  });

  it("takes an empty POST sent with Content-Length: 0 and no Content-Type", async () => {
    const persona = personaId("empty-post");
    const res = await start(persona, { headers: { "content-length": "0" }, body: new Uint8Array(0) });
    expect(res.status).toBe(201);
  });

  it("refuses unknown fields on start", async () => {
    const persona = personaId("start-typo");
    const res = await start(persona, { body: { ocurred_at: "2026-01-01T00:00:00Z" } });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_ERROR");
  });
});

describe("routes", () => {
  it("answers an unknown path with 404 NOT_FOUND in the envelope, with or without a key", async () => {
    for (const key of [null, undefined]) {
      const res = await api("/nope", { key });
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ success: false, error: { code: "NOT_FOUND" } });
    }
    expect((await api("/v1/nope")).status).toBe(404);
  });

  it("answers a known path with the wrong method with 405 and Allow", async () => {
    const persona = personaId("method");
    const res = await api(`${base(persona)}/session/start`, { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.json.error.code).toBe("METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("POST");
    const res2 = await api(`${base(persona)}/session`, { method: "POST" });
    expect(res2.headers.get("allow")).toBe("GET, HEAD");
  });

  it("applies the documented order of checks", async () => {
    const persona = personaId("order");
    // unknown /v1 path without a key: 401 comes first
    expect((await api("/v1/nope", { key: null })).status).toBe(401);
    // wrong method and bad key: 401
    expect((await api(`${base(persona)}/session/start`, { method: "GET", key: null })).status).toBe(401);
    // wrong method with a bad body: 405 before 415
    expect(
      (await api(`${base(persona)}/session/start`, { method: "PUT", body: "x", headers: { "content-type": "text/plain" } })).status,
    ).toBe(405);
    // bad content type and too large and invalid persona: 415 first
    const big = "x".repeat(LIMITS.bodyMaxBytes + 10);
    expect(
      (await api("/v1/persona/..../session/stamp", { method: "POST", body: big, headers: { "content-type": "text/plain" } })).status,
    ).toBe(415);
    // too large and malformed and invalid persona: 413
    expect(
      (await api("/v1/persona/..../session/stamp", { method: "POST", body: big, headers: { "content-type": "application/json" } })).status,
    ).toBe(413);
    // invalid persona with a good body and no session: 400 before the object's 404
    expect((await api("/v1/persona/..../session/stamp", { method: "POST", body: { status: "A" } })).status).toBe(400);
    // a valid request with no session: the object's 404
    expect((await stamp(persona, { status: "A" })).status).toBe(404);
  });

  it("serves HEAD for GET routes", async () => {
    const persona = await withSession("head");
    const res = await api(`${base(persona)}/session`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.json).toBeNull();
  });

  it("answers the session routes with 404 NO_ACTIVE_SESSION when there is none", async () => {
    const persona = personaId("none");
    for (const res of [
      await stamp(persona, { status: "A" }),
      await api(`${base(persona)}/session/end`, { method: "POST" }),
      await current(persona),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("NO_ACTIVE_SESSION");
    }
  });

  it("puts a request id and no-store on every answer, echoing a well-formed incoming id", async () => {
    const ok = await api("/healthz", { headers: { "x-request-id": "kiosk-42.req-7" } });
    expect(ok.headers.get("x-request-id")).toBe("kiosk-42.req-7");
    expect(ok.headers.get("cache-control")).toBe("no-store");
    const bad = await api("/nope", { headers: { "x-request-id": "has space" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.json.error.request_id).toBe(bad.headers.get("x-request-id"));
  });
});

describe("streamed bodies", () => {
  it("refuses a chunked body with no Content-Length once it passes 16 KiB", async () => {
    const persona = personaId("chunked");
    await start(persona);
    const chunk = new TextEncoder().encode(`{"status":"A","meta":{"k":"${"x".repeat(4000)}`);
    // Five chunks, 20,000 bytes, the last closing the stream: the Worker stops reading past 16 KiB,
    // and a stream with nothing left to send is not cut off mid-way (workerd would log that).
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(chunk);
        if (++sent === 5) controller.close();
      },
    });
    const res = await stamp(persona, body, { headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect((await current(persona)).json.data.stamp_count).toBe(1);
  });
});
