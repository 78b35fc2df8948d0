#!/usr/bin/env node
/**
 * `node bench/check-results.mjs FILE`: CI's check of a bench run (`npm run bench -- --quick --out FILE`).
 * Passes when the run wrote every key issue 4 asks for (and the registry-key scenario), each a number, and the service had zero
 * errors (non-2xx or socket errors) in every scenario. It never compares a timing or a ratio
 * with a budget: CI machines are too noisy for that, and a benchmark is not a timed test.
 */
import { readFileSync } from "node:fs";
import { ANALYTICS_QUERIES } from "./common.mjs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node bench/check-results.mjs <results.json>");
  process.exit(2);
}
const results = JSON.parse(readFileSync(file, "utf8"));

const REQUIRED = [
  ...["stamp_spread", "stamp_spread_registry_key", "stamp_hot"].flatMap((s) => [
    ...["rps", "p50_ms", "p99_ms", "errors", "rps_ratio", "p99_ratio"].map((k) => `scenarios.${s}.${k}`),
    ...["rps", "p50_ms", "p99_ms"].map((k) => `scenarios.${s}.baseline.${k}`),
  ]),
  "scenarios.journey.sessions_per_s",
  "scenarios.journey.errors",
  "growth.first100_ms",
  "growth.last100_ms",
  "growth.ratio",
  ...["start", "stamp", "stamp_idempotent", "end", "get", "start_store_bound", "stamp_store_bound"].flatMap((op) => [
    `storage.${op}.rows_read`,
    `storage.${op}.rows_written`,
  ]),
  "storage.bytes_per_stamp",
  "storage.stamp_with_index_check.rows_written",
  "scenarios.stamp_spread.index_lag_ms.p50",
  "scenarios.stamp_spread.index_lag_ms.p99",
  ...ANALYTICS_QUERIES.flatMap((q) => [`analytics.${q}.median_ms`, `analytics.${q}.p99_ms`]),
  "bundle.gzip_bytes",
  "errors",
];

const problems = [];
const get = (path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), results);
for (const path of REQUIRED) {
  const v = get(path);
  if (typeof v !== "number" || !Number.isFinite(v)) problems.push(`${path} is missing or not a number (${JSON.stringify(v)})`);
}
for (const [name, scenario] of Object.entries({ ...results.scenarios, ...results.supplementary })) {
  if (scenario?.errors !== 0) problems.push(`scenarios.${name}.errors = ${scenario?.errors} (must be 0)`);
}
if (results.growth?.errors !== 0) problems.push(`growth.errors = ${results.growth?.errors} (must be 0)`);
if (results.errors !== 0) problems.push(`errors = ${results.errors} (must be 0)`);

if (problems.length) {
  console.error(`bench results ${file}: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`bench results ${file}: every key present, 0 errors`);
