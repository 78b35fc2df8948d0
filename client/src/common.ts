/** What the typed client (index.ts) and the kiosk recorder (recorder.ts) both use. */

/**
 * A fresh Idempotency-Key. React Native has no crypto.randomUUID (nor getRandomValues) unless
 * polyfilled; Math.random is enough there: a key only has to differ from the same persona's
 * other keys of the last 24 hours.
 */
export function newKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
