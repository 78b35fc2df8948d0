/**
 * The store picker of the live view and the dashboard: a <select> of "All stores" and the tenant's
 * stores (GET /v1/stores, every page up to BOARD_MAX_STORES), read when a view is shown and shared by
 * both views for a few seconds.
 */
import type { ApiResult, Client } from "./api";
import { el } from "./shell";
import { BOARD_MAX_STORES, pickerOptions, type StoreEntry, storeLabel } from "./stores";

type Failure = Extract<ApiResult<unknown>, { kind: "http" } | { kind: "network" }>;
export type StoreList = { kind: "ok"; stores: StoreEntry[]; truncated: boolean } | Failure;

/**
 * A read serves both views for this long, so going from one to the other asks nothing again; a
 * view shown later reads the list again, so a store registered meanwhile is there.
 */
const KEEP_MS = 10_000;
const PAGE = 100;

export interface StoreDirectory {
  /** The tenant's stores: the last read if it is under KEEP_MS old, else a new one (one in flight at a time). */
  list(): Promise<StoreList>;
  /** A store's name, if the last read listed it. */
  name(id: string): string | null;
  /** Another key may be another tenant: forget what was read. */
  clear(): void;
}

export function createStoreDirectory(client: Client): StoreDirectory {
  let kept: { at: number; list: StoreList; names: Map<string, string> } | null = null;
  let reading: Promise<StoreList> | null = null;
  let epoch = 0;

  async function read(): Promise<StoreList> {
    const stores: StoreEntry[] = [];
    let cursor: string | null = null;
    do {
      const result = await client.stores({ cursor, limit: PAGE });
      if (result.kind === "not-modified") break; // not sent by this route
      if (result.kind !== "ok") return result;
      stores.push(...result.data.stores);
      cursor = result.data.next_cursor;
    } while (cursor !== null && stores.length < BOARD_MAX_STORES);
    return { kind: "ok", stores: stores.slice(0, BOARD_MAX_STORES), truncated: cursor !== null };
  }

  return {
    list() {
      if (kept && Date.now() - kept.at < KEEP_MS) return Promise.resolve(kept.list);
      if (reading) return reading;
      const mine = epoch;
      reading = read().then((list) => {
        // A key change while reading: this answer is the old tenant's.
        if (mine === epoch) {
          reading = null;
          if (list.kind === "ok") kept = { at: Date.now(), list, names: new Map(list.stores.map((s) => [s.store_id, s.name])) };
        }
        return list;
      });
      return reading;
    },
    name: (id) => kept?.names.get(id) ?? null,
    clear() {
      epoch += 1;
      kept = null;
      reading = null;
    },
  };
}

/**
 * A <select> over a StoreDirectory. The chosen store is the view's (it is in the fragment); the
 * picker only shows it and reports the operator's choice.
 */
export class StorePicker {
  private selected: string | null = null;
  private stores: StoreEntry[] = [];

  constructor(
    private readonly select: HTMLSelectElement,
    private readonly note: HTMLElement,
    private readonly directory: StoreDirectory,
    onChange: (store: string | null) => void,
  ) {
    select.addEventListener("change", () => onChange(select.value === "" ? null : select.value));
    this.draw();
  }

  /** Shows `store` as chosen, without asking for the list (no key yet). */
  choose(store: string | null): void {
    this.selected = store;
    this.draw();
  }

  /** Shows `store` as chosen (a bookmark, Back), and reads the list when there is none yet. */
  async show(store: string | null): Promise<void> {
    this.choose(store);
    const list = await this.directory.list();
    if (list.kind === "ok") {
      this.stores = list.stores;
      this.note.textContent = list.truncated ? `The first ${BOARD_MAX_STORES} stores by id are listed.` : "";
    } else {
      // The view's own requests report a refused key; here only what is missing is said.
      this.note.textContent =
        list.kind === "network" ? "Cannot list the stores (network error)." : `Cannot list the stores (${list.status}).`;
    }
    this.note.hidden = this.note.textContent === "";
    this.draw();
  }

  /** Forgets the list (another key); only "All stores" and the chosen one stay. */
  clear(): void {
    this.stores = [];
    this.note.textContent = "";
    this.note.hidden = true;
    this.draw();
  }

  /** The chosen store as people read it. */
  label(store: string): string {
    return storeLabel(store, this.directory.name(store));
  }

  private draw(): void {
    const options = pickerOptions(this.stores, this.selected).map((o) => {
      const option = el("option", "", o.label);
      option.value = o.value;
      return option;
    });
    const focused = document.activeElement === this.select;
    this.select.replaceChildren(...options);
    this.select.value = this.selected ?? "";
    if (focused) this.select.focus({ preventScroll: true });
  }
}
