import { createHash } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { ADMIN_KEYS, KEYS } from "./test/keys.ts";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");
const SDK_KEYS = [
  `acme:${sha(KEYS.acme)}`,
  `acme:${sha(KEYS.acmeRotated)}`,
  `globex:${sha(KEYS.globex)}`,
  `acme:${sha(KEYS.acmeReadOnly)}:read`,
].join(",");

// wrangler.toml declares SDK_KEYS and ADMIN_KEYS as required secrets; the tests' own values are
// the bindings below. Declared here too, so wrangler's config reader (run once per test file)
// finds them instead of warning that they are missing; its info lines are left out, its
// warnings and errors still print.
process.env.SDK_KEYS = SDK_KEYS;
process.env.ADMIN_KEYS = [sha(ADMIN_KEYS.operator), sha(ADMIN_KEYS.rotated)].join(",");
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          SDK_KEYS,
          ADMIN_KEYS: process.env.ADMIN_KEYS,
          RATE_LIMITS: "off",
          // Short, so tests see a change made behind an isolate's cache take effect within the window.
          AUTH_CACHE_SECONDS: "1",
          // The registry's schema, applied to the test D1 database by test/setup.ts.
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
        },
      },
    })),
  ],
  // One worker per test file, written out: each file gets its own storage (tests in a file share it).
  test: { include: ["test/**/*.test.ts"], setupFiles: ["./test/setup.ts"], silent: "passed-only", isolate: true },
});
