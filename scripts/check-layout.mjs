#!/usr/bin/env node
// npm run lint: src/'s imports follow the layout rule (docs: "Layout"), type-only imports included.
//   - src/index.ts (the Worker's entry) sits on top and may import anything;
//   - src/http/ (the edge: every HTTP route, auth, the contract) imports the planes and shared modules;
//   - the planes (src/persona/, src/tenant-index/, src/tenants/) import shared modules, and another
//     plane only where PLANE_DEPENDENCIES allows it (one way: never back);
//   - shared modules (src/*.ts) import only each other;
//   - no import cycle between files.
// Prints each breach and exits 1; silent when the layout holds.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");

/** The planes, and which other planes each may import (a plane's domain types, one way). */
const PLANE_DEPENDENCIES = {
  persona: ["tenant-index"],
  "tenant-index": [],
  tenants: [],
};

/** Where a file sits: "entry", "http", a plane's name, or "shared". */
function layer(file) {
  const rel = relative(src, file);
  if (rel === "index.ts") return "entry";
  const top = rel.split("/")[0];
  if (!rel.includes("/")) return "shared";
  if (top === "http") return "http";
  if (top in PLANE_DEPENDENCIES) return top;
  return `unknown folder src/${top}/`;
}

function allowed(from, to) {
  if (from === "entry") return true;
  if (to === "entry") return false;
  if (from === "http") return true;
  if (from === "shared") return to === "shared";
  // a plane
  return to === "shared" || to === from || PLANE_DEPENDENCIES[from].includes(to);
}

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
  });
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function resolveImport(from, spec) {
  if (!spec.startsWith(".")) return null;
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return base;
}

const problems = [];
const graph = new Map();
for (const file of files(src)) {
  const text = readFileSync(file, "utf8");
  const edges = [];
  for (const match of text.matchAll(IMPORT)) {
    const target = resolveImport(file, match[1] ?? match[2]);
    if (target === null) continue;
    if (!target.startsWith(`${src}/`)) continue; // outside src/ (client/package.json for the version)
    edges.push(target);
    const [a, b] = [layer(file), layer(target)];
    for (const l of [a, b]) if (l.startsWith("unknown")) problems.push(`${relative(root, file)}: ${l} is not in the layout`);
    if (!allowed(a, b)) problems.push(`${relative(root, file)} (${a}) imports ${relative(root, target)} (${b})`);
  }
  graph.set(file, edges);
}

// Cycles between files: Tarjan's strongly connected components.
let index = 0;
const stack = [];
const info = new Map();
function connect(v) {
  info.set(v, { index, low: index, on: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!info.has(w)) {
      connect(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).on) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
  }
  if (info.get(v).low === info.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).on = false;
      component.push(w);
    } while (w !== v);
    const selfLoop = (graph.get(v) ?? []).includes(v);
    if (component.length > 1 || selfLoop) problems.push(`import cycle: ${component.map((f) => relative(root, f)).join(" -> ")}`);
  }
}
for (const v of graph.keys()) if (!info.has(v)) connect(v);

if (problems.length > 0) {
  console.error(`check-layout: ${problems.length} breach(es) of the layout rule:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
