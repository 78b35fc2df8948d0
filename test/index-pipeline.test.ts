import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { liveShard, monthOf, monthShard } from "../src/tenant-index/messages";
import { admin, api, DAY, end, erase, HOUR, KEYS, newKey, newTenant, personaId, personaStub, sqlIn, stamp, start } from "./helpers";

/** Polls `read` until `done` holds (the queue delivers in batches within a second or two). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Listed {
  persona_id: string;
  session_id: string;
  status: string;
  stamp_count: number;
  ended_at: string | null;
  end_reason: string | null;
  last_status?: string;
}

const activeOf = async (persona: string) =>
  ((await api(`/v1/sessions/active?limit=100`)).json.data.sessions as Listed[]).find((s) => s.persona_id === persona);
const searchOf = async (persona: string) => {
  const from = new Date(Date.now() - 92 * DAY).toISOString();
  return (await api(`/v1/sessions?persona_id=${persona}&from=${from}`)).json.data.sessions as Listed[];
};

/** The persona's rows in its tenant's shards (acme, this month). */
async function indexRows(persona: string) {
  const read = (shard: string, query: string) =>
    runInDurableObject(env.TENANT_INDEX.getByName(shard), (_i, state) => state.storage.sql.exec(query, persona).toArray());
  return {
    sessions: await read(monthShard("acme", monthOf(Date.now())), "SELECT * FROM sessions WHERE persona_id = ?"),
    live: await read(liveShard("acme"), "SELECT * FROM live WHERE persona_id = ?"),
  };
}

interface OutboxInternals {
  sent: { seq: number } | null;
  scheduled: boolean;
  flushedAt: number;
  sentAt: number;
  checkAt: number | null;
  fullChecksUntil: number;
  sends: { at: number }[];
  state: { confirmed: { seq: number } | null };
}
const outboxOf = (instance: unknown) => (instance as { outbox: OutboxInternals }).outbox;

/** As if the persona's last send were ten seconds old: its stream has paused, so its next check is a full one. */
async function paused(persona: string) {
  await runInDurableObject(personaStub(persona), (instance) => {
    outboxOf(instance).sentAt = Date.now() - 10_000;
  });
}

/** A persona with a session of two stamps (ENTER, CHAT) that the index holds. */
async function indexedSession(name: string) {
  const persona = personaId(name);
  await start(persona);
  await stamp(persona, { status: "CHAT" });
  await eventually(
    () => indexRows(persona),
    (r) => r.sessions[0]?.stamps_held === 2,
  );
  return { persona, stub: personaStub(persona) };
}

describe("the tenant index, fed through the queue", () => {
  it("shows a started session as active with its current status, drops it when it ends, and finds it in search", async () => {
    const persona = personaId("live");
    const started = (await start(persona)).json.data;
    await stamp(persona, { status: "CHAT" });
    const mine = await eventually(
      () => activeOf(persona),
      (s) => s?.status === "CHAT",
    );
    expect(mine).toMatchObject({ session_id: started.session_id, status: "CHAT", stamp_count: 2, started_at: started.started_at });
    await end(persona);
    expect(
      await eventually(
        () => activeOf(persona),
        (s) => s === undefined,
      ),
    ).toBeUndefined();
    const found = await eventually(
      () => searchOf(persona),
      (s) => s[0]?.ended_at !== null && s.length === 1,
    );
    expect(found).toMatchObject([{ session_id: started.session_id, stamp_count: 2, end_reason: "client", last_status: "CHAT" }]);
  });

  it("tenant isolation: tenant B sees nothing of A's on either route, and read keys may read", async () => {
    const persona = personaId("iso");
    await start(persona);
    await eventually(
      () => activeOf(persona),
      (s) => s !== undefined,
    );
    const b = await api("/v1/sessions/active?limit=100", { key: KEYS.globex });
    expect(b.status).toBe(200);
    expect(b.json.data.sessions.some((s: Listed) => s.persona_id === persona)).toBe(false);
    expect((await api(`/v1/sessions?persona_id=${persona}`, { key: KEYS.globex })).json.data.sessions).toEqual([]);
    const read = await api(`/v1/sessions?persona_id=${persona}`, { key: KEYS.acmeReadOnly });
    expect(read.json.data.sessions).toHaveLength(1);
  });

  it("erasure removes the persona from the index (late messages: index-apply.test.ts); a new visit after it is indexed", async () => {
    const persona = personaId("erase");
    await start(persona);
    await stamp(persona, { status: "CHAT" });
    await eventually(
      () => searchOf(persona),
      (s) => s.length === 1,
    );
    expect((await erase(persona)).status).toBe(204);
    await eventually(
      () => searchOf(persona),
      (s) => s.length === 0,
    );
    expect(await searchOf(persona)).toEqual([]);
    expect(await activeOf(persona)).toBeUndefined();
    // A new visit after the erasure is indexed (its id sorts above the floor).
    const again = (await start(persona)).json.data.session_id;
    const found = await eventually(
      () => searchOf(persona),
      (s) => s.length === 1,
    );
    expect(found.map((s) => s.session_id)).toEqual([again]);
  });

  it("an idle-timeout end leaves the active view and shows in search as idle_timeout", async () => {
    const persona = personaId("idle");
    await start(persona);
    await eventually(
      () => activeOf(persona),
      (s) => s !== undefined,
    );
    const at = Date.now() - 3 * HOUR;
    await sqlIn(persona, "UPDATE stamps SET ts = ?, received_at = ?", at, at);
    await sqlIn(persona, "UPDATE sessions SET last_activity_at = ?, last_stamp_at = ?, started_at = ?", at, at, at);
    await runDurableObjectAlarm(personaStub(persona));
    await eventually(
      () => activeOf(persona),
      (s) => s === undefined,
    );
    expect(await activeOf(persona)).toBeUndefined();
    const found = await eventually(
      () => searchOf(persona),
      (s) => s[0]?.end_reason === "idle_timeout",
    );
    expect(found[0]?.end_reason).toBe("idle_timeout");
  });

  it("retention removes expired sessions from the index too", async () => {
    const persona = personaId("retain");
    const old = (await start(persona)).json.data.session_id;
    await end(persona);
    const kept = (await start(persona)).json.data.session_id;
    await eventually(
      () => searchOf(persona),
      (s) => s.length === 2,
    );
    await sqlIn(persona, "UPDATE sessions SET ended_at = ? WHERE session_id = ?", Date.now() - 91 * DAY, old);
    await runDurableObjectAlarm(personaStub(persona));
    const left = await eventually(
      () => searchOf(persona),
      (s) => s.length === 1,
    );
    expect(left.map((s) => s.session_id)).toEqual([kept]);
  });

  /** The index loses everything it had of this persona (as if the messages had never arrived). */
  async function loseFromIndex(persona: string) {
    for (const shard of [monthShard("acme", monthOf(Date.now())), liveShard("acme")]) {
      await runInDurableObject(env.TENANT_INDEX.getByName(shard), (_i, state) => {
        state.storage.sql.exec("DELETE FROM stamps WHERE session_id IN (SELECT session_id FROM sessions WHERE persona_id = ?)", persona);
        state.storage.sql.exec("DELETE FROM sessions WHERE persona_id = ?", persona);
        state.storage.sql.exec("DELETE FROM live WHERE persona_id = ?", persona);
      });
    }
  }

  async function recordAndLose(name: string) {
    const persona = personaId(name);
    await start(persona);
    await stamp(persona, { status: "CHAT" });
    await stamp(persona, { status: "PAYMENT" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions.length === 1 && r.live.length === 1,
    );
    await loseFromIndex(persona);
    return persona;
  }

  async function expectRecovered(persona: string) {
    const rows = await eventually(
      () => indexRows(persona),
      (r) => r.sessions.length === 1 && r.live.length === 1,
    );
    expect(rows.sessions[0]).toMatchObject({ stamp_count: 3, last_status: "PAYMENT" });
    expect(rows.live[0]).toMatchObject({ stamp_count: 3, status: "PAYMENT" });
    // The next check confirms it: the watermark reaches the session's latest stamp.
    await runDurableObjectAlarm(personaStub(persona));
    const [state] = await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'index'");
    expect(JSON.parse(String(state!.value)).confirmed).toMatchObject({ seq: 3, ended: false });
  }

  it("what the index lost is re-sent by the alarm's check once the index has applied messages queued after it", async () => {
    const persona = await recordAndLose("lost");
    // Moments after the send, what is missing may still be on its way: the check does not re-send.
    await runDurableObjectAlarm(personaStub(persona));
    await new Promise((r) => setTimeout(r, 1500));
    expect((await indexRows(persona)).sessions).toEqual([]);
    // Another persona's change, queued after the grace, reaches the index: ours was lost.
    await new Promise((r) => setTimeout(r, 800));
    const other = personaId("later");
    await start(other);
    await eventually(
      () => indexRows(other),
      (r) => r.sessions.length === 1,
    );
    await runDurableObjectAlarm(personaStub(persona));
    await expectRecovered(persona);
  }, 20_000);

  it("the watermark moves over a session's first stamps the index holds, though its newest is not there yet", async () => {
    const persona = personaId("partial");
    await start(persona);
    await stamp(persona, { status: "CHAT" });
    await stamp(persona, { status: "PAYMENT" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 3,
    );
    // As if the newest stamp were still on its way.
    await runInDurableObject(env.TENANT_INDEX.getByName(monthShard("acme", monthOf(Date.now()))), (_i, state) => {
      state.storage.sql.exec(
        "DELETE FROM stamps WHERE seq = 3 AND session_id IN (SELECT session_id FROM sessions WHERE persona_id = ?)",
        persona,
      );
      state.storage.sql.exec("UPDATE sessions SET stamps_held = 2 WHERE persona_id = ?", persona);
    });
    await runDurableObjectAlarm(personaStub(persona));
    const [state] = await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'index'");
    expect(JSON.parse(String(state!.value)).confirmed).toMatchObject({ seq: 2, ended: false });
  });

  it("under a stream of stamps a check keeps the watermark's move to itself for up to a minute; with nothing left unconfirmed it writes it", async () => {
    const persona = personaId("lazy-watermark");
    const shard = env.TENANT_INDEX.getByName(monthShard("acme", monthOf(Date.now())));
    const stored = async () => {
      const [state] = await sqlIn(persona, "SELECT value FROM object_state WHERE key = 'index'");
      return JSON.parse(String(state!.value)).confirmed as { seq: number };
    };
    await start(persona);
    await stamp(persona, { status: "CHAT" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 2,
    );
    await runDurableObjectAlarm(personaStub(persona));
    expect(await stored()).toMatchObject({ seq: 2 });
    await stamp(persona, { status: "SHOPPING" });
    await stamp(persona, { status: "PAYMENT" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 4,
    );
    // As if stamp 4 were still on its way: the check (the stream paused) confirms 3 and writes nothing yet.
    const [missing] = await runInDurableObject(shard, (_i, state) => {
      const rows = state.storage.sql
        .exec("SELECT * FROM stamps WHERE seq = 4 AND session_id IN (SELECT session_id FROM sessions WHERE persona_id = ?)", persona)
        .toArray();
      state.storage.sql.exec("DELETE FROM stamps WHERE seq = 4 AND session_id = ?", rows[0]!.session_id);
      state.storage.sql.exec("UPDATE sessions SET stamps_held = 3 WHERE persona_id = ?", persona);
      return rows;
    });
    await paused(persona);
    await runDurableObjectAlarm(personaStub(persona));
    expect(await runInDurableObject(personaStub(persona), (i) => outboxOf(i).state.confirmed)).toMatchObject({ seq: 3 });
    expect(await stored()).toMatchObject({ seq: 2 });
    // Stamp 4 lands: nothing is left unconfirmed, and the check writes the watermark.
    await runInDurableObject(shard, (_i, state) => {
      const row = missing as Record<string, SqlStorageValue>;
      const columns = Object.keys(row);
      state.storage.sql.exec(
        `INSERT INTO stamps (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
        ...columns.map((c) => row[c]),
      );
      state.storage.sql.exec("UPDATE sessions SET stamps_held = 4 WHERE persona_id = ?", persona);
    });
    await paused(persona);
    await runDurableObjectAlarm(personaStub(persona));
    expect(await stored()).toMatchObject({ seq: 4 });
  });

  it("under a stream into a session the index holds, a due check is put off to 10 s after the latest send, without asking the shard", async () => {
    const { persona, stub } = await indexedSession("put-off");
    await runDurableObjectAlarm(stub); // the first check is a full one: the index holds the session
    await stamp(persona, { status: "SHOPPING" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 3,
    );
    const sentAt = await runInDurableObject(stub, (i) => outboxOf(i).sentAt);
    await runDurableObjectAlarm(stub);
    // Put off: the watermark did not move to the 3 stamps the index holds, and the check is due
    // ten seconds after the latest send.
    const after = await runInDurableObject(stub, (i) => ({ confirmed: outboxOf(i).state.confirmed, checkAt: outboxOf(i).checkAt }));
    expect(after.confirmed).toMatchObject({ seq: 2 });
    expect(after.checkAt).toBe(sentAt + 10_000);
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(sentAt + 10_000);
    // Once the stream pauses, the check asks the shard again.
    await paused(persona);
    await runDurableObjectAlarm(stub);
    expect(await runInDurableObject(stub, (i) => outboxOf(i).state.confirmed)).toMatchObject({ seq: 3 });
  }, 20_000);

  it("a shard that finds a persona's earlier stamps missing tells its object, which checks within 5 s and sends them again", async () => {
    const shard = env.TENANT_INDEX.getByName(monthShard("acme", monthOf(Date.now())));
    const { persona, stub } = await indexedSession("gap");
    await runDurableObjectAlarm(stub); // confirmed: the session, 2 stamps
    await stamp(persona, { status: "SHOPPING" });
    await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 3,
    );
    // As if the message with stamp 3 had been lost.
    await runInDurableObject(shard, (_i, state) => {
      state.storage.sql.exec(
        "DELETE FROM stamps WHERE seq = 3 AND session_id IN (SELECT session_id FROM sessions WHERE persona_id = ?)",
        persona,
      );
      state.storage.sql.exec("UPDATE sessions SET stamps_held = 2, stamp_count = 2 WHERE persona_id = ?", persona);
    });
    const dueBefore = await runInDurableObject(stub, (i) => outboxOf(i).checkAt);
    const reported = Date.now();
    await stamp(persona, { status: "PAYMENT" }); // its message shows the shard that stamp 3 is missing
    const due = await eventually(
      () => runInDurableObject(stub, (_i, state) => state.storage.getAlarm()),
      (at) => at !== null && at < dueBefore!,
    );
    expect(due).toBeLessThan(dueBefore!);
    expect(due).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(due).toBeGreaterThanOrEqual(reported + 5_000);
    // Five seconds on (made up here), the send of stamp 3 counts as lost; the check is not put
    // off, though the persona is still streaming, and sends it again.
    await runInDurableObject(stub, (i) => {
      for (const send of outboxOf(i).sends) send.at -= 6_000;
    });
    await runDurableObjectAlarm(stub);
    const rows = await eventually(
      () => indexRows(persona),
      (r) => r.sessions[0]?.stamps_held === 4,
    );
    expect(rows.sessions[0]).toMatchObject({ stamps_held: 4, stamp_count: 4, last_status: "PAYMENT" });
  }, 30_000);

  it("a persona whose calls keep coming is checked by a call, without an alarm run: the check's alarm moves on", async () => {
    const { persona, stub } = await indexedSession("in-band");
    const armed = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(armed).not.toBeNull();
    // As if eight seconds had passed since the first change: its check is due within the lead (3 s).
    const due = await runInDurableObject(stub, (instance) => {
      const at = Date.now() + 2000;
      outboxOf(instance).checkAt = at;
      return at;
    });
    await stamp(persona, { status: "SHOPPING" });
    // The stamp ran the check: the watermark (first write since start-up) reaches what the index had...
    const [state] = await eventually(
      () => sqlIn(persona, "SELECT value FROM object_state WHERE key = 'index'"),
      (rows) => rows.length === 1,
    );
    expect(JSON.parse(String(state!.value)).confirmed).toMatchObject({ seq: 2 });
    // ...and the alarm moved on to the next check, ten seconds after this one was due (an alarm is
    // only ever moved earlier otherwise).
    const moved = await runInDurableObject(stub, (_i, s) => s.storage.getAlarm());
    expect(moved).toBe(due + 10_000);
    expect(moved).toBeGreaterThan(armed!);
  });

  it("a change after a quiet spell is handed to the sender at once; one within 100 ms of the last send waits out the rest", async () => {
    const persona = personaId("send-now");
    const stub = personaStub(persona);
    /** What was last handed to the sender, and whether a send waits on a timer. */
    const sendState = () => runInDurableObject(stub, (i) => ({ seq: outboxOf(i).sent?.seq, scheduled: outboxOf(i).scheduled }));
    await start(persona);
    await new Promise((r) => setTimeout(r, 150));
    await stamp(persona, { status: "CHAT" });
    // Handed over in the stamp's own call: no timer left, the sent position is the new stamp.
    expect(await sendState()).toEqual({ seq: 2, scheduled: false });
    // As if it had just sent: the next change waits for the rest of the 100 ms, then goes.
    await runInDurableObject(stub, (instance) => {
      outboxOf(instance).flushedAt = Date.now();
    });
    await stamp(persona, { status: "SHOPPING" });
    expect(await sendState()).toEqual({ seq: 2, scheduled: true });
    const sent = await eventually(
      () => runInDurableObject(stub, (instance) => outboxOf(instance).sent?.seq),
      (seq) => seq === 3,
      2000,
    );
    expect(sent).toBe(3);
  });

  it("what the index lost is re-sent by the first check after the object restarted (nothing is on its way then)", async () => {
    const persona = await recordAndLose("lost-restart");
    await evictDurableObject(personaStub(persona));
    await runDurableObjectAlarm(personaStub(persona));
    await expectRecovered(persona);
  });

  it("rebuild: resendToIndex sends the whole state again into an emptied index", async () => {
    const persona = personaId("rebuild");
    await start(persona);
    await end(persona);
    await start(persona);
    await eventually(
      () => searchOf(persona),
      (s) => s.length === 2,
    );
    await runInDurableObject(env.TENANT_INDEX.getByName(monthShard("acme", monthOf(Date.now()))), (_i, state) => {
      state.storage.sql.exec("DELETE FROM sessions WHERE persona_id = ?", persona);
    });
    expect(await searchOf(persona)).toEqual([]);
    await personaStub(persona).resendToIndex();
    expect(
      await eventually(
        () => searchOf(persona),
        (s) => s.length === 2,
      ),
    ).toHaveLength(2);
  });
});

describe("GET /v1/sessions/active: filters and paging", () => {
  it("filters by current status, counts the whole tenant, pages longest-running first", async () => {
    const label = `WAIT-${crypto.randomUUID().slice(0, 8)}`;
    const personas = [personaId("page"), personaId("page"), personaId("page")];
    for (const [i, persona] of personas.entries()) {
      await start(persona, { body: { occurred_at: new Date(Date.now() - (10 - i) * 60_000).toISOString() } });
      await stamp(persona, { status: label });
    }
    const first = await eventually(
      () => api(`/v1/sessions/active?status=${label}&limit=2`),
      (r) => r.json.data.counts_by_status[label] === 3,
    );
    expect(first.json.data.counts_by_status[label]).toBe(3);
    expect(first.json.data.total_active).toBeGreaterThanOrEqual(3);
    expect(typeof first.json.data.as_of).toBe("string");
    expect(first.json.data.sessions.map((s: Listed) => s.persona_id)).toEqual(personas.slice(0, 2));
    const second = await api(`/v1/sessions/active?status=${label}&limit=2&cursor=${first.json.data.next_cursor}`);
    expect(second.json.data.sessions.map((s: Listed) => s.persona_id)).toEqual(personas.slice(2));
    expect(second.json.data.next_cursor).toBeNull();
  });

  it("refuses a bad limit or cursor with VALIDATION_ERROR naming the field", async () => {
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["cursor=nonsense", "cursor"],
    ] as const) {
      const res = await api(`/v1/sessions/active?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_ERROR");
      expect(res.json.error.details.fields[0].path).toBe(field);
    }
  });
});

describe("GET /v1/sessions: range, filters and paging", () => {
  it("selects by start time, persona, end reason and label, newest first, in pages", async () => {
    const persona = personaId("search");
    const label = `L-${crypto.randomUUID().slice(0, 8)}`;
    const t = Date.now() - 5 * HOUR;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await start(persona, { body: { occurred_at: new Date(t + i * HOUR).toISOString() } })).json.data.session_id);
      if (i !== 1) await stamp(persona, { status: label, occurred_at: new Date(t + i * HOUR + 1000).toISOString() });
      await end(persona, { body: { occurred_at: new Date(t + i * HOUR + 2000).toISOString() } });
    }
    const base = `/v1/sessions?persona_id=${persona}&from=${new Date(t).toISOString()}&to=${new Date(t + 3 * HOUR).toISOString()}`;
    const all = await eventually(
      () => api(base),
      (r) => r.json.data.sessions.length === 3 && r.json.data.sessions.every((s: Listed) => s.ended_at !== null),
    );
    expect(all.json.data.sessions.map((s: Listed) => s.session_id)).toEqual([...ids].reverse());
    const labelled = await api(`${base}&status=${label}`);
    expect(labelled.json.data.sessions.map((s: Listed) => s.session_id)).toEqual([ids[2], ids[0]]);
    const later = await api(
      `/v1/sessions?persona_id=${persona}&from=${new Date(t + HOUR).toISOString()}&to=${new Date(t + 2 * HOUR).toISOString()}`,
    );
    expect(later.json.data.sessions.map((s: Listed) => s.session_id)).toEqual([ids[1]]);
    expect((await api(`${base}&end_reason=idle_timeout`)).json.data.sessions).toEqual([]);
    const page1 = await api(`${base}&limit=2`);
    expect(page1.json.data.sessions.map((s: Listed) => s.session_id)).toEqual([ids[2], ids[1]]);
    const page2 = await api(`${base}&limit=2&cursor=${page1.json.data.next_cursor}`);
    expect(page2.json.data.sessions.map((s: Listed) => s.session_id)).toEqual([ids[0]]);
    expect(page2.json.data.next_cursor).toBeNull();
  });

  it("refuses bad ranges, filters and cursors with VALIDATION_ERROR naming the field", async () => {
    const cases = [
      ["from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"],
      ["from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"],
      ["from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", "to"],
      ["from=yesterday", "from"],
      ["end_reason=bored", "end_reason"],
      ["persona_id=..", "persona_id"],
      ["limit=abc", "limit"],
      ["cursor=YTox", "cursor"],
    ] as const;
    for (const [query, field] of cases) {
      const res = await api(`/v1/sessions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code, query).toBe("VALIDATION_ERROR");
      expect(res.json.error.details.fields[0].path, query).toBe(field);
    }
  });
});

describe("POST /admin/v1/tenants/{tenant_id}/index/resend: rebuilding a tenant's index", () => {
  it("asks every persona the index knows, page by page, to send its whole state again", async () => {
    const tenant = await newTenant();
    const key = (await newKey(tenant, "write")).key;
    const personas = [personaId("rb"), personaId("rb"), personaId("rb")];
    for (const persona of personas) {
      await start(persona, { key });
      await stamp(persona, { status: "CHAT" }, { key });
    }
    const search = async () => (await api(`/v1/sessions?limit=100`, { key })).json.data.sessions as Listed[];
    await eventually(search, (s) => s.length === 3);
    // The month shard loses its rows (the live shard still knows the personas).
    await runInDurableObject(env.TENANT_INDEX.getByName(monthShard(tenant, monthOf(Date.now()))), (_i, state) => {
      state.storage.sql.exec("DELETE FROM stamps");
      state.storage.sql.exec("DELETE FROM sessions");
    });
    expect(await search()).toEqual([]);
    const first = await admin(`/tenants/${tenant}/index/resend?limit=2`, { method: "POST" });
    expect(first.status).toBe(200);
    expect(first.json.data.personas).toBe(2);
    const second = await admin(`/tenants/${tenant}/index/resend?limit=2&cursor=${first.json.data.next_cursor}`, { method: "POST" });
    expect(second.json.data).toEqual({ personas: 1, next_cursor: null });
    const back = await eventually(search, (s) => s.length === 3);
    expect(back.map((s) => s.persona_id).sort()).toEqual([...personas].sort());
    expect(back.every((s) => s.stamp_count === 2 && s.last_status === "CHAT")).toBe(true);
  });

  it("needs an admin key, and refuses a bad since or cursor naming the field", async () => {
    expect((await api("/admin/v1/tenants/acme/index/resend", { method: "POST" })).status).toBe(401);
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["since=2001-01-01T00:00:00Z", "since"],
      ["cursor=bm9wZQ", "cursor"],
      ["limit=0", "limit"],
    ] as const) {
      const res = await admin(`/tenants/acme/index/resend?${query}`, { method: "POST" });
      expect(res.status, query).toBe(400);
      expect(res.json.error.details.fields[0].path, query).toBe(field);
    }
  });
});
