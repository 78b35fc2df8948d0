import { describe, expect, it } from "vitest";
import { INSTANT_PATTERN, Instant } from "../src/fields";
import { admin, api, current, end, newTenant, personaId, stamp, stamps, start } from "./helpers";

const BEFORE = "1999-12-31T23:59:59.999Z";
const AFTER = "3000-01-01T00:00:00.001Z";

/** A 400 VALIDATION_ERROR whose fields name `field`. */
function refusedNaming(res: { status: number; json: { error: { code: string; details: { fields: { path: string }[] } } } }, field: string) {
  expect(res.status).toBe(400);
  expect(res.json.error.code).toBe("VALIDATION_ERROR");
  expect(res.json.error.details.fields.map((f) => f.path)).toContain(field);
}

describe("the document's date-time rule", () => {
  // format: date-time (RFC 3339) checks the calendar; INSTANT_PATTERN narrows it to what the
  // parser takes. On dates the calendar allows, the pattern and the parser answer the same.
  it("INSTANT_PATTERN accepts exactly the instants the parser accepts", () => {
    const pattern = new RegExp(INSTANT_PATTERN);
    const cases = [
      "2026-04-17T10:05:00Z",
      "2026-04-17T10:05:00.123456789Z",
      "2026-04-17T10:05:00+05:30",
      "2026-04-17T10:05:00-00:00",
      "2026-04-17t10:05:00Z",
      "2026-04-17T10:05:00z",
      "2026-04-17T23:59:60Z",
      "2026-04-17T10:05Z",
      "2026-04-17T10:05:00+0530",
      "2026-04-17 10:05:00Z",
      "2026-04-17T24:00:00Z",
      "2026-04-17T10:05:00",
      "2026-04-17T10:05:00.Z",
    ];
    for (const value of cases) expect(pattern.test(value), value).toBe(Instant.safeParse(value).success);
    expect(cases.filter((v) => pattern.test(v))).toHaveLength(4);
  });
});

describe("instants from 2000-01-01T00:00:00Z to 3000-01-01T00:00:00Z, on every route that takes one", () => {
  it("occurred_at on start, stamp, batch and end: outside is 400 naming it, and nothing is stored", async () => {
    const persona = personaId("range");
    refusedNaming(await start(persona, { body: { occurred_at: BEFORE } }), "occurred_at");
    refusedNaming(await start(persona, { body: { occurred_at: "0000-01-01T00:00:00Z" } }), "occurred_at");
    expect((await current(persona)).status).toBe(404);

    expect((await start(persona, { body: { occurred_at: "2000-01-01T00:00:00Z" } })).status).toBe(201);
    refusedNaming(await stamp(persona, { status: "CHAT", occurred_at: BEFORE }), "occurred_at");
    refusedNaming(await stamps(persona, { stamps: [{ status: "CHAT" }, { status: "PAY", occurred_at: AFTER }] }), "stamps.1.occurred_at");
    refusedNaming(await end(persona, { body: { occurred_at: AFTER } }), "occurred_at");
    const held = await current(persona);
    expect(held.json.data.stamps.map((s: { status: string }) => s.status)).toEqual(["ENTER"]);
    expect(held.json.data.started_at).toBe("2000-01-01T00:00:00.000Z");
  });

  it("from and to of search and analytics, since of a rebuild, expires_at of a key", async () => {
    refusedNaming(await api(`/v1/sessions?from=${BEFORE}&to=2000-01-02T00:00:00Z`), "from");
    refusedNaming(await api(`/v1/sessions?from=2999-12-31T00:00:00Z&to=${AFTER}`), "to");
    refusedNaming(await api(`/v1/analytics/funnel?step=A&step=B&from=0000-01-01T00:00:00Z&to=0000-01-08T00:00:00Z`), "from");
    refusedNaming(await api(`/v1/analytics/dwell?from=2999-12-31T00:00:00Z&to=${AFTER}`), "to");
    refusedNaming(await api(`/v1/analytics/visits?from=0099-01-01T00:00:00Z&to=0099-01-02T00:00:00Z`), "from");
    const tenant = await newTenant();
    refusedNaming(await admin(`/tenants/${tenant}/index/resend?since=${BEFORE}`, { method: "POST" }), "since");
    refusedNaming(await admin(`/tenants/${tenant}/keys`, { method: "POST", body: { scope: "read", expires_at: AFTER } }), "expires_at");
    // an offset that moves the instant out of range counts, not the digits written
    refusedNaming(await api(`/v1/sessions?from=2000-01-01T00:30:00%2B01:00&to=2000-01-02T00:00:00Z`), "from");
  });

  it("both ends are accepted, and every bucket label of the extreme ranges parses back to its start", async () => {
    const first = await api(`/v1/analytics/visits?from=2000-01-01T00:00:00Z&to=2000-01-03T00:00:00Z&tz=America/Los_Angeles`);
    expect(first.status).toBe(200);
    const last = await api(`/v1/analytics/visits?from=2999-12-30T00:00:00Z&to=3000-01-01T00:00:00Z&interval=hour&tz=Pacific/Kiritimati`);
    expect(last.status).toBe(200);
    for (const { start: label } of [...first.json.data.buckets, ...last.json.data.buckets] as { start: string }[]) {
      expect(label).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
      expect(Number.isNaN(Date.parse(label))).toBe(false);
    }
    expect(first.json.data.buckets[0].start).toBe("1999-12-31T00:00:00-08:00");
    expect(last.json.data.buckets.at(-1).start).toBe("3000-01-01T13:00:00+14:00");
    expect((await api(`/v1/sessions?from=2999-12-01T00:00:00Z&to=3000-01-01T00:00:00Z`)).status).toBe(200);
  });
});
