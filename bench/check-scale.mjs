#!/usr/bin/env node
/**
 * `node bench/check-scale.mjs FILE`: CI's check of a small `npm run bench -- --scale` run (issue 23).
 * Passes when every query answered at every size, with a median and a p95, and the seed counted
 * every session. It never compares a timing with a budget (a benchmark is not a timed test): the
 * point is that the scale path (seed, 2,000 stores, every query) cannot rot between full runs.
 */
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node bench/check-scale.mjs <scale-results.json>");
  process.exit(2);
}
const { scale } = JSON.parse(readFileSync(file, "utf8"));
const problems = [];
if (!scale || !Array.isArray(scale.sizes) || scale.sizes.length === 0) problems.push("no sizes");
const names = Object.keys(scale?.queries ?? {});
if (names.length < 11) problems.push(`${names.length} queries timed (want 11)`);
for (const name of names) {
  for (const size of scale.sizes) {
    const q = scale.queries[name][size];
    if (!q) problems.push(`${name} at ${size}: missing`);
    else if (q.error) problems.push(`${name} at ${size}: ${q.error}`);
    else if (typeof q.median_ms !== "number" || typeof q.p95_ms !== "number") problems.push(`${name} at ${size}: no median or p95`);
  }
}
for (const size of scale?.sizes ?? []) if (typeof scale.seed_seconds?.[size] !== "number") problems.push(`seed at ${size}: no time`);
if (problems.length > 0) {
  console.error(`scale check failed:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`scale check: ${names.length} queries answered at ${scale.sizes.join(" and ")} sessions`);
