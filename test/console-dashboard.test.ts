// The console's dashboard (console/src/dashboard.ts, console/src/zone.ts, its route): pure parts only.
import { describe, expect, it } from "vitest";
import {
  addStepProblem,
  bucketLabel,
  type DashParams,
  defaultSteps,
  durationUnit,
  formatPercent,
  formatSeconds,
  moveStep,
  NO_CHOICES,
  oldestAsOf,
  parseDashParams,
  partKeys,
  queryKey,
  rangeText,
  removeStep,
  resolveQuery,
} from "../console/src/dashboard";
import { parseRoute, type Route, routeHash, routeTitle } from "../console/src/route";
import { addDays, daysBetween, isDate, isTimeZone, localDate, localIso, offsetAt, startOfDay } from "../console/src/zone";
import { localIso as apiLocalIso, bucketStarts, zoneFormat } from "../src/tenant-index/buckets";

const Z = (iso: string) => Date.parse(iso);
const dash = (params: Partial<DashParams> = {}): Route => ({ view: "dashboard", params: { ...NO_CHOICES, ...params } });

describe("the dashboard's fragment", () => {
  it("opens the dashboard with no choices: every default applies", () => {
    expect(parseRoute("#dashboard")).toEqual(dash());
    expect(parseRoute("dashboard")).toEqual(dash());
    expect(routeHash(dash())).toBe("#dashboard");
  });

  it("reads a preset, custom days, the zone, the interval and the steps in order", () => {
    expect(parseRoute("#dashboard&range=30d&tz=Europe%2FParis&interval=hour")).toEqual(
      dash({ range: { preset: "30d" }, tz: "Europe/Paris", interval: "hour" }),
    );
    expect(parseRoute("#dashboard&from=2026-11-01&to=2026-11-07&step=CHAT&step=SHOPPING&step=PAYMENT")).toEqual(
      dash({ range: { from: "2026-11-01", to: "2026-11-07" }, steps: ["CHAT", "SHOPPING", "PAYMENT"] }),
    );
    // Custom days win over a preset; days out of order are kept, for the page to say so.
    expect(parseRoute("#dashboard&range=7d&from=2026-11-07&to=2026-11-01")).toEqual(
      dash({ range: { from: "2026-11-07", to: "2026-11-01" } }),
    );
  });

  it("leaves out what cannot be a value, so the default applies", () => {
    expect(parseRoute("#dashboard&range=week&interval=minute&from=2026-02-30&to=2026-03-01&tz=")).toEqual(dash());
    expect(parseRoute("#dashboard&from=2026-11-01")).toEqual(dash()); // half a range
    expect(parseRoute(`#dashboard&step=CHAT&step=&step=a%0Ab&step=${"x".repeat(65)}`)).toEqual(dash({ steps: ["CHAT"] }));
    const eleven = Array.from({ length: 11 }, (_, i) => `step=S${i}`).join("&");
    expect((parseRoute(`#dashboard&${eleven}`) as { params: DashParams }).params.steps).toHaveLength(10);
    // An unknown zone is kept as written: the page says it is unknown rather than silently using another.
    expect(parseRoute("#dashboard&tz=Mars%2FOlympus")).toEqual(dash({ tz: "Mars/Olympus" }));
  });

  it("gives fragments that read back as the same route", () => {
    const routes: Route[] = [
      dash(),
      dash({ range: { preset: "today" }, interval: "hour" }),
      dash({ range: { from: "2026-03-01", to: "2026-03-31" }, tz: "America/Argentina/Buenos_Aires", interval: "day" }),
      dash({ steps: ["a&b=c #d+e%f", "支払い 🙂", "CHAT", "CHAT"] }),
    ];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
    expect(routeHash(dash({ range: { preset: "7d" }, tz: "Europe/Paris", interval: "day", steps: ["CHAT", "PAYMENT"] }))).toBe(
      "#dashboard&range=7d&tz=Europe%2FParis&interval=day&step=CHAT&step=PAYMENT",
    );
  });

  it("reads the store, and writes it back first", () => {
    expect(parseRoute("#dashboard&store=lyon-01&range=today")).toEqual(dash({ store: "lyon-01", range: { preset: "today" } }));
    expect(parseRoute("#dashboard&range=today&store=lyon-01")).toEqual(dash({ store: "lyon-01", range: { preset: "today" } }));
    // A store id the API would refuse: the whole tenant.
    expect(parseRoute("#dashboard&store=a%2Fb")).toEqual(dash());
    expect(parseRoute(`#dashboard&store=${"s".repeat(65)}`)).toEqual(dash());
    const route = dash({
      store: "S_1.a-b",
      range: { from: "2026-11-01", to: "2026-11-07" },
      tz: "Europe/Paris",
      steps: ["CHAT", "PAYMENT"],
    });
    expect(routeHash(route)).toBe("#dashboard&store=S_1.a-b&from=2026-11-01&to=2026-11-07&tz=Europe%2FParis&step=CHAT&step=PAYMENT");
    expect(parseRoute(routeHash(route))).toEqual(route);
    expect(routeTitle(route, "C")).toBe("Dashboard: S_1.a-b · C");
  });

  it("keeps the persona and live fragments as they were", () => {
    expect(parseRoute("#persona=p-1")).toEqual({ view: "persona", persona: "p-1" });
    expect(parseRoute("#live&status=CHAT")).toEqual({ view: "live", status: "CHAT", store: null });
    expect(parseDashParams(new URLSearchParams("dashboard"))).toEqual(NO_CHOICES);
  });
});

describe("days in a time zone", () => {
  it("knows real dates and zones", () => {
    expect(isDate("2026-02-28")).toBe(true);
    expect(isDate("2028-02-29")).toBe(true);
    for (const bad of ["2026-02-29", "2026-13-01", "2026-1-01", "20260101", "", "1969-12-31"]) expect(isDate(bad)).toBe(false);
    for (const tz of ["UTC", "Europe/Paris", "Asia/Kolkata", "America/Santiago"]) expect(isTimeZone(tz)).toBe(true);
    for (const tz of ["", "Mars/Olympus", "Europe/Paris/", "x".repeat(65)]) expect(isTimeZone(tz)).toBe(false);
    // The API's rule: IANA names as written; the runtime's Intl also takes offsets and any case.
    for (const tz of ["Etc/GMT+5", "America/Port-au-Prince", "EST5EDT"]) expect(isTimeZone(tz), tz).toBe(true);
    for (const tz of ["+05:30", "+23:59", "utc", "Z", "europe/paris"]) expect(isTimeZone(tz), tz).toBe(false);
  });

  it("counts calendar days across months, years and leap days", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2028-02-28", 1)).toBe("2028-02-29");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
    expect(daysBetween("2026-11-01", "2026-11-07")).toBe(6);
    expect(daysBetween("2026-11-07", "2026-11-01")).toBe(-6);
    expect(daysBetween("2026-01-01", "2027-01-01")).toBe(365);
  });

  it("finds the zone's date of an instant", () => {
    const t = Z("2026-11-20T20:00:00Z");
    expect(localDate(t, "UTC")).toBe("2026-11-20");
    expect(localDate(t, "Asia/Kolkata")).toBe("2026-11-21"); // 01:30 the next day
    expect(localDate(t, "America/Los_Angeles")).toBe("2026-11-20");
    expect(localDate(Z("2026-11-20T12:00:00Z"), "Pacific/Auckland")).toBe("2026-11-21");
  });

  it("starts each day at its local midnight, with 23- and 25-hour days at daylight-saving changes", () => {
    expect(startOfDay("2026-11-20", "UTC")).toBe(Z("2026-11-20T00:00:00Z"));
    expect(startOfDay("2026-11-20", "Asia/Kolkata")).toBe(Z("2026-11-19T18:30:00Z"));
    expect(startOfDay("2026-03-29", "Europe/Paris")).toBe(Z("2026-03-28T23:00:00Z"));
    expect(startOfDay("2026-03-30", "Europe/Paris")).toBe(Z("2026-03-29T22:00:00Z")); // March 29 had 23 hours
    expect(startOfDay("2026-10-26", "Europe/Paris") - startOfDay("2026-10-25", "Europe/Paris")).toBe(25 * 3_600_000);
    // Chile skips midnight when its summer time begins: the day starts at 01:00, right after the gap.
    expect(startOfDay("2026-09-06", "America/Santiago")).toBe(Z("2026-09-06T04:00:00Z"));
    expect(offsetAt("Asia/Kolkata", Z("2026-11-20T00:00:00Z"))).toBe(5.5 * 3_600_000);
  });

  it("agrees with the API's day buckets, so a range's ends are bucket starts", () => {
    for (const tz of [
      "UTC",
      "Europe/Paris",
      "America/New_York",
      "Asia/Kolkata",
      "America/Santiago",
      "Australia/Lord_Howe",
      "Pacific/Chatham",
    ]) {
      const format = zoneFormat(tz)!;
      // Across both daylight-saving changes of the year (southern and northern).
      for (const [first, days] of [
        ["2026-03-20", 20],
        ["2026-09-01", 10],
        ["2026-10-20", 14],
      ] as const) {
        const from = startOfDay(first, tz);
        const to = startOfDay(addDays(first, days), tz);
        const ours = Array.from({ length: days }, (_, i) => startOfDay(addDays(first, i), tz));
        expect(bucketStarts(format, "day", from, to), `${tz} from ${first}`).toEqual(ours);
        expect(ours.map((t) => localIso(t, tz))).toEqual(ours.map((t) => apiLocalIso(format, t)));
      }
    }
  });
});

describe("resolveQuery: the range to ask for", () => {
  const NOW = Z("2026-11-20T10:00:00Z"); // Friday; 15:30 in Kolkata, 23:00 in Auckland

  it("defaults to the last 7 days in the browser's zone, counted per day", () => {
    const r = resolveQuery(NO_CHOICES, NOW, "Asia/Kolkata");
    expect(r).toEqual({
      ok: true,
      query: {
        from: Z("2026-11-13T18:30:00Z"),
        to: Z("2026-11-20T18:30:00Z"),
        fromDate: "2026-11-14",
        toDate: "2026-11-20",
        days: 7,
        tz: "Asia/Kolkata",
        interval: "day",
        preset: "7d",
        store: null,
      },
    });
  });

  it("runs presets from local midnight of the chosen zone, today included", () => {
    const today = resolveQuery({ ...NO_CHOICES, range: { preset: "today" }, tz: "Pacific/Auckland" }, Z("2026-11-20T12:00:00Z"), "UTC");
    expect(today.ok && today.query).toMatchObject({
      fromDate: "2026-11-21",
      toDate: "2026-11-21",
      from: Z("2026-11-20T11:00:00Z"), // midnight at +13:00
      to: Z("2026-11-21T11:00:00Z"),
      days: 1,
      interval: "hour", // one or two days: per hour
    });
    const month = resolveQuery({ ...NO_CHOICES, range: { preset: "30d" } }, NOW, "UTC");
    expect(month.ok && month.query).toMatchObject({ fromDate: "2026-10-22", toDate: "2026-11-20", days: 30, interval: "day" });
  });

  it("takes custom days as given, both included", () => {
    const r = resolveQuery({ ...NO_CHOICES, range: { from: "2026-10-25", to: "2026-10-26" }, tz: "Europe/Paris" }, NOW, "UTC");
    expect(r.ok && r.query).toMatchObject({
      from: Z("2026-10-24T22:00:00Z"),
      to: Z("2026-10-26T23:00:00Z"),
      days: 2,
      interval: "hour",
      preset: null,
    });
    const day = resolveQuery({ ...NO_CHOICES, range: { from: "2026-11-01", to: "2026-11-01" }, interval: "day" }, NOW, "UTC");
    expect(day.ok && [day.query.days, day.query.interval]).toEqual([1, "day"]);
  });

  it("refuses what the API would refuse, naming the control to fix", () => {
    const zone = resolveQuery({ ...NO_CHOICES, tz: "Mars/Olympus" }, NOW, "UTC");
    expect(zone).toMatchObject({ ok: false, field: "tz" });
    expect(!zone.ok && zone.message).toContain("Mars/Olympus");
    expect(resolveQuery({ ...NO_CHOICES, range: { from: "2026-11-07", to: "2026-11-01" } }, NOW, "UTC")).toMatchObject({
      ok: false,
      field: "to",
    });
    // 93 days is the most; 94 is refused.
    expect(resolveQuery({ ...NO_CHOICES, range: { from: "2026-08-01", to: "2026-11-01" } }, NOW, "UTC").ok).toBe(true);
    const long = resolveQuery({ ...NO_CHOICES, range: { from: "2026-08-01", to: "2026-11-02" } }, NOW, "UTC");
    expect(long).toMatchObject({ ok: false, field: "to" });
    expect(!long.ok && long.message).toContain("94 days");
    // 93 local days with October's extra hour are 93 × 24 + 1 hours: over the API's limit.
    expect(resolveQuery({ ...NO_CHOICES, range: { from: "2026-08-01", to: "2026-11-01" }, tz: "Europe/Paris" }, NOW, "UTC")).toMatchObject({
      ok: false,
      field: "to",
    });
    // Hours only up to 31 days.
    expect(resolveQuery({ ...NO_CHOICES, range: { preset: "30d" }, interval: "hour" }, NOW, "UTC").ok).toBe(true);
    expect(resolveQuery({ ...NO_CHOICES, range: { from: "2026-10-01", to: "2026-11-01" }, interval: "hour" }, NOW, "UTC")).toMatchObject({
      ok: false,
      field: "interval",
    });
  });

  it("keys each answer by what it depends on, so a change re-asks only what it affects", () => {
    const day = resolveQuery({ ...NO_CHOICES, interval: "day" }, NOW, "UTC");
    const hour = resolveQuery({ ...NO_CHOICES, interval: "hour" }, NOW, "UTC");
    const paris = resolveQuery({ ...NO_CHOICES, interval: "day", tz: "Europe/Paris" }, NOW, "UTC");
    if (!day.ok || !hour.ok || !paris.ok) throw new Error("resolve");
    const a = partKeys(day.query, ["CHAT", "PAYMENT"]);
    const interval = partKeys(hour.query, ["CHAT", "PAYMENT"]);
    expect([interval.dwell === a.dwell, interval.visits === a.visits, interval.funnel === a.funnel]).toEqual([true, false, true]);
    const steps = partKeys(day.query, ["PAYMENT", "CHAT"]);
    expect([steps.dwell === a.dwell, steps.visits === a.visits, steps.funnel === a.funnel]).toEqual([true, true, false]);
    // Another zone moves the range's midnights: every answer changes.
    const zone = partKeys(paris.query, ["CHAT", "PAYMENT"]);
    expect([zone.dwell === a.dwell, zone.visits === a.visits, zone.funnel === a.funnel]).toEqual([false, false, false]);
  });

  it("asks every answer again for another store", () => {
    const all = resolveQuery(NO_CHOICES, NOW, "UTC");
    const one = resolveQuery({ ...NO_CHOICES, store: "lyon-01" }, NOW, "UTC");
    if (!all.ok || !one.ok) throw new Error("resolve");
    expect(one.query.store).toBe("lyon-01");
    const a = partKeys(all.query, ["CHAT", "PAYMENT"]);
    const b = partKeys(one.query, ["CHAT", "PAYMENT"]);
    expect([a.dwell === b.dwell, a.visits === b.visits, a.funnel === b.funnel]).toEqual([false, false, false]);
    expect(queryKey(all.query, null)).not.toBe(queryKey(one.query, null));
  });

  it("keys a question by what is asked", () => {
    const a = resolveQuery(NO_CHOICES, NOW, "UTC");
    const b = resolveQuery(NO_CHOICES, NOW + 60_000, "UTC");
    const c = resolveQuery(NO_CHOICES, NOW + 86_400_000, "UTC");
    if (!a.ok || !b.ok || !c.ok) throw new Error("resolve");
    expect(queryKey(a.query, null)).toBe(queryKey(b.query, null));
    expect(queryKey(a.query, null)).not.toBe(queryKey(c.query, null)); // the preset moved on a day
    expect(queryKey(a.query, null)).not.toBe(queryKey(a.query, ["CHAT", "PAYMENT"]));
  });
});

describe("funnel steps", () => {
  const paths = (...list: [string[], number][]) => ({
    statuses: null,
    paths: list.map(([labels, sessions]) => ({ labels: ["ENTER", ...labels], sessions })),
  });

  it("follows the tenant's statuses in its order when it set them, never label frequency", () => {
    const answer = { ...paths([["PAYMENT"], 50], [["CHAT", "PAYMENT"], 3]), statuses: ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE", "HELP"] };
    expect(defaultSteps(answer)).toEqual(["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"]);
    // Fewer than two usable statuses: the paths decide.
    expect(defaultSteps({ ...answer, statuses: ["CHAT"] })).toEqual(["CHAT", "PAYMENT"]);
  });

  it("else takes the journey order of the most common path with two labels or more, the longest of a tie, ENTER left out, at most four", () => {
    // PAYMENT is the most frequent label, but the journey's order is CHAT, SHOPPING, PAYMENT.
    expect(defaultSteps(paths([["PAYMENT"], 40], [["CHAT", "SHOPPING", "PAYMENT"], 12], [["SHOPPING", "CHAT"], 3]))).toEqual([
      "CHAT",
      "SHOPPING",
      "PAYMENT",
    ]);
    expect(defaultSteps(paths([["CHAT", "SHOPPING"], 1], [["CHAT", "SHOPPING", "PAYMENT", "COMPLETE", "HELP"], 1]))).toEqual([
      "CHAT",
      "SHOPPING",
      "PAYMENT",
      "COMPLETE",
    ]);
    // A repeated label counts where it first appears.
    expect(defaultSteps(paths([["CHAT", "SHOPPING", "CHAT", "PAYMENT"], 2]))).toEqual(["CHAT", "SHOPPING", "PAYMENT"]);
  });

  it("puts ENTER first when no path has two other labels, and gives none without any", () => {
    expect(defaultSteps(paths([["CHAT"], 3], [["PAYMENT"], 1]))).toEqual(["ENTER", "CHAT"]);
    expect(defaultSteps(paths([[], 3]))).toEqual([]);
    expect(defaultSteps({ statuses: null, paths: [] })).toEqual([]);
  });

  it("moves, removes and adds steps within 2 to 10", () => {
    const steps = ["A", "B", "C"];
    expect(moveStep(steps, 1, -1)).toEqual(["B", "A", "C"]);
    expect(moveStep(steps, 1, 1)).toEqual(["A", "C", "B"]);
    expect(moveStep(steps, 0, -1)).toEqual(steps);
    expect(moveStep(steps, 2, 1)).toEqual(steps);
    expect(removeStep(steps, 0)).toEqual(["B", "C"]);
    expect(removeStep(["A", "B"], 0)).toEqual(["A", "B"]);
    expect(addStepProblem(steps, "D")).toBeNull();
    expect(addStepProblem(steps, "A")).toBeNull(); // a label may come back later in the journey
    expect(addStepProblem(steps, "C")).toContain("already the last step");
    expect(addStepProblem(steps, " ")).toContain("Type or choose");
    expect(addStepProblem(steps, "a\nb")).toContain("control characters");
    expect(
      addStepProblem(
        Array.from({ length: 10 }, (_, i) => `S${i}`),
        "X",
      ),
    ).toContain("at most 10");
  });
});

describe("writing figures", () => {
  it.each([
    [null, "–"],
    [0, "0 %"],
    [1, "100 %"],
    [0.75, "75 %"],
    [2 / 3, "66.7 %"],
    [1 / 3, "33.3 %"],
    [0.125, "12.5 %"],
    [0.0004, "0 %"],
    [0.9996, "100 %"],
  ])("formatPercent(%s) → %s", (fraction, text) => {
    expect(formatPercent(fraction)).toBe(text);
  });

  it("writes seconds as the console writes durations", () => {
    expect([null, 0, 0.25, 4.2, 42, 60, 245, 7500].map(formatSeconds)).toEqual([
      "–",
      "0 ms",
      "250 ms",
      "4.2 s",
      "42 s",
      "1 min 00 s",
      "4 min 05 s",
      "2 h 05 min",
    ]);
  });

  it("picks an axis unit for durations", () => {
    expect(durationUnit(0)).toEqual({ unit: "s", seconds: 1 });
    expect(durationUnit(119)).toEqual({ unit: "s", seconds: 1 });
    expect(durationUnit(120)).toEqual({ unit: "min", seconds: 60 });
    expect(durationUnit(7200)).toEqual({ unit: "h", seconds: 3600 });
  });

  it("names buckets from the API's local start, dates on the first hour and at midnight", () => {
    expect(bucketLabel("2026-11-23T00:00:00+05:30", "day", true, "en-GB")).toEqual({ tick: ["Mon 23 Nov"], full: "Mon 23 Nov" });
    expect(bucketLabel("2026-11-23T14:00:00+05:30", "hour", false, "en-GB")).toEqual({ tick: ["14:00"], full: "Mon 23 Nov 14:00" });
    expect(bucketLabel("2026-11-23T14:00:00+05:30", "hour", true, "en-GB").tick).toEqual(["14:00", "Mon 23 Nov"]);
    expect(bucketLabel("2026-11-24T00:00:00+05:30", "hour", false, "en-GB").tick).toEqual(["00:00", "Tue 24 Nov"]);
    expect(rangeText({ fromDate: "2026-11-17", toDate: "2026-11-23" }, "en-GB")).toBe("Tue, 17 Nov 2026 – Mon, 23 Nov 2026");
    expect(rangeText({ fromDate: "2026-11-23", toDate: "2026-11-23" }, "en-GB")).toBe("Mon, 23 Nov 2026");
  });

  it("takes the oldest as_of of the answers shown", () => {
    expect(oldestAsOf(["2026-11-20T10:00:05.000Z", null, "2026-11-20T10:00:01.000Z", undefined])).toBe("2026-11-20T10:00:01.000Z");
    expect(oldestAsOf([null, undefined, "nonsense"])).toBeNull();
  });
});
