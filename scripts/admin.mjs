// npm run admin -- <command> [options]: the operators' CLI for the tenant registry (/admin/v1).
// Needs ADMIN_KEY in the environment (an admin key whose SHA-256 is in ADMIN_KEYS); the stores
// commands also work with SDK_KEY, a tenant's admin-scoped key (/v1/stores, that tenant only).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const USAGE = `usage: npm run admin -- [--url URL] [--json] <command>

  tenants create <tenant_id> [--name NAME] [--idle-timeout SECONDS] [--retention-days DAYS] [--statuses A,B,...]
  tenants list
  tenants get <tenant_id>
  tenants update <tenant_id> [--name NAME] [--idle-timeout SECONDS|default] [--retention-days DAYS|default] [--statuses A,B,...|any]
  tenants disable <tenant_id>
  tenants enable <tenant_id>
  keys create <tenant_id> --scope read|write|admin [--label LABEL] [--expires ISO-8601] [--store STORE_ID]
  keys list <tenant_id>
  keys revoke <tenant_id> <key_id>
  stores import <file.csv> [--tenant TENANT_ID]   register or replace the stores of a CSV file: a header
                                                row naming store_id,name,time_zone and any of
                                                country,tags,capacity (tags separated by |); 1,000 rows
                                                a request, each request all or nothing
  stores list [--tenant TENANT_ID] [--tag TAG]
  stores delete <store_id> [--tenant TENANT_ID]
  audit [--tenant TENANT_ID] [--limit N] [--cursor CURSOR]
  index resend <tenant_id> [--since ISO-8601]   rebuild the tenant's index: every persona object it
                                                knows sends its whole state again (page after page)
  index check <tenant_id> [--month YYYY-MM] [--repair]
                                                compare a month shard's analytics blocks with its
                                                session rows; --repair rebuilds the days that differ

  --url   the API (default http://localhost:8787)
  --json  print the API's data as JSON
  ADMIN_KEY (environment): the admin key
  SDK_KEY (environment, stores commands only, when ADMIN_KEY is not set): a tenant's admin-scoped
          key; the commands act on its tenant and take no --tenant`;

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      url: { type: "string", default: "http://localhost:8787" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      name: { type: "string" },
      "idle-timeout": { type: "string" },
      "retention-days": { type: "string" },
      statuses: { type: "string" },
      scope: { type: "string" },
      label: { type: "string" },
      expires: { type: "string" },
      tenant: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      since: { type: "string" },
      store: { type: "string" },
      tag: { type: "string" },
      month: { type: "string" },
      repair: { type: "boolean", default: false },
    },
  });
} catch (e) {
  usage(e.message);
}
const {
  values: opts,
  positionals: [group, action, ...rest],
} = parsed;
if (opts.help || !group) usage();

function usage(problem) {
  if (problem) console.error(`admin: ${problem}\n`);
  console.error(USAGE);
  process.exit(problem ? 2 : 0);
}

const adminKey = process.env.ADMIN_KEY;
const sdkKey = process.env.SDK_KEY;
/** The stores commands may act with a tenant's own admin-scoped key instead (through /v1). */
const asTenant = !adminKey && Boolean(sdkKey) && group === "stores";
if (!adminKey && !asTenant) {
  usage(
    group === "stores"
      ? "set ADMIN_KEY to an admin key, or SDK_KEY to a tenant's admin-scoped key"
      : "set ADMIN_KEY to an admin key (its SHA-256 must be in the server's ADMIN_KEYS)",
  );
}
const baseUrl = opts.url.replace(/\/+$/, "");

/**
 * One API call (paths are the operators' API's, under /admin/v1, unless `root` names another
 * root); the API's error envelope becomes a clear message and exit code 1, unless `onError`
 * handles it.
 */
async function call(method, path, body, { root = "/admin/v1", onError } = {}) {
  let res;
  try {
    res = await fetch(`${baseUrl}${root}${path}`, {
      method,
      headers: { authorization: `Bearer ${asTenant ? sdkKey : adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    fail(
      `cannot reach ${baseUrl}: ${e.cause?.code ?? e.cause?.message ?? e.message}${baseUrl.includes("localhost") ? " (is npm run dev running?)" : ""}`,
    );
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    fail(`${res.status} from ${method} ${path}, not the API's JSON: ${text.slice(0, 200)}`);
  }
  if (!json.success) {
    if (onError) return onError(json.error ?? {}, res.status);
    const { code, message, details, request_id } = json.error ?? {};
    const lines = [`${res.status} ${code}: ${message}`];
    for (const field of details?.fields ?? []) lines.push(`  ${field.path}: ${field.message}`);
    for (const [k, v] of Object.entries(details ?? {})) if (k !== "fields") lines.push(`  ${k}: ${JSON.stringify(v)}`);
    if (request_id) lines.push(`  request_id: ${request_id}`);
    fail(lines.join("\n"));
  }
  return json.data;
}

function fail(message) {
  console.error(`admin: ${message}`);
  process.exit(1);
}

function need(value, what) {
  if (!value) usage(`missing ${what}`);
  return value;
}

/** A number when it looks like one; anything else goes to the API as given, which names what is wrong. */
const num = (v) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

function settingsFrom(forUpdate) {
  const settings = {};
  if (opts["idle-timeout"] !== undefined)
    settings.idle_timeout_seconds = forUpdate && opts["idle-timeout"] === "default" ? null : num(opts["idle-timeout"]);
  if (opts["retention-days"] !== undefined)
    settings.retention_days = forUpdate && opts["retention-days"] === "default" ? null : num(opts["retention-days"]);
  if (opts.statuses !== undefined)
    settings.statuses =
      forUpdate && opts.statuses === "any"
        ? null
        : opts.statuses
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
  return Object.keys(settings).length ? settings : undefined;
}

/** Every page of a listing, following next_cursor. */
async function all(path, field, options) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await call("GET", `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, undefined, options);
    items.push(...page[field]);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function printTenant(t) {
  const s = t.effective_settings;
  console.log(`tenant:   ${t.tenant_id}${t.name ? ` (${t.name})` : ""}${t.disabled ? "  DISABLED" : ""}`);
  console.log(
    `settings: idle_timeout_seconds ${s.idle_timeout_seconds}, retention_days ${s.retention_days}, statuses ${s.statuses ? s.statuses.join(",") : "any"}` +
      `  (set here: ${Object.keys(t.settings).join(", ") || "none; the service defaults apply"})`,
  );
  console.log(`created:  ${t.created_at}, updated ${t.updated_at}`);
}

function table(rows, columns) {
  if (rows.length === 0) return console.log("(none)");
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? "-").length)));
  console.log(columns.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const r of rows) console.log(columns.map((c, i) => String(r[c] ?? "-").padEnd(widths[i])).join("  "));
}

const out = (data, human) => (opts.json ? console.log(JSON.stringify(data, null, 2)) : human(data));
const tenantPath = (id) => `/tenants/${encodeURIComponent(need(id, "<tenant_id>"))}`;

/** Stores a PUT /v1/stores may carry (LIMITS.storesPerPut). */
const STORES_PER_PUT = 1000;

/** Where the stores commands go: the tenant's own /v1/stores with SDK_KEY, else the operators' mirror. */
function storesPath() {
  if (asTenant) {
    if (opts.tenant) usage("with SDK_KEY the stores commands act on the key's own tenant: leave out --tenant");
    return "/stores";
  }
  return `${tenantPath(need(opts.tenant, "--tenant TENANT_ID"))}/stores`;
}
const storesRoot = () => (asTenant ? { root: "/v1" } : {});

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. Rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  const src = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (quoted) {
      if (ch === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === "") quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && src[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (quoted) fail("the CSV ends inside a quoted field");
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ""));
}

const CSV_COLUMNS = ["store_id", "name", "time_zone", "country", "tags", "capacity"];

/** The stores of a CSV file, each with its line number (the header is line 1). */
function storesFromCsv(text) {
  const [header, ...rows] = parseCsv(text);
  if (!header) fail("the CSV is empty: it needs a header row naming store_id,name,time_zone");
  const columns = header.map((h) => h.trim().toLowerCase());
  const unknown = columns.filter((c) => !CSV_COLUMNS.includes(c));
  if (unknown.length) fail(`unknown CSV column(s): ${unknown.join(", ")} (columns: ${CSV_COLUMNS.join(", ")})`);
  for (const required of ["store_id", "name", "time_zone"]) if (!columns.includes(required)) fail(`the CSV has no ${required} column`);
  if (rows.length === 0) fail("the CSV has a header and no stores");
  return rows.map((cells, i) => {
    const line = i + 2;
    if (cells.length !== columns.length) fail(`line ${line}: ${cells.length} cells, the header names ${columns.length}`);
    const cell = (name) => {
      const at = columns.indexOf(name);
      const value = at < 0 ? "" : cells[at].trim();
      return value === "" ? undefined : value;
    };
    const store = { store_id: cell("store_id") ?? "", name: cell("name") ?? "", time_zone: cell("time_zone") ?? "" };
    if (cell("country") !== undefined) store.country = cell("country");
    if (cell("tags") !== undefined)
      store.tags = cell("tags")
        .split("|")
        .map((t) => t.trim());
    if (cell("capacity") !== undefined) store.capacity = num(cell("capacity"));
    return { line, store };
  });
}

/** A refused chunk of an import: what the API said, by CSV line, and what was stored before it. */
function refused(chunk, offset, totals) {
  return (error, status) => {
    const lines = [`${status} ${error.code}: ${error.message}`];
    for (const field of error.details?.fields ?? []) {
      const m = /^stores\.(\d+)(?:\.(.+))?$/.exec(field.path);
      const row = m ? chunk[Number(m[1])] : undefined;
      lines.push(row ? `  line ${row.line}, ${m[2] ?? "row"}: ${field.message}` : `  ${field.path}: ${field.message}`);
    }
    const done = totals.created + totals.replaced + totals.unchanged;
    lines.push(
      offset === 0
        ? "  nothing was stored"
        : `  stored: the first ${done} stores (lines 2 to ${offset + 1}); nothing from line ${chunk[0].line} on`,
    );
    fail(lines.join("\n"));
  };
}

const commands = {
  "tenants create": async ([id]) => {
    const body = { tenant_id: need(id, "<tenant_id>"), ...(opts.name ? { name: opts.name } : {}) };
    const settings = settingsFrom(false);
    out(await call("POST", "/tenants", settings ? { ...body, settings } : body), (t) => {
      console.log("created");
      printTenant(t);
    });
  },
  "tenants list": async () =>
    out(await all("/tenants", "tenants"), (ts) =>
      table(
        ts.map((t) => ({ tenant_id: t.tenant_id, name: t.name, disabled: t.disabled ? "yes" : "no", created_at: t.created_at })),
        ["tenant_id", "name", "disabled", "created_at"],
      ),
    ),
  "tenants get": async ([id]) => out(await call("GET", tenantPath(id)), printTenant),
  "tenants update": async ([id]) => {
    const body = { ...(opts.name !== undefined ? { name: opts.name } : {}) };
    const settings = settingsFrom(true);
    if (settings) body.settings = settings;
    if (Object.keys(body).length === 0) usage("tenants update needs --name, --idle-timeout, --retention-days or --statuses");
    out(await call("PATCH", tenantPath(id), body), printTenant);
  },
  "tenants disable": async ([id]) =>
    out(await call("PATCH", tenantPath(id), { disabled: true }), (t) =>
      console.log(`disabled ${t.tenant_id}: its keys get 403 TENANT_DISABLED (everywhere within AUTH_CACHE_SECONDS)`),
    ),
  "tenants enable": async ([id]) =>
    out(await call("PATCH", tenantPath(id), { disabled: false }), (t) => console.log(`enabled ${t.tenant_id}`)),
  "index resend": async ([id]) => {
    let cursor = null;
    let total = 0;
    do {
      const query = new URLSearchParams({ limit: "100", ...(opts.since ? { since: opts.since } : {}), ...(cursor ? { cursor } : {}) });
      const page = await call("POST", `${tenantPath(id)}/index/resend?${query}`);
      total += page.personas;
      cursor = page.next_cursor;
      if (!opts.json) console.log(`asked ${total} persona objects so far`);
    } while (cursor);
    out({ personas: total }, () =>
      console.log(`done: ${total} persona objects send their whole state again; the index has it within seconds`),
    );
  },
  "index check": async ([id]) => {
    const query = new URLSearchParams({ ...(opts.month ? { month: opts.month } : {}), ...(opts.repair ? { repair: "true" } : {}) });
    out(await call("POST", `${tenantPath(id)}/index/check?${query}`), (r) => {
      console.log(`${r.month}: ${r.sessions} sessions in ${r.blocks} blocks compared with their rows`);
      console.log(r.drifted_days.length === 0 ? "no drift" : `drifted days: ${r.drifted_days.join(", ")}`);
      if (r.repaired_days.length > 0) {
        console.log(
          `repaired: ${r.repaired_days.join(", ")}; after: ${r.after.drifted_days.length === 0 ? "no drift" : r.after.drifted_days.join(", ")}`,
        );
      } else if (r.drifted_days.length > 0) console.log("run again with --repair to rebuild them from the rows");
    });
  },
  "keys create": async ([id]) => {
    const body = { scope: need(opts.scope, "--scope read|write|admin") };
    if (opts.label !== undefined) body.label = opts.label;
    if (opts.expires !== undefined) body.expires_at = opts.expires;
    if (opts.store !== undefined) body.store_id = opts.store;
    out(await call("POST", `${tenantPath(id)}/keys`, body), (k) => {
      console.log(`key_id:     ${k.key_id}`);
      console.log(`key:        ${k.key}`);
      console.log(`scope:      ${k.scope}`);
      console.log(`label:      ${k.label ?? "-"}`);
      console.log(`expires_at: ${k.expires_at ?? "never"}`);
      console.log(`store_id:   ${k.store_id ?? "any"}`);
      console.log("The key is shown only now (the registry keeps only its hash): store it where it will be used.");
    });
  },
  "keys list": async ([id]) =>
    out(await all(`${tenantPath(id)}/keys`, "keys"), (ks) =>
      table(ks, ["key_id", "scope", "status", "label", "created_at", "expires_at", "last_used_at"]),
    ),
  "keys revoke": async ([id, keyId]) => {
    await call("DELETE", `${tenantPath(id)}/keys/${encodeURIComponent(need(keyId, "<key_id>"))}`);
    out({ revoked: keyId }, () => console.log(`revoked ${keyId}: refused everywhere within AUTH_CACHE_SECONDS`));
  },
  "stores import": async ([file]) => {
    const stores = storesFromCsv(readFileSync(need(file, "<file.csv>"), "utf8"));
    const totals = { created: 0, replaced: 0, unchanged: 0 };
    for (let i = 0; i < stores.length; i += STORES_PER_PUT) {
      const chunk = stores.slice(i, i + STORES_PER_PUT);
      const result = await call(
        "PUT",
        storesPath(),
        { stores: chunk.map((s) => s.store) },
        { ...storesRoot(), onError: refused(chunk, i, totals) },
      );
      for (const k of Object.keys(totals)) totals[k] += result[k];
    }
    out({ ...totals, stores: stores.length }, () =>
      console.log(`${stores.length} stores: ${totals.created} created, ${totals.replaced} replaced, ${totals.unchanged} unchanged`),
    );
  },
  "stores list": async () =>
    out(await all(`${storesPath()}${opts.tag ? `?tag=${encodeURIComponent(opts.tag)}` : ""}`, "stores", storesRoot()), (ss) =>
      table(
        ss.map((s) => ({ ...s, tags: s.tags.join("|") })),
        ["store_id", "name", "time_zone", "country", "tags", "capacity"],
      ),
    ),
  "stores delete": async ([storeId]) => {
    await call("DELETE", `${storesPath()}/${encodeURIComponent(need(storeId, "<store_id>"))}`, undefined, storesRoot());
    out({ deleted: storeId }, () => console.log(`deleted ${storeId}: new starts naming it are refused; its sessions keep it`));
  },
  audit: async () => {
    const query = new URLSearchParams();
    if (opts.tenant) query.set("tenant_id", opts.tenant);
    if (opts.limit) query.set("limit", opts.limit);
    if (opts.cursor) query.set("cursor", opts.cursor);
    out(await call("GET", `/audit${query.size ? `?${query}` : ""}`), (page) => {
      table(
        page.entries.map((e) => ({
          at: e.at,
          tenant_id: e.tenant_id,
          action: e.action,
          key_id: e.key_id,
          actor: `${e.actor.type}:${e.actor.id}`,
          request_id: e.request_id,
        })),
        ["at", "tenant_id", "action", "key_id", "actor", "request_id"],
      );
      if (page.next_cursor) console.log(`more: --cursor ${page.next_cursor}`);
    });
  },
};

const command = commands[`${group} ${action}`] ?? (group === "audit" ? commands.audit : undefined);
if (!command) usage(`unknown command: ${[group, action].filter(Boolean).join(" ")}`);
await command(group === "audit" ? [action, ...rest].filter(Boolean) : rest);
