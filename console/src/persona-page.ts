/** The persona view: one persona's active session as a timeline (polled), its past sessions, one drawn. */
import type { ApiResult, Client } from "./api";
import { count, dateTime, time } from "./format";
import { backoffMs } from "./live";
import type { Route } from "./route";
import { byId, describe, type Failure, type Shell, setState, type View } from "./shell";
import { formatDuration, isPersonaId, type Session, type SessionSummary, summaryDuration } from "./timeline";
import { TimelineView } from "./view";

const POLL_MS = 3000;
const MAX_BACKOFF_MS = 30_000;
const HISTORY_PAGE = 10;

export type PersonaRoute = Extract<Route, { view: "persona" }>;

export interface PersonaView extends View<PersonaRoute> {
  /** The persona shown (or last shown), for the nav link back to it. */
  readonly persona: string | null;
}

export function createPersonaView(shell: Shell, client: Client): PersonaView {
  const ui = {
    form: byId<HTMLFormElement>("connect"),
    persona: byId<HTMLInputElement>("persona"),
    current: byId("current"),
    currentState: byId("current-state"),
    currentView: byId("current-view"),
    currentUpdated: byId("current-updated"),
    refresh: byId<HTMLButtonElement>("current-refresh"),
    pause: byId<HTMLButtonElement>("current-pause"),
    historyState: byId("history-state"),
    historyList: byId<HTMLOListElement>("history-list"),
    more: byId<HTMLButtonElement>("more"),
    past: byId("past"),
    pastTitle: byId("past-title"),
    pastState: byId("past-state"),
    pastView: byId("past-view"),
    closePast: byId<HTMLButtonElement>("close-past"),
  };

  const currentView = new TimelineView(ui.currentView, "Active session");
  const pastView = new TimelineView(ui.pastView, "Past session");
  const START_TEXT = "Enter a persona id to see the persona's active session.";

  let personaId: string | null = null;
  /** Bumped on every connect: answers for an older persona or key are dropped. */
  let generation = 0;
  let controller = new AbortController();
  let etag: string | null = null;
  let currentSession: Session | null = null;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let paused = false;
  let stopped = true;
  /** Left for another view while running: coming back to the same persona resumes polling. */
  let suspended = false;
  let lastOk: number | null = null;
  let historyCursor: string | null = null;

  function stop(): void {
    stopped = true;
    suspended = false;
    clearTimeout(pollTimer);
    controller.abort();
    ui.refresh.disabled = true;
    ui.pause.disabled = true;
  }

  function schedule(ms: number): void {
    clearTimeout(pollTimer);
    if (!stopped) pollTimer = setTimeout(() => void poll(), ms);
  }

  function unauthorized(failure: Extract<Failure, { kind: "http" }>): void {
    shell.unauthorized(failure); // calls reset() below, among others
  }

  async function poll(): Promise<void> {
    if (stopped || personaId === null) return;
    if (paused || document.hidden) return schedule(POLL_MS);
    const gen = generation;
    const persona = personaId;
    let result: ApiResult<Session>;
    try {
      result = await client.current(persona, etag, controller.signal);
    } catch {
      return; // aborted: a newer connect owns the page now
    }
    if (gen !== generation) return;

    if (result.kind === "ok" || result.kind === "not-modified") {
      failures = 0;
      lastOk = Date.now();
      ui.currentUpdated.textContent = `Checked ${time(lastOk)}`;
      if (result.kind === "ok") {
        const previous = currentSession?.session_id ?? null;
        etag = result.etag;
        currentSession = result.data;
        setState(ui.currentState, "");
        ui.currentView.hidden = false;
        currentView.show(result.data, Date.now());
        if (previous !== null && previous !== result.data.session_id) void loadHistory(true);
      } else if (currentSession) {
        setState(ui.currentState, "");
      }
      return schedule(POLL_MS);
    }

    if (result.kind === "http" && result.status === 401) return unauthorized(result);

    if (result.kind === "http" && result.code === "NO_ACTIVE_SESSION") {
      failures = 0;
      lastOk = Date.now();
      ui.currentUpdated.textContent = `Checked ${time(lastOk)}`;
      const hadSession = currentSession !== null;
      etag = null;
      currentSession = null;
      ui.currentView.hidden = true;
      setState(
        ui.currentState,
        `No active session for persona ${persona}${hadSession ? " (the last one just ended; see Past sessions)" : ""}. This page checks again every ${POLL_MS / 1000} s.`,
        "empty",
      );
      if (hadSession) void loadHistory(true);
      return schedule(POLL_MS);
    }

    // Network errors, 429, 5xx and other surprises: keep what is drawn, say it may be stale, back off.
    failures += 1;
    const wait = backoffMs(failures, POLL_MS, MAX_BACKOFF_MS, result.kind === "http" ? result.retryAfter : null);
    const stale = currentSession && lastOk !== null ? ` Showing what was received at ${time(lastOk)}.` : "";
    setState(
      ui.currentState,
      `${describe(result)}${stale} Retrying in ${Math.round(wait / 1000)} s.`,
      result.kind === "network" ? "error" : "busy",
    );
    schedule(wait);
  }

  function historyItem(summary: SessionSummary): HTMLLIElement {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "history-item";
    button.dataset.sessionId = summary.session_id;
    const started = Date.parse(summary.started_at);
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = dateTime(started);
    const facts = document.createElement("span");
    facts.className = "facts";
    const reason = summary.end_reason ?? "ended";
    facts.textContent = `${formatDuration(summaryDuration(summary))} · ${reason} · ${count(summary.stamp_count)} stamps`;
    button.append(when, facts);
    button.setAttribute(
      "aria-label",
      `Session started ${dateTime(started)}, lasted ${formatDuration(summaryDuration(summary))}, ended by ${reason}, ${count(summary.stamp_count)} stamps. Draw it.`,
    );
    button.addEventListener("click", () => void openPast(summary));
    li.append(button);
    return li;
  }

  async function loadHistory(reset: boolean): Promise<void> {
    if (personaId === null) return;
    const gen = generation;
    const persona = personaId;
    if (reset) historyCursor = null;
    ui.more.disabled = true;
    setState(ui.historyState, reset ? "Loading past sessions…" : "Loading older sessions…", "busy");
    let result: ApiResult<{ sessions: SessionSummary[]; next_cursor: string | null }>;
    try {
      result = await client.history(persona, historyCursor, HISTORY_PAGE, controller.signal);
    } catch {
      return;
    }
    if (gen !== generation) return;
    ui.more.disabled = false;
    if (result.kind === "http" && result.status === 401) return unauthorized(result);
    if (result.kind !== "ok") {
      setState(ui.historyState, `${describe(result as Failure)} Use "Load older sessions" or "Show timeline" to try again.`, "error");
      if (reset) ui.more.hidden = true;
      return;
    }
    const page = result.data;
    const items = page.sessions.map(historyItem);
    if (reset) ui.historyList.replaceChildren(...items);
    else ui.historyList.append(...items);
    historyCursor = page.next_cursor;
    ui.more.hidden = page.next_cursor === null;
    const shown = ui.historyList.children.length;
    setState(
      ui.historyState,
      shown === 0
        ? `No ended sessions for persona ${persona} yet.`
        : `${count(shown)} ended session${shown === 1 ? "" : "s"}, newest first${page.next_cursor ? "; more below" : ""}.`,
      shown === 0 ? "empty" : "info",
    );
  }

  async function openPast(summary: SessionSummary): Promise<void> {
    if (personaId === null) return;
    const gen = generation;
    ui.past.hidden = false;
    ui.pastTitle.textContent = `Past session of ${dateTime(Date.parse(summary.started_at))}`;
    setState(ui.pastState, "Loading…", "busy");
    ui.pastView.hidden = true;
    for (const b of ui.historyList.querySelectorAll<HTMLElement>(".history-item")) {
      b.setAttribute("aria-current", String(b.dataset.sessionId === summary.session_id));
    }
    let result: ApiResult<Session>;
    try {
      result = await client.session(personaId, summary.session_id, controller.signal);
    } catch {
      return;
    }
    if (gen !== generation) return;
    if (result.kind === "http" && result.status === 401) return unauthorized(result);
    if (result.kind !== "ok") {
      setState(ui.pastState, describe(result as Failure), "error");
      return;
    }
    setState(ui.pastState, "");
    ui.pastView.hidden = false;
    pastView.show(result.data, Date.now());
    ui.past.scrollIntoView({ block: "start" });
    ui.past.focus({ preventScroll: true });
  }

  /** Shows `persona` from scratch: active session (polled) and the first page of its history. */
  function open(persona: string): void {
    stop();
    generation += 1;
    controller = new AbortController();
    personaId = persona;
    ui.persona.value = persona;
    ui.persona.removeAttribute("aria-invalid");
    etag = null;
    currentSession = null;
    failures = 0;
    lastOk = null;
    stopped = false;
    shell.showNotice("", null);
    ui.refresh.disabled = false;
    ui.pause.disabled = false;
    ui.currentView.hidden = true;
    ui.currentUpdated.textContent = "";
    ui.past.hidden = true;
    ui.historyList.replaceChildren();
    ui.more.hidden = true;
    setState(ui.currentState, `Loading the active session of ${persona}…`, "busy");
    void poll();
    void loadHistory(true);
  }

  /** The persona form: the key field's key (it may have changed) and this persona id. */
  function submit(): void {
    const persona = ui.persona.value.trim();
    ui.persona.removeAttribute("aria-invalid");
    if (!shell.acceptKey()) return;
    if (!isPersonaId(persona)) {
      ui.persona.setAttribute("aria-invalid", "true");
      shell.showNotice("A persona id is 1 to 128 of A–Z a–z 0–9 _ . : - (and not only dots).", "invalid");
      ui.persona.focus();
      return;
    }
    // The persona id (never the key) goes in the fragment, so a kiosk can bookmark its view.
    const from = personaId;
    shell.record({ view: "persona", persona }, from === null || from === persona ? "replace" : "push");
    open(persona);
  }

  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  ui.refresh.addEventListener("click", () => {
    if (stopped) return;
    clearTimeout(pollTimer);
    void poll();
    void loadHistory(true);
  });
  ui.pause.addEventListener("click", () => {
    paused = !paused;
    ui.pause.setAttribute("aria-pressed", String(paused));
    ui.pause.textContent = paused ? "Resume updates" : "Pause updates";
    if (!paused) {
      clearTimeout(pollTimer);
      void poll();
    }
  });
  ui.more.addEventListener("click", () => void loadHistory(false));
  ui.closePast.addEventListener("click", () => {
    ui.past.hidden = true;
    ui.historyList.querySelector<HTMLElement>('[aria-current="true"]')?.focus();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && !stopped && !paused) {
      clearTimeout(pollTimer);
      void poll();
    }
  });
  // The open segment grows every second without any request.
  setInterval(() => {
    if (!stopped && currentSession && !ui.currentView.hidden) currentView.tick(Date.now());
  }, 1000);

  return {
    get persona() {
      return personaId;
    },

    enter(route) {
      let wanted = route.persona;
      if (wanted === null && personaId !== null) {
        // No persona named, one shown before: that one again (and the fragment says so).
        wanted = personaId;
        shell.record({ view: "persona", persona: wanted }, "replace");
      }
      if (wanted === null) {
        setState(ui.currentState, START_TEXT);
        if (shell.hasKey()) ui.persona.focus();
        else shell.focusKey();
        return;
      }
      if (wanted === personaId && suspended) return resume();
      if (wanted === personaId && !stopped) return;
      ui.persona.value = wanted;
      if (!isPersonaId(wanted)) {
        ui.persona.setAttribute("aria-invalid", "true");
        ui.persona.focus();
        return;
      }
      if (!shell.hasKey()) {
        setState(ui.currentState, `Enter an SDK key above, then "Show timeline" to see persona ${wanted}.`);
        shell.focusKey();
        return;
      }
      open(wanted);
    },

    leave() {
      if (stopped) return;
      clearTimeout(pollTimer);
      stopped = true;
      suspended = true;
      ui.refresh.disabled = true;
      ui.pause.disabled = true;
    },

    reset(reason) {
      stop();
      generation += 1; // a request in flight must not redraw anything
      currentSession = null;
      ui.currentView.hidden = true;
      ui.currentUpdated.textContent = "";
      if (reason === "refused") setState(ui.currentState, "Not authorised: no data shown.", "error");
      else setState(ui.currentState, "Key forgotten. Enter a key and a persona id to see the persona's active session.");
      ui.historyList.replaceChildren();
      ui.more.hidden = true;
      setState(ui.historyState, "");
      ui.past.hidden = true;
    },

    keyChanged() {
      if (personaId !== null && isPersonaId(personaId)) open(personaId);
    },
  };

  function resume(): void {
    suspended = false;
    stopped = false;
    ui.refresh.disabled = false;
    ui.pause.disabled = false;
    clearTimeout(pollTimer);
    void poll();
  }
}
