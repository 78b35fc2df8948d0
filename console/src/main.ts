/**
 * The console: the key, the views and the fragment that addresses them.
 *
 *   #live (or nothing)       who is in a session now, tenant-wide (live-page.ts)
 *   #live&store=S            the same, in store S only (the store picker)
 *   #live&status=PAYMENT     the same, only those whose current status is PAYMENT
 *   #dashboard&range=7d&…    visit analytics: funnel, time in status, visits (dashboard-page.ts); &store=S for one store
 *   #stores&range=7d&…       who is in each store now, and the stores compared over a range (stores-page.ts)
 *   #persona=<id>            one persona's timeline and past sessions (persona-page.ts)
 *
 * Only the shown view polls. A new view is a section in index.html, a nav link, a route
 * (route.ts) and a View object here.
 */
import { createClient } from "./api";
import { createDashboardView } from "./dashboard-page";
import { createLiveView } from "./live-page";
import { createPersonaView } from "./persona-page";
import { parseRoute, type Route, routeHash, routeTitle, VIEWS, type ViewName } from "./route";
import { byId, type HttpFailure, KEY_ITEM, type Shell, type View } from "./shell";
import { createStoreDirectory } from "./store-picker";
import { createStoresView } from "./stores-page";

const PRODUCT = "Session timeline console";

const ui = {
  skip: byId<HTMLAnchorElement>("skip"),
  keyForm: byId<HTMLFormElement>("key-form"),
  key: byId<HTMLInputElement>("key"),
  forget: byId<HTMLButtonElement>("forget"),
  notice: byId("notice"),
};
const sections: Record<ViewName, HTMLElement> = {
  live: byId("view-live"),
  dashboard: byId("view-dashboard"),
  stores: byId("view-stores"),
  persona: byId("view-persona"),
};
const navLinks: Record<ViewName, HTMLAnchorElement> = {
  live: byId("nav-live"),
  dashboard: byId("nav-dashboard"),
  stores: byId("nav-stores"),
  persona: byId("nav-persona"),
};

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

const shell: Shell = {
  acceptKey() {
    const key = ui.key.value.trim();
    ui.key.removeAttribute("aria-invalid");
    if (key === "") {
      ui.key.setAttribute("aria-invalid", "true");
      showNotice("Enter an SDK key.", "invalid");
      ui.key.focus();
      return false;
    }
    sessionStorage.setItem(KEY_ITEM, key);
    if (ui.notice.dataset.kind === "unauthorized" || ui.notice.dataset.kind === "invalid") showNotice("", null);
    return true;
  },
  hasKey: () => Boolean(sessionStorage.getItem(KEY_ITEM)),
  unauthorized(failure: HttpFailure) {
    directory.clear();
    for (const view of Object.values(views)) view.reset("refused");
    sessionStorage.removeItem(KEY_ITEM); // a refused key is not kept; the field still shows it to fix a typo
    showNotice(
      `Key refused (401 ${failure.code}). Check that this is an SDK key of this deployment's tenant — a read-only key is enough — then press "Use key" (or "Show timeline") again.`,
      "unauthorized",
    );
    ui.key.setAttribute("aria-invalid", "true");
    ui.key.focus();
  },
  showNotice,
  record(route: Route, mode: "push" | "replace") {
    if (location.hash !== routeHash(route)) {
      if (mode === "push") history.pushState(null, "", routeHash(route));
      else history.replaceState(null, "", routeHash(route));
    }
    decorate(route);
  },
  focusKey: () => ui.key.focus(),
};

const client = createClient(() => sessionStorage.getItem(KEY_ITEM) ?? "");
/** The tenant's stores for the live view's and the dashboard's pickers: read once per key, shared. */
const directory = createStoreDirectory(client);
const personaView = createPersonaView(shell, client);
const dashboardView = createDashboardView(shell, client, directory);
const storesView = createStoresView(shell, client);
const views: { [K in ViewName]: View<Extract<Route, { view: K }>> } = {
  live: createLiveView(shell, client, directory),
  dashboard: dashboardView,
  stores: storesView,
  persona: personaView,
};
let current: ViewName | null = null;

/** Title, nav state and the nav's way back to the last persona shown and the last dashboard choices. */
function decorate(route: Route): void {
  document.title = routeTitle(route, PRODUCT);
  for (const name of VIEWS) {
    if (name === route.view) navLinks[name].setAttribute("aria-current", "page");
    else navLinks[name].removeAttribute("aria-current");
  }
  navLinks.persona.href = routeHash({ view: "persona", persona: personaView.persona });
  navLinks.dashboard.href = routeHash({ view: "dashboard", params: dashboardView.params });
  navLinks.stores.href = routeHash({ view: "stores", params: storesView.params });
}

function enter(route: Route): void {
  switch (route.view) {
    case "live":
      views.live.enter(route);
      break;
    case "dashboard":
      views.dashboard.enter(route);
      break;
    case "stores":
      views.stores.enter(route);
      break;
    case "persona":
      views.persona.enter(route);
      break;
  }
}

/** Shows the view a route names; `initial` on page load (focus is then left where the view puts it). */
function show(route: Route, initial = false): void {
  const previous = current;
  if (previous !== route.view) {
    if (previous !== null) {
      views[previous].leave();
      sections[previous].hidden = true;
    }
    for (const name of VIEWS) sections[name].hidden = name !== route.view;
    current = route.view;
  }
  enter(route);
  decorate(route);
  // Focus that was in the view just hidden (a clicked persona, a nav link) goes to the new view's heading.
  const active = document.activeElement;
  const lost = active === null || active === document.body || (previous !== null && sections[previous].contains(active));
  if (!initial && previous !== route.view && lost) sections[route.view].querySelector<HTMLElement>("[data-focus]")?.focus();
}

ui.keyForm.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!shell.acceptKey() || current === null) return;
  directory.clear();
  views[current].keyChanged();
});
ui.forget.addEventListener("click", () => {
  directory.clear();
  for (const view of Object.values(views)) view.reset("forgotten");
  sessionStorage.removeItem(KEY_ITEM);
  ui.key.value = "";
  ui.key.removeAttribute("aria-invalid");
  showNotice("", null);
  ui.key.focus();
});
// The skip link moves focus without touching the fragment (the fragment names the view).
ui.skip.addEventListener("click", (e) => {
  e.preventDefault();
  if (current !== null) sections[current].querySelector<HTMLElement>("[data-focus]")?.focus();
});
window.addEventListener("hashchange", () => show(parseRoute(location.hash)));

// Resume this tab's view: the key from sessionStorage, the view from the fragment.
const savedKey = sessionStorage.getItem(KEY_ITEM);
if (savedKey) ui.key.value = savedKey;
show(parseRoute(location.hash), true);
if (!savedKey) ui.key.focus();
