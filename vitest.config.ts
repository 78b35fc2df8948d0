import { createHash } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { KEYS } from "./test/keys";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");
const SDK_KEYS = [
  `acme:${sha(KEYS.acme)}`,
  `acme:${sha(KEYS.acmeRotated)}`,
  `globex:${sha(KEYS.globex)}`,
  `acme:${sha(KEYS.acmeReadOnly)}:read`,
].join(",");

export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings: { SDK_KEYS, RATE_LIMITS: "off" } } })],
  test: { include: ["test/**/*.test.ts"], silent: "passed-only" },
});
