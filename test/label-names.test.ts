// Labels and store ids are free text within their rules, so `constructor` and `__proto__` are
// valid ones: every answer keyed by them must hold them as data, never as an object's inherited
// property (a 500, a lost key, or a session dropped from a count).
import { describe, expect, it, vi } from "vitest";
import { admin, api, base, newKey, newTenant, personaId, sleep } from "./helpers";

vi.setConfig({ testTimeout: 30_000 });

const LABELS = ["constructor", "__proto__", "toString"];

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const until = Date.now() + 8000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await sleep(100);
  }
}

describe("labels and store ids named like Object.prototype's properties", async () => {
  const tenant = await newTenant({ retention_days: 0, idle_timeout_seconds: 0 }, "proto");
  const stores = ["constructor", "__proto__"].map((store_id) => ({ store_id, name: store_id, time_zone: "Asia/Kolkata" }));
  expect((await admin(`/tenants/${tenant}/stores`, { method: "PUT", body: { stores } })).status).toBe(200);
  const key = (await newKey(tenant, "write")).key;
  const from = new Date(Date.now() - 3_600_000).toISOString();
  // One ended session per store, each through every label, and one still active in `constructor`.
  for (const store of ["constructor", "__proto__"]) {
    const persona = personaId("proto");
    expect(
      (await api(`${base(persona)}/session/start`, { method: "POST", key, body: { store_id: store, occurred_at: from } })).status,
    ).toBe(201);
    const stamps = LABELS.map((status, i) => ({ status, occurred_at: new Date(Date.parse(from) + (i + 1) * 60_000).toISOString() }));
    expect((await api(`${base(persona)}/session/stamps`, { method: "POST", key, body: { stamps } })).status).toBe(201);
    const end = new Date(Date.parse(from) + 10 * 60_000).toISOString();
    expect((await api(`${base(persona)}/session/end`, { method: "POST", key, body: { occurred_at: end } })).status).toBe(200);
  }
  const active = personaId("proto-active");
  expect((await api(`${base(active)}/session/start`, { method: "POST", key, body: { store_id: "constructor" } })).status).toBe(201);
  expect((await api(`${base(active)}/session/stamp`, { method: "POST", key, body: { status: "__proto__" } })).status).toBe(201);
  let i = 0;
  // Each read its own `to` (the analytics cache is keyed by the arguments).
  const range = () => `from=${from}&to=${new Date(Date.now() + 60_000 - i++).toISOString()}`;

  it("dwell lists each label with its own visits", async () => {
    const data = await eventually(
      async () => (await api(`/v1/analytics/dwell?${range()}`, { key })).json.data,
      (d) => d?.statuses?.length >= 4,
    );
    const visits = Object.fromEntries(data.statuses.map((s: { status: string; visits: number }) => [s.status, s.visits]));
    // constructor → __proto__ → toString, the last until the client's end: one visit each per ended
    // session; the active one adds its ENTER (until its __proto__ stamp), its last stamp none yet.
    expect(visits).toEqual(
      Object.fromEntries([
        ["ENTER", 3],
        ["constructor", 2],
        ["__proto__", 2],
        ["toString", 2],
      ]),
    );
  });

  it("the funnel, paths and visits in each store's zone count every session", async () => {
    const funnel = (await api(`/v1/analytics/funnel?step=constructor&step=__proto__&step=toString&group_by=store&${range()}`, { key })).json
      .data;
    expect(funnel.steps.map((s: { sessions: number }) => s.sessions)).toEqual([2, 2, 2]);
    expect(funnel.groups.map((g: { key: string }) => g.key).sort()).toEqual(["__proto__", "constructor"]);
    const paths = (await api(`/v1/analytics/paths?${range()}`, { key })).json.data;
    expect(paths.sessions).toBe(3);
    const visits = (await api(`/v1/analytics/visits?interval=hour&tz=store&store_id=constructor&store_id=__proto__&${range()}`, { key }))
      .json.data;
    expect(visits.sessions).toBe(3);
  });

  it("the live views count by a status named __proto__", async () => {
    const board = await eventually(
      async () => (await api("/v1/occupancy", { key })).json.data,
      (d) => d?.total_active === 1,
    );
    const row = board.stores.find((s: { store_id: string }) => s.store_id === "constructor");
    expect(row.active).toBe(1);
    expect(Object.entries(row.by_status)).toEqual([["__proto__", 1]]);
    const list = (await api("/v1/sessions/active?store_id=constructor", { key })).json.data;
    expect(Object.entries(list.counts_by_status)).toEqual([["__proto__", 1]]);
  });
});
