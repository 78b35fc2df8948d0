/** Every limit the API enforces, in one place. The README's limits table mirrors this file. */
export const LIMITS = {
  personaIdMaxChars: 128,
  tenantIdMaxChars: 64,
  statusMaxChars: 64,
  metaMaxBytes: 8 * 1024,
  bodyMaxBytes: 16 * 1024,
  batchBodyMaxBytes: 256 * 1024,
  batchMaxItems: 100,
  stampsPerSession: 1000,
  idempotencyKeyMaxChars: 255,
  /** Idempotency records are kept at least this long, then pruned by the alarm. */
  idempotencyRetentionMs: 24 * 60 * 60 * 1000,
  /** How far ahead of the server clock a client's `occurred_at` may be. */
  occurredAtMaxSkewMs: 60 * 1000,
  historyPageDefault: 20,
  historyPageMax: 100,
  requestIdMaxChars: 128,
  indexPageMax: 100,
  indexPageDefault: 20,
  /** The longest `from`..`to` range a tenant-wide query may span. */
  indexRangeMaxDays: 93,
  /** How long the live view keeps a persona's row after its session ended (then a clean-up drops it). */
  liveEndedKeepMs: 7 * 24 * 60 * 60 * 1000,
  funnelStepsMin: 2,
  funnelStepsMax: 10,
  /** Identical analytics queries of a tenant are answered from a per-isolate cache this long. */
  analyticsCacheMs: 5_000,
  /** How long a persona object gathers changes before sending them to the index. */
  indexSendDelayMs: 100,
  /** How long after a change a persona object checks that the tenant index has it (and re-sends). */
  indexRecheckMs: 10_000,
} as const;
