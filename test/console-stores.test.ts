// The console's Stores page and store picker (console/src/stores.ts, its route): pure parts only.
import { describe, expect, it } from "vitest";
import { parsePaths } from "../console/src/dashboard";
import { parseRoute, type Route, routeHash } from "../console/src/route";
import {
  BOARD_DEFAULT_SORT,
  barParts,
  boardCsv,
  boardScale,
  boardStatuses,
  boardValue,
  COMPARISON_DEFAULT_SORT,
  type ComparisonRow,
  compareValues,
  comparisonCsv,
  comparisonFilename,
  comparisonLabel,
  comparisonRows,
  csvField,
  type GroupedFunnel,
  type GroupedOccupancy,
  type GroupedVisits,
  groupPeaks,
  mergeBoard,
  NO_STORES_CHOICES,
  nextSort,
  type OccupancyPage,
  type OccupancyStore,
  occupancyFilename,
  parseGroupedFunnel,
  parseGroupedOccupancy,
  parseGroupedVisits,
  parseOccupancyPage,
  parseStoresPage,
  peakOf,
  pickerOptions,
  type StoresParams,
  sortComparison,
  sortRows,
  toCsv,
} from "../console/src/stores";

const store = (id: string, active: number, extra: Partial<OccupancyStore> = {}): OccupancyStore => ({
  store_id: id,
  name: `Store ${id}`,
  active,
  capacity: null,
  utilization: null,
  by_status: active ? { CHAT: active } : {},
  ...extra,
});
const page = (stores: OccupancyStore[], extra: Partial<OccupancyPage> = {}): OccupancyPage => ({
  stores,
  total_active: stores.reduce((n, s) => n + s.active, 0),
  no_store_active: 0,
  as_of: "2026-11-20T10:00:00.000Z",
  next_cursor: null,
  ...extra,
});
const stores = (params: Partial<StoresParams> = {}): Route => ({ view: "stores", params: { ...NO_STORES_CHOICES, ...params } });

describe("the Stores page's fragment", () => {
  it("opens the Stores page with the dashboard's range words", () => {
    expect(parseRoute("#stores")).toEqual(stores());
    expect(parseRoute("#stores&range=30d&tz=Europe%2FParis")).toEqual(stores({ range: { preset: "30d" }, tz: "Europe/Paris" }));
    expect(parseRoute("#stores&from=2026-11-01&to=2026-11-07")).toEqual(stores({ range: { from: "2026-11-01", to: "2026-11-07" } }));
    // What cannot be a value is left out, so the default applies.
    expect(parseRoute("#stores&range=week&from=2026-02-30&to=2026-03-01&tz=")).toEqual(stores());
  });

  it("gives fragments that read back as the same route", () => {
    const routes: Route[] = [
      { view: "stores", params: { range: null, tz: null } },
      { view: "stores", params: { range: { preset: "today" }, tz: "Asia/Kolkata" } },
      { view: "stores", params: { range: { from: "2026-03-01", to: "2026-03-31" }, tz: null } },
    ];
    for (const route of routes) expect(parseRoute(routeHash(route))).toEqual(route);
    expect(routeHash({ view: "stores", params: { range: { preset: "7d" }, tz: "Europe/Paris" } })).toBe(
      "#stores&range=7d&tz=Europe%2FParis",
    );
  });
});

describe("checking the answers", () => {
  it("takes an occupancy page as the API sends it, and refuses one of another shape", () => {
    const good = page([store("a", 2, { capacity: 10, utilization: 0.2 }), store("b", 0)], { next_cursor: "c1", no_store_active: 3 });
    expect(parseOccupancyPage(JSON.parse(JSON.stringify(good)))).toEqual(good);
    // Fields the API may add are ignored.
    expect(parseOccupancyPage({ ...good, extra: 1 })).not.toBeNull();
    const bad: unknown[] = [
      null,
      [],
      { ...good, stores: "a" },
      { ...good, total_active: -1 },
      { ...good, no_store_active: undefined },
      { ...good, stores: [{ ...good.stores[0], active: "2" }] },
      { ...good, stores: [{ ...good.stores[0], by_status: { CHAT: 1.5 } }] },
      { ...good, stores: [{ ...good.stores[0], capacity: undefined }] },
      { ...good, stores: [{ ...good.stores[0], name: 7 }] },
      { ...good, next_cursor: 3 },
    ];
    for (const b of bad) expect(parseOccupancyPage(b)).toBeNull();
  });

  it("takes a page of stores, names required", () => {
    const good = { stores: [{ store_id: "a", name: "A", capacity: null, time_zone: "UTC", tags: [] }], next_cursor: null };
    expect(parseStoresPage(good)).toEqual(good);
    expect(parseStoresPage({ ...good, stores: [{ store_id: "a", name: null, capacity: null }] })).toBeNull();
    expect(parseStoresPage({ stores: [] })).toBeNull(); // no next_cursor
  });

  it("takes grouped funnels, visits and occupancy", () => {
    const step = {
      status: "CHAT",
      sessions: 2,
      conversion_from_previous: 1,
      conversion_from_first: 1,
      median_seconds_from_previous: null,
      p90_seconds_from_previous: null,
    };
    const funnel = { steps: [step], groups: [{ key: null, name: null, other: false, groups: 1, steps: [step] }], as_of: null };
    expect(parseGroupedFunnel(funnel)).toEqual(funnel);
    expect(parseGroupedFunnel({ steps: [step], as_of: null })).toBeNull(); // not grouped
    expect(parseGroupedFunnel({ ...funnel, groups: [{ ...funnel.groups[0], other: "no" }] })).toBeNull();
    // The whole range's figures per group (the buckets are not read).
    const bucket = { start: "2026-11-20T00:00:00Z", sessions: 1, median_duration_seconds: 60 };
    const visitsGroup = { key: "a", name: "A", other: false, groups: 1, sessions: 1, median_duration_seconds: 60, buckets: [bucket] };
    const visits = { buckets: [bucket], sessions: 1, median_duration_seconds: 60, groups: [visitsGroup], as_of: null };
    expect(parseGroupedVisits(visits)).toEqual(visits);
    expect(parseGroupedVisits({ ...visits, groups: [{ ...visitsGroup, median_duration_seconds: null }] })).not.toBeNull();
    expect(parseGroupedVisits({ ...visits, groups: [{ ...visitsGroup, sessions: null }] })).toBeNull();
    expect(parseGroupedVisits({ ...visits, groups: [{ ...visitsGroup, median_duration_seconds: undefined }] })).toBeNull(); // an older API
    expect(parseGroupedVisits({ buckets: [bucket], as_of: null })).toBeNull(); // not grouped
    const buckets = [
      { start: "x", peak: 3, average: 1.25 },
      { start: "y", peak: null, average: null },
    ];
    const occupancyGroup = { key: null, name: null, other: false, groups: 1, sessions: 4, buckets };
    const occupancy = { buckets, groups: [occupancyGroup], interval: "day", tz: "UTC", as_of: null };
    expect(parseGroupedOccupancy(occupancy)).toEqual(occupancy);
    expect(parseGroupedOccupancy({ buckets, as_of: null })).toBeNull(); // not grouped
    expect(
      parseGroupedOccupancy({ ...occupancy, groups: [{ ...occupancyGroup, buckets: [{ start: "x", peak: 1.5, average: 1 }] }] }),
    ).toBeNull();
    expect(parseGroupedOccupancy({ ...occupancy, groups: [{ ...occupancyGroup, sessions: undefined }] })).toBeNull();
  });

  it("takes a paths answer only with string labels (they become funnel steps)", () => {
    const good = { paths: [{ labels: ["ENTER", "CHAT"], sessions: 3, share: 1 }], sessions: 3, statuses: null, as_of: null };
    expect(parsePaths(good)).toEqual(good);
    expect(parsePaths({ ...good, statuses: ["CHAT"] })).not.toBeNull();
    expect(parsePaths({ ...good, paths: [{ labels: ["ENTER", 7], sessions: 3 }] })).toBeNull();
    expect(parsePaths({ ...good, statuses: "CHAT" })).toBeNull();
    expect(parsePaths({ ...good, sessions: -1 })).toBeNull();
  });
});

describe("the store picker", () => {
  const list = [
    { store_id: "s10", name: "Store 10", capacity: null },
    { store_id: "s2", name: "Store 2", capacity: 5 },
    { store_id: "lyon", name: "lyon", capacity: null },
  ];

  it("offers every store first, then the stores by name as people sort them", () => {
    expect(pickerOptions(list, null)).toEqual([
      { value: "", label: "All stores" },
      { value: "lyon", label: "lyon" },
      { value: "s2", label: "Store 2 (s2)" },
      { value: "s10", label: "Store 10 (s10)" },
    ]);
  });

  it("keeps a chosen store that is not listed choosable, marked", () => {
    expect(pickerOptions(list, "gone-1").at(-1)).toEqual({ value: "gone-1", label: "gone-1 (not listed)" });
    expect(pickerOptions(list, "s2")).toHaveLength(4);
    expect(pickerOptions([], "s2")).toEqual([
      { value: "", label: "All stores" },
      { value: "s2", label: "s2 (not listed)" },
    ]);
  });
});

describe("the occupancy board", () => {
  it("merges the pages of one read: each store once (the first answer kept), the first page's totals", () => {
    const a = store("a", 5);
    const b = store("b", 3);
    const bMoved = store("b", 2);
    const c = store("c", 1);
    const board = mergeBoard([
      page([a, b], { total_active: 9, no_store_active: 4, next_cursor: "x", as_of: "2026-11-20T10:00:05.000Z" }),
      page([bMoved, c], { total_active: 8, as_of: "2026-11-20T10:00:01.000Z" }),
    ]);
    expect(board.rows).toEqual([a, b, c]);
    expect([board.total_active, board.no_store_active, board.truncated]).toEqual([9, 4, false]);
    expect(board.as_of).toBe("2026-11-20T10:00:01.000Z"); // the oldest: everything is at least that fresh
    const capped = mergeBoard([page([a, b], { next_cursor: "more" })], 1);
    expect([capped.rows.map((r) => r.store_id), capped.truncated]).toEqual([["a"], true]);
    expect(mergeBoard([])).toEqual({ rows: [], total_active: 0, no_store_active: 0, as_of: null, truncated: false });
  });

  it("draws every bar on one scale: the most people any store holds or may hold", () => {
    expect(boardScale([store("a", 3, { capacity: 10 }), store("b", 12)])).toBe(12);
    expect(boardScale([store("a", 3, { capacity: 40 }), store("b", 12)])).toBe(40);
    expect(boardScale([store("a", 0)])).toBe(1);
    expect(boardScale([])).toBe(1);
  });

  it("splits a bar by status in label order, with the capacity's mark", () => {
    const row = store("a", 6, { capacity: 8, by_status: { SHOPPING: 3, CHAT: 2, PAYMENT: 1, IDLE: 0 } });
    expect(barParts(row, 10)).toEqual({
      parts: [
        { status: "CHAT", count: 2, width: 0.2 },
        { status: "PAYMENT", count: 1, width: 0.1 },
        { status: "SHOPPING", count: 3, width: 0.3 },
      ],
      capacity: 0.8,
    });
    expect(barParts(store("b", 0), 10)).toEqual({ parts: [], capacity: null });
    expect(boardStatuses([row, store("b", 1, { by_status: { ENTER: 1, CHAT: 0 } })])).toEqual(["CHAT", "ENTER", "PAYMENT", "SHOPPING"]);
  });
});

describe("sorting", () => {
  it("compares numbers by value, text as people read it, and puts nulls last either way", () => {
    expect([3, null, 10, 2].sort((a, b) => compareValues(a, b, "ascending"))).toEqual([2, 3, 10, null]);
    expect([3, null, 10, 2].sort((a, b) => compareValues(a, b, "descending"))).toEqual([10, 3, 2, null]);
    expect(["store-10", "store-2", null, "Store-1"].sort((a, b) => compareValues(a, b, "ascending"))).toEqual([
      "Store-1",
      "store-2",
      "store-10",
      null,
    ]);
  });

  it("sorts the board by any column, ties kept in the API's order", () => {
    const rows = [
      store("a", 5, { capacity: 10, utilization: 0.5 }),
      store("b", 5),
      store("c", 1, { capacity: 2, utilization: 0.5 }),
      store("d", 7, { capacity: 5, utilization: 1.4 }),
    ];
    const ids = (key: Parameters<typeof boardValue>[1], direction: "ascending" | "descending") =>
      sortRows(rows, { key, direction }, boardValue).map((r) => r.store_id);
    expect(ids("active", "descending")).toEqual(["d", "a", "b", "c"]);
    expect(ids("active", "ascending")).toEqual(["c", "a", "b", "d"]);
    expect(ids("capacity", "ascending")).toEqual(["c", "d", "a", "b"]); // no capacity: last
    expect(ids("capacity", "descending")).toEqual(["a", "d", "c", "b"]); // and still last
    expect(ids("utilization", "descending")).toEqual(["d", "a", "c", "b"]);
    expect(ids("store", "descending")).toEqual(["d", "c", "b", "a"]);
    expect(BOARD_DEFAULT_SORT).toEqual({ key: "active", direction: "descending" });
  });

  it("turns a column around on a second click; another column starts the way it is read", () => {
    const s = nextSort(BOARD_DEFAULT_SORT, "active", ["store"]);
    expect(s).toEqual({ key: "active", direction: "ascending" });
    expect(nextSort(s, "active", ["store"])).toEqual({ key: "active", direction: "descending" });
    expect(nextSort(s, "store", ["store"])).toEqual({ key: "store", direction: "ascending" });
    expect(nextSort(s, "capacity", ["store"])).toEqual({ key: "capacity", direction: "descending" });
  });
});

describe("the comparison", () => {
  const step = (status: string, sessions: number, first: number | null) => ({
    status,
    sessions,
    conversion_from_previous: first,
    conversion_from_first: first,
    median_seconds_from_previous: null,
    p90_seconds_from_previous: null,
  });
  const day = (peak: number | null) => ({ start: "2026-11-20T00:00:00+00:00", peak, average: peak === null ? null : peak / 2 });

  it("takes the range's peak from the buckets' peaks, leaving out those after now", () => {
    expect(peakOf([day(2), day(5), day(null)])).toBe(5);
    expect(peakOf([day(null), day(null)])).toBeNull();
    expect(peakOf([day(0)])).toBe(0);
    expect(peakOf([])).toBeNull();
  });

  it("takes each group's peak from a grouped occupancy answer: its own, the rest's and no store's included", () => {
    const occupancy: GroupedOccupancy = {
      groups: [
        { key: "a", name: "Alpha", other: false, groups: 1, sessions: 6, buckets: [day(1), day(4), day(null)] },
        { key: null, name: null, other: false, groups: 1, sessions: 9, buckets: [day(7), day(3)] },
        { key: "b", name: "Beta", other: false, groups: 1, sessions: 2, buckets: [day(null), day(null)] },
        { key: "other", name: null, other: true, groups: 7, sessions: 3, buckets: [day(2), day(null)] },
        { key: "other", name: "A store called other", other: false, groups: 1, sessions: 1, buckets: [day(1)] },
      ],
      as_of: null,
    };
    expect([...groupPeaks(occupancy)]).toEqual([
      ["store:a", 4],
      ["none", 7],
      ["store:b", null], // every bucket after now
      ["other", 2],
      ["store:other", 1],
    ]);
  });

  const visits: GroupedVisits = {
    groups: [
      { key: "a", name: "Alpha", other: false, groups: 1, sessions: 6, median_duration_seconds: 300 },
      { key: null, name: null, other: false, groups: 1, sessions: 9, median_duration_seconds: 30 },
      { key: "b", name: "Beta", other: false, groups: 1, sessions: 3, median_duration_seconds: null },
      { key: "other", name: null, other: true, groups: 7, sessions: 2, median_duration_seconds: 100 },
      { key: "other", name: "A store called other", other: false, groups: 1, sessions: 1, median_duration_seconds: 10 },
    ],
    as_of: null,
  };
  const funnel: GroupedFunnel = {
    steps: [],
    groups: [
      { key: "a", name: "Alpha", other: false, groups: 1, steps: [step("CHAT", 4, 1), step("PAY", 1, 0.25)] },
      { key: null, name: null, other: false, groups: 1, steps: [step("CHAT", 0, null), step("PAY", 0, null)] },
      { key: "other", name: null, other: true, groups: 7, steps: [step("CHAT", 2, 1), step("PAY", 2, 1)] },
      { key: "other", name: "A store called other", other: false, groups: 1, steps: [step("CHAT", 1, 1), step("PAY", 0, 0)] },
    ],
    as_of: null,
  };
  const occupancy: GroupedOccupancy = {
    groups: [
      { key: null, name: null, other: false, groups: 1, sessions: 12, buckets: [day(5), day(8)] },
      { key: "a", name: "Alpha", other: false, groups: 1, sessions: 7, buckets: [day(3), day(null)] },
      { key: "other", name: null, other: true, groups: 8, sessions: 4, buckets: [day(2)] },
      { key: "other", name: "A store called other", other: false, groups: 1, sessions: 1, buckets: [day(1)] },
      // Beta is not listed (in this answer's rest), and a store the visits do not list is left out.
      { key: "z", name: "Zeta", other: false, groups: 1, sessions: 1, buckets: [day(1)] },
    ],
    as_of: null,
  };

  it("makes a row per visits group, with the funnel and occupancy groups of the same key, the rest and no store told apart", () => {
    const rows = comparisonRows(visits, funnel, occupancy);
    expect(
      rows.map((r) => [r.id, r.kind, r.store, r.sessions, r.conversion, r.inFunnel, r.medianVisitSeconds, r.peak, r.inOccupancy]),
    ).toEqual([
      ["store:a", "store", "a", 6, 0.25, true, 300, 3, true],
      ["none", "none", null, 9, null, true, 30, 8, true],
      // Beta is in neither the funnel's groups nor the occupancy's (their rests, past 100 stores): no figures of its own there.
      ["store:b", "store", "b", 3, null, false, null, null, false],
      ["other", "other", null, 2, 1, true, 100, 2, true],
      ["store:other", "store", "other", 1, 0, true, 10, 1, true],
    ]);
    expect(rows.map(comparisonLabel)).toEqual(["Alpha (a)", "No store", "Beta (b)", "Other stores (7)", "A store called other (other)"]);
    expect(comparisonRows(visits, null, null).every((r) => r.conversion === null && !r.inFunnel && r.peak === null && !r.inOccupancy)).toBe(
      true,
    );
  });

  it("sorts the stores, always keeping the rest and no store last", () => {
    const rows = comparisonRows(visits, funnel, occupancy);
    const ids = (sort: Parameters<typeof sortComparison>[1]) => sortComparison(rows, sort).map((r) => r.id);
    expect(ids(COMPARISON_DEFAULT_SORT)).toEqual(["store:a", "store:b", "store:other", "other", "none"]);
    expect(ids({ key: "sessions", direction: "ascending" })).toEqual(["store:other", "store:b", "store:a", "other", "none"]);
    expect(ids({ key: "conversion", direction: "descending" })).toEqual(["store:a", "store:other", "store:b", "other", "none"]);
    expect(ids({ key: "median", direction: "ascending" })).toEqual(["store:other", "store:a", "store:b", "other", "none"]);
    expect(ids({ key: "peak", direction: "descending" })).toEqual([
      "store:a",
      "store:other",
      "store:b", // not in the occupancy answer: last of the stores
      "other",
      "none",
    ]);
  });
});

describe("CSV", () => {
  it("quotes as RFC 4180 says: commas, quotes, line breaks; quotes doubled", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("Lyon, Part-Dieu")).toBe('"Lyon, Part-Dieu"');
    expect(csvField('the "big" one')).toBe('"the ""big"" one"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField("cr\rhere")).toBe('"cr\rhere"');
    expect(csvField(null)).toBe("");
    expect(csvField(0.6667)).toBe("0.6667");
    expect(csvField(0)).toBe("0");
    expect(csvField(Number.NaN)).toBe("");
  });

  it("keeps a spreadsheet from running a store's name as a formula", () => {
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("-store")).toBe("'-store");
    expect(csvField("@sum")).toBe("'@sum");
    expect(csvField("=a,b")).toBe(`"'=a,b"`);
    expect(csvField(-1)).toBe("-1"); // numbers are numbers
  });

  it("ends every record with CRLF", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          [1, "x,y"],
          [null, 2],
        ],
      ),
    ).toBe('a,b\r\n1,"x,y"\r\n,2\r\n');
  });

  it("writes the board as shown, a column per status", () => {
    const rows = [
      store("a", 3, { name: "Lyon, centre", capacity: 10, utilization: 0.3, by_status: { CHAT: 2, PAY: 1 } }),
      store("b", 1, { name: null, by_status: { ENTER: 1 } }),
    ];
    expect(boardCsv(rows).split("\r\n")).toEqual([
      "store_id,name,active,capacity,utilization,status:CHAT,status:ENTER,status:PAY",
      'a,"Lyon, centre",3,10,0.3,2,0,1',
      "b,,1,,,0,1,0",
      "",
    ]);
  });

  it("writes the comparison as shown, with its steps and the rows' kinds", () => {
    const rows: ComparisonRow[] = [
      {
        id: "store:a",
        kind: "store",
        store: "a",
        name: "Alpha",
        groups: 1,
        sessions: 6,
        conversion: 0.25,
        inFunnel: true,
        medianVisitSeconds: 300,
        peak: 3,
        inOccupancy: true,
      },
      {
        id: "other",
        kind: "other",
        store: null,
        name: null,
        groups: 7,
        sessions: 2,
        conversion: 1,
        inFunnel: true,
        medianVisitSeconds: 100,
        peak: 4,
        inOccupancy: true,
      },
      {
        id: "none",
        kind: "none",
        store: null,
        name: null,
        groups: 1,
        sessions: 9,
        conversion: null,
        inFunnel: true,
        medianVisitSeconds: null,
        peak: null,
        inOccupancy: false,
      },
    ];
    expect(comparisonCsv(rows, ["CHAT", "SHOPPING", "PAY"]).split("\r\n")).toEqual([
      "row,store_id,name,stores,sessions,conversion,conversion_steps,median_visit_seconds,peak_occupancy",
      "store,a,Alpha,1,6,0.25,CHAT>PAY,300,3",
      "other,,Other stores (7),7,2,1,CHAT>PAY,100,4",
      "none,,No store,1,9,,CHAT>PAY,,",
      "",
    ]);
    expect(comparisonCsv(rows.slice(0, 1), []).split("\r\n")[1]).toBe("store,a,Alpha,1,6,0.25,,300,3");
  });

  it("names the files by the board's moment and the range's days", () => {
    const at = Date.parse("2026-11-23T13:05:09Z");
    expect(occupancyFilename(at, "Europe/Paris")).toBe("stores-occupancy-2026-11-23-1405.csv");
    expect(occupancyFilename(at, "UTC")).toBe("stores-occupancy-2026-11-23-1305.csv");
    expect(comparisonFilename("2026-11-17", "2026-11-23")).toBe("stores-comparison-2026-11-17-2026-11-23.csv");
  });
});
