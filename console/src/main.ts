/** The session timeline console: wiring, polling and page states. */
import { type ApiResult, createClient } from "./api";
import { count, dateTime, time } from "./format";
import { formatDuration, isPersonaId, type Session, type SessionSummary, summaryDuration } from "./timeline";
import { TimelineView } from "./view";

const POLL_MS = 3000;
const MAX_BACKOFF_MS = 30_000;
const HISTORY_PAGE = 10;
/** sessionStorage only: the key lives as long as this tab, never in localStorage, a cookie or a URL. */
const KEY_ITEM = "persona-console:sdk-key";

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}

const ui = {
  form: byId<HTMLFormElement>("connect"),
  key: byId<HTMLInputElement>("key"),
  persona: byId<HTMLInputElement>("persona"),
  forget: byId<HTMLButtonElement>("forget"),
  notice: byId("notice"),
  live: byId("live"),
  liveState: byId("live-state"),
  liveView: byId("live-view"),
  liveUpdated: byId("live-updated"),
  refresh: byId<HTMLButtonElement>("refresh"),
  pause: byId<HTMLButtonElement>("pause"),
  historyState: byId("history-state"),
  historyList: byId<HTMLOListElement>("history-list"),
  more: byId<HTMLButtonElement>("more"),
  past: byId("past"),
  pastTitle: byId("past-title"),
  pastState: byId("past-state"),
  pastView: byId("past-view"),
  closePast: byId<HTMLButtonElement>("close-past"),
};

const client = createClient(() => sessionStorage.getItem(KEY_ITEM) ?? "");
const liveView = new TimelineView(ui.liveView, "Active session");
const pastView = new TimelineView(ui.pastView, "Past session");

let personaId: string | null = null;
/** Bumped on every connect: answers for an older persona or key are dropped. */
let generation = 0;
let controller = new AbortController();
let etag: string | null = null;
let liveSession: Session | null = null;
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;
let paused = false;
let stopped = true;
let lastOk: number | null = null;
let historyCursor: string | null = null;

type Failure = Extract<ApiResult<unknown>, { kind: "http" } | { kind: "network" }>;

function setState(node: HTMLElement, text: string, kind: "info" | "empty" | "error" | "busy" = "info"): void {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = text === "";
}

function showNotice(text: string, kind: string | null): void {
  ui.notice.textContent = text;
  if (kind === null) {
    ui.notice.hidden = true;
    delete ui.notice.dataset.kind;
  } else {
    ui.notice.dataset.kind = kind;
    ui.notice.hidden = false;
  }
}

function describe(failure: Failure): string {
  if (failure.kind === "network") return "Cannot reach the API (network error).";
  const id = failure.requestId ? ` Request id ${failure.requestId}.` : "";
  return `The API answered ${failure.status} ${failure.code}: ${failure.message}${id}`;
}

/** 401: stop everything and say so; nothing is retried until the operator enters a key again. */
function unauthorized(failure: Extract<Failure, { kind: "http" }>): void {
  stop();
  generation += 1; // the other request in flight must not redraw anything
  sessionStorage.removeItem(KEY_ITEM); // a refused key is not kept; the field still shows it to fix a typo
  showNotice(
    `Key refused (401 ${failure.code}). Check that this is an SDK key of this deployment's tenant — a read-only key is enough — then press "Show timeline" again.`,
    "unauthorized",
  );
  setState(ui.liveState, "Not authorised: no data shown.", "error");
  ui.liveView.hidden = true;
  ui.historyList.replaceChildren();
  ui.more.hidden = true;
  setState(ui.historyState, "");
  ui.past.hidden = true;
  ui.key.setAttribute("aria-invalid", "true");
  ui.key.focus();
}

function stop(): void {
  stopped = true;
  clearTimeout(pollTimer);
  controller.abort();
  ui.refresh.disabled = true;
  ui.pause.disabled = true;
}

function schedule(ms: number): void {
  clearTimeout(pollTimer);
  if (!stopped) pollTimer = setTimeout(() => void poll(), ms);
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
    ui.liveUpdated.textContent = `Checked ${time(lastOk)}`;
    if (result.kind === "ok") {
      const previous = liveSession?.session_id ?? null;
      etag = result.etag;
      liveSession = result.data;
      setState(ui.liveState, "");
      ui.liveView.hidden = false;
      liveView.show(result.data, Date.now());
      if (previous !== null && previous !== result.data.session_id) void loadHistory(true);
    } else if (liveSession) {
      setState(ui.liveState, "");
    }
    return schedule(POLL_MS);
  }

  if (result.kind === "http" && result.status === 401) return unauthorized(result);

  if (result.kind === "http" && result.code === "NO_ACTIVE_SESSION") {
    failures = 0;
    lastOk = Date.now();
    ui.liveUpdated.textContent = `Checked ${time(lastOk)}`;
    const hadSession = liveSession !== null;
    etag = null;
    liveSession = null;
    ui.liveView.hidden = true;
    setState(
      ui.liveState,
      `No active session for persona ${persona}${hadSession ? " (the last one just ended; see Past sessions)" : ""}. This page checks again every ${POLL_MS / 1000} s.`,
      "empty",
    );
    if (hadSession) void loadHistory(true);
    return schedule(POLL_MS);
  }

  // Network errors, 429, 5xx and other surprises: keep what is drawn, say it may be stale, back off.
  failures += 1;
  const backoff = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** (failures - 1));
  const wait = result.kind === "http" && result.retryAfter !== null ? result.retryAfter * 1000 : backoff;
  const stale = liveSession && lastOk !== null ? ` Showing what was received at ${time(lastOk)}.` : "";
  setState(
    ui.liveState,
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

function connect(): void {
  const key = ui.key.value.trim();
  const persona = ui.persona.value.trim();
  ui.key.removeAttribute("aria-invalid");
  ui.persona.removeAttribute("aria-invalid");
  if (key === "") {
    ui.key.setAttribute("aria-invalid", "true");
    showNotice("Enter an SDK key.", "invalid");
    ui.key.focus();
    return;
  }
  if (!isPersonaId(persona)) {
    ui.persona.setAttribute("aria-invalid", "true");
    showNotice("A persona id is 1 to 128 of A–Z a–z 0–9 _ . : - (and not only dots).", "invalid");
    ui.persona.focus();
    return;
  }
  sessionStorage.setItem(KEY_ITEM, key);
  // The persona id (never the key) goes in the fragment, so a kiosk can bookmark its view.
  history.replaceState(null, "", `#persona=${encodeURIComponent(persona)}`);

  stop();
  generation += 1;
  controller = new AbortController();
  personaId = persona;
  etag = null;
  liveSession = null;
  failures = 0;
  lastOk = null;
  stopped = false;
  showNotice("", null);
  ui.refresh.disabled = false;
  ui.pause.disabled = false;
  ui.liveView.hidden = true;
  ui.liveUpdated.textContent = "";
  ui.past.hidden = true;
  ui.historyList.replaceChildren();
  ui.more.hidden = true;
  setState(ui.liveState, `Loading the active session of ${persona}…`, "busy");
  void poll();
  void loadHistory(true);
}

function forget(): void {
  stop();
  generation += 1;
  sessionStorage.removeItem(KEY_ITEM);
  ui.key.value = "";
  personaId = null;
  liveSession = null;
  ui.liveView.hidden = true;
  ui.past.hidden = true;
  ui.historyList.replaceChildren();
  ui.more.hidden = true;
  setState(ui.historyState, "");
  setState(ui.liveState, "Key forgotten. Enter a key and a persona id to see the persona's active session.");
  showNotice("", null);
  ui.key.focus();
}

ui.form.addEventListener("submit", (e) => {
  e.preventDefault();
  connect();
});
ui.forget.addEventListener("click", forget);
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
  if (liveSession && !ui.liveView.hidden) liveView.tick(Date.now());
}, 1000);

// Resume this tab's view: the key from sessionStorage, the persona from the fragment.
const savedKey = sessionStorage.getItem(KEY_ITEM);
const fragment = new URLSearchParams(location.hash.slice(1));
const savedPersona = fragment.get("persona");
if (savedKey) ui.key.value = savedKey;
if (savedPersona) ui.persona.value = savedPersona;
if (savedKey && savedPersona && isPersonaId(savedPersona)) connect();
else (savedKey ? ui.persona : ui.key).focus();
