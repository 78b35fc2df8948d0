/**
 * Node-only parts of the client (`@persona-session/client/node`), kept out of the main entry so
 * that it loads in a browser with no Node import.
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RecorderStorage } from "./storage.js";

const SUFFIX = ".json";

/** A key as a file name: percent-encoded, so any key is one safe name ("." and "~" too). */
const fileName = (key: string) =>
  `${encodeURIComponent(key).replace(/[.~!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}${SUFFIX}`;

/**
 * One file per key in `dir` (created if missing). A write goes to a temporary file, is flushed to
 * disk (fsync), renamed over the old one and the directory flushed too: after a crash or a power
 * cut a key holds its old value or its new one, never a torn one, and a write that resolved is on disk.
 */
export function fileStorage(dir: string): RecorderStorage {
  const made = mkdir(dir, { recursive: true });
  let n = 0;
  const syncDir = async () => {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  return {
    name: `file:${dir}`,
    async getItem(key) {
      await made;
      try {
        return await readFile(join(dir, fileName(key)), "utf8");
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") return null;
        throw err;
      }
    },
    async setItem(key, value) {
      await made;
      const tmp = join(dir, `.tmp-${process.pid}-${n++}`);
      const handle = await open(tmp, "w");
      try {
        await handle.writeFile(value, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, join(dir, fileName(key)));
      await syncDir();
    },
    async removeItem(key) {
      await made;
      await rm(join(dir, fileName(key)), { force: true });
      await syncDir();
    },
    async getAllKeys() {
      await made;
      // A temporary file a crash left behind is not a key (and is overwritten by name, never read).
      return (await readdir(dir))
        .filter((f) => f.endsWith(SUFFIX) && !f.startsWith("."))
        .map((f) => decodeURIComponent(f.slice(0, -SUFFIX.length)));
    },
  };
}
