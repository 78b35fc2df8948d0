/**
 * Serves one built Worker in workerd through Miniflare's programmatic API, on 127.0.0.1:<port>.
 * Started by bench/run.mjs as its own process (and process group), one per Worker under test.
 *
 * Why not `wrangler dev`: it puts a proxy Worker (a second workerd process) in front of the
 * Worker for live reload, so every request would cross an extra HTTP hop. Miniflare serves
 * workerd's own listener, with only Miniflare's in-process entry Worker in front, and with
 * request logging off (otherwise each request makes a loopback call to Node to print a line).
 *
 * Input: one JSON argument {config, bundleDir, port, persistDir, bindings, compatibilityDate,
 * compatibilityFlags, logFile, inspectorPort?, withoutAssets?}. Output: one line
 * `{"ready": "<url>"}` on stdout once serving. `inspectorPort` and `withoutAssets` are for
 * bench/profile.mjs (attributing time); the bench itself serves the Worker as configured.
 */
import childProcess from "node:child_process";
import { createWriteStream, openSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { PassThrough } from "node:stream";
import { pathToFileURL } from "node:url";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const opts = JSON.parse(process.argv[2]);
const INDEX_WORKER = "bench-index";
// Miniflare is wrangler's own dependency: load the copy wrangler uses, wherever npm put it.
const requireFromWrangler = createRequire(import.meta.resolve("wrangler"));
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(pathToFileURL(requireFromWrangler.resolve("miniflare")).href);

// workerd's stdout (the Worker's console.log: the service's one line per request) goes straight
// to the log file. Miniflare would read it through a pipe and parse it line by line in this Node
// process, which costs the service process group more CPU per request than the line costs
// workerd; in production the runtime ships logs outside the Worker. stderr (console.error, and
// workerd's own errors) still goes through Miniflare, below. Only this spawn is changed.
const workerdStdout = openSync(opts.logFile, "a");
const spawn = childProcess.spawn;
childProcess.spawn = (command, args, options) => {
  if (!/workerd/.test(String(command)) || options?.stdio?.[1] !== "pipe") return spawn(command, args, options);
  const child = spawn(command, args, { ...options, stdio: [options.stdio[0], workerdStdout, ...options.stdio.slice(2)] });
  // Miniflare pipes the child's stdout into its parser: give it a stream on which nothing comes.
  child.stdout = new PassThrough();
  return child;
};

const log = createWriteStream(opts.logFile, { flags: "a" });
let lines = [];
function flushLines() {
  if (lines.length > 0) log.write(lines.join(""));
  lines = [];
}
setInterval(flushLines, 250).unref();
const { workerOptions } = unstable_getMiniflareWorkerOptions(opts.config);
if (opts.withoutAssets) delete workerOptions.assets;
// Split topology (see bench/README.md): the persona side here, the index plane in its own process.
const split = opts.split;
if (split?.role === "persona") {
  workerOptions.durableObjects = {
    ...workerOptions.durableObjects,
    TENANT_INDEX: { ...workerOptions.durableObjects.TENANT_INDEX, scriptName: INDEX_WORKER },
  };
  delete workerOptions.queueConsumers;
}
// The consumer tells persona objects of gaps it finds: those live in the persona side's process.
if (split?.role === "index") {
  workerOptions.durableObjects = {
    ...workerOptions.durableObjects,
    PERSONA: { ...workerOptions.durableObjects.PERSONA, scriptName: "bench" },
  };
}

// unstable_getMiniflareWorkerOptions speaks the v4 option shape; convert it for this Miniflare.
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: opts.port,
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
    logRequests: false,
    enableDevRegistry: Boolean(split),
    ...(split ? { unsafeDevRegistryPath: split.registryDir } : {}),
    telemetry: { enabled: false },
    log: new Log(LogLevel.WARN),
    cf: false, // no network: Miniflare would otherwise fetch a Request.cf sample from Cloudflare
    resourcePersistencePath: opts.persistDir,
    // The Worker's console output (the service logs one JSON line per request) goes to a file,
    // written in chunks: a write per line would cost this process more than the line itself.
    handleStructuredLogs: (entry) => {
      lines.push(`${entry.level} ${entry.message}\n`);
      if (lines.length >= 512) flushLines();
    },
    workers: [
      {
        ...workerOptions,
        name: split?.role === "index" ? INDEX_WORKER : "bench",
        modulesRules: undefined,
        modulesRoot: opts.bundleDir,
        modules: bundleModules(opts.bundleDir),
        compatibilityDate: opts.compatibilityDate,
        compatibilityFlags: opts.compatibilityFlags,
        bindings: { ...workerOptions.bindings, ...opts.bindings },
      },
    ],
  }),
);

/** The modules `wrangler deploy --dry-run --outdir` wrote: index.js first (the entry), then the rest. */
function bundleModules(dir) {
  const types = { ".js": "ESModule", ".mjs": "ESModule", ".wasm": "CompiledWasm", ".bin": "Data", ".txt": "Text" };
  const files = readdirSync(dir).filter((f) => types[extname(f)] && f !== "index.js");
  return ["index.js", ...files].map((f) => ({ type: types[extname(f)], path: join(dir, f) }));
}

const url = await mf.ready;
process.stdout.write(`${JSON.stringify({ ready: url.href })}\n`);

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await mf.dispose().catch(() => {});
  flushLines();
  log.end(() => process.exit(0));
}
process.on("SIGTERM", close);
process.on("SIGINT", close);
process.on("disconnect", close);
