/**
 * The live view (the start page): who is in a session now, for the whole tenant or one store (the
 * picker). Polls
 * GET /v1/sessions/active every few seconds while shown (not while the tab is hidden, backing off on
 * errors); durations tick every second in between.
 */
import type { ApiResult, Client } from "./api";
import { count, dateTime, iso, time } from "./format";
import {
  type ActivePage,
  type ActiveRow,
  announcement,
  backoffMs,
  elapsedMs,
  filteredTotal,
  formatAgo,
  formatElapsed,
  pageRange,
  statusChips,
} from "./live";
import { type Route, routeHash } from "./route";
import { byId, describe, el, type Shell, setState, swatch, type View } from "./shell";
import { type StoreDirectory, StorePicker } from "./store-picker";
import { colourFor } from "./timeline";

export const LIVE_POLL_MS = 4000;
const MAX_BACKOFF_MS = 60_000;
export const LIVE_PAGE_SIZE = 25;

export type LiveRoute = Extract<Route, { view: "live" }>;

interface RowRefs {
  tr: HTMLTableRowElement;
  link: HTMLAnchorElement;
  pill: HTMLSpanElement;
  inStatus: HTMLTableCellElement;
  running: HTMLTableCellElement;
  started: HTMLTableCellElement;
  stamps: HTMLTableCellElement;
  data: ActiveRow;
}

export function createLiveView(shell: Shell, client: Client, directory: StoreDirectory): View<LiveRoute> {
  const ui = {
    store: byId<HTMLSelectElement>("live-store"),
    storeNote: byId("live-store-note"),
    updated: byId("live-updated"),
    refresh: byId<HTMLButtonElement>("live-refresh"),
    pause: byId<HTMLButtonElement>("live-pause"),
    state: byId("live-state"),
    body: byId("live-body"),
    total: byId("live-total"),
    totalLabel: byId("live-total-label"),
    bar: byId("live-bar"),
    chips: byId("live-chips"),
    table: byId<HTMLTableElement>("live-table"),
    caption: byId("live-caption"),
    rows: byId<HTMLTableSectionElement>("live-rows"),
    pager: byId("live-pager"),
    prev: byId<HTMLButtonElement>("live-prev"),
    next: byId<HTMLButtonElement>("live-next"),
    range: byId("live-range"),
    announce: byId("live-announce"),
  };

  /** The filter: only sessions whose current status is this label. */
  let status: string | null = null;
  /** Only this store's sessions (list, counts and total); null for the whole tenant. */
  let store: string | null = null;
  /** cursors[i] fetches page i; page 0 has none. */
  let cursors: (string | null)[] = [null];
  let pageIndex = 0;
  let page: ActivePage | null = null;
  let lastOk: number | null = null;
  let failures = 0;
  let paused = false;
  let stopped = true;
  let shown = false;
  let generation = 0;
  let controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let said: { total: number; status: string | null } | null = null;
  const rows = new Map<string, RowRefs>();
  let chipsSignature = "";

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => void poll(), ms);
  }

  /** Drops any answer on its way and asks again now (filter, page, refresh, tab shown again). */
  function pollNow(): void {
    controller.abort();
    controller = new AbortController();
    generation += 1;
    clearTimeout(timer);
    void poll();
  }

  function stop(): void {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
    ui.refresh.disabled = true;
    ui.pause.disabled = true;
  }

  function start(): void {
    stopped = false;
    ui.refresh.disabled = false;
    ui.pause.disabled = false;
    if (page === null) setState(ui.state, "Loading the active sessions…", "busy");
    pollNow();
  }

  async function poll(): Promise<void> {
    if (stopped) return;
    if (paused || document.hidden) return schedule(LIVE_POLL_MS);
    const gen = generation;
    let result: ApiResult<ActivePage>;
    try {
      result = await client.active({ status, store, cursor: cursors[pageIndex] ?? null, limit: LIVE_PAGE_SIZE }, controller.signal);
    } catch {
      return; // aborted: a newer request owns the view
    }
    if (gen !== generation || stopped) return;

    if (result.kind === "ok") {
      failures = 0;
      lastOk = Date.now();
      if (result.data.sessions.length === 0 && pageIndex > 0) {
        // Everyone on this page has left since it was opened: back to the first page.
        pageIndex = 0;
        cursors = [null];
        return pollNow();
      }
      page = result.data;
      cursors = cursors.slice(0, pageIndex + 1);
      if (page.next_cursor !== null) cursors.push(page.next_cursor);
      render();
      return schedule(LIVE_POLL_MS);
    }
    if (result.kind === "not-modified") return schedule(LIVE_POLL_MS); // not sent by this route; harmless
    if (result.kind === "http" && result.status === 401) return shell.unauthorized(result);

    // Network errors, 429, 5xx and other surprises: keep what is drawn, say it may be stale, back off.
    failures += 1;
    const wait = backoffMs(failures, LIVE_POLL_MS, MAX_BACKOFF_MS, result.kind === "http" ? result.retryAfter : null);
    const stale = page && lastOk !== null ? ` Showing what was received at ${time(lastOk)}.` : "";
    setState(
      ui.state,
      `${describe(result)}${stale} Retrying in ${Math.round(wait / 1000)} s.`,
      result.kind === "network" ? "error" : "busy",
    );
    schedule(wait);
  }

  function render(): void {
    if (!page) return;
    const now = Date.now();
    const total = filteredTotal(page, status);
    ui.body.hidden = false;
    ui.total.textContent = count(page.total_active);
    ui.totalLabel.textContent = page.total_active === 1 ? "active session" : "active sessions";
    renderChips();
    renderRows(now);

    const empty = page.sessions.length === 0;
    ui.table.hidden = empty;
    const where = store === null ? "" : ` in ${picker.label(store)}`;
    if (empty && status === null) {
      setState(ui.state, `No one is in a session${where} right now. This page checks again every ${LIVE_POLL_MS / 1000} s.`, "empty");
    } else if (empty) {
      setState(
        ui.state,
        `No active session${where} is in status ${status} right now. Choose "All" to see every active session${where}.`,
        "empty",
      );
    } else {
      setState(ui.state, "");
    }
    ui.caption.textContent = `Active sessions${where}${status === null ? "" : ` in status ${status}`}, longest-running first`;
    const pagerFocus = ui.pager.contains(document.activeElement);
    ui.pager.hidden = pageIndex === 0 && page.next_cursor === null;
    ui.prev.disabled = pageIndex === 0;
    ui.next.disabled = page.next_cursor === null;
    const focusedNow = document.activeElement;
    if (pagerFocus && (!ui.pager.contains(focusedNow) || (focusedNow as HTMLButtonElement).disabled)) {
      // The button pressed is disabled now (first or last page): the other one, or the table.
      (ui.pager.hidden ? ui.table : ui.prev.disabled ? ui.next : ui.prev).focus({ preventScroll: true });
    }
    ui.range.textContent = pageRange(pageIndex, LIVE_PAGE_SIZE, page.sessions.length, total);
    tick(now);

    const next = { total, status };
    const text = announcement(said, next);
    said = next;
    if (text !== null) ui.announce.textContent = text;
  }

  function renderChips(): void {
    if (!page) return;
    const chips = statusChips(page.counts_by_status, status);
    const signature = JSON.stringify([page.total_active, status, chips.map((c) => [c.status, c.count])]);
    if (signature === chipsSignature) return;
    chipsSignature = signature;
    const focused = ui.chips.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset.chip : undefined;

    const all = el("button", "chip chip-all");
    all.type = "button";
    all.dataset.chip = "";
    all.setAttribute("aria-pressed", String(status === null));
    all.append(el("span", "chip-label", "All"), el("span", "chip-count", count(page.total_active)));
    all.setAttribute("aria-label", `All statuses: ${count(page.total_active)}`);
    const buttons = [all];
    for (const chip of chips) {
      const b = el("button", "chip");
      b.type = "button";
      b.dataset.chip = chip.status;
      b.dataset.status = chip.status;
      b.setAttribute("aria-pressed", String(chip.selected));
      b.setAttribute("aria-label", `${chip.status}: ${count(chip.count)}`);
      b.append(swatch(chip.status), el("span", "chip-label", chip.status), el("span", "chip-count", count(chip.count)));
      buttons.push(b);
    }
    ui.chips.replaceChildren(...buttons);
    if (focused !== undefined) buttons.find((b) => b.dataset.chip === focused)?.focus({ preventScroll: true });

    // The compact bar: each status's share of everyone active (the chips carry the numbers).
    const segments = chips
      .filter((c) => c.count > 0)
      .map((c) => {
        const part = el("span", "bar-part");
        part.style.width = `${c.share * 100}%`;
        part.style.backgroundColor = colourFor(c.status).background;
        part.title = `${c.status}: ${c.count}`;
        part.classList.toggle("dim", status !== null && !c.selected);
        return part;
      });
    ui.bar.replaceChildren(...segments);
  }

  function makeRow(data: ActiveRow): RowRefs {
    const tr = el("tr");
    tr.dataset.persona = data.persona_id;
    const head = el("th");
    head.scope = "row";
    const link = el("a", "persona-link", data.persona_id);
    link.href = routeHash({ view: "persona", persona: data.persona_id });
    head.append(link);
    const statusCell = el("td");
    const pill = el("span", "status-pill");
    statusCell.append(pill);
    const refs: RowRefs = {
      tr,
      link,
      pill,
      inStatus: el("td", "num in-status"),
      running: el("td", "num running"),
      started: el("td", "num started"),
      stamps: el("td", "num stamps"),
      data,
    };
    tr.append(head, statusCell, refs.inStatus, refs.running, refs.started, refs.stamps);
    return refs;
  }

  function fillRow(refs: RowRefs, data: ActiveRow, now: number): void {
    refs.data = data;
    refs.tr.dataset.status = data.status;
    if (refs.pill.textContent !== data.status) {
      const colour = colourFor(data.status);
      refs.pill.textContent = data.status;
      refs.pill.style.backgroundColor = colour.background;
      refs.pill.style.color = colour.text;
    }
    refs.link.setAttribute("aria-label", `${data.persona_id}: open the timeline`);
    refs.inStatus.title = `since ${data.status_since}`;
    refs.running.title = `since ${data.started_at}`;
    const started = Date.parse(data.started_at);
    const sameDay = new Date(started).toDateString() === new Date(now).toDateString();
    refs.started.textContent = sameDay ? time(started) : dateTime(started);
    refs.started.title = data.started_at;
    refs.stamps.textContent = count(data.stamp_count);
  }

  /** Updates the rows in place, keyed by persona, so focus and the reading position survive a refresh. */
  function renderRows(now: number): void {
    if (!page) return;
    const active = document.activeElement;
    const focusedPersona = active instanceof HTMLElement && ui.rows.contains(active) ? active.closest("tr")?.dataset.persona : undefined;
    const keep = new Set<string>();
    let previous: Element | null = null;
    for (const data of page.sessions) {
      keep.add(data.persona_id);
      let refs = rows.get(data.persona_id);
      if (!refs) {
        refs = makeRow(data);
        rows.set(data.persona_id, refs);
      }
      fillRow(refs, data, now);
      const expected: Element | null = previous === null ? ui.rows.firstElementChild : previous.nextElementSibling;
      if (expected !== refs.tr) ui.rows.insertBefore(refs.tr, expected);
      previous = refs.tr;
    }
    for (const [persona, refs] of rows) {
      if (!keep.has(persona)) {
        refs.tr.remove();
        rows.delete(persona);
      }
    }
    if (focusedPersona !== undefined && document.activeElement !== active) {
      const again = rows.get(focusedPersona);
      if (again) again.link.focus({ preventScroll: true });
      else ui.table.focus({ preventScroll: true }); // that session ended: stay in the table
    }
  }

  /** Every second: the durations grow and "index updated … ago" ages, without a request. */
  function tick(now: number): void {
    if (!page) return;
    for (const refs of rows.values()) {
      refs.inStatus.textContent = formatElapsed(elapsedMs(refs.data.status_since, now));
      refs.running.textContent = formatElapsed(elapsedMs(refs.data.started_at, now));
    }
    const asOf = page.as_of === null ? null : Date.parse(page.as_of);
    const index = asOf === null ? "Index has no changes yet" : `Index updated ${time(asOf)} (${formatAgo(now - asOf)})`;
    ui.updated.textContent = `${index} · checked ${lastOk === null ? "–" : time(lastOk)}`;
    ui.updated.title = asOf === null ? "" : `The tenant index last applied a change at ${iso(asOf)}; it follows writes within seconds.`;
  }

  function clear(): void {
    page = null;
    said = null;
    chipsSignature = "";
    rows.clear();
    ui.rows.replaceChildren();
    ui.chips.replaceChildren();
    ui.bar.replaceChildren();
    ui.body.hidden = true;
    ui.updated.textContent = "";
  }

  function setFilter(next: string | null, nextStore: string | null, record: boolean): void {
    if (next === status && nextStore === store) return;
    const moved = nextStore !== store;
    status = next;
    store = nextStore;
    pageIndex = 0;
    cursors = [null];
    if (record) shell.record({ view: "live", status, store }, "replace");
    if (moved) {
      // Another store's counts: nothing of this one's may stay on screen, nor be announced as a change.
      clear();
      setState(
        ui.state,
        store === null ? "Loading every active session…" : `Loading the active sessions in ${picker.label(store)}…`,
        "busy",
      );
    } else if (page) {
      // Redraw the chips at once (the pressed one moves); the rows follow with the answer.
      renderChips();
      setState(ui.state, status === null ? "Loading every active session…" : `Loading the sessions in status ${status}…`, "busy");
    }
    if (!stopped) pollNow();
  }

  // The status filter stays: "who is paying" is a question of any store.
  const picker = new StorePicker(ui.store, ui.storeNote, directory, (next) => setFilter(status, next, true));

  function turnPage(delta: number): void {
    const target = pageIndex + delta;
    if (target < 0 || target >= cursors.length) return;
    pageIndex = target;
    pollNow();
  }

  ui.refresh.addEventListener("click", () => {
    if (!stopped) pollNow();
  });
  ui.pause.addEventListener("click", () => {
    paused = !paused;
    ui.pause.setAttribute("aria-pressed", String(paused));
    ui.pause.textContent = paused ? "Resume updates" : "Pause updates";
    if (!paused && !stopped) pollNow();
  });
  ui.chips.addEventListener("click", (e) => {
    const chip = e.target instanceof Element ? e.target.closest<HTMLElement>(".chip") : null;
    if (!chip || chip.dataset.chip === undefined) return;
    const wanted = chip.dataset.chip === "" ? null : chip.dataset.chip;
    setFilter(wanted === status ? null : wanted, store, true);
  });
  ui.prev.addEventListener("click", () => turnPage(-1));
  ui.next.addEventListener("click", () => turnPage(1));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped && !paused) pollNow();
  });
  setInterval(() => {
    if (shown && page && !document.hidden) tick(Date.now());
  }, 1000);

  return {
    enter(route) {
      shown = true;
      setFilter(route.status, route.store, false);
      if (!shell.hasKey()) {
        stop();
        clear();
        picker.clear();
        picker.choose(store);
        setState(ui.state, "Enter an SDK key above (a read-only key is enough) to see who is in a session now.");
        return;
      }
      void picker.show(store);
      if (stopped) start();
    },
    leave() {
      shown = false;
      stop();
    },
    reset(reason) {
      stop();
      generation += 1;
      clear();
      picker.clear();
      if (reason === "refused") setState(ui.state, "Not authorised: no data shown.", "error");
      else setState(ui.state, "Key forgotten. Enter an SDK key above to see who is in a session now.");
    },
    keyChanged() {
      // Another key may be another tenant: nothing of the old answer stays.
      stop();
      clear();
      picker.clear();
      if (shown) {
        void picker.show(store);
        start();
      }
    },
  };
}
