import { IndexMessage, liveShard, monthOf, monthShard, type PersonaChange, type ShardItem } from "./messages";

/**
 * The `INDEX_QUEUE` consumer: groups a batch by tenant and shard, and applies each shard's items
 * in one call (one transaction). A tenant's messages are acknowledged only when every one of its
 * shards applied them; otherwise they are retried (applying is idempotent, so a partial apply
 * being repeated changes nothing). After the retries a message goes to the dead-letter queue;
 * the persona object's own check re-sends whatever the index still lacks.
 */
export async function consumeIndexBatch(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const readable: { message: Message<unknown>; body: IndexMessage }[] = [];
  for (const message of batch.messages) {
    const parsed = IndexMessage.safeParse(message.body);
    if (parsed.success) readable.push({ message, body: parsed.data });
    else {
      // Retrying cannot make it readable; the sender's check will send the state again.
      console.error(JSON.stringify({ level: "error", msg: "unreadable index message dropped", id: message.id }));
      message.ack();
    }
  }
  await applyIndexMessages(readable, env);
}

/** Applies index messages: grouped by tenant and shard, one call per shard. */
export async function applyIndexMessages(messages: { message?: Message<unknown>; body: IndexMessage }[], env: Env): Promise<void> {
  const tenants = new Map<string, { messages: Message<unknown>[]; shards: Map<string, ShardItem[]>; sentUntil: number | null }>();
  for (const { message, body } of messages) {
    const { tenant, changes } = body;
    let group = tenants.get(tenant);
    if (!group) {
      group = { messages: [], shards: new Map(), sentUntil: null };
      tenants.set(tenant, group);
    }
    if (message) {
      group.messages.push(message);
      group.sentUntil = Math.max(group.sentUntil ?? 0, message.timestamp.getTime());
    }
    for (const change of changes) addChange(tenant, change, group.shards);
  }
  await Promise.all(
    [...tenants].map(async ([tenant, group]) => {
      try {
        // The live shard first, then the months: a month shard that holds a session's state then
        // proves the live view had it too, so a persona's check asks the month shard alone.
        const live = liveShard(tenant);
        const liveItems = group.shards.get(live);
        if (liveItems) await env.TENANT_INDEX.getByName(live).apply(liveItems, group.sentUntil);
        const gaps = await Promise.all(
          [...group.shards]
            .filter(([shard]) => shard !== live)
            .map(([shard, items]) => env.TENANT_INDEX.getByName(shard).apply(items, group.sentUntil)),
        );
        for (const message of group.messages) message.ack();
        await reportGaps(env, tenant, new Set(gaps.flat()));
      } catch (err) {
        if (group.messages.length === 0) throw err;
        console.error(
          JSON.stringify({
            level: "error",
            msg: "index batch not applied; retrying",
            tenant,
            error: err instanceof Error ? err.message : String(err),
          }),
        );
        for (const message of group.messages) message.retry({ delaySeconds: 2 });
      }
    }),
  );
}

/** One persona's change, as items for the shards it touches. */
function addChange(tenant: string, { persona, sessions, floor }: PersonaChange, shards: Map<string, ShardItem[]>): void {
  const add = (shard: string, item: ShardItem) => {
    const items = shards.get(shard);
    if (items) items.push(item);
    else shards.set(shard, [item]);
  };
  if (floor) {
    for (const month of floor.months) add(monthShard(tenant, month), { kind: "floor", persona, floor: floor.id });
    add(liveShard(tenant), { kind: "floor", persona, floor: floor.id });
  }
  for (const session of sessions) add(monthShard(tenant, monthOf(session.started_at)), { kind: "session", persona, session });
  const latest = sessions.at(-1);
  if (latest) {
    const { stamps: _stamps, ...header } = latest;
    add(liveShard(tenant), { kind: "live", persona, session: header });
  }
}

/**
 * Tells the persona objects whose earlier messages a shard found missing, so they check what the
 * index holds soon instead of at their next regular check. Best effort: a persona that is not
 * told finds the gap at its next full check (at most a minute later).
 */
async function reportGaps(env: Env, tenant: string, personas: Set<string>): Promise<void> {
  await Promise.all(
    [...personas].map(async (persona) => {
      try {
        await env.PERSONA.getByName(`${tenant}:${persona}`).indexGap();
      } catch (err) {
        console.error(
          JSON.stringify({
            level: "error",
            msg: "index gap not reported",
            tenant,
            error: err instanceof Error ? err.message : String(err),
          }),
        );
      }
    }),
  );
}
