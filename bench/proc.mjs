/** Process accounting for the bench (Linux /proc; elsewhere the figures are null). */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU seconds (user + system) used so far by every live process in a process group; with
 * `byName`, an object of seconds per process name (e.g. workerd vs node) instead.
 */
export function groupCpuSeconds(pgid, byName = false) {
  let ticks = 0;
  const names = {};
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after "(comm)": state ppid pgrp ... utime (14th) stime (15th), in clock ticks (100/s).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(f[2]) !== pgid) continue;
    const t = Number(f[11]) + Number(f[12]);
    ticks += t;
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    names[name] = (names[name] ?? 0) + t / 100;
  }
  return byName ? names : ticks / 100;
}
