// npm run test:stop: `npm run dev` stops as users expect. For SIGTERM (kill <pid>) and SIGINT
// (Ctrl-C) sent to the `npm run dev` process alone: within 10 s the port is closed and none of its
// processes (npm, wrangler, workerd, ...) is left. Its own port and state directory; bounded in time.
// Ends with one plain line: "N passed, N failed".
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every live process whose ancestry includes `pid` (from /proc), with `pid` itself. */
function tree(pid) {
  const parent = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = new Set([pid].filter((p) => parent.has(p)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, pp] of parent) {
      if (found.has(pp) && !found.has(p)) {
        found.add(p);
        grew = true;
      }
    }
  }
  return found;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function serving(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function stopsOn(signal, port) {
  const state = mkdtempSync(join(tmpdir(), "dev-stop-"));
  const dev = spawn("npm", ["run", "dev", "--", "--port", String(port), "--persist-to", state], {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  let stderr = "";
  dev.stderr.on("data", (d) => (stderr += d));
  let seen = new Set();
  try {
    const upBy = Date.now() + 90_000;
    while (!(await serving(port))) {
      if (Date.now() > upBy || dev.exitCode !== null) throw new Error(`npm run dev did not serve on ${port}: ${stderr.slice(-500)}`);
      await sleep(500);
    }
    seen = tree(dev.pid);
    if (seen.size < 3) throw new Error(`expected npm, wrangler and workerd, found ${seen.size} processes`);
    process.kill(dev.pid, signal);
    const by = Date.now() + 10_000;
    for (;;) {
      const left = [...seen].filter(alive);
      const open = await serving(port);
      if (left.length === 0 && !open) return { ok: true, detail: `${seen.size} processes gone, port closed` };
      if (Date.now() > by) return { ok: false, detail: `after 10 s: port ${open ? "open" : "closed"}, left: ${left.join(" ") || "none"}` };
      await sleep(250);
    }
  } finally {
    for (const p of seen) if (alive(p)) process.kill(p, "SIGKILL");
    rmSync(state, { recursive: true, force: true });
  }
}

let passed = 0;
let failed = 0;
for (const [signal, port] of [
  ["SIGTERM", 8791],
  ["SIGINT", 8792],
]) {
  let result;
  try {
    result = await stopsOn(signal, port);
  } catch (e) {
    result = { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
  console.log(`  ${result.ok ? "ok  " : "FAIL"} ${signal} to npm run dev: ${result.detail}`);
  if (result.ok) passed++;
  else failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
