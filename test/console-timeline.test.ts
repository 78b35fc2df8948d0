// The console's pure parts (console/src/timeline.ts): segments, durations, dwell, colours.
import { describe, expect, it } from "vitest";
import {
  colourFor,
  contrastRatio,
  dwellSummary,
  formatDuration,
  isPersonaId,
  PALETTE,
  retryAfterSeconds,
  type Session,
  segments,
  sessionSpan,
  summaryDuration,
} from "../console/src/timeline";

const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function session(stamps: [string, number][], endedAfter: number | null = null): Session {
  return {
    session_id: "0193f1c2-0000-7000-8000-000000000001",
    started_at: at(stamps[0]?.[1] ?? 0),
    ended_at: endedAfter === null ? null : at(endedAfter),
    end_reason: endedAfter === null ? null : "client",
    stamp_count: stamps.length,
    stamps: stamps.map(([status, s]) => ({ status, timestamp: at(s), received_at: at(s) })),
  };
}

const journey: [string, number][] = [
  ["ENTER", 0],
  ["CHAT", 30],
  ["SHOPPING", 90],
  ["PAYMENT", 400],
  ["COMPLETE", 460],
];

describe("segments", () => {
  it("gives one segment per stamp, in order, each ending at the next stamp", () => {
    const list = segments(session(journey, 500), T0 + 10_000_000);
    expect(list.map((s) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"]);
    expect(list.map((s) => s.duration / 1000)).toEqual([30, 60, 310, 60, 40]);
    expect(list.every((s) => !s.open)).toBe(true);
    for (let i = 1; i < list.length; i++) expect(list[i]!.start).toBe(list[i - 1]!.end);
  });

  it("ends the last segment of an ended session at ended_at, whatever now is", () => {
    const list = segments(session(journey, 500), T0 + 1);
    expect(list.at(-1)!.end).toBe(T0 + 500_000);
  });

  it("runs the last segment of an active session to now, and marks it open", () => {
    const s = session(journey);
    const first = segments(s, T0 + 470_000).at(-1)!;
    const later = segments(s, T0 + 520_000).at(-1)!;
    expect(first).toMatchObject({ status: "COMPLETE", open: true, duration: 10_000 });
    expect(later.duration).toBe(60_000);
    expect(
      segments(s, T0 + 470_000)
        .slice(0, -1)
        .some((x) => x.open),
    ).toBe(false);
  });

  it("never gives negative durations (clock behind the server, equal timestamps)", () => {
    const s = session([
      ["ENTER", 0],
      ["A", 5],
      ["B", 5],
    ]);
    const list = segments(s, T0); // now is before the last stamp
    expect(list.map((x) => x.duration)).toEqual([5000, 0, 0]);
    expect(sessionSpan(s, T0)).toEqual({ start: T0, end: T0 + 5000 });
  });

  it("handles a session with only ENTER and one with 1,000 stamps", () => {
    expect(segments(session([["ENTER", 0]]), T0 + 2000)).toMatchObject([{ status: "ENTER", duration: 2000, open: true }]);
    const many = session(Array.from({ length: 1000 }, (_, i): [string, number] => [i === 0 ? "ENTER" : `S${i % 7}`, i]));
    const started = Date.now();
    const list = segments(many, T0 + 1_000_000);
    const dwell = dwellSummary(list);
    expect(Date.now() - started).toBeLessThan(200);
    expect(list).toHaveLength(1000);
    expect(dwell.reduce((n, d) => n + d.count, 0)).toBe(1000);
  });

  it("keeps meta with its segment", () => {
    const s = session(journey);
    s.stamps[2]!.meta = { zone: "wine" };
    expect(segments(s, T0 + 500_000)[2]!.stamp.meta).toEqual({ zone: "wine" });
  });
});

describe("dwellSummary", () => {
  it("totals time per status, longest first, with counts and shares", () => {
    const s = session(
      [
        ["ENTER", 0],
        ["CHAT", 10],
        ["SHOPPING", 20],
        ["CHAT", 50],
        ["SHOPPING", 60],
      ],
      100,
    );
    const dwell = dwellSummary(segments(s, 0));
    expect(dwell.map((d) => [d.status, d.total / 1000, d.count])).toEqual([
      ["SHOPPING", 70, 2],
      ["CHAT", 20, 2],
      ["ENTER", 10, 1],
    ]);
    expect(dwell.reduce((n, d) => n + d.share, 0)).toBeCloseTo(1);
  });

  it("is empty for no segments and has zero shares for a zero-length session", () => {
    expect(dwellSummary([])).toEqual([]);
    const dwell = dwellSummary(segments(session([["ENTER", 0]], 0), T0));
    expect(dwell).toEqual([{ status: "ENTER", total: 0, count: 1, share: 0 }]);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [-5, "0 ms"],
    [850, "850 ms"],
    [1000, "1.0 s"],
    [4_290, "4.2 s"],
    [9_999, "9.9 s"],
    [42_000, "42 s"],
    [60_000, "1 min 00 s"],
    [245_000, "4 min 05 s"],
    [3_599_999, "59 min 59 s"],
    [7_500_000, "2 h 05 min"],
    [86_400_000 + 4 * 3_600_000, "1 d 4 h"],
  ])("%d ms → %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("gives a history entry's duration from started_at to ended_at", () => {
    expect(summaryDuration({ started_at: at(0), ended_at: at(500) })).toBe(500_000);
  });
});

describe("colourFor", () => {
  it("gives the same label the same colour, every time", () => {
    for (const label of ["ENTER", "CHAT", "wine-aisle", "支払い", "x"]) expect(colourFor(label)).toBe(colourFor(label));
    expect(colourFor("WAITING")).toEqual(colourFor(`WAIT${"ING"}`));
  });

  it("gives the seed journey's labels five different colours", () => {
    const colours = new Set(["ENTER", "CHAT", "SHOPPING", "PAYMENT", "COMPLETE"].map((l) => colourFor(l).background));
    expect(colours.size).toBe(5);
  });

  it("spreads other labels over the palette", () => {
    const used = new Set(Array.from({ length: 200 }, (_, i) => colourFor(`LABEL_${i}`).background));
    expect(used.size).toBe(PALETTE.length);
  });

  it("keeps label text readable on every colour (WCAG AA, 4.5:1)", () => {
    for (const { background, text } of PALETTE) expect(contrastRatio(background, text)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio("#000000", "#ffffff")).toBeCloseTo(21);
  });
});

describe("input helpers", () => {
  it("accepts persona ids the API accepts", () => {
    expect(isPersonaId("d28fd898-7c1e-4f0a-9b7e-2f5f3f1b6a10")).toBe(true);
    expect(isPersonaId("store:12.kiosk_3")).toBe(true);
    for (const bad of ["", ".", "..", "a/b", "a b", "x".repeat(129), "é"]) expect(isPersonaId(bad)).toBe(false);
  });

  it("reads Retry-After as seconds or a date, within bounds", () => {
    expect(retryAfterSeconds("7", T0, 1, 300)).toBe(7);
    expect(retryAfterSeconds("0", T0, 1, 300)).toBe(1);
    expect(retryAfterSeconds("9999", T0, 1, 300)).toBe(300);
    expect(retryAfterSeconds(new Date(T0 + 12_000).toUTCString(), T0, 1, 300)).toBe(12);
    expect(retryAfterSeconds(null, T0, 1, 300)).toBeNull();
    expect(retryAfterSeconds("soon", T0, 1, 300)).toBeNull();
  });
});
