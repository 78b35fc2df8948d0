/**
 * The console's views are addressed by the URL fragment, so a bookmark (or a kiosk screen) opens
 * the same view: `#live`, `#live&store=S&status=PAYMENT`, `#dashboard&store=S&range=7d&tz=…&interval=…&step=…`,
 * `#stores&range=7d&tz=…`, `#persona=<id>`. Pure (no DOM), unit-tested.
 *
 * Adding a view: a name in VIEWS, a case in Route, parseRoute, routeHash and routeTitle, then a
 * section and a page object in main.ts.
 */
import { type DashParams, dashQueryString, isStatusLabel, parseDashParams, parseStore } from "./dashboard";
import { parseStoresParams, type StoresParams, storesQueryString } from "./stores";
import { isPersonaId } from "./timeline";

export { isStatusLabel };

/** The views, in nav order. The first is the start page (an empty or unknown fragment). */
export const VIEWS = ["live", "dashboard", "stores", "persona"] as const;
export type ViewName = (typeof VIEWS)[number];

export type Route =
  /** Who is in a session now (in `store`, or the whole tenant), optionally only those whose current status is `status`. */
  | { view: "live"; status: string | null; store: string | null }
  /** Visit analytics over a date range: the operator's choices (dashboard.ts), null where the default applies. */
  | { view: "dashboard"; params: DashParams }
  /** Every store: who is in each now, and a comparison over a date range (stores.ts). */
  | { view: "stores"; params: StoresParams }
  /** One persona's timeline; `persona` is what the fragment holds (checked by the page), null for none. */
  | { view: "persona"; persona: string | null };

/** The route a fragment names. Anything it does not understand gives the start page. */
export function parseRoute(hash: string): Route {
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(hash.replace(/^#/, ""));
  } catch {
    return { view: "live", status: null, store: null };
  }
  // `#persona=<id>` is the form bookmarked before the live view existed: it still opens the timeline.
  if (params.has("persona")) {
    const persona = params.get("persona") ?? "";
    return { view: "persona", persona: persona === "" ? null : persona };
  }
  if (params.has("dashboard")) return { view: "dashboard", params: parseDashParams(params) };
  if (params.has("stores")) return { view: "stores", params: parseStoresParams(params) };
  const status = params.get("status");
  return { view: "live", status: status !== null && isStatusLabel(status) ? status : null, store: parseStore(params) };
}

/** The fragment for a route (with its `#`); parseRoute(routeHash(r)) gives r back. */
export function routeHash(route: Route): string {
  switch (route.view) {
    case "live": {
      const store = route.store === null ? "" : `&store=${encodeURIComponent(route.store)}`;
      const status = route.status === null ? "" : `&status=${encodeURIComponent(route.status)}`;
      return `#live${store}${status}`;
    }
    case "dashboard":
      return `#dashboard${dashQueryString(route.params)}`;
    case "stores":
      return `#stores${storesQueryString(route.params)}`;
    case "persona":
      return route.persona === null ? "#persona" : `#persona=${encodeURIComponent(route.persona)}`;
  }
}

/** The page title for a route: the view first, so tabs and history entries tell views apart. */
export function routeTitle(route: Route, product: string): string {
  switch (route.view) {
    case "live": {
      const where = route.store === null ? "" : ` in ${route.store}`;
      return `${route.status === null ? `Live${where}` : `Live${where}: ${route.status}`} · ${product}`;
    }
    case "dashboard":
      return `${route.params.store === null ? "Dashboard" : `Dashboard: ${route.params.store}`} · ${product}`;
    case "stores":
      return `Stores · ${product}`;
    case "persona":
      return `${route.persona !== null && isPersonaId(route.persona) ? `Persona ${route.persona}` : "Persona"} · ${product}`;
  }
}
