// A kiosk's visit, written against a client generated from the API's OpenAPI document by standard
// tools: openapi-typescript turns GET /openapi.json into schema.d.ts, openapi-fetch calls it.
// Nothing here comes from this repository's own code: only the document.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Session = components["schemas"]["Session"];

export interface Visit {
  labels: string[];
  notModified: boolean;
  lateStamp: components["schemas"]["Error"]["error"]["code"] | undefined;
  erased: number;
}

function fail(step: string, error: unknown, response: Response): never {
  throw new Error(`${step}: ${response.status} ${JSON.stringify(error)}`);
}

export async function visit(baseUrl: string, sdkKey: string, personaId: string): Promise<Visit> {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${sdkKey}` } });
  const path = { persona_id: personaId };
  // One key per logical request: a retry with the same key can never record twice.
  const once = () => ({ "idempotency-key": crypto.randomUUID() });

  const started = await api.POST("/v1/persona/{persona_id}/session/start", { params: { path, header: once() }, body: {} });
  if (!started.data) fail("start", started.error, started.response);
  const sessionId: string = started.data.data.session_id;

  for (const status of ["CHAT", "SHOPPING"]) {
    const stamped = await api.POST("/v1/persona/{persona_id}/session/stamp", {
      params: { path, header: once() },
      // meta is an open object in the document, so any JSON object is accepted here.
      body: { status, meta: { zone: "wine", basket: [1, 2], vip: status === "SHOPPING" }, session_id: sessionId },
    });
    if (!stamped.data) fail(`stamp ${status}`, stamped.error, stamped.response);
  }
  const batch = await api.POST("/v1/persona/{persona_id}/session/stamps", {
    params: { path, header: once() },
    body: { stamps: [{ status: "PAYMENT" }, { status: "COMPLETE", meta: { total_cents: 4250 } }], session_id: sessionId },
  });
  if (!batch.data) fail("stamps", batch.error, batch.response);

  const live = await api.GET("/v1/persona/{persona_id}/session", { params: { path } });
  if (!live.data) fail("current", live.error, live.response);
  const etag = live.response.headers.get("ETag") ?? "";
  const again = await api.GET("/v1/persona/{persona_id}/session", { params: { path, header: { "if-none-match": etag } } });

  const ended = await api.POST("/v1/persona/{persona_id}/session/end", { params: { path, header: once() }, body: {} });
  if (!ended.data) fail("end", ended.error, ended.response);
  const session: Session = ended.data.data;

  const late = await api.POST("/v1/persona/{persona_id}/session/stamp", { params: { path, header: once() }, body: { status: "LATE" } });

  const history = await api.GET("/v1/persona/{persona_id}/sessions", { params: { path, query: { limit: 5 } } });
  if (history.data?.data.sessions[0]?.session_id !== sessionId) fail("history", history.error, history.response);
  const one = await api.GET("/v1/persona/{persona_id}/sessions/{session_id}", { params: { path: { ...path, session_id: sessionId } } });
  if (one.data?.data.end_reason !== "client") fail("session", one.error, one.response);

  const erased = await api.DELETE("/v1/persona/{persona_id}", { params: { path } });
  return {
    labels: session.stamps.map((s) => s.status),
    notModified: again.response.status === 304,
    lateStamp: late.error?.error.code,
    erased: erased.response.status,
  };
}
