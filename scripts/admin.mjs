// npm run admin -- <command> [options]: the operators' CLI for the tenant registry (/admin/v1).
// Needs ADMIN_KEY in the environment (an admin key whose SHA-256 is in ADMIN_KEYS).
import { parseArgs } from "node:util";

const USAGE = `usage: npm run admin -- [--url URL] [--json] <command>

  tenants create <tenant_id> [--name NAME] [--idle-timeout SECONDS] [--retention-days DAYS] [--statuses A,B,...]
  tenants list
  tenants get <tenant_id>
  tenants update <tenant_id> [--name NAME] [--idle-timeout SECONDS|default] [--retention-days DAYS|default] [--statuses A,B,...|any]
  tenants disable <tenant_id>
  tenants enable <tenant_id>
  keys create <tenant_id> --scope read|write|admin [--label LABEL] [--expires ISO-8601]
  keys list <tenant_id>
  keys revoke <tenant_id> <key_id>
  audit [--tenant TENANT_ID] [--limit N] [--cursor CURSOR]
  index resend <tenant_id> [--since ISO-8601]   rebuild the tenant's index: every persona object it
                                                knows sends its whole state again (page after page)

  --url   the API (default http://localhost:8787)
  --json  print the API's data as JSON
  ADMIN_KEY (environment): the admin key`;

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
if (!adminKey) usage("set ADMIN_KEY to an admin key (its SHA-256 must be in the server's ADMIN_KEYS)");
const baseUrl = opts.url.replace(/\/+$/, "");

/** One API call; the API's error envelope becomes a clear message and exit code 1. */
async function call(method, path, body) {
  let res;
  try {
    res = await fetch(`${baseUrl}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
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
async function all(path, field) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await call("GET", `${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
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
  "keys create": async ([id]) => {
    const body = { scope: need(opts.scope, "--scope read|write|admin") };
    if (opts.label !== undefined) body.label = opts.label;
    if (opts.expires !== undefined) body.expires_at = opts.expires;
    out(await call("POST", `${tenantPath(id)}/keys`, body), (k) => {
      console.log(`key_id:     ${k.key_id}`);
      console.log(`key:        ${k.key}`);
      console.log(`scope:      ${k.scope}`);
      console.log(`label:      ${k.label ?? "-"}`);
      console.log(`expires_at: ${k.expires_at ?? "never"}`);
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
