// The API reference page (/docs/): Redoc renders the Worker's own /openapi.json, the document clients
// and tests use. Redoc is copied from @redocly/cli's bundle by scripts/build-docs.mjs.
//
// Redoc 3.0.1's request panel offers only the code samples a document lists (x-codeSamples) besides
// the payload; it generates none itself. So this page reads /openapi.json, adds a curl sample to each
// operation of its copy in memory (method, URL with the parameters' examples, key header, example
// body), and hands Redoc that copy. /openapi.json itself is unchanged, and the download link serves it.
import { init } from "./redoc.standalone.js";

const METHODS = ["get", "put", "post", "patch", "delete"];
/** The shell variable each security scheme's key is read from in the samples. */
const KEY_VARIABLES = { SdkKey: "SDK_KEY", AdminKey: "ADMIN_KEY" };

const element = document.getElementById("redoc");

function resolve(doc, value) {
  let v = value;
  for (let i = 0; v && typeof v.$ref === "string" && i < 20; i += 1) {
    v = v.$ref
      .replace(/^#\//, "")
      .split("/")
      .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
      .reduce((node, part) => node?.[part], doc);
  }
  return v ?? {};
}

/** An example value for a schema: its own example, else one built from its parts. */
function sample(doc, input, depth = 0) {
  const schema = resolve(doc, input);
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (depth > 6) return null;
  const variant = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (variant) return sample(doc, variant, depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((part) => sample(doc, part, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  if (type === "object" || schema.properties) {
    const required = new Set(schema.required ?? []);
    const out = {};
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const p = resolve(doc, prop);
      if (required.has(name) || p.example !== undefined) out[name] = sample(doc, p, depth + 1);
    }
    return out;
  }
  if (type === "array") return [sample(doc, schema.items ?? {}, depth + 1)];
  if (type === "integer" || type === "number") return schema.minimum ?? 1;
  if (type === "boolean") return true;
  if (schema.format === "date-time") return "2026-11-01T10:00:00Z";
  return "string";
}

const quote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;

function curl(doc, origin, path, method, pathItem, operation) {
  const params = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])].map((p) => resolve(doc, p));
  const example = (p) => p.example ?? sample(doc, p.schema ?? {});
  let url = path;
  const query = new URLSearchParams();
  for (const p of params) {
    if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(String(example(p))));
    if (p.in === "query" && p.required) {
      const value = example(p);
      for (const v of Array.isArray(value) ? value : [value]) query.append(p.name, String(v));
    }
  }
  const search = query.size ? `?${query}` : "";
  const server = new URL(doc.servers?.[0]?.url ?? "/", origin).href.replace(/\/$/, "");
  const lines = [`curl${method === "get" ? "" : ` -X ${method.toUpperCase()}`} ${quote(`${server}${url}${search}`)}`];
  const security = operation.security ?? doc.security ?? [];
  const scheme = security.flatMap((requirement) => Object.keys(requirement))[0];
  if (scheme) lines.push(`-H "Authorization: Bearer $${KEY_VARIABLES[scheme] ?? "API_KEY"}"`);
  const body = resolve(doc, operation.requestBody).content?.["application/json"];
  if (body) {
    lines.push(`-H ${quote("Content-Type: application/json")}`);
    lines.push(`-d ${quote(JSON.stringify(body.example ?? sample(doc, body.schema ?? {})))}`);
  }
  return lines.join(" \\\n  ");
}

function withCurlSamples(doc, origin) {
  const copy = structuredClone(doc);
  for (const [path, pathItem] of Object.entries(copy.paths ?? {})) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (!operation || operation["x-codeSamples"]) continue;
      operation["x-codeSamples"] = [{ lang: "bash", label: "curl", source: curl(copy, origin, path, method, pathItem, operation) }];
    }
  }
  return copy;
}

try {
  const res = await fetch("/openapi.json", { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
  const doc = await res.json();
  init(
    withCurlSamples(doc, location.origin),
    {
      // No usage reports to Redocly (the page's CSP would block them anyway: connect-src 'self').
      disableTelemetry: true,
      // The download link serves the document as the Worker does, not the copy with samples.
      downloadUrls: [{ title: "openapi.json", url: "/openapi.json" }],
    },
    element,
  );
} catch (err) {
  element.textContent = `The API reference could not load /openapi.json: ${err instanceof Error ? err.message : String(err)}`;
  throw err;
}
