/** What the console's views share: DOM helpers, page states, error text, and the shell they run in. */
import type { ApiResult } from "./api";
import { time } from "./format";
import type { Route } from "./route";
import { colourFor } from "./timeline";

export type Failure = Extract<ApiResult<unknown>, { kind: "http" } | { kind: "network" }>;
export type HttpFailure = Extract<Failure, { kind: "http" }>;

/** sessionStorage only: the key lives as long as this tab, never in localStorage, a cookie or a URL. */
export const KEY_ITEM = "persona-console:sdk-key";

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The status's colour square, as the timeline draws it. */
export function swatch(status: string): HTMLSpanElement {
  const node = el("span", "swatch");
  node.style.backgroundColor = colourFor(status).background;
  node.setAttribute("aria-hidden", "true");
  return node;
}

/** A cell holding the API's own figure (data-value), so the text beside it can be checked against it. */
export function cell(text: string, value: number | null, className = "num"): HTMLTableCellElement {
  const td = el("td", className, text);
  td.dataset.value = value === null ? "null" : String(value);
  return td;
}

export type StateKind = "info" | "empty" | "error" | "busy";

/** A state line (role=status): an empty text hides it; the same text again is not re-announced. */
export function setState(node: HTMLElement, text: string, kind: StateKind = "info"): void {
  if (node.textContent !== text) node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = text === "";
}

export function describe(failure: Failure): string {
  if (failure.kind === "network") return "Cannot reach the API (network error).";
  const id = failure.requestId ? ` Request id ${failure.requestId}.` : "";
  return `The API answered ${failure.status} ${failure.code}: ${failure.message}${id}`;
}

/**
 * An analytics request failed and is asked again in `waitMs`: what the API said, the per-tenant
 * limit when that was the cause (429), and how old the figures still shown are (null: none are).
 */
export function showAnalyticsRetry(node: HTMLElement, failure: Failure, waitMs: number, shownFrom: number | null): void {
  const stale = shownFrom === null ? "" : ` Showing the figures received at ${time(shownFrom)}.`;
  const limited = failure.kind === "http" && failure.status === 429 ? " (The API answers 30 analytics requests per 10 s per tenant.)" : "";
  setState(
    node,
    `${describe(failure)}${limited}${stale} Retrying in ${Math.round(waitMs / 1000)} s.`,
    failure.kind === "network" ? "error" : "busy",
  );
}

/** What a view gets from the page around it. */
export interface Shell {
  /** Takes the key field's value into sessionStorage; false (with a notice, focus on the field) when it is empty. */
  acceptKey(): boolean;
  hasKey(): boolean;
  /** A 401: every view stops and drops what it shows, the key is forgotten, the operator is told. */
  unauthorized(failure: HttpFailure): void;
  showNotice(text: string, kind: string | null): void;
  /** Records a route the current view moved to by itself (filter, persona form) without re-entering it. */
  record(route: Route, mode: "push" | "replace"): void;
  /** Focus goes to the key field (nothing to show without a key). */
  focusKey(): void;
}

/** One view of the console. Only the shown view polls. */
export interface View<R extends Route = Route> {
  /** The view is shown for this route (first time, or again, or with other parameters). */
  enter(route: R): void;
  /** Another view is shown: stop polling, keep what is drawn for a quick return. */
  leave(): void;
  /** The key was forgotten or refused (401): stop, and drop everything shown. */
  reset(reason: "forgotten" | "refused"): void;
  /** A (new) key was accepted while this view is shown. */
  keyChanged(): void;
}
