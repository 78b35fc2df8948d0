/**
 * Holds every response the tests receive to the OpenAPI document the Worker serves: the status is
 * one the operation documents, the body validates against its schema (ajv, JSON Schema 2020-12,
 * formats checked), an error's code is one the document lists for that status, and every header
 * the document marks required is present. So the document cannot drift from the behaviour.
 *
 * Requests no operation covers (a path the API does not serve, a method a path does not accept)
 * are held to the document's NotFound and MethodNotAllowed responses, or to the error envelope
 * for refusals that come before routing (401, 429). CORS preflights are held to CORS.
 */
import { exports } from "cloudflare:workers";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";

interface Header {
  required?: boolean;
  $ref?: string;
}
interface DocResponse {
  $ref?: string;
  description: string;
  "x-error-codes"?: string[];
  headers?: Record<string, Header>;
  content?: Record<string, { schema: unknown }>;
}
interface Operation {
  operationId: string;
  responses: Record<string, DocResponse>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { headers: Record<string, Header>; responses: Record<string, DocResponse>; schemas: Record<string, unknown> };
}

export interface Received {
  method: string;
  /** Path and query, or a full URL. */
  url: string;
  status: number;
  headers: Headers;
  /** The body as text ("" when there is none). */
  text: string;
}

const DOC_ID = "https://api.test/openapi.json";
const METHODS = new Set(["get", "put", "post", "delete", "patch", "head", "options"]);

/** JSON pointer escaping (RFC 6901). */
const pointer = (...parts: string[]) => parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

export class ContractChecker {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: { path: string; match: RegExp; params: number }[];

  constructor(readonly doc: OpenApiDocument) {
    addFormats(this.ajv);
    // OpenAPI 3.1's annotations beside JSON Schema's, and the document's own top-level fields:
    // the whole document is the root that response schemas and their $refs resolve in.
    for (const keyword of new Set(["example", "discriminator", "xml", "externalDocs", ...Object.keys(doc)])) this.ajv.addKeyword(keyword);
    this.ajv.addSchema({ $id: DOC_ID, ...doc }, undefined, undefined, false);
    this.templates = Object.keys(doc.paths)
      .map((path) => ({
        path,
        match: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "[^/]+")}$`),
        params: (path.match(/\{/g) ?? []).length,
      }))
      // A literal segment beats a parameter (/v1/sessions/active before /v1/sessions/{id}).
      .sort((a, b) => a.params - b.params);
  }

  /** Throws an Error saying what does not match the document; returns the operationId it matched, if any. */
  check(received: Received): string | undefined {
    const url = new URL(received.url, "https://api.test");
    const method = received.method.toLowerCase();
    const where = `${received.method} ${url.pathname} → ${received.status}`;
    if (method === "options" && received.status === 204) {
      if (!received.headers.has("access-control-allow-methods")) throw new Error(`${where}: a 204 to OPTIONS must be a CORS preflight`);
      return undefined;
    }
    const template = this.templates.find((t) => t.match.test(url.pathname));
    const operations = template ? this.doc.paths[template.path] : undefined;
    const operation = operations?.[method === "head" ? "get" : method];
    if (!template || !operation) {
      this.checkUndocumented(where, received, template !== undefined && Object.keys(operations ?? {}).some((m) => METHODS.has(m)));
      return undefined;
    }
    const response = operation.responses[String(received.status)];
    if (!response) {
      throw new Error(
        `${where}: status ${received.status} is not documented for ${operation.operationId} (documented: ${Object.keys(operation.responses).join(", ")})`,
      );
    }
    const path = ["paths", template.path, method === "head" ? "get" : method, "responses", String(received.status)];
    this.checkResponse(where, received, this.resolve(response), path, method === "head");
    return operation.operationId;
  }

  private checkUndocumented(where: string, received: Received, knownPath: boolean) {
    const name = received.status === 404 ? "NotFound" : received.status === 405 ? "MethodNotAllowed" : undefined;
    if (name) {
      if (received.status === 405 && !knownPath) throw new Error(`${where}: 405 for a path the document does not have`);
      const response = this.doc.components.responses[name];
      if (!response) throw new Error(`the document has no components.responses.${name}`);
      this.checkResponse(where, received, response, ["components", "responses", name], received.method === "HEAD");
      return;
    }
    // Refusals before routing (no key, rate limited, a fault): the error envelope and the request id.
    if (received.status < 400) throw new Error(`${where}: no operation documents this request, yet it succeeded`);
    this.checkBody(where, received, `${DOC_ID}#/components/schemas/Error`, false);
    if (!received.headers.has("x-request-id")) throw new Error(`${where}: no X-Request-Id`);
  }

  private checkResponse(where: string, received: Received, response: DocResponse, path: string[], head: boolean) {
    const documented = Object.entries(response.headers ?? {});
    for (const [name, header] of documented) {
      if (this.resolve(header).required && !received.headers.has(name)) throw new Error(`${where}: documented header ${name} is missing`);
    }
    // And the other way: a header the document defines is only sent where it is documented.
    for (const name of Object.keys(this.doc.components.headers ?? {})) {
      if (received.headers.has(name) && !documented.some(([n]) => n.toLowerCase() === name.toLowerCase())) {
        throw new Error(`${where}: sends ${name}, which the document does not list for this response`);
      }
    }
    const json = response.content?.["application/json"];
    if (!json) {
      if (received.text !== "") throw new Error(`${where}: the document says no body, got ${received.text.slice(0, 200)}`);
      return;
    }
    if (head) return;
    const type = received.headers.get("content-type") ?? "";
    if (!/^application\/json\b/i.test(type)) throw new Error(`${where}: Content-Type ${type || "(none)"}, documented application/json`);
    const body = this.checkBody(where, received, `${DOC_ID}#/${pointer(...path, "content", "application/json", "schema")}`, true);
    const codes = response["x-error-codes"];
    const code = (body as { error?: { code?: unknown } }).error?.code;
    if (codes && !codes.includes(code as string)) {
      throw new Error(`${where}: error code ${String(code)} is not one the document lists for this status (${codes.join(", ")})`);
    }
  }

  private checkBody(where: string, received: Received, ref: string, documented: boolean): unknown {
    let body: unknown;
    try {
      body = JSON.parse(received.text);
    } catch {
      throw new Error(`${where}: the body is not JSON: ${received.text.slice(0, 200)}`);
    }
    const validate = this.validator(ref);
    if (!validate(body)) {
      const problems = this.ajv.errorsText(validate.errors, { separator: "; ", dataVar: "body" });
      throw new Error(`${where}: the body does not match the ${documented ? "documented schema" : "error envelope"}: ${problems}`);
    }
    return body;
  }

  /** Ajv's complaints about `value` against the schema at this JSON pointer of the document, or "" if it is valid. */
  problemsAt(jsonPointer: string, value: unknown): string {
    const validate = this.validator(`${DOC_ID}#${jsonPointer}`);
    return validate(value) ? "" : this.ajv.errorsText(validate.errors);
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }

  /** Follows a local $ref (#/components/...). */
  private resolve<T extends { $ref?: string }>(value: T): T {
    if (!value.$ref) return value;
    let target: unknown = this.doc;
    for (const part of value.$ref.replace(/^#\//, "").split("/")) {
      target = (target as Record<string, unknown>)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    }
    if (target === undefined) throw new Error(`the document's ${value.$ref} does not exist`);
    return target as T;
  }
}

let served: Promise<ContractChecker> | undefined;

/** The checker for the document the Worker serves, fetched once per test file. */
export function servedContract(): Promise<ContractChecker> {
  served ??= (async () => {
    const res = await exports.default.fetch("https://api.test/openapi.json");
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
    return new ContractChecker((await res.json()) as OpenApiDocument);
  })();
  return served;
}

/** Throws unless the response is one the served document allows for this request. */
export async function checkDocumented(received: Received): Promise<void> {
  (await servedContract()).check(received);
}
