/**
 * The console's pure parts: segments, durations, dwell summary and label colours.
 * No DOM here, so the vitest suite (inside workerd) can import it.
 */

export interface Stamp {
  status: string;
  timestamp: string;
  received_at?: string;
  meta?: Record<string, unknown>;
}

export interface Session {
  session_id: string;
  persona_id?: string;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
  stamp_count: number;
  stamps: Stamp[];
}

export interface SessionSummary {
  session_id: string;
  started_at: string;
  ended_at: string;
  end_reason: string | null;
  stamp_count: number;
}

export interface Segment {
  /** Position of the stamp in the session, from 0. */
  index: number;
  status: string;
  /** Epoch milliseconds. */
  start: number;
  end: number;
  duration: number;
  /** The last segment of an active session: it ends "now" and keeps growing. */
  open: boolean;
  stamp: Stamp;
}

const ms = (iso: string) => {
  const value = Date.parse(iso);
  return Number.isFinite(value) ? value : 0;
};

/** Where the timeline begins and ends: started_at to ended_at, or to now while active. */
export function sessionSpan(session: Session, now: number): { start: number; end: number } {
  const start = ms(session.started_at);
  const last = session.stamps.length ? ms(session.stamps[session.stamps.length - 1]!.timestamp) : start;
  const end = session.ended_at !== null ? ms(session.ended_at) : now;
  // A clock behind the server's (or an occurred_at slightly ahead) must not give a negative span.
  return { start, end: Math.max(end, last, start) };
}

/** One segment per stamp, from its timestamp to the next stamp's (the last one to the end or now). */
export function segments(session: Session, now: number): Segment[] {
  const { end: spanEnd } = sessionSpan(session, now);
  const { stamps } = session;
  return stamps.map((stamp, index) => {
    const start = ms(stamp.timestamp);
    const next = stamps[index + 1];
    const last = next === undefined;
    const end = Math.max(start, last ? spanEnd : ms(next.timestamp));
    return { index, status: stamp.status, start, end, duration: end - start, open: last && session.ended_at === null, stamp };
  });
}

export interface Dwell {
  status: string;
  /** Total milliseconds spent in this status. */
  total: number;
  /** How many stamps had this status. */
  count: number;
  /** Share of the session's time, 0 to 1. */
  share: number;
}

/** Total time per status label, longest first (ties by first appearance). */
export function dwellSummary(list: readonly Segment[]): Dwell[] {
  const byStatus = new Map<string, Dwell>();
  let sum = 0;
  for (const seg of list) {
    const entry = byStatus.get(seg.status) ?? { status: seg.status, total: 0, count: 0, share: 0 };
    entry.total += seg.duration;
    entry.count += 1;
    byStatus.set(seg.status, entry);
    sum += seg.duration;
  }
  const rows = [...byStatus.values()];
  for (const row of rows) row.share = sum > 0 ? row.total / sum : 0;
  // Array.prototype.sort is stable, so equal totals keep first-appearance order.
  return rows.sort((a, b) => b.total - a.total);
}

/** Compact duration: "850 ms", "4.2 s", "42 s", "4 min 05 s", "2 h 05 min", "3 d 4 h". */
export function formatDuration(milliseconds: number): string {
  const total = Math.max(0, Math.round(milliseconds));
  if (total < 1000) return `${total} ms`;
  const seconds = total / 1000;
  if (seconds < 10) return `${(Math.floor(seconds * 10) / 10).toFixed(1)} s`;
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export interface Colour {
  background: string;
  text: string;
}

const INK = "#111827";
const WHITE = "#ffffff";

/** Dark and light colours alternate, so neighbouring palette entries are easy to tell apart. */
export const PALETTE: readonly Colour[] = [
  { background: "#1d4ed8", text: WHITE },
  { background: "#fcd34d", text: INK },
  { background: "#047857", text: WHITE },
  { background: "#f9a8d4", text: INK },
  { background: "#7c3aed", text: WHITE },
  { background: "#5eead4", text: INK },
  { background: "#be123c", text: WHITE },
  { background: "#93c5fd", text: INK },
  { background: "#b45309", text: WHITE },
  { background: "#86efac", text: INK },
  { background: "#475569", text: WHITE },
  { background: "#fdba74", text: INK },
];

/** The seed journey's labels get distinct colours; any other label is hashed into the palette. */
const PINNED: Readonly<Record<string, number>> = { ENTER: 10, CHAT: 0, SHOPPING: 1, PAYMENT: 2, COMPLETE: 4 };

/** FNV-1a over the label's UTF-16 code units: the same label gives the same number everywhere. */
export function labelHash(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** A stable colour per status label: the same label always gets the same colour. */
export function colourFor(label: string): Colour {
  const pinned = PINNED[label];
  return PALETTE[pinned ?? labelHash(label) % PALETTE.length]!;
}

function luminance(hex: string): number {
  const channel = (i: number) => {
    const v = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Same rule as the API: 1 to 128 of A-Z a-z 0-9 _ . : - and not only dots. */
export function isPersonaId(value: string): boolean {
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(value) && !/^\.+$/.test(value);
}

/** Duration of an ended session from the history list. */
export function summaryDuration(summary: Pick<SessionSummary, "started_at" | "ended_at">): number {
  return Math.max(0, ms(summary.ended_at) - ms(summary.started_at));
}

/** Seconds to wait from a Retry-After header (seconds or HTTP date), within [min, max]. */
export function retryAfterSeconds(header: string | null, now: number, min: number, max: number): number | null {
  if (header === null || header.trim() === "") return null;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - now) / 1000;
  if (!Number.isFinite(seconds)) return null;
  return Math.min(max, Math.max(min, Math.ceil(seconds)));
}
