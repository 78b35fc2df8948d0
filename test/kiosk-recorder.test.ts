// The kiosk recorder of the built client package (client/dist, not its source) against the real
// Worker: what it queued reaches the API exactly once, in order, through lost networks, lost
// answers, crashes at every storage write, wrong clocks, refusals and full queues.
import {
  type ClockSource,
  createKioskRecorder,
  type KioskRecorderOptions,
  memoryStorage,
  QueueFullError,
  type RecorderFetch,
  type RecorderStorage,
} from "@persona-session/client";
import { describe, expect, it } from "vitest";
import { admin, api, documentedFetch, HOUR, KEYS, newKey, newTenant, personaId, stamp, start } from "./helpers";

interface Sent {
  method: string;
  path: string;
  key: string | undefined;
  body: string | undefined;
}

/** The kiosk's network: on or off, answers that can be lost after the server acted, scripted refusals. */
function network() {
  const net = {
    online: true,
    /** Forward the next N requests, then drop their answers (the server acted; the kiosk never hears). */
    lose: 0,
    /** Answers given instead of forwarding, one per request, first in first out. */
    refuse: [] as { status: number; retryAfter?: number }[],
    sent: [] as Sent[],
    at: [] as number[],
    fetch: (async (url, init) => {
      const path = new URL(url).pathname;
      net.sent.push({ method: init.method, path, key: init.headers["idempotency-key"], body: init.body });
      net.at.push(Date.now());
      if (!net.online) throw new TypeError("Failed to fetch");
      const refusal = net.refuse.shift();
      if (refusal) {
        const headers = new Headers({ "content-type": "application/json", "x-server-time": new Date().toISOString() });
        if (refusal.retryAfter !== undefined) headers.set("retry-after", String(refusal.retryAfter));
        const code = refusal.status === 429 ? "RATE_LIMITED" : "UNAVAILABLE";
        return new Response(JSON.stringify({ success: false, error: { code, message: "scripted" } }), { status: refusal.status, headers });
      }
      const res = await documentedFetch(url, init as RequestInit);
      if (net.lose > 0) {
        net.lose -= 1;
        await res.text();
        throw new TypeError("connection reset");
      }
      return res;
    }) as RecorderFetch,
  };
  return net;
}

const posts = (sent: Sent[]) => sent.filter((s) => s.method === "POST");

function recorder(net = network(), extra: Partial<KioskRecorderOptions> = {}) {
  return createKioskRecorder({
    baseUrl: "https://api.test",
    key: KEYS.acme,
    storage: memoryStorage(),
    fetch: net.fetch,
    baseDelayMs: 5,
    ...extra,
  });
}

/** Every session of the persona, oldest first, with its stamps. */
async function sessionsOf(persona: string, key: string = KEYS.acme) {
  const list = await api(`/v1/persona/${persona}/sessions?limit=100`, { key });
  const ids: string[] = list.json.data.sessions.map((s: { session_id: string }) => s.session_id).reverse();
  const active = await api(`/v1/persona/${persona}/session`, { key });
  if (active.status === 200) ids.push(active.json.data.session_id);
  const out = [];
  for (const id of ids) out.push((await api(`/v1/persona/${persona}/sessions/${id}`, { key })).json.data);
  return out as {
    session_id: string;
    ended_at: string | null;
    end_reason: string | null;
    stamps: { status: string; timestamp: string; meta?: Record<string, unknown> }[];
  }[];
}

describe("kiosk recorder: delivery", () => {
  it("records a visit offline and delivers it once online: one session, every stamp in order, at its recorded time", async () => {
    const net = network();
    net.online = false;
    const rec = recorder(net);
    const persona = personaId("offline");
    const kiosk = rec.persona(persona);
    const recordedFrom = Date.now();
    await kiosk.start({ kiosk_id: "k-1" });
    for (let i = 0; i < 100; i++) await kiosk.stamp(`S${i}`, i % 10 === 0 ? { i } : undefined);
    await kiosk.end();
    const recordedTo = Date.now();
    expect(rec.status()).toMatchObject({ pending: 102, dead_letters: 0, clock_synced: false });
    expect((await rec.flush()).pending).toBe(102);

    net.online = true;
    const done = await rec.flush();
    expect(done).toMatchObject({ pending: 0, dead_letters: 0, clock_synced: true, last_error: null });
    const [session, ...more] = await sessionsOf(persona);
    expect(more).toEqual([]);
    expect(session!.stamps.map((s) => s.status)).toEqual(["ENTER", ...Array.from({ length: 100 }, (_, i) => `S${i}`)]);
    expect(session!.stamps[11]!.meta).toEqual({ i: 10 });
    expect(session!.end_reason).toBe("client");
    for (const s of session!.stamps) {
      expect(Date.parse(s.timestamp)).toBeGreaterThanOrEqual(recordedFrom - 1000);
      expect(Date.parse(s.timestamp)).toBeLessThanOrEqual(recordedTo + 1000);
    }
    // The start, one batch of the 100 stamps, the end.
    const online = posts(net.sent.filter((_, i) => i >= net.sent.findIndex((s) => s.method === "GET")));
    expect(online.map((s) => s.path.split("/").pop())).toEqual(["start", "stamps", "end"]);
    expect(JSON.parse(online[1]!.body!).session_id).toBe(session!.session_id);
    expect(JSON.parse(online[2]!.body!).session_id).toBe(session!.session_id);
    await rec.close();
  });

  it("resends a request whose answer was lost byte for byte with its key, so the API answers it from its idempotency record", async () => {
    const net = network();
    const rec = recorder(net);
    const persona = personaId("lost");
    const kiosk = rec.persona(persona);
    await kiosk.start();
    await rec.flush();
    net.lose = 1;
    await kiosk.stamps([{ status: "CHAT" }, { status: "SHOPPING", meta: { aisle: 4 } }]);
    await rec.flush();
    await rec.flush();
    const batches = posts(net.sent).filter((s) => s.path.endsWith("/stamps"));
    expect(batches.length).toBe(2);
    expect(batches[1]).toEqual(batches[0]);
    const [session] = await sessionsOf(persona);
    expect(session!.stamps.map((s) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING"]);
    await rec.close();
  });

  it("loses nothing and doubles nothing when the kiosk dies at any storage write, then starts again on the same storage", async () => {
    const steps = ["start", "A", "B", "C", "D", "E", "end"] as const;
    let crashedDuringDelivery = 0;
    for (let crashAt = 1; crashAt <= 40; crashAt++) {
      const disk = memoryStorage();
      let writes = 0;
      let dead = false;
      const die = () => {
        dead = true;
        throw new Error("the kiosk lost power");
      };
      const dying: RecorderStorage = {
        getItem: (k) => (dead ? die() : disk.getItem(k)),
        getAllKeys: () => (dead ? die() : disk.getAllKeys()),
        setItem: (k, v) => (dead || ++writes === crashAt ? die() : disk.setItem(k, v)),
        removeItem: (k) => (dead || ++writes === crashAt ? die() : disk.removeItem(k)),
      };
      const net = network();
      const inner = net.fetch;
      net.fetch = (url, init) => (dead ? Promise.reject(new TypeError("no power")) : inner(url, init));
      const persona = personaId(`crash${crashAt}`);
      const first = recorder(net, { storage: dying });
      const kiosk = first.persona(persona);
      const queued: string[] = [];
      for (const step of steps) {
        try {
          if (step === "start") await kiosk.start();
          else if (step === "end") await kiosk.end();
          else await kiosk.stamp(step);
          queued.push(step);
        } catch {
          break;
        }
      }
      await first.flush().catch(() => undefined);
      if (queued.length === steps.length && dead) crashedDuringDelivery += 1;
      await first.close();

      const second = recorder(network(), { storage: disk });
      const after = await second.flush();
      expect(after.pending, `crash at write ${crashAt}`).toBe(0);
      expect(after.dead_letters, `crash at write ${crashAt}`).toBe(0);
      const sessions = await sessionsOf(persona);
      if (queued.length === 0) expect(sessions).toEqual([]);
      else {
        expect(sessions.length, `crash at write ${crashAt}`).toBe(1);
        const stamps = queued.filter((s) => s !== "start" && s !== "end");
        expect(
          sessions[0]!.stamps.map((s) => s.status),
          `crash at write ${crashAt}`,
        ).toEqual(["ENTER", ...stamps]);
        expect(sessions[0]!.end_reason).toBe(queued.includes("end") ? "client" : null);
      }
      await second.close();
    }
    // The crash points covered the delivery's writes too, not only the queueing.
    expect(crashedDuringDelivery).toBeGreaterThan(10);
  });

  it("waits as Retry-After says on 429 and 503, then delivers", async () => {
    const net = network();
    const rec = recorder(net);
    const persona = personaId("retry-after");
    await rec.flush();
    net.refuse.push({ status: 503, retryAfter: 1 }, { status: 429, retryAfter: 1 });
    const from = net.sent.length;
    await rec.persona(persona).start();
    const waiting = await rec.flush();
    expect(waiting.pending).toBe(1);
    expect(waiting.last_error).toMatchObject({ status: 503, code: "UNAVAILABLE" });
    const deadline = Date.now() + 10_000;
    while (rec.status().pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(rec.status()).toMatchObject({ pending: 0, last_error: null });
    const tries = net.at.slice(from);
    expect(tries.length).toBe(3);
    expect(tries[1]! - tries[0]!).toBeGreaterThanOrEqual(1000);
    expect(tries[2]! - tries[1]!).toBeGreaterThanOrEqual(1000);
    expect((await sessionsOf(persona)).length).toBe(1);
    await rec.close();
  });

  it("keeps retrying through the network's absence with growing, jittered delays", async () => {
    const net = network();
    net.online = false;
    const rec = recorder(net, { baseDelayMs: 20, maxDelayMs: 200 });
    await rec.persona(personaId("backoff")).start();
    await new Promise((r) => setTimeout(r, 1500));
    const tries = net.at.length;
    // Delays up to 20, 40, 80, 160, 200, 200... ms: more than a handful of tries in 1.5 s, far fewer than a busy loop.
    expect(tries).toBeGreaterThan(5);
    expect(tries).toBeLessThan(120);
    expect(rec.status().last_error).toMatchObject({ code: "NETWORK_ERROR" });
    await rec.close();
  });
});

describe("kiosk recorder: refusals", () => {
  it("sets aside what a revoked key cannot deliver as dead letters, with the error, and goes on with the rest", async () => {
    const tenant = await newTenant();
    const { key, key_id } = await newKey(tenant);
    expect((await admin(`/tenants/${tenant}/keys/${key_id}`, { method: "DELETE" })).status).toBe(204);
    const rec = recorder(network(), { key });
    const a = personaId("revoked-a");
    const b = personaId("revoked-b");
    await rec.persona(a).start();
    await rec.persona(a).stamp("CHAT");
    await rec.persona(b).start();
    const after = await rec.flush();
    expect(after).toMatchObject({ pending: 0, dead_letters: 3 });
    const letters = rec.deadLetters();
    expect(letters.map((d) => [d.event.persona_id, d.event.kind])).toEqual([
      [a, "start"],
      [a, "stamp"],
      [b, "start"],
    ]);
    expect(letters[0]!.error).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    // The stamp after a refused start is not sent: the recorder says why.
    expect(letters[1]!.error).toMatchObject({ status: 0, code: "START_FAILED" });
    await rec.clearDeadLetters();
    expect(rec.deadLetters()).toEqual([]);
    expect(rec.status().dead_letters).toBe(0);
    await rec.close();
  });

  it("sets aside only the stamp a batch was refused for, and delivers the others in order", async () => {
    const tenant = await newTenant({ statuses: ["CHAT", "SHOPPING", "PAYMENT"] });
    const { key } = await newKey(tenant);
    const net = network();
    const rec = recorder(net, { key });
    const persona = personaId("batch-refused");
    const kiosk = rec.persona(persona);
    await kiosk.start();
    await rec.flush();
    net.online = false;
    await kiosk.stamps([{ status: "CHAT" }, { status: "DANCING" }, { status: "SHOPPING" }]);
    await kiosk.stamp("PAYMENT");
    net.online = true;
    const after = await rec.flush();
    expect(after).toMatchObject({ pending: 0, dead_letters: 1 });
    expect(rec.deadLetters()[0]).toMatchObject({ event: { status: "DANCING" }, error: { status: 422, code: "UNKNOWN_STATUS" } });
    const [session] = await sessionsOf(persona, key);
    expect(session!.stamps.map((s) => s.status)).toEqual(["ENTER", "CHAT", "SHOPPING", "PAYMENT"]);
    await rec.close();
  });

  it("ends a session a crash left open at its last stamp, then starts the new one (SESSION_ACTIVE)", async () => {
    const persona = personaId("left-open");
    const stale = await start(persona);
    expect(stale.status).toBe(201);
    const chat = await stamp(persona, { status: "CHAT" });
    const lastStamp = chat.json.data.timestamp;
    const rec = recorder();
    await rec.persona(persona).start();
    await rec.persona(persona).stamp("SHOPPING");
    const after = await rec.flush();
    expect(after).toMatchObject({ pending: 0, dead_letters: 0 });
    const [old, fresh, ...more] = await sessionsOf(persona);
    expect(more).toEqual([]);
    expect(old!.session_id).toBe(stale.json.data.session_id);
    expect(old!.ended_at).toBe(lastStamp);
    expect(old!.end_reason).toBe("client");
    expect(fresh!.stamps.map((s) => s.status)).toEqual(["ENTER", "SHOPPING"]);
    expect(fresh!.ended_at).toBeNull();
    await rec.close();
  });

  it("refuses an event past the queue's limits with QueueFullError, queueing nothing of it", async () => {
    const net = network();
    net.online = false;
    const rec = recorder(net, { maxPending: 3 });
    const kiosk = rec.persona(personaId("full"));
    await kiosk.start();
    await kiosk.stamp("A");
    await expect(kiosk.stamps([{ status: "B" }, { status: "C" }])).rejects.toBeInstanceOf(QueueFullError);
    await kiosk.stamp("B");
    const full = kiosk.stamp("C");
    await expect(full).rejects.toMatchObject({ name: "QueueFullError", code: "QUEUE_FULL", limit: "count" });
    expect(rec.status().pending).toBe(3);
    await rec.close();

    const small = recorder(net, { maxBytes: 2_000 });
    await expect(small.persona(personaId("bytes")).stamp("X", { blob: "y".repeat(3_000) })).rejects.toMatchObject({ limit: "bytes" });
    expect(small.status().pending).toBe(0);
    await small.close();
  });

  it("holds the queue's limit exactly under calls made all at once: as many queued as fit, the rest refused", async () => {
    const net = network();
    net.online = false;
    const disk = memoryStorage();
    const rec = recorder(net, { maxPending: 5, storage: disk });
    const kiosk = rec.persona(personaId("rivals"));
    const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => kiosk.stamp(`S${i}`)));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(5);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused).toHaveLength(7);
    for (const r of refused) expect(r.reason).toBeInstanceOf(QueueFullError);
    expect(rec.status().pending).toBe(5);
    // What storage holds is what was acknowledged: the five, in call order.
    const stored = (await disk.getAllKeys()).filter((k) => k.startsWith("ps:e:")).sort();
    const statuses = await Promise.all(stored.map(async (k) => JSON.parse((await disk.getItem(k))!).status));
    expect(statuses).toEqual(["S0", "S1", "S2", "S3", "S4"]);
    await rec.close();
  });

  it("leaves records it did not write alone and says so, and goes on with the rest", async () => {
    const disk = memoryStorage();
    await disk.setItem("ps:e:0000000000000001", "not json");
    await disk.setItem("ps:e:0000000000000002", JSON.stringify({ seq: 2, persona: "p" }));
    await disk.setItem("ps:f:p", JSON.stringify({ kind: "launch" }));
    await disk.setItem("other-app:key", "its own");
    const rec = recorder(network(), { storage: disk });
    await rec.ready();
    expect(rec.status()).toMatchObject({ pending: 0, last_error: { code: "STORAGE_CORRUPT" } });
    const persona = personaId("beside-garbage");
    await rec.persona(persona).start();
    expect((await rec.flush()).pending).toBe(0);
    expect((await sessionsOf(persona)).length).toBe(1);
    expect(await disk.getItem("other-app:key")).toBe("its own");
    await rec.close();
  });

  it("refuses what is not an event at once: no persona, no status, a meta that is not an object", async () => {
    const rec = recorder();
    await expect(rec.persona("").start()).rejects.toBeInstanceOf(TypeError);
    await expect(rec.persona("p").stamp("")).rejects.toBeInstanceOf(TypeError);
    await expect(rec.persona("p").stamp("A", [] as unknown as Record<string, unknown>)).rejects.toBeInstanceOf(TypeError);
    await expect(rec.persona("p").stamps([])).rejects.toBeInstanceOf(TypeError);
    expect(rec.status().pending).toBe(0);
    await rec.close();
  });
});

describe("kiosk recorder: wrong clocks", () => {
  /** A device clock `skew` ms off, which can be moved; the monotonic clock is true. */
  function skewed(skew: number) {
    const c: { skew: number; source: ClockSource } = { skew, source: { wall: () => Date.now() + c.skew, mono: () => performance.now() } };
    return c;
  }

  it("times stamps in the server's clock when the device is 2 hours behind, then jumps to 3 hours ahead while offline", async () => {
    const device = skewed(-2 * HOUR);
    const net = network();
    net.online = false;
    const rec = recorder(net, { clock: device.source });
    const persona = personaId("skew");
    const kiosk = rec.persona(persona);
    const t0 = Date.now();
    await kiosk.start();
    await kiosk.stamp("CHAT");
    expect(rec.status().clock_synced).toBe(false);
    net.online = true;
    const synced = await rec.flush();
    expect(synced.clock_synced).toBe(true);
    expect(Math.abs(synced.clock_offset_ms! - 2 * HOUR)).toBeLessThan(1000);
    net.online = false;
    device.skew = 3 * HOUR;
    await new Promise((r) => setTimeout(r, 300));
    const t1 = Date.now();
    await kiosk.stamp("PAYMENT");
    net.online = true;
    await rec.flush();
    const [session] = await sessionsOf(persona);
    const at = Object.fromEntries(session!.stamps.map((s) => [s.status, Date.parse(s.timestamp)]));
    expect(Math.abs(at.ENTER! - t0)).toBeLessThan(1000);
    expect(Math.abs(at.CHAT! - t0)).toBeLessThan(1000);
    expect(Math.abs(at.PAYMENT! - t1)).toBeLessThan(1000);
    await rec.close();
  });

  it("after a restart, times what it records before hearing from the API with the offset it measured last", async () => {
    const disk = memoryStorage();
    const device = skewed(-2 * HOUR);
    const first = recorder(network(), { clock: device.source, storage: disk });
    await first.flush();
    await first.close();
    const net = network();
    net.online = false;
    const second = recorder(net, { clock: { wall: device.source.wall, mono: () => performance.now() + 5e6 }, storage: disk });
    const persona = personaId("restart-skew");
    const t = Date.now();
    await second.persona(persona).start();
    expect(second.status()).toMatchObject({ clock_synced: false });
    expect(Math.abs(second.status().clock_offset_ms! - 2 * HOUR)).toBeLessThan(1000);
    net.online = true;
    await second.flush();
    const [session] = await sessionsOf(persona);
    expect(Math.abs(Date.parse(session!.stamps[0]!.timestamp) - t)).toBeLessThan(1000);
    await second.close();
  });
});

describe("kiosk recorder: status and events", () => {
  it("tells what is pending, how old, and each change", async () => {
    const net = network();
    net.online = false;
    const rec = recorder(net);
    const seen: number[] = [];
    const off = rec.on("change", (s) => seen.push(s.pending));
    const kiosk = rec.persona(personaId("status"));
    await kiosk.start();
    await kiosk.stamp("CHAT");
    await new Promise((r) => setTimeout(r, 50));
    const waiting = rec.status();
    expect(waiting.pending).toBe(2);
    expect(waiting.oldest_pending_age_ms).toBeGreaterThanOrEqual(40);
    expect(waiting.last_error).toMatchObject({ code: "NETWORK_ERROR" });
    net.online = true;
    await rec.flush();
    expect(rec.status()).toMatchObject({ pending: 0, oldest_pending_age_ms: null });
    expect(seen).toContain(1);
    expect(seen).toContain(2);
    expect(seen.at(-1)).toBe(0);
    off();
    const heard = seen.length;
    await kiosk.end();
    await rec.flush();
    expect(seen.length).toBe(heard);
    expect(() => rec.on("nope" as "change", () => undefined)).toThrow(TypeError);
    await rec.close();
  });
});
