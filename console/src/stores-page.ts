/**
 * The Stores page: the live occupancy board (GET /v1/occupancy, every page up to 2,000 stores,
 * polled every 5 s while shown, never while the tab is hidden) and a comparison of the stores over
 * a date range (the visits, funnel and occupancy answers with group_by=store). Both tables sort by
 * any column and download as CSV.
 *
 * Requests for the comparison: the paths answer (the default funnel's steps, as the dashboard's),
 * the visits and the occupancy by store together, then the funnel by store: four analytics
 * requests, whatever the number of stores. The comparison is asked on a change, on Refresh figures
 * and when the page is shown again after COMPARE_STALE_MS; it does not poll.
 */
import type { ApiResult, Client } from "./api";
import {
  type DashQuery,
  defaultSteps,
  ENTER,
  formatPercent,
  formatSeconds,
  NO_CHOICES,
  oldestAsOf,
  type Resolved,
  rangeText,
  resolveQuery,
  STEPS_MIN,
} from "./dashboard";
import { count, iso, time } from "./format";
import { announcement, backoffMs, formatAgo } from "./live";
import { createRangeControls } from "./range-controls";
import { type Route, routeHash } from "./route";
import { byId, cell, describe, el, type Failure, type Shell, setState, showAnalyticsRetry, swatch, type View } from "./shell";
import {
  BOARD_DEFAULT_SORT,
  BOARD_MAX_STORES,
  BOARD_PAGE_SIZE,
  BOARD_TEXT_KEYS,
  type Board,
  type BoardKey,
  barParts,
  boardCsv,
  boardScale,
  boardStatuses,
  boardValue,
  COMPARISON_DEFAULT_SORT,
  COMPARISON_TEXT_KEYS,
  type ComparisonKey,
  type ComparisonRow,
  comparisonCsv,
  comparisonFilename,
  comparisonLabel,
  comparisonRows,
  mergeBoard,
  NO_STORES_CHOICES,
  nextSort,
  type OccupancyPage,
  type OccupancyStore,
  occupancyFilename,
  type Sort,
  type StoresParams,
  sortComparison,
  sortRows,
  storeLabel,
} from "./stores";
import { colourFor } from "./timeline";
import { browserTimeZone } from "./zone";

export const BOARD_POLL_MS = 5000;
const BOARD_MAX_BACKOFF_MS = 60_000;
const DEBOUNCE_MS = 250;
const ERROR_RETRY_MS = 15_000;
const MAX_BACKOFF_MS = 120_000;
const COMPARE_STALE_MS = 5 * 60_000;

export type StoresRoute = Extract<Route, { view: "stores" }>;

export interface StoresView extends View<StoresRoute> {
  /** The operator's choices (or last ones), for the nav link back to them. */
  readonly params: StoresParams;
}

interface Comparison {
  key: string;
  query: DashQuery;
  /** The funnel asked for: the default steps of this range (empty when there is no default). */
  steps: string[];
  stepsFrom: "statuses" | "path";
  rows: ComparisonRow[];
  asOf: (string | null)[];
  receivedAt: number;
}

/** Saves text as a file the browser downloads (a Blob URL, revoked once the download has it). */
function download(filename: string, csv: string, type = "text/csv;charset=utf-8"): void {
  // The byte order mark makes spreadsheet programs read the file as UTF-8 (store names are any text).
  const url = URL.createObjectURL(new Blob(["\ufeff", csv], { type }));
  const a = el("a");
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Column headers that sort: aria-sort on the sorted one, an arrow beside its name. */
function drawSort<K extends string>(head: HTMLElement, sort: Sort<K>): void {
  for (const th of head.querySelectorAll<HTMLTableCellElement>("th[data-sort]")) {
    const on = th.dataset.sort === sort.key;
    if (on) th.setAttribute("aria-sort", sort.direction);
    else th.removeAttribute("aria-sort");
    const button = th.querySelector("button");
    if (button) button.dataset.arrow = on ? (sort.direction === "ascending" ? "▲" : "▼") : "";
  }
}

export function createStoresView(shell: Shell, client: Client): StoresView {
  const ui = {
    boardUpdated: byId("board-updated"),
    boardRefresh: byId<HTMLButtonElement>("board-refresh"),
    boardPause: byId<HTMLButtonElement>("board-pause"),
    boardCsv: byId<HTMLButtonElement>("board-csv"),
    boardState: byId("board-state"),
    boardBody: byId("board-body"),
    boardTotal: byId("board-total"),
    boardTotalLabel: byId("board-total-label"),
    boardExtra: byId("board-extra"),
    boardLegend: byId("board-legend"),
    boardTable: byId<HTMLTableElement>("board-table"),
    boardCaption: byId("board-caption"),
    boardRows: byId<HTMLTableSectionElement>("board-rows"),
    boardAnnounce: byId("board-announce"),
    cmpUpdated: byId("compare-updated"),
    cmpRefresh: byId<HTMLButtonElement>("compare-refresh"),
    cmpCsv: byId<HTMLButtonElement>("compare-csv"),
    cmpForm: byId<HTMLFormElement>("compare-form"),
    cmpPresets: byId("compare-presets"),
    cmpFrom: byId<HTMLInputElement>("compare-from"),
    cmpTo: byId<HTMLInputElement>("compare-to"),
    cmpTz: byId<HTMLInputElement>("compare-tz"),
    cmpZones: byId<HTMLDataListElement>("compare-zones"),
    cmpRangeError: byId("compare-range-error"),
    cmpSummary: byId("compare-summary"),
    cmpState: byId("compare-state"),
    cmpBody: byId("compare-body"),
    cmpTable: byId<HTMLTableElement>("compare-table"),
    cmpCaption: byId("compare-caption"),
    cmpConversion: byId<HTMLButtonElement>("compare-conversion"),
    cmpRows: byId<HTMLTableSectionElement>("compare-rows"),
    cmpNotes: byId("compare-notes"),
  };
  const browserTz = browserTimeZone();
  let onScreen = false;

  // ============================================================ the occupancy board

  let board: Board | null = null;
  let boardSort: Sort<BoardKey> = BOARD_DEFAULT_SORT;
  let boardOk: number | null = null;
  let boardFailures = 0;
  let paused = false;
  let boardStopped = true;
  let boardGeneration = 0;
  let boardController = new AbortController();
  let boardTimer: ReturnType<typeof setTimeout> | undefined;
  let said: { total: number; status: string | null } | null = null;
  /** Each store's row, and what it was drawn from (an unchanged row is not redrawn, so nothing flickers or is re-read). */
  const boardRowRefs = new Map<string, { tr: HTMLTableRowElement; drawn: string }>();

  function scheduleBoard(ms: number): void {
    clearTimeout(boardTimer);
    if (!boardStopped) boardTimer = setTimeout(() => void pollBoard(), ms);
  }

  function pollBoardNow(): void {
    boardController.abort();
    boardController = new AbortController();
    boardGeneration += 1;
    clearTimeout(boardTimer);
    void pollBoard();
  }

  function stopBoard(): void {
    boardStopped = true;
    clearTimeout(boardTimer);
    boardController.abort();
    ui.boardRefresh.disabled = true;
    ui.boardPause.disabled = true;
  }

  function startBoard(): void {
    boardStopped = false;
    ui.boardRefresh.disabled = false;
    ui.boardPause.disabled = false;
    if (board === null) setState(ui.boardState, "Loading who is in each store…", "busy");
    pollBoardNow();
  }

  /** Every page of the board, one after the other (the order they come in is the cursor's). */
  async function readBoard(signal: AbortSignal): Promise<ApiResult<Board>> {
    const pages: OccupancyPage[] = [];
    let cursor: string | null = null;
    do {
      const result = await client.occupancy({ cursor, limit: BOARD_PAGE_SIZE }, signal);
      if (result.kind === "not-modified") break; // not sent by this route
      if (result.kind !== "ok") return result;
      pages.push(result.data);
      cursor = result.data.next_cursor;
    } while (cursor !== null && pages.length * BOARD_PAGE_SIZE < BOARD_MAX_STORES);
    return { kind: "ok", data: mergeBoard(pages), etag: null };
  }

  async function pollBoard(): Promise<void> {
    if (boardStopped) return;
    if (paused || document.hidden) return scheduleBoard(BOARD_POLL_MS);
    const gen = boardGeneration;
    let result: ApiResult<Board>;
    try {
      result = await readBoard(boardController.signal);
    } catch {
      return; // aborted: a newer request owns the board
    }
    if (gen !== boardGeneration || boardStopped) return;
    if (result.kind === "ok") {
      boardFailures = 0;
      boardOk = Date.now();
      board = result.data;
      renderBoard();
      return scheduleBoard(BOARD_POLL_MS);
    }
    if (result.kind === "not-modified") return scheduleBoard(BOARD_POLL_MS);
    if (result.kind === "http" && result.status === 401) return shell.unauthorized(result);
    boardFailures += 1;
    const wait = backoffMs(boardFailures, BOARD_POLL_MS, BOARD_MAX_BACKOFF_MS, result.kind === "http" ? result.retryAfter : null);
    const stale = board && boardOk !== null ? ` Showing what was received at ${time(boardOk)}.` : "";
    setState(
      ui.boardState,
      `${describe(result)}${stale} Retrying in ${Math.round(wait / 1000)} s.`,
      result.kind === "network" ? "error" : "busy",
    );
    scheduleBoard(wait);
  }

  const sortedBoard = (): OccupancyStore[] => (board ? sortRows(board.rows, boardSort, boardValue) : []);

  function renderBoard(): void {
    if (!board) return;
    ui.boardBody.hidden = false;
    ui.boardCsv.disabled = board.rows.length === 0;
    const inStores = board.total_active;
    ui.boardTotal.textContent = count(inStores);
    // Past the bound the total still covers every store (the API's), not only those listed.
    const stores = `${board.truncated ? "more than " : ""}${count(board.rows.length)} store${board.rows.length === 1 ? "" : "s"}`;
    ui.boardTotalLabel.textContent = `active session${inStores === 1 ? "" : "s"} in ${stores}`;
    ui.boardExtra.textContent = `· ${count(board.no_store_active)} named no store${board.truncated ? ` · the ${count(board.rows.length)} busiest stores are listed` : ""}`;
    const empty = board.rows.length === 0;
    ui.boardTable.hidden = empty;
    ui.boardLegend.hidden = empty;
    if (empty) {
      setState(
        ui.boardState,
        "No store is registered, and no active session names one. Stores are registered with PUT /v1/stores (an admin key); a session is in one when its start names it.",
        "empty",
      );
    } else {
      setState(ui.boardState, "");
    }
    const rows = sortedBoard();
    const scale = boardScale(rows);
    ui.boardCaption.textContent = `Live occupancy per store, ${sortText(boardSort, { store: "store", active: "active sessions", capacity: "capacity", utilization: "utilization" })}; each bar's full width is ${count(scale)} people`;
    renderLegend(boardStatuses(rows));
    drawSort(ui.boardTable.tHead!, boardSort);
    renderBoardRows(rows, scale);
    tickBoard(Date.now());
    const text = announcement(said, { total: inStores, status: null });
    said = { total: inStores, status: null };
    if (text !== null) ui.boardAnnounce.textContent = text;
  }

  function renderLegend(statuses: string[]): void {
    const signature = statuses.join("\n");
    if (ui.boardLegend.dataset.signature === signature) return;
    ui.boardLegend.dataset.signature = signature;
    ui.boardLegend.replaceChildren(
      ...statuses.map((s) => {
        const li = el("li");
        li.append(swatch(s), document.createTextNode(s));
        return li;
      }),
    );
  }

  /** Updates rows in place, keyed by store, so focus on a store's link survives a refresh. */
  function renderBoardRows(rows: OccupancyStore[], scale: number): void {
    const active = document.activeElement;
    const focusedStore = active instanceof HTMLElement && ui.boardRows.contains(active) ? active.closest("tr")?.dataset.store : undefined;
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const data of rows) {
      keep.add(data.store_id);
      let refs = boardRowRefs.get(data.store_id);
      if (!refs) {
        refs = { tr: el("tr"), drawn: "" };
        refs.tr.dataset.store = data.store_id;
        boardRowRefs.set(data.store_id, refs);
      }
      const drawn = JSON.stringify([data, scale]);
      if (refs.drawn !== drawn) {
        refs.drawn = drawn;
        fillBoardRow(refs.tr, data, scale);
      }
      const expected: Element | null = previous === null ? ui.boardRows.firstElementChild : previous.nextElementSibling;
      if (expected !== refs.tr) ui.boardRows.insertBefore(refs.tr, expected);
      previous = refs.tr;
    }
    for (const [id, refs] of boardRowRefs) {
      if (!keep.has(id)) {
        refs.tr.remove();
        boardRowRefs.delete(id);
      }
    }
    if (focusedStore !== undefined && document.activeElement !== active) {
      boardRowRefs.get(focusedStore)?.tr.querySelector("a")?.focus({ preventScroll: true });
    }
  }

  function fillBoardRow(tr: HTMLTableRowElement, data: OccupancyStore, scale: number): void {
    const label = storeLabel(data.store_id, data.name);
    const th = el("th");
    th.scope = "row";
    const link = el("a", "store-link", label);
    link.href = routeHash({ view: "live", status: null, store: data.store_id });
    link.setAttribute("aria-label", `${label}: open the live view of this store`);
    th.append(link);
    if (data.name === null) th.append(el("span", "muted", " (not registered)"));
    const { parts, capacity } = barParts(data, scale);
    const bar = el("div", "occ-bar");
    bar.setAttribute("role", "img");
    const described = parts.map((p) => `${p.status} ${count(p.count)}`).join(", ");
    bar.setAttribute(
      "aria-label",
      `${label}: ${parts.length ? described : "nobody"}${data.capacity === null ? "" : `, of a capacity of ${count(data.capacity)}`}`,
    );
    for (const p of parts) {
      const part = el("span", "bar-part");
      part.style.width = `${p.width * 100}%`;
      part.style.backgroundColor = colourFor(p.status).background;
      part.title = `${p.status}: ${p.count}`;
      part.dataset.status = p.status;
      part.dataset.count = String(p.count);
      bar.append(part);
    }
    if (capacity !== null) {
      const mark = el("span", "cap-mark");
      mark.style.left = `${capacity * 100}%`;
      mark.title = `capacity ${data.capacity}`;
      bar.append(mark);
    }
    const barCell = el("td", "bar-col");
    barCell.append(bar);
    tr.classList.toggle("over", data.utilization !== null && data.utilization > 1);
    tr.replaceChildren(
      th,
      cell(count(data.active), data.active, "num active"),
      cell(data.capacity === null ? "—" : count(data.capacity), data.capacity, "num capacity"),
      cell(data.utilization === null ? "—" : formatPercent(data.utilization), data.utilization, "num utilization"),
      barCell,
    );
  }

  function tickBoard(now: number): void {
    if (!board) {
      ui.boardUpdated.textContent = "";
      return;
    }
    const asOf = board.as_of === null ? null : Date.parse(board.as_of);
    const index = asOf === null ? "Index has no changes yet" : `Index updated ${time(asOf)} (${formatAgo(now - asOf)})`;
    ui.boardUpdated.textContent = `${index} · checked ${boardOk === null ? "–" : time(boardOk)}`;
  }

  function clearBoard(): void {
    board = null;
    said = null;
    boardRowRefs.clear();
    ui.boardRows.replaceChildren();
    ui.boardLegend.replaceChildren();
    delete ui.boardLegend.dataset.signature;
    ui.boardBody.hidden = true;
    ui.boardCsv.disabled = true;
    ui.boardUpdated.textContent = "";
  }

  ui.boardRefresh.addEventListener("click", () => {
    if (!boardStopped) pollBoardNow();
  });
  ui.boardPause.addEventListener("click", () => {
    paused = !paused;
    ui.boardPause.setAttribute("aria-pressed", String(paused));
    ui.boardPause.textContent = paused ? "Resume updates" : "Pause updates";
    if (!paused && !boardStopped) pollBoardNow();
  });
  ui.boardTable.tHead!.addEventListener("click", (e) => {
    const th = e.target instanceof Element ? e.target.closest<HTMLElement>("th[data-sort]") : null;
    if (!th || !(e.target as Element).closest("button")) return;
    boardSort = nextSort(boardSort, th.dataset.sort as BoardKey, BOARD_TEXT_KEYS);
    renderBoard();
  });
  ui.boardCsv.addEventListener("click", () => {
    if (board) download(occupancyFilename(boardOk ?? Date.now(), browserTz), boardCsv(sortedBoard()));
  });

  // ============================================================ the comparison

  let params: StoresParams = NO_STORES_CHOICES;
  let figures: Comparison | null = null;
  let cmpSort: Sort<ComparisonKey> = COMPARISON_DEFAULT_SORT;
  let cmpStopped = true;
  let cmpGeneration = 0;
  let cmpController = new AbortController();
  let cmpTimer: ReturnType<typeof setTimeout> | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let cmpFailures = 0;
  const cmpRowRefs = new Map<string, HTMLTableRowElement>();
  /** What the load in flight asks (keyOf), null when none is. */
  let loading: string | null = null;

  const resolve = (): Resolved =>
    resolveQuery({ ...NO_CHOICES, range: params.range, tz: params.tz, interval: "day" }, Date.now(), browserTz);
  const keyOf = (q: DashQuery) => JSON.stringify([q.from, q.to, q.tz]);

  function cancelCompare(): void {
    loading = null;
    clearTimeout(cmpTimer);
    clearTimeout(debounce);
    cmpController.abort();
    cmpController = new AbortController();
    cmpGeneration += 1;
  }

  const settle = <T>(p: Promise<ApiResult<T>>): Promise<ApiResult<T> | null> => p.catch(() => null);

  async function loadCompare(): Promise<void> {
    cancelCompare();
    const gen = cmpGeneration;
    const signal = cmpController.signal;
    const resolved = resolve();
    controls.sync(resolved);
    if (!resolved.ok) {
      ui.cmpBody.hidden = true;
      setState(ui.cmpState, "");
      return;
    }
    const query = resolved.query;
    const range = { from: iso(query.from), to: iso(query.to) };
    loading = keyOf(query);
    ui.cmpRefresh.disabled = false;
    if (!figures || figures.key !== keyOf(query)) {
      ui.cmpBody.setAttribute("aria-busy", "true");
      setState(ui.cmpState, `Loading the stores' figures for ${rangeText(query)} (${query.tz})…`, "busy");
    }
    // The default funnel as the dashboard's (the tenant's statuses, else the range's most common path), tenant-wide.
    const pathsP = settle(client.paths(range, signal));
    // Days, not hours: with group_by, hourly buckets span at most 31 days, daily ones the whole 93.
    const byDay = { ...range, interval: "day" as const, tz: query.tz };
    const visitsP = settle(client.visitsByStore(byDay, signal));
    const occupancyP = settle(client.occupancyByStore(byDay, signal));
    const paths = await pathsP;
    if (gen !== cmpGeneration || paths === null) return;
    if (paths.kind !== "ok") return compareFailed(paths as Failure, query);
    const steps = defaultSteps(paths.data);
    const stepsFrom = (paths.data.statuses ?? []).filter((s) => s !== ENTER).length >= STEPS_MIN ? "statuses" : "path";
    const funnelP = steps.length >= STEPS_MIN ? settle(client.funnelByStore({ ...range, steps }, signal)) : Promise.resolve(undefined);
    const [visits, occupancy, funnel] = await Promise.all([visitsP, occupancyP, funnelP]);
    if (gen !== cmpGeneration || visits === null || occupancy === null || funnel === null) return;
    for (const result of [visits, occupancy, funnel]) {
      if (result === undefined || result.kind === "ok" || result.kind === "not-modified") continue;
      return compareFailed(result, query);
    }
    if (visits.kind !== "ok" || occupancy.kind !== "ok") return; // narrowed above
    loading = null;
    cmpFailures = 0;
    const funnelData = funnel?.kind === "ok" ? funnel.data : null;
    figures = {
      key: keyOf(query),
      query,
      steps: steps.length >= STEPS_MIN ? steps : [],
      stepsFrom,
      rows: comparisonRows(visits.data, funnelData, occupancy.data),
      asOf: [visits.data.as_of, occupancy.data.as_of, funnelData?.as_of ?? null],
      receivedAt: Date.now(),
    };
    ui.cmpBody.removeAttribute("aria-busy");
    renderCompare();
  }

  function compareFailed(result: Failure, query: DashQuery): void {
    loading = null;
    if (result.kind === "http" && result.status === 401) {
      shell.unauthorized(result);
      return;
    }
    cmpFailures += 1;
    const wait = backoffMs(cmpFailures, ERROR_RETRY_MS, MAX_BACKOFF_MS, result.kind === "http" ? result.retryAfter : null);
    const keep = figures !== null && figures.key === keyOf(query);
    if (!keep) ui.cmpBody.hidden = true;
    ui.cmpBody.removeAttribute("aria-busy");
    showAnalyticsRetry(ui.cmpState, result, wait, keep && figures ? figures.receivedAt : null);
    clearTimeout(cmpTimer);
    cmpTimer = setTimeout(() => {
      if (!cmpStopped && onScreen) void loadCompare();
    }, wait);
  }

  const controls = createRangeControls({
    form: ui.cmpForm,
    presets: ui.cmpPresets,
    from: ui.cmpFrom,
    to: ui.cmpTo,
    tz: ui.cmpTz,
    zones: ui.cmpZones,
    error: ui.cmpRangeError,
    summary: ui.cmpSummary,
    browserTz,
    params: () => params,
    commit,
  });

  function commit(next: StoresParams): void {
    params = next;
    shell.record({ view: "stores", params }, "replace");
    const resolved = resolve();
    controls.sync(resolved);
    if (cmpStopped) return;
    if (!resolved.ok) {
      cancelCompare();
      ui.cmpBody.hidden = true;
      setState(ui.cmpState, "");
      return;
    }
    clearTimeout(debounce);
    if (loading === keyOf(resolved.query)) return; // being asked already; its answer is drawn with the new links
    if (figures && figures.key === keyOf(resolved.query)) {
      // The same days in the same zone (a preset that names the default): nothing to ask again; the links follow the choice.
      resumeCompare();
      return;
    }
    debounce = setTimeout(() => void loadCompare(), DEBOUNCE_MS);
  }

  ui.cmpRefresh.addEventListener("click", () => {
    if (!cmpStopped) void loadCompare();
  });
  ui.cmpTable.tHead!.addEventListener("click", (e) => {
    const th = e.target instanceof Element ? e.target.closest<HTMLElement>("th[data-sort]") : null;
    if (!th || !(e.target as Element).closest("button")) return;
    cmpSort = nextSort(cmpSort, th.dataset.sort as ComparisonKey, COMPARISON_TEXT_KEYS);
    renderCompare();
  });
  ui.cmpCsv.addEventListener("click", () => {
    if (!figures) return;
    download(
      comparisonFilename(figures.query.fromDate, figures.query.toDate),
      comparisonCsv(sortComparison(figures.rows, cmpSort), figures.steps),
    );
  });

  function renderCompare(): void {
    if (!figures) return;
    const { query, steps } = figures;
    ui.cmpBody.hidden = false;
    ui.cmpCsv.disabled = figures.rows.length === 0;
    const funnel = steps.length >= STEPS_MIN ? `${steps[0]} → ${steps.at(-1)}` : null;
    ui.cmpConversion.textContent = funnel === null ? "Conversion" : `Conversion ${funnel}`;
    if (figures.rows.length === 0) {
      ui.cmpTable.hidden = true;
      setState(ui.cmpState, `No session started in ${rangeText(query)} (${query.tz}). Choose another range, or wait for visits.`, "empty");
    } else {
      ui.cmpTable.hidden = false;
      setState(ui.cmpState, "");
    }
    ui.cmpCaption.textContent = `Stores compared, ${rangeText(query)} (${query.tz}), ${sortText(cmpSort, {
      store: "store",
      sessions: "sessions",
      conversion: "conversion",
      median: "median visit",
      peak: "peak occupancy",
    })}`;
    drawSort(ui.cmpTable.tHead!, cmpSort);
    renderCompareRows();
    renderNotes(funnel);
    tickCompare(Date.now());
  }

  function renderNotes(funnel: string | null): void {
    if (!figures) return;
    const items = [
      "Sessions: the sessions that started in the range (GET /v1/analytics/visits?group_by=store&interval=day: the group's sessions).",
      funnel === null
        ? "Conversion: fewer than two status labels were recorded in this range, so there is no default funnel to convert through."
        : `Conversion: of the sessions that reached ${figures.steps[0]}, the share that went on through ${figures.steps.slice(1).join(", then ")} (GET /v1/analytics/funnel?group_by=store; steps: the default funnel, ${figures.stepsFrom === "statuses" ? "the tenant's statuses in its order" : "the order of this range's most common path"}).`,
      "Median visit: the median duration of all the range's visits that ended (client end: start to end; idle end: start to the last stamp), within 1 % (the same visits answer: the group's median_duration_seconds, over the whole range).",
      "Peak occupancy: the most sessions present at once in the range, in the store, the other stores together or with no store (GET /v1/analytics/occupancy?group_by=store&interval=day: the largest of the group's daily peaks).",
    ];
    if (figures.rows.some((r) => r.kind === "other")) {
      items.push(
        "Past 100 stores the API merges the rest into one row. The visits, the funnel and the occupancy each rank their own 100 (by sessions, by sessions that reached the first step, by sessions present), so a store with — is in that answer's rest, and the Other stores row's conversion and peak are those of each answer's own rest, which may hold other stores.",
      );
    }
    ui.cmpNotes.replaceChildren(...items.map((t) => el("li", "", t)));
  }

  /** A figure of an answer that has no group for this row (a store past its 100 largest): "—", and why in its title. */
  function notListed(className: string, answer: string): HTMLTableCellElement {
    const td = cell("—", null, className);
    td.title = `The ${answer} answer has no group of its own for this row (a store past its 100 largest is in its rest).`;
    return td;
  }

  function renderCompareRows(): void {
    if (!figures) return;
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && ui.cmpRows.contains(active) ? active.closest("tr")?.dataset.row : undefined;
    const rows = sortComparison(figures.rows, cmpSort);
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const row of rows) {
      keep.add(row.id);
      let tr = cmpRowRefs.get(row.id);
      if (!tr) {
        tr = el("tr");
        tr.dataset.row = row.id;
        cmpRowRefs.set(row.id, tr);
      }
      fillCompareRow(tr, row);
      const expected: Element | null = previous === null ? ui.cmpRows.firstElementChild : previous.nextElementSibling;
      if (expected !== tr) ui.cmpRows.insertBefore(tr, expected);
      previous = tr;
    }
    for (const [id, tr] of cmpRowRefs) {
      if (!keep.has(id)) {
        tr.remove();
        cmpRowRefs.delete(id);
      }
    }
    if (focused !== undefined && document.activeElement !== active)
      cmpRowRefs.get(focused)?.querySelector("a")?.focus({ preventScroll: true });
  }

  function fillCompareRow(tr: HTMLTableRowElement, row: ComparisonRow): void {
    if (!figures) return;
    tr.dataset.kind = row.kind;
    tr.classList.toggle("special", row.kind !== "store");
    const th = el("th");
    th.scope = "row";
    const label = comparisonLabel(row);
    if (row.kind === "store" && row.store !== null) {
      const link = el("a", "store-link", label);
      link.href = routeHash({
        view: "dashboard",
        params: { ...NO_CHOICES, range: params.range, tz: params.tz, store: row.store },
      });
      link.setAttribute("aria-label", `${label}: open the dashboard of this store for the same days`);
      th.append(link);
    } else {
      th.textContent = label;
    }
    tr.replaceChildren(
      th,
      cell(count(row.sessions), row.sessions, "num sessions"),
      !row.inFunnel && figures.steps.length >= STEPS_MIN
        ? notListed("num conversion", "funnel")
        : cell(formatPercent(row.conversion), row.conversion, "num conversion"),
      cell(formatSeconds(row.medianVisitSeconds), row.medianVisitSeconds, "num median"),
      row.inOccupancy ? cell(row.peak === null ? "–" : count(row.peak), row.peak, "num peak") : notListed("num peak", "occupancy"),
    );
  }

  function tickCompare(now: number): void {
    if (!figures) {
      ui.cmpUpdated.textContent = "";
      return;
    }
    const asOf = oldestAsOf(figures.asOf);
    const at = asOf === null ? null : Date.parse(asOf);
    const index = at === null ? "Index has no changes yet" : `Index updated ${time(at)} (${formatAgo(now - at)})`;
    ui.cmpUpdated.textContent = `${index} · received ${time(figures.receivedAt)}`;
  }

  function clearCompare(): void {
    cancelCompare();
    figures = null;
    cmpFailures = 0;
    cmpRowRefs.clear();
    ui.cmpRows.replaceChildren();
    ui.cmpNotes.replaceChildren();
    ui.cmpBody.hidden = true;
    ui.cmpBody.removeAttribute("aria-busy");
    ui.cmpCsv.disabled = true;
    ui.cmpUpdated.textContent = "";
  }

  function stopCompare(): void {
    cmpStopped = true;
    cancelCompare();
    ui.cmpRefresh.disabled = true;
  }

  /** The comparison when the page is shown: asked again if it is of other days or old, else drawn as it was. */
  function resumeCompare(): void {
    cancelCompare(); // shown again while shown (the nav link): one load, not two
    cmpStopped = false;
    ui.cmpRefresh.disabled = false;
    const resolved = resolve();
    controls.sync(resolved);
    if (resolved.ok && figures && figures.key === keyOf(resolved.query) && Date.now() - figures.receivedAt < COMPARE_STALE_MS) {
      renderCompare();
      return;
    }
    void loadCompare();
  }

  // ============================================================ both

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && onScreen && !boardStopped && !paused) pollBoardNow();
  });
  setInterval(() => {
    if (!onScreen || document.hidden) return;
    const now = Date.now();
    tickBoard(now);
    tickCompare(now);
  }, 1000);

  const noKey = "Enter an SDK key above (a read-only key is enough) to see the stores.";

  return {
    get params() {
      return params;
    },
    enter(route) {
      onScreen = true;
      params = route.params;
      if (!shell.hasKey()) {
        stopBoard();
        clearBoard();
        stopCompare();
        clearCompare();
        controls.sync(resolve());
        setState(ui.boardState, noKey);
        setState(ui.cmpState, "");
        return;
      }
      if (boardStopped) startBoard();
      resumeCompare();
    },
    leave() {
      onScreen = false;
      stopBoard();
      stopCompare();
    },
    reset(reason) {
      stopBoard();
      clearBoard();
      stopCompare();
      clearCompare();
      setState(
        ui.boardState,
        reason === "refused" ? "Not authorised: no data shown." : `Key forgotten. ${noKey}`,
        reason === "refused" ? "error" : "info",
      );
      setState(ui.cmpState, "");
    },
    keyChanged() {
      // Another key may be another tenant: nothing of the old answers stays.
      stopBoard();
      clearBoard();
      stopCompare();
      clearCompare();
      if (onScreen) {
        startBoard();
        resumeCompare();
      }
    },
  };
}

/** "busiest first"-style words for the caption: which column the rows are in order of, and which way. */
function sortText<K extends string>(sort: Sort<K>, names: Record<K, string>): string {
  const text = sort.key === "store" ? ["A to Z", "Z to A"] : ["smallest first", "largest first"];
  return `by ${names[sort.key]}, ${sort.direction === "ascending" ? text[0] : text[1]}`;
}
