/**
 * The dashboard view: visit analytics over a date range in a time zone, for the whole tenant or one
 * store (the picker: every query's `store_id`): the funnel (steps chosen by the operator, by default
 * the tenant's statuses or the range's most common path), time in each status, and visits per
 * hour or day. Every chart has its figures as a table too.
 *
 * Requests: three per refresh (dwell and visits at once; the funnel with them, or after dwell when
 * its steps are the default ones), on every change (debounced) and every 60 s while shown, never
 * while the tab is hidden. The API allows 30 analytics requests per 10 s per tenant; a 429's
 * Retry-After is waited out.
 */
import type { ApiResult, Client } from "./api";
import { DashboardCharts } from "./charts";
import {
  addStepProblem,
  bucketLabel,
  type DashParams,
  type DashQuery,
  type DwellData,
  defaultSteps,
  type FunnelData,
  formatPercent,
  formatSeconds,
  moveStep,
  NO_CHOICES,
  oldestAsOf,
  type PathsData,
  partKeys,
  queryKey,
  rangeText,
  removeStep,
  resolveQuery,
  STEPS_MAX,
  STEPS_MIN,
  type VisitsData,
} from "./dashboard";
import { count, iso, time } from "./format";
import { backoffMs, formatAgo } from "./live";
import { createRangeControls } from "./range-controls";
import type { Route } from "./route";
import { byId, cell, el, type Failure, type Shell, setState, showAnalyticsRetry, swatch, type View } from "./shell";
import { type StoreDirectory, StorePicker } from "./store-picker";
import { browserTimeZone } from "./zone";

export const DASH_REFRESH_MS = 60_000;
const DEBOUNCE_MS = 250;
const ERROR_RETRY_MS = 15_000;
const MAX_BACKOFF_MS = 120_000;
/** The time-in-status chart draws the most visited statuses; the table lists them all. */
const DWELL_CHART_MAX = 12;

export type DashboardRoute = Extract<Route, { view: "dashboard" }>;

export interface DashboardView extends View<DashboardRoute> {
  /** The operator's choices (or last ones), for the nav link back to them. */
  readonly params: DashParams;
}

interface Figures {
  key: string;
  query: DashQuery;
  /** The steps asked for (the chosen ones, or the default from this range's paths answer). */
  steps: string[];
  /** Where default steps came from: the tenant's statuses, or the most common path (null: chosen). */
  stepsFrom: "statuses" | "path" | null;
  dwell: DwellData;
  visits: VisitsData;
  funnel: FunnelData | null;
  /** The paths answer the default steps came from (asked for with the range, like the dwell answer). */
  paths: PathsData | null;
  /** What each answer was asked for (partKeys), so a change keeps the answers it does not affect. */
  keys: { dwell: string; visits: string; funnel: string };
  receivedAt: number;
}

function rowHead(status: string): HTMLTableCellElement {
  const th = el("th");
  th.scope = "row";
  const lab = el("span", "lab");
  lab.append(swatch(status), document.createTextNode(status));
  th.append(lab);
  return th;
}

export function createDashboardView(shell: Shell, client: Client, directory: StoreDirectory): DashboardView {
  const ui = {
    store: byId<HTMLSelectElement>("dash-store"),
    storeNote: byId("dash-store-note"),
    updated: byId("dash-updated"),
    refresh: byId<HTMLButtonElement>("dash-refresh"),
    form: byId<HTMLFormElement>("dash-form"),
    presets: byId("dash-presets"),
    from: byId<HTMLInputElement>("dash-from"),
    to: byId<HTMLInputElement>("dash-to"),
    tz: byId<HTMLInputElement>("dash-tz"),
    zones: byId<HTMLDataListElement>("dash-zones"),
    hour: byId<HTMLInputElement>("dash-hour"),
    day: byId<HTMLInputElement>("dash-day"),
    rangeError: byId("dash-range-error"),
    summary: byId("dash-summary"),
    state: byId("dash-state"),
    body: byId("dash-body"),
    funnelSteps: byId<HTMLOListElement>("funnel-steps"),
    funnelNote: byId("funnel-steps-note"),
    addForm: byId<HTMLFormElement>("funnel-add"),
    addInput: byId<HTMLInputElement>("funnel-new"),
    addButton: byId<HTMLButtonElement>("funnel-add-button"),
    addError: byId("funnel-add-error"),
    labels: byId<HTMLDataListElement>("dash-labels"),
    reset: byId<HTMLButtonElement>("funnel-reset"),
    funnelState: byId("funnel-state"),
    funnelFigures: byId("funnel-figures"),
    funnelChart: byId<HTMLCanvasElement>("funnel-chart"),
    funnelRows: byId<HTMLTableSectionElement>("funnel-rows"),
    dwellNote: byId("dwell-note"),
    dwellState: byId("dwell-state"),
    dwellFigures: byId("dwell-figures"),
    dwellBox: byId("dwell-box"),
    dwellChart: byId<HTMLCanvasElement>("dwell-chart"),
    dwellRows: byId<HTMLTableSectionElement>("dwell-rows"),
    visitsNote: byId("visits-note"),
    visitsState: byId("visits-state"),
    visitsFigures: byId("visits-figures"),
    visitsChart: byId<HTMLCanvasElement>("visits-chart"),
    visitsCaption: byId("visits-caption"),
    visitsRows: byId<HTMLTableSectionElement>("visits-rows"),
  };

  const charts = new DashboardCharts({ funnel: ui.funnelChart, dwell: ui.dwellChart, visits: ui.visitsChart });
  const browserTz = browserTimeZone();

  let params: DashParams = NO_CHOICES;
  let figures: Figures | null = null;
  let onScreen = false;
  let stopped = true;
  let generation = 0;
  let controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  /** A refresh came due while the tab was hidden: done when it is shown again. */
  let dueWhileHidden = false;

  /** The funnel's steps as the editor shows them: the chosen ones, else this range's default. */
  const currentSteps = (): string[] => params.steps ?? figures?.steps ?? [];

  // -------------------------------------------------------------- requests

  function schedule(ms: number): void {
    clearTimeout(timer);
    if (!stopped && onScreen) timer = setTimeout(due, ms);
  }

  function due(): void {
    if (stopped || !onScreen) return;
    if (document.hidden) {
      dueWhileHidden = true;
      return;
    }
    void load();
  }

  function cancel(): void {
    clearTimeout(timer);
    clearTimeout(debounce);
    controller.abort();
    controller = new AbortController();
    generation += 1;
  }

  /** An answer, or null when it was aborted (a newer question owns the view). */
  const settle = <T>(p: Promise<ApiResult<T>>): Promise<ApiResult<T> | null> => p.catch(() => null);

  /**
   * Asks for the figures of the current choices. `fresh` (a refresh, or the view shown again) asks
   * for all three answers; otherwise (a change) the answers whose inputs did not change are kept.
   */
  async function load(fresh = true): Promise<void> {
    cancel();
    const gen = generation;
    const signal = controller.signal;
    dueWhileHidden = false;
    const resolved = resolveQuery(params, Date.now(), browserTz);
    controls.sync(resolved);
    if (!resolved.ok) {
      // Nothing to ask: the message says which control to fix; figures of another range are not kept.
      hideFigures();
      setState(ui.state, "");
      return;
    }
    const query = resolved.query;
    const range = { from: iso(query.from), to: iso(query.to), store: query.store };
    const same = figures !== null && figures.key === queryKey(query, params.steps);
    if (!same) {
      ui.body.setAttribute("aria-busy", "true");
      setState(ui.state, `Loading the figures for ${rangeText(query)} (${query.tz})…`, "busy");
    }
    ui.refresh.disabled = false;

    const old = fresh ? null : figures;
    const keys = partKeys(query, []);
    let reused = false;
    const kept = <T>(data: T): Promise<ApiResult<T>> => {
      reused = true;
      return Promise.resolve({ kind: "ok", data, etag: null });
    };
    const askFunnel = (steps: string[]) =>
      old?.funnel && old.keys.funnel === partKeys(query, steps).funnel ? kept(old.funnel) : client.funnel({ ...range, steps }, signal);
    const dwellP = settle(old && old.keys.dwell === keys.dwell ? kept(old.dwell) : client.dwell(range, signal));
    const visitsP = settle(
      old && old.keys.visits === keys.visits
        ? kept(old.visits)
        : client.visits({ ...range, interval: query.interval, tz: query.tz }, signal),
    );
    const explicit = params.steps !== null && params.steps.length >= STEPS_MIN ? params.steps : null;
    let funnelP = explicit ? settle(askFunnel(explicit)) : null;
    // The default steps come from the tenant's statuses or the range's most common path.
    const keepPaths = old?.paths && old.keys.dwell === keys.dwell ? old.paths : null;
    const pathsP = params.steps === null ? settle(keepPaths ? kept(keepPaths) : client.paths(range, signal)) : null;
    const dwell = await dwellP;
    if (gen !== generation || dwell === null) return;
    let steps = params.steps ?? [];
    let stepsFrom: Figures["stepsFrom"] = null;
    const paths = pathsP ? await pathsP : undefined;
    if (gen !== generation || paths === null) return;
    if (paths?.kind === "ok") {
      steps = defaultSteps(paths.data);
      stepsFrom = (paths.data.statuses ?? []).filter((s) => s !== "ENTER").length >= STEPS_MIN ? "statuses" : "path";
      if (steps.length >= STEPS_MIN) funnelP = settle(askFunnel(steps));
    }
    const [visits, funnel] = await Promise.all([visitsP, funnelP ?? Promise.resolve(undefined)]);
    if (gen !== generation || visits === null || funnel === null) return;

    for (const result of [dwell, visits, funnel, paths]) {
      if (result === undefined || result.kind === "ok") continue;
      if (result.kind === "not-modified") continue; // not sent by these routes
      failed(result, query);
      return;
    }
    if (dwell.kind !== "ok" || visits.kind !== "ok") return; // narrowed above; keeps the types honest
    failures = 0;
    figures = {
      key: queryKey(query, params.steps),
      keys: partKeys(query, steps),
      query,
      steps,
      stepsFrom,
      dwell: dwell.data,
      visits: visits.data,
      funnel: funnel?.kind === "ok" ? funnel.data : null,
      paths: paths?.kind === "ok" ? paths.data : keepPaths,
      // The oldest answer shown: a kept answer is as old as it was, and the next refresh asks for all.
      receivedAt: reused && old ? old.receivedAt : Date.now(),
    };
    ui.body.removeAttribute("aria-busy");
    render();
    schedule(Math.max(1000, DASH_REFRESH_MS - (Date.now() - figures.receivedAt)));
  }

  function failed(result: Failure, query: DashQuery): void {
    if (result.kind === "http" && result.status === 401) {
      shell.unauthorized(result);
      return;
    }
    // 429 (the per-tenant analytics limit), 5xx, network: say so, wait (Retry-After when sent), ask again.
    failures += 1;
    const wait = backoffMs(failures, ERROR_RETRY_MS, MAX_BACKOFF_MS, result.kind === "http" ? result.retryAfter : null);
    const keep = figures !== null && figures.key === queryKey(query, params.steps);
    if (!keep) hideFigures();
    ui.body.removeAttribute("aria-busy");
    showAnalyticsRetry(ui.state, result, wait, keep && figures ? figures.receivedAt : null);
    schedule(wait);
  }

  // -------------------------------------------------------------- controls

  const controls = createRangeControls({
    form: ui.form,
    presets: ui.presets,
    from: ui.from,
    to: ui.to,
    tz: ui.tz,
    zones: ui.zones,
    error: ui.rangeError,
    summary: ui.summary,
    browserTz,
    params: () => params,
    commit,
    intervalRadios: { hour: ui.hour, day: ui.day },
    missingDates: "Choose both a From and a To date.",
    summarize: (range, q) => `${q.store === null ? "all stores" : picker.label(q.store)} · ${range} · visits per ${q.interval}`,
  });

  /** The operator changed something: into the fragment at once, asked after a short pause (several quick changes, one question). */
  function commit(next: DashParams): void {
    params = next;
    shell.record({ view: "dashboard", params }, "replace");
    renderSteps();
    const resolved = resolveQuery(params, Date.now(), browserTz);
    controls.sync(resolved);
    if (stopped) return;
    if (!resolved.ok) {
      // Nothing to ask until it is fixed; the figures of the previous range go at once.
      cancel();
      hideFigures();
      setState(ui.state, "");
      return;
    }
    clearTimeout(debounce);
    debounce = setTimeout(() => void load(false), DEBOUNCE_MS);
  }

  ui.refresh.addEventListener("click", () => {
    if (!stopped) void load();
  });
  const picker = new StorePicker(ui.store, ui.storeNote, directory, (store) => commit({ ...params, store }));

  // -------------------------------------------------------------- funnel steps

  function setSteps(steps: string[]): void {
    ui.addError.hidden = true;
    commit({ ...params, steps });
  }

  ui.funnelSteps.addEventListener("click", (e) => {
    const b = e.target instanceof Element ? e.target.closest<HTMLButtonElement>("button[data-action]") : null;
    if (!b || b.disabled) return;
    const index = Number(b.dataset.index);
    const steps = currentSteps();
    const action = b.dataset.action;
    const next = action === "up" ? moveStep(steps, index, -1) : action === "down" ? moveStep(steps, index, 1) : removeStep(steps, index);
    setSteps(next);
    // Keep the keyboard where it was: on the same action of the step that moved (or the list after a removal).
    const target = action === "remove" ? Math.min(index, next.length - 1) : action === "up" ? index - 1 : index + 1;
    const again = ui.funnelSteps.querySelector<HTMLButtonElement>(`button[data-index="${target}"][data-action="${action}"]:not(:disabled)`);
    (again ?? ui.funnelSteps.querySelector<HTMLButtonElement>(`button[data-index="${target}"]`) ?? ui.addInput).focus();
  });
  ui.addForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const label = ui.addInput.value.trim();
    const problem = addStepProblem(currentSteps(), label);
    if (problem) {
      ui.addError.textContent = problem;
      ui.addError.hidden = false;
      ui.addInput.setAttribute("aria-invalid", "true");
      return;
    }
    ui.addInput.value = "";
    ui.addInput.removeAttribute("aria-invalid");
    setSteps([...currentSteps(), label]);
  });
  ui.reset.addEventListener("click", () => {
    ui.addError.hidden = true;
    commit({ ...params, steps: null });
  });

  function renderSteps(): void {
    const steps = currentSteps();
    const items = steps.map((step, i) => {
      const li = el("li", "step");
      li.dataset.status = step;
      const name = el("span", "step-name");
      name.append(swatch(step), document.createTextNode(step));
      const tools = el("span", "step-tools");
      const button = (action: string, text: string, label: string, disabled: boolean) => {
        const b = el("button", "step-button", text);
        b.type = "button";
        b.dataset.action = action;
        b.dataset.index = String(i);
        b.setAttribute("aria-label", label);
        b.disabled = disabled;
        return b;
      };
      tools.append(
        button("up", "↑", `Move ${step} up`, i === 0),
        button("down", "↓", `Move ${step} down`, i === steps.length - 1),
        button("remove", "✕", `Remove ${step}`, steps.length <= STEPS_MIN),
      );
      li.append(name, tools);
      return li;
    });
    ui.funnelSteps.replaceChildren(...items);
    ui.addButton.disabled = steps.length >= STEPS_MAX;
    ui.reset.disabled = params.steps === null;
    ui.funnelNote.textContent =
      params.steps !== null
        ? "Steps: chosen"
        : figures?.stepsFrom === "statuses"
          ? "Steps: the default, the tenant's statuses in its order"
          : "Steps: the default, the order of this range's most common path";
  }

  // -------------------------------------------------------------- drawing

  function hideFigures(): void {
    ui.body.hidden = true;
    ui.body.removeAttribute("aria-busy");
  }

  function render(): void {
    if (!figures) return;
    const { query } = figures;
    ui.body.hidden = false;
    const total = figures.visits.buckets.reduce((n, b) => n + b.sessions, 0);
    setState(
      ui.state,
      total === 0
        ? `No session started${query.store === null ? "" : ` in ${picker.label(query.store)}`} in ${rangeText(query)} (${query.tz}). Choose another range${query.store === null ? "" : " or store"}, or wait for visits.`
        : "",
      "empty",
    );
    renderUpdated(Date.now());
    renderSteps();
    renderLabels();
    renderFunnel();
    renderDwell();
    renderVisits();
  }

  function renderUpdated(now: number): void {
    if (!figures) {
      ui.updated.textContent = "";
      return;
    }
    const asOf = oldestAsOf([figures.dwell.as_of, figures.visits.as_of, figures.funnel?.as_of]);
    const at = asOf === null ? null : Date.parse(asOf);
    const index = at === null ? "Index has no changes yet" : `Index updated ${time(at)} (${formatAgo(now - at)})`;
    ui.updated.textContent = `${index} · checked ${time(figures.receivedAt)}`;
    ui.updated.title = asOf === null ? "" : `The tenant index last applied a change at ${asOf}; it follows writes within seconds.`;
  }

  function renderLabels(): void {
    if (!figures) return;
    ui.labels.replaceChildren(
      ...figures.dwell.statuses.map((s) => {
        const option = el("option");
        option.value = s.status;
        return option;
      }),
    );
  }

  function renderFunnel(): void {
    if (!figures) return;
    const steps = figures.funnel?.steps ?? [];
    const show = (text: string, kind: "empty" | "info") => {
      setState(ui.funnelState, text, kind);
      ui.funnelFigures.hidden = text !== "" && steps.length === 0;
    };
    if (figures.steps.length < STEPS_MIN) {
      ui.funnelFigures.hidden = true;
      setState(
        ui.funnelState,
        params.steps === null
          ? "Fewer than two status labels were recorded in this range, so there is no default funnel: add steps above."
          : "A funnel needs at least two steps: add one above.",
        "empty",
      );
      ui.funnelRows.replaceChildren();
      charts.drawFunnel([]);
      return;
    }
    if (!steps.length) {
      show("No funnel figures.", "empty");
      return;
    }
    ui.funnelFigures.hidden = false;
    setState(
      ui.funnelState,
      steps[0]!.sessions === 0 ? `No session in this range reached ${steps[0]!.status}, the first step.` : "",
      "empty",
    );
    ui.funnelRows.replaceChildren(
      ...steps.map((s) => {
        const tr = el("tr");
        tr.dataset.status = s.status;
        tr.append(
          rowHead(s.status),
          cell(count(s.sessions), s.sessions, "num sessions"),
          cell(formatPercent(s.conversion_from_previous), s.conversion_from_previous, "num of-previous"),
          cell(formatPercent(s.conversion_from_first), s.conversion_from_first, "num of-first"),
          cell(formatSeconds(s.median_seconds_from_previous), s.median_seconds_from_previous, "num median"),
          cell(formatSeconds(s.p90_seconds_from_previous), s.p90_seconds_from_previous, "num p90"),
        );
        return tr;
      }),
    );
    charts.drawFunnel(steps);
    ui.funnelChart.setAttribute(
      "aria-label",
      `Funnel bar chart: ${steps
        .map((s, k) =>
          k === 0
            ? `${s.status} ${count(s.sessions)} sessions`
            : `${s.status} ${count(s.sessions)} (${formatPercent(s.conversion_from_previous)} of previous, ${formatPercent(s.conversion_from_first)} of first)`,
        )
        .join("; ")}.`,
    );
  }

  function renderDwell(): void {
    if (!figures) return;
    const statuses = figures.dwell.statuses;
    ui.dwellFigures.hidden = statuses.length === 0;
    setState(ui.dwellState, statuses.length === 0 ? "No time in a status was observed in this range." : "", "empty");
    const drawn = statuses.slice(0, DWELL_CHART_MAX);
    ui.dwellNote.textContent =
      statuses.length === 0
        ? ""
        : statuses.length > drawn.length
          ? `${statuses.length} statuses; the chart shows the ${drawn.length} most visited, the table all`
          : `${statuses.length} status${statuses.length === 1 ? "" : "es"}, most visited first`;
    ui.dwellRows.replaceChildren(
      ...statuses.map((s) => {
        const tr = el("tr");
        tr.dataset.status = s.status;
        tr.append(
          rowHead(s.status),
          cell(count(s.visits), s.visits, "num visits"),
          cell(formatSeconds(s.median_seconds), s.median_seconds, "num median"),
          cell(formatSeconds(s.p90_seconds), s.p90_seconds, "num p90"),
          cell(formatSeconds(s.total_seconds), s.total_seconds, "num total"),
        );
        return tr;
      }),
    );
    // Room for two bars per status (CSSOM, which the CSP allows).
    ui.dwellBox.style.height = `${Math.max(12, 3.2 * drawn.length + 6)}rem`;
    charts.drawDwell(drawn);
    ui.dwellChart.setAttribute(
      "aria-label",
      `Time in each status, bar chart: ${drawn
        .map((s) => `${s.status} median ${formatSeconds(s.median_seconds)}, p90 ${formatSeconds(s.p90_seconds)}, ${count(s.visits)} visits`)
        .join("; ")}.`,
    );
  }

  function renderVisits(): void {
    if (!figures) return;
    const { buckets, interval, tz } = figures.visits;
    const total = buckets.reduce((n, b) => n + b.sessions, 0);
    ui.visitsFigures.hidden = total === 0;
    setState(ui.visitsState, total === 0 ? "No session started in this range." : "", "empty");
    ui.visitsNote.textContent = `${count(total)} session${total === 1 ? "" : "s"} started · per ${interval} · ${tz}`;
    ui.visitsCaption.textContent = `Sessions started per ${interval} (${tz}), and their median duration`;
    ui.visitsRows.replaceChildren(
      ...buckets.map((b, i) => {
        const tr = el("tr");
        const th = el("th", "", bucketLabel(b.start, interval, i === 0).full);
        th.scope = "row";
        th.title = b.start;
        tr.dataset.start = b.start;
        tr.append(
          th,
          cell(count(b.sessions), b.sessions, "num sessions"),
          cell(formatSeconds(b.median_duration_seconds), b.median_duration_seconds, "num median"),
        );
        return tr;
      }),
    );
    charts.drawVisits(buckets, interval);
    const busiest = buckets.reduce<(typeof buckets)[number] | null>(
      (best, b) => (best === null || b.sessions > best.sessions ? b : best),
      null,
    );
    ui.visitsChart.setAttribute(
      "aria-label",
      `Visits per ${interval}, bar chart with a line: ${count(total)} sessions in ${buckets.length} buckets` +
        (busiest && busiest.sessions > 0
          ? `; the busiest, ${bucketLabel(busiest.start, interval, true).full}, had ${count(busiest.sessions)}.`
          : "."),
    );
  }

  function clear(): void {
    cancel();
    figures = null;
    failures = 0;
    charts.clear();
    ui.funnelRows.replaceChildren();
    ui.dwellRows.replaceChildren();
    ui.visitsRows.replaceChildren();
    ui.labels.replaceChildren();
    hideFigures();
    renderUpdated(Date.now());
  }

  function stop(): void {
    stopped = true;
    cancel();
    ui.refresh.disabled = true;
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && dueWhileHidden && !stopped && onScreen) void load();
  });
  setInterval(() => {
    if (onScreen && figures && !document.hidden) renderUpdated(Date.now());
  }, 1000);

  return {
    get params() {
      return params;
    },
    enter(route) {
      onScreen = true;
      params = route.params;
      renderSteps();
      if (!shell.hasKey()) {
        stop();
        clear();
        picker.clear();
        picker.choose(params.store);
        controls.sync(resolveQuery(params, Date.now(), browserTz));
        setState(ui.state, "Enter an SDK key above (a read-only key is enough) to see the dashboard.");
        return;
      }
      stopped = false;
      // Once the list is read, the summary names the store as people know it.
      void picker.show(params.store).then(() => controls.sync(resolveQuery(params, Date.now(), browserTz)));
      void load();
    },
    leave() {
      onScreen = false;
      cancel();
    },
    reset(reason) {
      stop();
      clear();
      picker.clear();
      if (reason === "refused") setState(ui.state, "Not authorised: no data shown.", "error");
      else setState(ui.state, "Key forgotten. Enter an SDK key above to see the dashboard.");
    },
    keyChanged() {
      // Another key may be another tenant: nothing of the old answer stays.
      stop();
      clear();
      picker.clear();
      if (onScreen) {
        stopped = false;
        void picker.show(params.store);
        void load();
      }
    },
  };
}
