import { afterEach, describe, expect, it, vi } from "vitest";
import { api, KEYS, personaId, stamp, start } from "./helpers";

const withOrigins = (origins: string) => ({ CORS_ORIGINS: origins });

describe("CORS for browser kiosks", () => {
  it("answers a preflight from an allowed origin, allowing the API's headers", async () => {
    const res = await api("/v1/persona/p/session/stamp", {
      method: "OPTIONS",
      key: null,
      headers: {
        origin: "https://kiosk.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,idempotency-key",
      },
      env: withOrigins("https://other.example, https://kiosk.example"),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://kiosk.example");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["authorization", "content-type", "idempotency-key"]) expect(allowed).toContain(h);
  });

  it("exposes the request id, Retry-After and Idempotent-Replayed to allowed origins", async () => {
    const res = await api("/healthz", { headers: { origin: "https://kiosk.example" }, env: withOrigins("https://kiosk.example") });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://kiosk.example");
    const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const h of ["x-request-id", "x-server-time", "retry-after", "idempotent-replayed"]) expect(exposed).toContain(h);
  });

  it("grants nothing to other origins, and nothing at all by default", async () => {
    const other = await api("/healthz", { headers: { origin: "https://evil.example" }, env: withOrigins("https://kiosk.example") });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const none = await api("/healthz", { headers: { origin: "https://kiosk.example" } });
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("health and default headers", () => {
  it("GET /healthz needs no key and answers in the envelope", async () => {
    const res = await api("/healthz", { key: null });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ success: true, data: { status: "ok" } });
  });

  it("sends secure headers, no-store and a request id on API answers, errors included", async () => {
    for (const res of [await api("/healthz"), await api("/v1/persona/x/session", { key: null })]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(res.headers.get("strict-transport-security")).toMatch(/max-age=/);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("x-request-id")).toBeTruthy();
    }
  });

  it("tells every answer's server time with milliseconds, errors and preflights included", async () => {
    const before = Date.now();
    const answers = [
      await api("/healthz"),
      await api("/v1/persona/x/session", { key: null }),
      await api("/nowhere"),
      await api("/healthz", {
        method: "OPTIONS",
        key: null,
        headers: { origin: "https://k.example", "access-control-request-method": "GET" },
      }),
    ];
    const after = Date.now();
    for (const res of answers) {
      const told = res.headers.get("x-server-time");
      expect(told).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const at = Date.parse(told!);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
    }
  });
});

describe("request logs", () => {
  afterEach(() => vi.restoreAllMocks());

  it("writes one JSON line per request with the route template, never the key or meta", async () => {
    const persona = personaId("logs");
    await start(persona);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    await stamp(persona, { status: "CHAT", meta: { secret_meta_value: "shh" } }, { headers: { "x-request-id": "log-test-1" } });
    await api(`/v1/persona/${persona}/session/nope`);
    expect(lines).toHaveLength(2);
    const [ok, missing] = lines.map((l) => JSON.parse(l));
    expect(ok).toEqual({
      request_id: "log-test-1",
      tenant: "acme",
      method: "POST",
      route: "/v1/persona/:persona_id/session/stamp",
      status: 201,
      ms: expect.any(Number),
    });
    expect(missing).toMatchObject({ status: 404, code: "NOT_FOUND" });
    const all = lines.join("\n");
    expect(all).not.toContain(KEYS.acme);
    expect(all).not.toContain("secret_meta_value");
    expect(all).not.toContain(persona);
  });
});
