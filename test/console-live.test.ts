// The console's live view and views (console/src/live.ts, console/src/route.ts): pure parts only.
import { describe, expect, it } from "vitest";
import {
  announcement,
  backoffMs,
  compareLabels,
  elapsedMs,
  filteredTotal,
  formatAgo,
  formatElapsed,
  pageRange,
  statusChips,
} from "../console/src/live";
import { isStatusLabel, parseRoute, type Route, routeHash, routeTitle } from "../console/src/route";

const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe("routes (the URL fragment)", () => {
  it("starts on the live view for an empty, bare or unknown fragment", () => {
    for (const hash of ["", "#", "#live", "live", "#main", "#dashboards", "#%zz", "#status"]) {
      expect(parseRoute(hash)).toEqual({ view: "live", status: null, store: null });
    }
  });

  it("reads the live view's status filter", () => {
    expect(parseRoute("#live&status=PAYMENT")).toEqual({ view: "live", status: "PAYMENT", store: null });
    expect(parseRoute("#live&status=wine%20aisle")).toEqual({ view: "live", status: "wine aisle", store: null });
    expect(parseRoute("#live&status=%E6%94%AF%E6%89%95%E3%81%84")).toEqual({ view: "live", status: "支払い", store: null });
    // Not a label the API would accept: no filter rather than an answer of 400s.
    expect(parseRoute("#live&status=")).toEqual({ view: "live", status: null, store: null });
    expect(parseRoute(`#live&status=${"x".repeat(65)}`)).toEqual({ view: "live", status: null, store: null });
    expect(parseRoute("#live&status=a%0Ab")).toEqual({ view: "live", status: null, store: null });
  });

  it("reads the live view's store, with or without a status filter", () => {
    expect(parseRoute("#live&store=lyon-01")).toEqual({ view: "live", status: null, store: "lyon-01" });
    expect(parseRoute("#live&store=lyon-01&status=CHAT")).toEqual({ view: "live", status: "CHAT", store: "lyon-01" });
    expect(parseRoute("#live&status=CHAT&store=S_1.a")).toEqual({ view: "live", status: "CHAT", store: "S_1.a" });
    // Not a store id the API would accept: the whole tenant rather than an answer of 400s.
    for (const bad of ["", "a%2Fb", "caf%C3%A9", "x".repeat(65), "a%20b"]) {
      expect(parseRoute(`#live&store=${bad}`)).toEqual({ view: "live", status: null, store: null });
    }
  });

  it("reads the persona view, including bookmarks made before the live view existed", () => {
    expect(parseRoute("#persona=d28fd898-7c1e-4f0a-9b7e-2f5f3f1b6a10")).toEqual({
      view: "persona",
      persona: "d28fd898-7c1e-4f0a-9b7e-2f5f3f1b6a10",
    });
    expect(parseRoute("#persona=store%3A12.kiosk_3")).toEqual({ view: "persona", persona: "store:12.kiosk_3" });
    expect(parseRoute("#persona")).toEqual({ view: "persona", persona: null });
    expect(parseRoute("#persona=")).toEqual({ view: "persona", persona: null });
    // An id the API refuses still opens the persona view (its form says what is wrong).
    expect(parseRoute("#persona=a%2Fb")).toEqual({ view: "persona", persona: "a/b" });
  });

  it("gives fragments that read back as the same route", () => {
    const routes: Route[] = [
      { view: "live", status: null, store: null },
      { view: "live", status: "PAYMENT", store: null },
      { view: "live", status: "a&b=c #d+e%f", store: null },
      { view: "live", status: "支払い 🙂", store: null },
      { view: "live", status: null, store: "lyon-01" },
      { view: "live", status: "a&b=c #d+e%f", store: "x".repeat(64) },
      { view: "persona", persona: null },
      { view: "persona", persona: "store:12.kiosk_3" },
    ];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
    expect(routeHash({ view: "live", status: null, store: null })).toBe("#live");
    expect(routeHash({ view: "live", status: "CHAT", store: "lyon-01" })).toBe("#live&store=lyon-01&status=CHAT");
    expect(routeHash({ view: "persona", persona: "p-1" })).toBe("#persona=p-1");
  });

  it("titles the page by view", () => {
    expect(routeTitle({ view: "live", status: null, store: null }, "C")).toBe("Live · C");
    expect(routeTitle({ view: "live", status: "CHAT", store: null }, "C")).toBe("Live: CHAT · C");
    expect(routeTitle({ view: "live", status: null, store: "lyon-01" }, "C")).toBe("Live in lyon-01 · C");
    expect(routeTitle({ view: "live", status: "CHAT", store: "lyon-01" }, "C")).toBe("Live in lyon-01: CHAT · C");
    expect(routeTitle({ view: "stores", params: { range: null, tz: null } }, "C")).toBe("Stores · C");
    expect(routeTitle({ view: "persona", persona: "p-1" }, "C")).toBe("Persona p-1 · C");
    expect(routeTitle({ view: "persona", persona: "a/b" }, "C")).toBe("Persona · C");
    expect(routeTitle({ view: "dashboard", params: { range: null, tz: null, interval: null, steps: null, store: null } }, "C")).toBe(
      "Dashboard · C",
    );
  });

  it("accepts the status labels the API accepts", () => {
    expect(isStatusLabel("SHOPPING")).toBe(true);
    expect(isStatusLabel("🙂".repeat(64))).toBe(true); // 64 code points, 128 UTF-16 units
    for (const bad of ["", "x".repeat(65), "a\tb", "\u007f", "\ud800"]) expect(isStatusLabel(bad)).toBe(false);
  });
});

describe("statusChips", () => {
  it("gives one chip per status in label order, with shares of the total", () => {
    const chips = statusChips({ SHOPPING: 4, CHAT: 1, PAYMENT: 3 }, null);
    expect(chips.map((c) => [c.status, c.count, c.share, c.selected])).toEqual([
      ["CHAT", 1, 0.125, false],
      ["PAYMENT", 3, 0.375, false],
      ["SHOPPING", 4, 0.5, false],
    ]);
  });

  it("keeps each chip in its place when counts change", () => {
    const before = statusChips({ A: 1, B: 9, C: 5 }, null).map((c) => c.status);
    const after = statusChips({ A: 7, B: 2, C: 5 }, null).map((c) => c.status);
    expect(after).toEqual(before);
  });

  it("marks the selected status, and keeps its chip at 0 when nobody is in it", () => {
    expect(statusChips({ CHAT: 2 }, "CHAT")[0]).toMatchObject({ status: "CHAT", selected: true });
    expect(statusChips({ CHAT: 2 }, "PAYMENT")).toEqual([
      { status: "CHAT", count: 2, share: 1, selected: false },
      { status: "PAYMENT", count: 0, share: 0, selected: true },
    ]);
  });

  it("handles no one active and drops zero or nonsense counts", () => {
    expect(statusChips({}, null)).toEqual([]);
    expect(statusChips({ A: 0, B: Number.NaN, C: 2 }, null).map((c) => c.status)).toEqual(["C"]);
  });

  it("orders labels by code unit, whatever the locale", () => {
    expect(["b", "B", "a", "Z", "é", "_"].sort(compareLabels)).toEqual(["B", "Z", "_", "a", "b", "é"]);
  });
});

describe("elapsed times", () => {
  it("counts from an ISO time to now, never below zero", () => {
    expect(elapsedMs(at(0), T0 + 90_000)).toBe(90_000);
    expect(elapsedMs(at(10), T0)).toBe(0); // a clock behind the server's
    expect(elapsedMs("not a time", T0)).toBe(0);
  });

  it.each([
    [0, "0 s"],
    [-5_000, "0 s"],
    [999, "0 s"],
    [1_999, "1 s"],
    [9_999, "9 s"],
    [59_999, "59 s"],
    [60_000, "1 min 00 s"],
    [245_999, "4 min 05 s"],
    [7_500_000, "2 h 05 min"],
    [86_400_000 + 4 * 3_600_000, "1 d 4 h"],
  ])("formatElapsed(%d) → %s (whole seconds: it is redrawn every second)", (ms, text) => {
    expect(formatElapsed(ms)).toBe(text);
  });

  it.each([
    [-1, "just now"],
    [1_999, "just now"],
    [2_000, "2 s ago"],
    [59_000, "59 s ago"],
    [60_000, "1 min ago"],
    [3_599_000, "59 min ago"],
    [3_600_000, "1 h ago"],
    [47 * 3_600_000, "47 h ago"],
    [72 * 3_600_000, "3 d ago"],
  ])("formatAgo(%d) → %s", (ms, text) => {
    expect(formatAgo(ms)).toBe(text);
  });
});

describe("paging and totals", () => {
  it("says which rows a page shows", () => {
    expect(pageRange(0, 25, 25, 57)).toBe("1–25 of 57");
    expect(pageRange(2, 25, 7, 57)).toBe("51–57 of 57");
    expect(pageRange(0, 25, 0, 0)).toBe("0 of 0");
    // The list moved while paging (sessions started): never fewer in total than rows seen.
    expect(pageRange(1, 25, 25, 40)).toBe("26–50 of 50");
  });

  it("takes the filtered total from the tenant-wide counts", () => {
    const page = { counts_by_status: { CHAT: 3, PAYMENT: 2 }, total_active: 5 };
    expect(filteredTotal(page, null)).toBe(5);
    expect(filteredTotal(page, "CHAT")).toBe(3);
    expect(filteredTotal(page, "COMPLETE")).toBe(0);
  });
});

describe("announcement", () => {
  it("speaks on the first answer and when the filter changes", () => {
    expect(announcement(null, { total: 12, status: null })).toBe("12 active sessions.");
    expect(announcement({ total: 12, status: null }, { total: 1, status: "CHAT" })).toBe("1 active session in CHAT.");
  });

  it("stays quiet while the number is unchanged, and says what it was when it changes", () => {
    expect(announcement({ total: 12, status: null }, { total: 12, status: null })).toBeNull();
    expect(announcement({ total: 12, status: null }, { total: 14, status: null })).toBe("14 active sessions (was 12).");
    expect(announcement({ total: 3, status: "PAYMENT" }, { total: 0, status: "PAYMENT" })).toBe("0 active sessions in PAYMENT (was 3).");
  });
});

describe("backoffMs", () => {
  it("polls at the interval without failures, doubles per failure up to the cap", () => {
    expect(backoffMs(0, 4000, 60_000)).toBe(4000);
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffMs(n, 4000, 60_000))).toEqual([4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it("follows Retry-After when the server sent one", () => {
    expect(backoffMs(1, 4000, 60_000, 10)).toBe(10_000);
    expect(backoffMs(6, 4000, 60_000, 2)).toBe(2000);
  });
});
