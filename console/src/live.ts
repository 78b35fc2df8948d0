/**
 * The live view's pure parts: what GET /v1/sessions/active answers, status chips, elapsed times,
 * paging text, screen-reader announcements and the polling back-off. No DOM here, so the vitest
 * suite (inside workerd) can import it.
 */
import { formatDuration } from "./timeline";

/** One active session as GET /v1/sessions/active lists it. */
export interface ActiveRow {
  persona_id: string;
  session_id: string;
  started_at: string;
  /** The label of the session's latest stamp. */
  status: string;
  /** That stamp's timestamp. */
  status_since: string;
  stamp_count: number;
}

export interface ActivePage {
  sessions: ActiveRow[];
  /** Active sessions per current status, whole tenant (not only this page or filter). */
  counts_by_status: Record<string, number>;
  total_active: number;
  /** When the index last applied a change (null: never). */
  as_of: string | null;
  next_cursor: string | null;
}

export interface Chip {
  status: string;
  count: number;
  /** Share of all active sessions, 0 to 1. */
  share: number;
  selected: boolean;
}

/** Labels in code-unit order: the same everywhere (no locale), and chips keep their place as counts change. */
export const compareLabels = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One chip per status with active sessions, in label order (so a chip does not move under the
 * pointer when counts change). The selected status keeps its chip at 0, so the filter stays visible
 * and can be cleared where it was set.
 */
export function statusChips(counts: Readonly<Record<string, number>>, selected: string | null): Chip[] {
  const entries = Object.entries(counts).filter(([, n]) => Number.isFinite(n) && n > 0);
  if (selected !== null && !entries.some(([status]) => status === selected)) entries.push([selected, 0]);
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return entries
    .sort(([a], [b]) => compareLabels(a, b))
    .map(([status, count]) => ({ status, count, share: total > 0 ? count / total : 0, selected: status === selected }));
}

/** Milliseconds from an ISO time to now; never negative (a clock behind the server's, an occurred_at ahead). */
export function elapsedMs(since: string, now: number): number {
  const start = Date.parse(since);
  return Number.isFinite(start) ? Math.max(0, now - start) : 0;
}

/**
 * A duration that is redrawn every second: whole seconds under a minute ("0 s", "42 s"), then as
 * the timeline writes durations ("4 min 05 s", "2 h 05 min", "3 d 4 h").
 */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return total < 60 ? `${total} s` : formatDuration(total * 1000);
}

/** How long ago, for "index updated …": "just now", "12 s ago", "4 min ago", "2 h ago", "3 d ago". */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 2) return "just now";
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** "1–25 of 57": the rows on page `index` (from 0) of `total`, `shown` of them on this page. */
export function pageRange(index: number, pageSize: number, shown: number, total: number): string {
  if (shown === 0) return `0 of ${total}`;
  const first = index * pageSize + 1;
  // The list moves while it is paged: never claim more than the rows actually here.
  return `${first}–${first + shown - 1} of ${Math.max(total, first + shown - 1)}`;
}

/** How many sessions the current filter covers, from the tenant-wide counts. */
export function filteredTotal(page: Pick<ActivePage, "counts_by_status" | "total_active">, status: string | null): number {
  return status === null ? page.total_active : (page.counts_by_status[status] ?? 0);
}

const sessions = (n: number) => `${n} active session${n === 1 ? "" : "s"}`;

/**
 * What to say to screen readers after a refresh, or null to stay quiet: only when the number the
 * page is about changes (the total, or the filtered status's count), never on every poll.
 */
export function announcement(
  previous: { total: number; status: string | null } | null,
  next: { total: number; status: string | null },
): string | null {
  const what = next.status === null ? sessions(next.total) : `${sessions(next.total)} in ${next.status}`;
  if (previous === null || previous.status !== next.status) return `${what}.`;
  if (previous.total === next.total) return null;
  return `${what} (was ${previous.total}).`;
}

/**
 * Wait before the next poll after `failures` failures in a row: the poll interval doubled each
 * time, at most `maxMs`; a Retry-After (seconds) wins when the server sent one.
 */
export function backoffMs(failures: number, pollMs: number, maxMs: number, retryAfterSeconds: number | null = null): number {
  if (retryAfterSeconds !== null) return retryAfterSeconds * 1000;
  if (failures <= 0) return pollMs;
  return Math.min(maxMs, pollMs * 2 ** (failures - 1));
}
