/**
 * Where the kiosk recorder keeps what it has not delivered yet. The interface is AsyncStorage's
 * (React Native), so an app can pass that, or anything with these four methods, as it is.
 */
export interface RecorderStorage {
  /**
   * Where it keeps its data, when other recorders (other tabs, other processes' instances) could
   * open the same: recorders on one name take turns (Web Locks, where there are any). Optional.
   */
  readonly name?: string;
  getItem(key: string): Promise<string | null>;
  /** Must be atomic (the old value or the new, never a torn one) and durable when it resolves. */
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
  getAllKeys(): Promise<readonly string[]>;
}

/** In memory: gone with the process. For tests, or a kiosk that accepts losing what was unsent when it stops. */
export function memoryStorage(): RecorderStorage {
  const items = new Map<string, string>();
  return {
    getItem: async (key) => items.get(key) ?? null,
    setItem: async (key, value) => void items.set(key, value),
    removeItem: async (key) => void items.delete(key),
    getAllKeys: async () => [...items.keys()],
  };
}

// The few IndexedDB shapes used here: the package compiles against ES only, without the DOM's types.
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbTransaction {
  objectStore(name: string): {
    get(key: string): IdbRequest<unknown>;
    put(value: string, key: string): IdbRequest<unknown>;
    delete(key: string): IdbRequest<unknown>;
    getAllKeys(): IdbRequest<unknown[]>;
  };
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  transaction(store: string, mode: "readonly" | "readwrite", options?: { durability: "strict" }): IdbTransaction;
  createObjectStore(name: string): unknown;
  objectStoreNames: { contains(name: string): boolean };
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
}

const STORE = "items";

/**
 * IndexedDB (the browser default): one object store, a value per key. Writes ask for `strict`
 * durability, so a write that resolved survives a power cut, not only a closed tab.
 */
export function indexedDbStorage(name = "persona-session-recorder"): RecorderStorage {
  let opened: Promise<IdbDatabase> | undefined;
  const db = () => {
    opened ??= new Promise<IdbDatabase>((resolve, reject) => {
      const factory = (globalThis as { indexedDB?: { open(name: string, version: number): IdbOpenRequest } }).indexedDB;
      if (!factory) return reject(new Error("indexedDB is not available here: pass another storage"));
      const request = factory.open(name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return opened;
  };
  /** One request in its own transaction; resolves when the transaction has committed. */
  const run = async <T>(mode: "readonly" | "readwrite", act: (store: ReturnType<IdbTransaction["objectStore"]>) => IdbRequest<T>) => {
    const tx = (await db()).transaction(STORE, mode, { durability: "strict" });
    const request = act(tx.objectStore(STORE));
    return new Promise<T>((resolve, reject) => {
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error ?? request.error);
    });
  };
  return {
    name: `indexeddb:${name}`,
    getItem: async (key) => {
      const value = await run("readonly", (s) => s.get(key));
      return typeof value === "string" ? value : null;
    },
    setItem: async (key, value) => void (await run("readwrite", (s) => s.put(value, key))),
    removeItem: async (key) => void (await run("readwrite", (s) => s.delete(key))),
    getAllKeys: async () => (await run("readonly", (s) => s.getAllKeys())).filter((k): k is string => typeof k === "string"),
  };
}
