// What the browser tests (console.ts, kiosk-recorder.ts) share: a named test that reports
// "ok" or "FAIL" and counts, checks that throw, a free port, sleep. Run by Node directly (type
// stripping), so plain TypeScript with nothing to compile.
import { createServer } from "node:net";

export const results = { passed: 0, failed: 0 };

/** Debian's Chromium, headless, quiet: no background traffic, no first-run pages, no proxy. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--no-proxy-server",
];

export const log = (line: string) => process.stdout.write(`${line}\n`);

export async function test(name: string, fn: () => Promise<void>): Promise<void> {
  const started = Date.now();
  try {
    await fn();
    results.passed += 1;
    log(`  ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.failed += 1;
    log(`  FAIL ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

export function equal<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** On SIGINT or SIGTERM: `stop` (the servers and browser), the count with the interrupted test failed, exit 1. */
export function stopOnSignal(stop: () => Promise<void>): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      void stop().finally(() => {
        log(`${results.passed} passed, ${results.failed + 1} failed`);
        process.exit(1);
      });
    });
  }
}
