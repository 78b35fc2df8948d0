import { type IndexMessage, MESSAGE_BYTES, type PersonaChange } from "../tenant-index/messages";

/**
 * Index changes from every persona object of this isolate, sent together: each tick packs
 * the changes of one tenant into as few queue messages as fit (under MESSAGE_BYTES) and sends
 * them with one `sendBatch`, instead of one `send` per object and change. Queue operations (the
 * billing unit, and the consumer's work) then scale with ticks, not stamps. Best effort by design:
 * a batch that fails is logged and dropped, and the objects' alarm checks find what the index
 * lacks and send it again.
 */
/**
 * 200 ms: a fifth of a second more index lag (the freshness budget is 5 s) for a tenth of the
 * sendBatch calls of a 20 ms tick under load (bench/README.md, A/B).
 */
const TICK_MS = 200;
/** The Queue's limits for one sendBatch: 100 messages, 256 KB. */
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 200_000;

let pending = new Map<string, { change: PersonaChange; bytes: number }[]>();
let queue: Queue | null = null;
let scheduled = false;

export function sendToIndex(to: Queue, tenant: string, change: PersonaChange): void {
  // Every persona object's INDEX_QUEUE is the same queue.
  queue = to;
  const list = pending.get(tenant);
  const entry = { change, bytes: JSON.stringify(change).length + 2 };
  if (list) list.push(entry);
  else pending.set(tenant, [entry]);
  if (scheduled) return;
  scheduled = true;
  setTimeout(flush, TICK_MS);
}

function flush(): void {
  scheduled = false;
  const to = queue;
  const tenants = pending;
  pending = new Map();
  if (!to) return;
  const messages: { body: IndexMessage; bytes: number }[] = [];
  for (const [tenant, changes] of tenants) {
    let current: { body: IndexMessage; bytes: number } | null = null;
    for (const { change, bytes } of changes) {
      if (!current || current.bytes + bytes > MESSAGE_BYTES) {
        current = { body: { v: 1, tenant, changes: [] }, bytes: 64 + tenant.length };
        messages.push(current);
      }
      current.body.changes.push(change);
      current.bytes += bytes;
    }
  }
  while (messages.length > 0) {
    const batch: MessageSendRequest<IndexMessage>[] = [];
    let bytes = 0;
    while (messages.length > 0 && batch.length < BATCH_MESSAGES && (batch.length === 0 || bytes + messages[0]!.bytes <= BATCH_BYTES)) {
      const next = messages.shift()!;
      bytes += next.bytes;
      batch.push({ body: next.body });
    }
    to.sendBatch(batch).catch((err: unknown) => {
      console.error(
        JSON.stringify({
          level: "error",
          msg: "index send failed; the persona objects' checks will send again",
          messages: batch.length,
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    });
  }
}
