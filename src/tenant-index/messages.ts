/**
 * What persona objects tell the tenant index, through the `INDEX_QUEUE` Queue, and how the index
 * is sharded. Messages carry state, not events: a session's header as the persona object knows it
 * now, and the stamps added since the last message. Applying one is idempotent (stamps are keyed
 * by session id and sequence number; a header only ever moves forward: more stamps, then ended),
 * so duplicates and reordering change nothing.
 */
import { z } from "zod";
import { END_REASONS } from "../fields";

/** A stamp as the index keeps it: `[seq, status, timestamp ms]`. */
export const IndexStamp = z.tuple([z.number().int().min(1), z.string(), z.number()]);
export type IndexStamp = z.infer<typeof IndexStamp>;

export const SessionHeader = z.object({
  id: z.string(),
  started_at: z.number(),
  ended_at: z.number().nullable(),
  end_reason: z.enum(END_REASONS).nullable(),
  stamp_count: z.number().int().min(1),
  /** The session's latest stamp: its current status and since when. */
  last_status: z.string(),
  last_ts: z.number(),
  /** When the idle timeout will end it if nothing comes (null: ended, or no timeout). */
  idle_at: z.number().nullable(),
  /** Where it happens; set at its start, never changed. Absent in messages sent before stores existed. */
  store_id: z.string().nullable().default(null),
  kiosk_id: z.string().nullable().default(null),
});
export type SessionHeader = z.infer<typeof SessionHeader>;

export const SessionDelta = SessionHeader.extend({ stamps: z.array(IndexStamp) });
export type SessionDelta = z.infer<typeof SessionDelta>;

/**
 * One persona's changes. `sessions` are in session order. `floor`: every session of this persona
 * with an id at or below it is gone (erased, or past retention) from the shards named by
 * `months`, and stays gone: a late message about such a session changes nothing.
 */
export const PersonaChange = z.object({
  persona: z.string(),
  sessions: z.array(SessionDelta).default([]),
  floor: z.object({ id: z.string(), months: z.array(z.string()) }).optional(),
});
export type PersonaChange = z.infer<typeof PersonaChange>;

/**
 * One queue message: changes of one tenant's personas, packed together by the sending isolate
 * (src/persona/index-sender.ts), so a queue operation carries many changes, not one.
 */
export const IndexMessage = z.object({
  v: z.literal(1),
  tenant: z.string(),
  changes: z.array(PersonaChange).min(1),
});
export type IndexMessage = z.infer<typeof IndexMessage>;

/** What a shard applies: one persona's session, or its floor. */
export type ShardItem =
  | { kind: "session"; persona: string; session: SessionDelta }
  | { kind: "live"; persona: string; session: SessionHeader }
  | { kind: "floor"; persona: string; floor: string };

/**
 * Sharding. Sessions and their stamps live in one shard per tenant per calendar month (UTC) of
 * their start: a shard holds one month of one tenant's visits, so it stops growing when the month
 * ends, and a time range (search, analytics: at most 93 days) reads at most 4 shards. The live
 * view (who is in a session now) is one shard per tenant holding one row per persona: bounded by
 * the tenant's personas, whatever the history. See docs/scale.md.
 */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function monthShard(tenant: string, month: string): string {
  return `${tenant}:${month}`;
}

export function liveShard(tenant: string): string {
  return `${tenant}:live`;
}

/** The months from the one holding `from` to the one holding `to - 1`, in order. */
export function monthsBetween(from: number, to: number): string[] {
  const months: string[] = [];
  const d = new Date(from);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  const last = monthOf(to - 1);
  for (;;) {
    const month = `${String(y).padStart(4, "0")}-${String(m + 1).padStart(2, "0")}`;
    months.push(month);
    if (month >= last) return months;
    m += 1;
    if (m === 12) {
      m = 0;
      y += 1;
    }
  }
}

/** A persona's change carries at most this many stamps: a long session goes in several. */
export const STAMPS_PER_CHANGE = 200;
/** Changes are packed into messages of about this size at most (the Queue's limit is 128 KB). */
export const MESSAGE_BYTES = 96_000;
