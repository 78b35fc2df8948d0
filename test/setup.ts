// Runs before each test file: the registry's D1 schema, from migrations/, as `wrangler d1 migrations apply` would.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
