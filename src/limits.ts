/** Every limit the API enforces, in one place. docs/api.md's limits table mirrors this file. */
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
  /**
   * Every instant a client sends (`occurred_at`, `from`, `to`, `since`, `expires_at`) lies in
   * these years, inclusive of both ends: a bound every calendar computation is tested for, and
   * one that keeps every bucket label a four-digit year that parses back.
   */
  instantMinMs: 946_684_800_000, // 2000-01-01T00:00:00Z
  instantMaxMs: 32_503_680_000_000, // 3000-01-01T00:00:00Z
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
  /** Analytics filters and breakdowns: store_id repeated at most this often; group_by's largest groups kept. */
  analyticsStoresMax: 100,
  analyticsGroupsMax: 100,
  /** group_by with interval=hour: at most this many days (101 groups × 744 buckets in one answer). */
  analyticsGroupedHourRangeMaxDays: 31,
  /** Occupancy analytics see the sessions that started up to this many days before `from`. */
  occupancyLookbackDays: 31,
  /** The paths answer: its `limit` (most common paths listed). */
  pathsPageMax: 50,
  pathsPageDefault: 10,
  funnelStepsMin: 2,
  funnelStepsMax: 10,
  /** Identical analytics queries of a tenant are answered from a per-isolate cache this long. */
  analyticsCacheMs: 5_000,
  /**
   * A persona object sends a change to the index at once after a quiet spell; changes within
   * this long of its last send wait out the rest of it, so a burst goes as one change.
   */
  indexSendDelayMs: 100,
  /** How long after a change a persona object checks that the tenant index has it (and re-sends). */
  indexRecheckMs: 10_000,
  /**
   * A call that comes this long or less before the check's alarm would fire runs the check
   * itself, and the alarm moves on by indexRecheckMs: a persona whose calls keep coming is
   * checked every indexRecheckMs as before, without an alarm run each time.
   */
  indexCheckLeadMs: 3_000,
  /**
   * A send the index does not hold yet counts as lost (and is sent again) once the index has
   * applied messages queued this long after it (the queue is about first in, first out), or
   * once it is indexInFlightMs old; until then it is taken to be on its way.
   */
  indexQueueGraceMs: 2_000,
  indexInFlightMs: 5_000,
  /**
   * While changes keep arriving, a persona object writes what the index confirmed at most this
   * often (and always once nothing is left unconfirmed): the stored watermark may lag, never lead.
   */
  indexWatermarkWriteMs: 60_000,
  /**
   * A check that comes due while a persona streams changes into one session the index already
   * holds is put off to indexRecheckMs after its latest send: a shard that applies a message and
   * finds stamps missing before it tells the object (a gap), so under a stream only the newest
   * send can go missing unseen, and the check once the stream pauses finds that. A full check
   * still runs at least this often, and none is put off for indexInFlightMs + indexRecheckMs after
   * a gap was reported (the report's own check comes indexInFlightMs after it, when a send still
   * missing counts as lost).
   */
  indexFullCheckMs: 60_000,

  // Tenants and keys (src/tenants/)
  tenantNameMaxChars: 200,
  keyLabelMaxChars: 100,
  /** Admin and tenant request bodies (a settings body may list 200 statuses). */
  adminBodyMaxBytes: 64 * 1024,
  /** Tenant settings: `idle_timeout_seconds` 0 (never) or 1 to this (30 days). */
  idleTimeoutMaxSeconds: 30 * 24 * 60 * 60,
  /** Tenant settings: `retention_days` 0 (forever) or 1 to this (10 years). */
  retentionMaxDays: 3650,
  /** Tenant settings: at most this many labels in `statuses`. */
  statusesMax: 200,
  /** Tenant, key and audit listings. */
  listPageDefault: 20,
  listPageMax: 100,
  /** `AUTH_CACHE_SECONDS`: how long an isolate trusts what it read of a key and its tenant. */
  authCacheMaxSeconds: 300,
  /** Keys (and unknown key ids) an isolate remembers; the oldest are dropped first. */
  authCacheMaxKeys: 10_000,
  authNegativeCacheMaxKeys: 1_000,
  /** Registry lookups of keys not in the cache that one client address may have in flight per isolate. */
  authLookupsInFlightPerAddress: 4,
  /** Failed authentications per client address per window (also AUTH_FAILURE_RATE_LIMITER in wrangler.toml). */
  authFailuresPerWindow: 20,
  authFailureWindowSeconds: 10,
  // Stores and kiosks (src/tenants/, the session start)
  /** `store_id` and `kiosk_id`: 1 to this many of A-Z a-z 0-9 _ . - */
  storeIdMaxChars: 64,
  storeNameMaxChars: 200,
  storeTagsMax: 10,
  storeTagMaxChars: 64,
  /** Stores one `PUT /v1/stores` may carry (all or none). */
  storesPerPut: 1000,
  /** Registered stores per tenant: the request path caches a tenant's store ids whole. */
  storesPerTenantMax: 10_000,
  /** `PUT /v1/stores` bodies: 1,000 stores with names and tags. */
  storesBodyMaxBytes: 1024 * 1024,
  /** Tenants whose stores an isolate remembers, and stores in all (the least recently used tenants are dropped first). */
  storeCacheMaxTenants: 200,
  storeCacheMaxStores: 100_000,
  /** A key's `last_used_at` is written at most this often per isolate. */
  lastUsedRefreshMs: 60 * 1000,
} as const;
