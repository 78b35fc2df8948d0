import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../src/http/app";
import { api, end, freshWindow, HOUR, KEYS, near, personaId, personaStub, sqlIn, stamps, start } from "./helpers";

/**
 * Analytics cover a tenant's sessions by start time, and the test tenant is shared by every test:
 * each fixture lives in a time window of its own in the past (offline `occurred_at` times, so
 * every figure is exact to the second and computed by hand below).
 */
const iso = (ms: number) => new Date(ms).toISOString();
// Fixtures wait for the index (fed through the queue) to hold them.
vi.setConfig({ testTimeout: 20_000 });

/** One visit: start at `t`, stamps at `t + s` seconds, then a client end at `t + endAt` (null: stays active). */
async function visit(t: number, steps: [string, number][], endAt: number | null): Promise<string> {
  const persona = personaId("an");
  const started = await start(persona, { body: { occurred_at: iso(t) } });
  expect(started.status).toBe(201);
  if (steps.length) {
    const res = await stamps(persona, { stamps: steps.map(([status, s]) => ({ status, occurred_at: iso(t + s * 1000) })) });
    expect(res.status).toBe(201);
  }
  if (endAt !== null) expect((await end(persona, { body: { occurred_at: iso(t + endAt * 1000) } })).status).toBe(200);
  return persona;
}

/** Ends the persona's session by idle timeout, as the alarm does when nothing came for 2 hours. */
async function idleOut(persona: string) {
  const at = Date.now() - 3 * HOUR;
  await sqlIn(persona, "UPDATE stamps SET received_at = ?", at);
  await sqlIn(persona, "UPDATE sessions SET last_activity_at = ? WHERE ended_at IS NULL", at);
  await runDurableObjectAlarm(personaStub(persona));
}

/** Waits until the index holds `count` sessions in the range, each in its final state. */
async function indexed(from: number, to: number, count: number, ended: number) {
  const until = Date.now() + 10_000;
  for (;;) {
    const res = await api(`/v1/sessions?from=${iso(from)}&to=${iso(to)}&limit=100`);
    const sessions = res.json.data.sessions as { ended_at: string | null }[];
    if (sessions.length === count && sessions.filter((s) => s.ended_at !== null).length === ended) return;
    if (Date.now() > until) throw new Error(`index has ${sessions.length} sessions, expected ${count}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A random minute 2 to 20 days ago: far from other tests' sessions (hours old at most), after the
 * daylight-saving fixtures (October), and within retention (ended sessions older than 90 days are
 * deleted, from the index too).
 */
function window(): number {
  const minute = Math.floor((Date.now() - 20 * 86_400_000) / 60_000) + Math.floor(Math.random() * 18 * 24 * 60);
  return minute * 60_000;
}

const STEPS = "step=CHAT&step=SHOPPING&step=PAYMENT&step=COMPLETE";

/**
 * Five visits (times in seconds from each visit's start):
 *   A: ENTER 0, CHAT 60, SHOPPING 180, PAYMENT 300, COMPLETE 330, end 400
 *   B: ENTER 0, CHAT 30, CHAT 90, HELP 100, SHOPPING 200, end 260   (repeated label)
 *   C: ENTER 0, SHOPPING 20, CHAT 50, SHOPPING 110, PAYMENT 120      (active; SHOPPING before CHAT)
 *   D: ENTER 0, PAYMENT 10                                           (ended by idle timeout)
 *   E: ENTER 0, CHAT 5, SHOPPING 3605, PAYMENT 3705, COMPLETE 3805, end 3905
 */
async function fiveVisits() {
  const t = window();
  await visit(
    t,
    [
      ["CHAT", 60],
      ["SHOPPING", 180],
      ["PAYMENT", 300],
      ["COMPLETE", 330],
    ],
    400,
  );
  await visit(
    t + 1000,
    [
      ["CHAT", 30],
      ["CHAT", 90],
      ["HELP", 100],
      ["SHOPPING", 200],
    ],
    260,
  );
  await visit(
    t + 2000,
    [
      ["SHOPPING", 20],
      ["CHAT", 50],
      ["SHOPPING", 110],
      ["PAYMENT", 120],
    ],
    null,
  );
  await idleOut(await visit(t + 3000, [["PAYMENT", 10]], null));
  await visit(
    t + 4000,
    [
      ["CHAT", 5],
      ["SHOPPING", 3605],
      ["PAYMENT", 3705],
      ["COMPLETE", 3805],
    ],
    3905,
  );
  const from = t;
  const to = t + 60_000;
  await indexed(from, to, 5, 4);
  return `from=${iso(from)}&to=${iso(to)}`;
}

describe("GET /v1/analytics/funnel", () => {
  it("counts sessions reaching each step in order, with conversions and the median and p90 time from the previous step", async () => {
    const range = await fiveVisits();
    const res = await api(`/v1/analytics/funnel?${STEPS}&${range}`);
    expect(res.status).toBe(200);
    expect(res.json.data.steps).toEqual([
      // A, B (its first CHAT), C (the CHAT after its first SHOPPING), E
      {
        status: "CHAT",
        sessions: 4,
        conversion_from_previous: 1,
        conversion_from_first: 1,
        median_seconds_from_previous: null,
        p90_seconds_from_previous: null,
      },
      // gaps A 120, B 170, C 60, E 3600 → sorted 60 120 170 3600: median = lower middle 120, p90 = 4th
      {
        status: "SHOPPING",
        sessions: 4,
        conversion_from_previous: 1,
        conversion_from_first: 1,
        median_seconds_from_previous: near(120),
        p90_seconds_from_previous: near(3600),
      },
      // A 120, C 10, E 100 → 10 100 120
      {
        status: "PAYMENT",
        sessions: 3,
        conversion_from_previous: 0.75,
        conversion_from_first: 0.75,
        median_seconds_from_previous: near(100),
        p90_seconds_from_previous: near(120),
      },
      // A 30, E 100
      {
        status: "COMPLETE",
        sessions: 2,
        conversion_from_previous: 2 / 3,
        conversion_from_first: 0.5,
        median_seconds_from_previous: near(30),
        p90_seconds_from_previous: near(100),
      },
    ]);
    expect(typeof res.json.data.as_of).toBe("string");

    // within 30 minutes of step 1: E stops after CHAT.
    const within = await api(`/v1/analytics/funnel?${STEPS}&${range}&within_seconds=1800`);
    expect(within.json.data.steps.map((s: { sessions: number }) => s.sessions)).toEqual([4, 3, 2, 1]);
    expect(within.json.data.steps[1]).toMatchObject({ median_seconds_from_previous: near(120), p90_seconds_from_previous: near(170) });
    expect(within.json.data.steps[2]).toMatchObject({ median_seconds_from_previous: near(10), p90_seconds_from_previous: near(120) });

    // A repeated step needs a later stamp with that label: only B has CHAT twice.
    const twice = await api(`/v1/analytics/funnel?step=CHAT&step=CHAT&${range}`);
    expect(twice.json.data.steps.map((s: { sessions: number }) => s.sessions)).toEqual([4, 1]);
    expect(twice.json.data.steps[1].median_seconds_from_previous).toEqual(near(60));

    // Tenant B sees none of it.
    const other = await api(`/v1/analytics/funnel?${STEPS}&${range}`, { key: KEYS.globex });
    expect(other.json.data.steps.map((s: { sessions: number }) => s.sessions)).toEqual([0, 0, 0, 0]);
  });
});

describe("GET /v1/analytics/dwell", () => {
  it("is each stamp's time until the next stamp or the client's end; the last stamp of active and idle-ended sessions is left out", async () => {
    const range = await fiveVisits();
    const res = await api(`/v1/analytics/dwell?${range}`);
    expect(res.status).toBe(200);
    expect(res.json.data.statuses).toEqual([
      // A 120, B 60 and 10, C 60, E 3600
      { status: "CHAT", visits: 5, total_seconds: 3850, median_seconds: near(60), p90_seconds: near(3600) },
      // A 60, B 30, C 20, D 10, E 5
      { status: "ENTER", visits: 5, total_seconds: 125, median_seconds: near(20), p90_seconds: near(60) },
      // A 120, B 60 (until the end), C 30 and 10, E 100
      { status: "SHOPPING", visits: 5, total_seconds: 320, median_seconds: near(60), p90_seconds: near(120) },
      // A 70 (until the end), E 100
      { status: "COMPLETE", visits: 2, total_seconds: 170, median_seconds: near(70), p90_seconds: near(100) },
      // A 30, E 100; C's (active) and D's (idle-ended) last stamps are not observed
      { status: "PAYMENT", visits: 2, total_seconds: 130, median_seconds: near(30), p90_seconds: near(100) },
      { status: "HELP", visits: 1, total_seconds: 100, median_seconds: near(100), p90_seconds: near(100) },
    ]);
  });

  it("an empty range has no statuses; the funnel has zero sessions and null conversions", async () => {
    const t = window();
    const range = `from=${iso(t)}&to=${iso(t + 1000)}`;
    expect((await api(`/v1/analytics/dwell?${range}`)).json.data.statuses).toEqual([]);
    const funnel = await api(`/v1/analytics/funnel?step=A&step=B&${range}`);
    expect(funnel.json.data.steps).toEqual([
      {
        status: "A",
        sessions: 0,
        conversion_from_previous: null,
        conversion_from_first: null,
        median_seconds_from_previous: null,
        p90_seconds_from_previous: null,
      },
      {
        status: "B",
        sessions: 0,
        conversion_from_previous: null,
        conversion_from_first: null,
        median_seconds_from_previous: null,
        p90_seconds_from_previous: null,
      },
    ]);
  });
});

describe("GET /v1/analytics/visits", () => {
  it("buckets by local day across a spring-forward change (a 23-hour day) with the median duration of ended sessions", async () => {
    // Australia/Sydney moved from +10:00 to +11:00 at 2026-10-03T16:00Z (02:00 local became 03:00).
    const at = (s: string) => Date.parse(s);
    await visit(at("2026-10-03T13:30:00Z"), [], 600); // Sat 23:30 local: 10 min
    await visit(at("2026-10-03T14:30:00Z"), [["CHAT", 60]], 1800); // Sun 00:30 local: 30 min
    await visit(at("2026-10-04T12:30:00Z"), [], 600); // Sun 23:30 local (+11:00): 10 min
    await idleOut(await visit(at("2026-10-04T13:30:00Z"), [["CHAT", 120]], null)); // Mon 00:30 local: idle, 2 min to its last stamp
    const from = "2026-10-03T00:00:00%2B10:00";
    const to = "2026-10-06T00:00:00%2B11:00";
    await indexed(at("2026-10-02T14:00:00Z"), at("2026-10-05T13:00:00Z"), 4, 4);
    const res = await api(`/v1/analytics/visits?from=${from}&to=${to}&interval=day&tz=Australia/Sydney`);
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({ interval: "day", tz: "Australia/Sydney" });
    expect(res.json.data.buckets).toEqual([
      { start: "2026-10-03T00:00:00+10:00", sessions: 1, median_duration_seconds: near(600) },
      // 30 and 10 minutes: the lower middle value
      { start: "2026-10-04T00:00:00+10:00", sessions: 2, median_duration_seconds: near(600) },
      { start: "2026-10-05T00:00:00+11:00", sessions: 1, median_duration_seconds: near(120) },
    ]);
    const hours = await api(
      `/v1/analytics/visits?from=2026-10-04T00:00:00%2B10:00&to=2026-10-04T04:00:00%2B11:00&interval=hour&tz=Australia/Sydney`,
    );
    // 02:00 never happened that night: three hourly buckets, not four.
    expect(hours.json.data.buckets.map((b: { start: string }) => b.start)).toEqual([
      "2026-10-04T00:00:00+10:00",
      "2026-10-04T01:00:00+10:00",
      "2026-10-04T03:00:00+11:00",
    ]);
    expect(hours.json.data.buckets[0]).toEqual({ start: "2026-10-04T00:00:00+10:00", sessions: 1, median_duration_seconds: near(1800) });
  });

  it("a fall-back day is 25 hours long, its repeated hour one 2-hour bucket; UTC is the default zone; empty buckets are listed", async () => {
    // Europe/Paris moved from +02:00 back to +01:00 at 2026-10-25T01:00Z (03:00 local became 02:00).
    const t = Date.parse("2026-10-25T00:30:00Z"); // 02:30 local, the first time round
    await visit(t, [], 60);
    await visit(t + HOUR, [], 120); // 02:30 local again (+01:00)
    await indexed(t, t + 2 * HOUR, 2, 2);
    const days = await api(`/v1/analytics/visits?from=2026-10-25T00:00:00%2B02:00&to=2026-10-27T00:00:00%2B01:00&tz=Europe/Paris`);
    expect(days.json.data.buckets).toEqual([
      { start: "2026-10-25T00:00:00+02:00", sessions: 2, median_duration_seconds: near(60) },
      { start: "2026-10-26T00:00:00+01:00", sessions: 0, median_duration_seconds: null },
    ]);
    // Hour 02:00 runs from its first 02:00 (00:00Z) to 03:00 (02:00Z): both visits, 60 and 120 s.
    const hours = await api(`/v1/analytics/visits?from=2026-10-25T00:00:00Z&to=2026-10-25T02:00:00Z&interval=hour&tz=Europe/Paris`);
    expect(hours.json.data.buckets).toEqual([{ start: "2026-10-25T02:00:00+02:00", sessions: 2, median_duration_seconds: near(60) }]);
    const utc = await api(`/v1/analytics/visits?from=2026-10-25T00:00:00Z&to=2026-10-25T02:00:00Z&interval=hour`);
    expect(utc.json.data.tz).toBe("UTC");
    expect(utc.json.data.buckets.map((b: { start: string }) => b.start)).toEqual([
      "2026-10-25T00:00:00+00:00",
      "2026-10-25T01:00:00+00:00",
    ]);
  });

  it("the hour repeated in autumn is one bucket labelled with its first pass; no bucket lies wholly before `from`", async () => {
    // New York fell back at 2026-11-01T06:00Z (02:00 EDT became 01:00 EST).
    await visit(Date.parse("2026-11-01T05:40:00Z"), [], 60); // 01:40 EDT: before `from`, not counted
    await visit(Date.parse("2026-11-01T06:45:00Z"), [], 300); // 01:45 EST, the second 01:00
    await visit(Date.parse("2026-11-01T07:15:00Z"), [], 120); // 02:15 EST
    await indexed(Date.parse("2026-11-01T05:00:00Z"), Date.parse("2026-11-01T08:00:00Z"), 3, 3);
    const ny = await api("/v1/analytics/visits?from=2026-11-01T06:30:00Z&to=2026-11-01T08:00:00Z&interval=hour&tz=America/New_York");
    expect(ny.status).toBe(200);
    expect(ny.json.data.buckets).toEqual([
      { start: "2026-11-01T01:00:00-04:00", sessions: 1, median_duration_seconds: near(300) },
      { start: "2026-11-01T02:00:00-05:00", sessions: 1, median_duration_seconds: near(120) },
    ]);
    const starts = async (path: string) => (await api(path)).json.data.buckets.map((b: { start: string }) => b.start);
    expect(await starts("/v1/analytics/visits?from=2026-11-01T07:10:00Z&to=2026-11-01T09:00:00Z&interval=hour&tz=America/Chicago")).toEqual(
      ["2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-06:00"],
    );
    expect(
      await starts("/v1/analytics/visits?from=2026-11-01T08:30:00Z&to=2026-11-01T10:30:00Z&interval=hour&tz=America/Los_Angeles"),
    ).toEqual(["2026-11-01T01:00:00-07:00", "2026-11-01T02:00:00-08:00"]);
  });

  it("a skipped local day has no bucket (Pacific/Apia, 30 December 2011); the route refuses years before 2000 (its arithmetic for them is in buckets.test.ts)", async () => {
    const apia = await api("/v1/analytics/visits?from=2011-12-28T00:00:00Z&to=2012-01-02T00:00:00Z&interval=day&tz=Pacific/Apia");
    expect(apia.status).toBe(200);
    expect(apia.json.data.buckets.map((b: { start: string }) => b.start)).toEqual([
      "2011-12-27T00:00:00-10:00",
      "2011-12-28T00:00:00-10:00",
      "2011-12-29T00:00:00-10:00",
      "2011-12-31T00:00:00+14:00",
      "2012-01-01T00:00:00+14:00",
      "2012-01-02T00:00:00+14:00",
    ]);
    const zero = await api("/v1/analytics/visits?from=0000-01-01T00:00:00Z&to=0000-01-08T00:00:00Z&interval=day&tz=UTC");
    expect(zero.status).toBe(400);
    expect(zero.json.error.details.fields[0].path).toBe("from");
  });
});

describe("analytics parameters", () => {
  it("refuses every bad parameter with VALIDATION_ERROR naming the field", async () => {
    const ok = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z";
    const cases: [string, string][] = [
      ["/v1/analytics/dwell?to=2025-01-02T00:00:00Z", "from"],
      ["/v1/analytics/dwell?from=2025-01-01T00:00:00Z", "to"],
      ["/v1/analytics/dwell?from=monday&to=2025-01-02T00:00:00Z", "from"],
      ["/v1/analytics/dwell?from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z", "from"],
      ["/v1/analytics/dwell?from=2025-01-01T00:00:00Z&to=2025-06-01T00:00:00Z", "to"],
      [`/v1/analytics/funnel?step=CHAT&${ok}`, "step"],
      [`/v1/analytics/funnel?${ok}`, "step"],
      [`/v1/analytics/funnel?${Array.from({ length: 11 }, (_, i) => `step=S${i}`).join("&")}&${ok}`, "step"],
      [`/v1/analytics/funnel?step=A&step=%07&${ok}`, "step"],
      [`/v1/analytics/funnel?step=A&step=B&within_seconds=0&${ok}`, "within_seconds"],
      [`/v1/analytics/funnel?step=A&step=B&within_seconds=soon&${ok}`, "within_seconds"],
      [`/v1/analytics/visits?interval=week&${ok}`, "interval"],
      [`/v1/analytics/visits?tz=Mars/Olympus_Mons&${ok}`, "tz"],
      // A tz is an IANA name as written: the runtime also takes offsets and any letter case.
      [`/v1/analytics/visits?tz=%2B05:30&${ok}`, "tz"],
      [`/v1/analytics/visits?tz=%2B23:59&${ok}`, "tz"],
      [`/v1/analytics/visits?tz=utc&${ok}`, "tz"],
      [`/v1/analytics/visits?tz=Z&${ok}`, "tz"],
      [`/v1/analytics/visits?tz=europe/paris&${ok}`, "tz"],
    ];
    for (const [path, field] of cases) {
      const res = await api(path);
      expect(res.status, path).toBe(400);
      expect(res.json.error.code, path).toBe("VALIDATION_ERROR");
      expect(res.json.error.details.fields[0].path.split(".")[0], path).toBe(field);
    }
  });

  it("takes a tz written as an IANA name, with +, - and _ in it", async () => {
    const ok = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z";
    for (const tz of ["UTC", "Etc/GMT%2B5", "America/Port-au-Prince", "America/Argentina/Buenos_Aires", "EST5EDT"]) {
      const res = await api(`/v1/analytics/visits?tz=${tz}&${ok}`);
      expect(res.status, tz).toBe(200);
      expect(res.json.data.tz, tz).toBe(decodeURIComponent(tz));
    }
  });

  it("read keys may read; a tenant's analytics requests are rate limited with 429 and Retry-After", async () => {
    const ok = "from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z";
    expect((await api(`/v1/analytics/dwell?${ok}`, { key: KEYS.acmeReadOnly })).status).toBe(200);
    // The suite runs with RATE_LIMITS=off: these requests turn the limits on, for tenant globex.
    const statuses: number[] = [];
    await freshWindow(4000);
    for (let i = 0; i < 32; i++) {
      const res = await app.request(
        `/v1/analytics/dwell?${ok}&n=${i}`,
        { headers: { authorization: `Bearer ${KEYS.globex}` } },
        { ...env, RATE_LIMITS: "on" },
      );
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers.get("retry-after")).toBe("10");
    }
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429]);
  });
});
