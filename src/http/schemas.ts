/**
 * Request and response schemas: the single source for validation, TypeScript types and the
 * OpenAPI document. Limits come from src/limits.ts.
 */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "../errors";
import { EndReason, Instant, instantRange, KioskId, Status, StoreId } from "../fields";
import { LIMITS } from "../limits";

const utf8 = new TextEncoder();

export const PersonaId = z
  .string()
  .regex(
    new RegExp(`^(?!\\.+$)[A-Za-z0-9_.:-]{1,${LIMITS.personaIdMaxChars}}$`),
    `persona_id must be 1 to ${LIMITS.personaIdMaxChars} characters of A-Z a-z 0-9 _ . : - and not only dots`,
  )
  .openapi({ minLength: 1, maxLength: LIMITS.personaIdMaxChars, example: "d28fd898-7c1e-4f0a-9b7e-2f5f3f1b6a10" });

export const SessionId = z.uuid().openapi({ example: "019ac5a0-8f1e-7c3a-9d2b-5e4f6a7b8c9d" });

export const Meta = z
  .record(z.string(), z.unknown())
  .refine((meta) => utf8.encode(JSON.stringify(meta)).byteLength <= LIMITS.metaMaxBytes, {
    message: `meta must be at most ${LIMITS.metaMaxBytes} bytes as JSON`,
  })
  .openapi({
    type: "object",
    // Any keys and values: without this the refinement above leaves a bare {"type": "object"},
    // which generators read as an object with no properties at all.
    additionalProperties: true,
    description: `Any JSON object, at most ${LIMITS.metaMaxBytes} bytes as JSON; stored and returned as a JSON round trip.`,
    example: { zone: "processed_food", cart_items: 3 },
  });

export const OccurredAt = Instant.openapi({
  description: `When the event happened, for events a kiosk recorded offline (ISO 8601 with zone, ${instantRange}). At most 60 s ahead of the server clock.`,
  example: "2026-04-17T10:05:00Z",
});

export const Timestamp = z.string().openapi({
  description: "ISO 8601 UTC with milliseconds",
  format: "date-time",
  example: "2026-04-17T10:05:00.000Z",
});

export const PersonaParams = z.object({ persona_id: PersonaId.openapi({ param: { name: "persona_id", in: "path" } }) });
export const SessionParams = PersonaParams.extend({ session_id: SessionId.openapi({ param: { name: "session_id", in: "path" } }) });

export const IdempotencyHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(
      new RegExp(`^[\\x20-\\x7E]{1,${LIMITS.idempotencyKeyMaxChars}}$`),
      `Idempotency-Key must be 1 to ${LIMITS.idempotencyKeyMaxChars} printable ASCII characters`,
    )
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description: "Makes a retry safe: the same key and request within 24 hours replays the first answer.",
    }),
});

export const StartBody = z
  .strictObject({
    occurred_at: OccurredAt.optional(),
    store_id: StoreId.optional().openapi({
      description:
        "The registered store the session happens in (else 422 UNKNOWN_STORE). Default: the key's store, if the key is bound to one; naming another is 403 STORE_FORBIDDEN.",
    }),
    kiosk_id: KioskId.optional().openapi({ description: "The kiosk (or device) that records the session: free, not registered." }),
  })
  .openapi("StartRequest");

const StampFields = { status: Status, meta: Meta.optional(), occurred_at: OccurredAt.optional() };
const SessionGuard = SessionId.optional().openapi({
  description: "If given and not the persona's active session, the request gets 409 SESSION_MISMATCH and changes nothing.",
});

export const StampBody = z.strictObject({ ...StampFields, session_id: SessionGuard }).openapi("StampRequest");
export const BatchBody = z
  .strictObject({
    stamps: z.array(z.strictObject(StampFields)).min(1).max(LIMITS.batchMaxItems),
    session_id: SessionGuard,
  })
  .openapi("StampBatchRequest");
export const EndBody = z.strictObject({ occurred_at: OccurredAt.optional(), session_id: SessionGuard }).openapi("EndRequest");

/**
 * A whole-number query parameter from `min` to `max` (`digits` at most as written): the check and
 * the document's bounds come from the same numbers. `doc` adds the rest of its document entry.
 */
const wholeNumberParam = (
  name: string,
  { min, max, digits, message }: { min: number; max: number; digits: number; message: string },
  doc: { default?: number; description?: string; example: number },
) =>
  z
    .string()
    .regex(new RegExp(`^[0-9]{1,${digits}}$`), message)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .openapi({ param: { name, in: "query" }, type: "integer", minimum: min, maximum: max, ...doc });

/** `limit` of a paged route: 1 to `max`, `fallback` when absent. */
export const pageLimit = (max: number, fallback: number) =>
  wholeNumberParam(
    "limit",
    { min: 1, max, digits: 3, message: `limit must be a whole number from 1 to ${max}` },
    { default: fallback, example: Math.min(20, max) },
  );

const cursorParam = z
  .string()
  .max(200)
  .optional()
  .openapi({ param: { name: "cursor", in: "query" }, description: "next_cursor from the previous page" });

export const HistoryQuery = z.object({
  limit: pageLimit(LIMITS.historyPageMax, LIMITS.historyPageDefault),
  cursor: cursorParam,
});

export const StampOut = z
  .object({
    status: z.string(),
    timestamp: Timestamp,
    received_at: Timestamp.openapi({ description: "When the server received the stamp" }),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi("Stamp");

/** Where a session happens, on every shape of a session: null when its start named none (and before stores existed). */
const Place = {
  store_id: z.string().nullable().openapi({ description: "The store the session happens in; null when its start named none." }),
  kiosk_id: z.string().nullable().openapi({ description: "The kiosk that started it; null when its start named none." }),
};

export const StartData = z
  .object({ session_id: SessionId, persona_id: z.string(), started_at: Timestamp, ...Place })
  .openapi("StartedSession");
export const StampData = z.object({ session_id: SessionId, status: z.string(), timestamp: Timestamp }).openapi("RecordedStamp");
export const BatchData = z
  .object({ session_id: SessionId, stamps: z.array(z.object({ status: z.string(), timestamp: Timestamp })) })
  .openapi("RecordedStamps");
export const SessionData = z
  .object({
    session_id: SessionId,
    persona_id: z.string(),
    started_at: Timestamp,
    ended_at: Timestamp.nullable(),
    end_reason: EndReason.nullable(),
    stamp_count: z.number().int(),
    ...Place,
    stamps: z.array(StampOut),
  })
  .openapi("Session");
export const HistoryData = z
  .object({
    sessions: z.array(
      z.object({
        session_id: SessionId,
        started_at: Timestamp,
        ended_at: Timestamp,
        end_reason: EndReason,
        stamp_count: z.number().int(),
        ...Place,
      }),
    ),
    next_cursor: z.string().nullable(),
  })
  .openapi("SessionHistory");

export const ErrorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.enum(ERROR_CODES as [string, ...string[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      request_id: z.string(),
    }),
  })
  .openapi("Error");

export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), data });
}

// The tenant index (tenant-wide reads).

const storeFilter = (description: string) => StoreId.optional().openapi({ param: { name: "store_id", in: "query" }, description });

export const ActiveQuery = z.object({
  status: Status.optional().openapi({
    param: { name: "status", in: "query" },
    description: "Only sessions whose current status is this label.",
  }),
  store_id: storeFilter("Only this store's sessions: the list, counts_by_status and total_active all cover this store alone."),
  limit: pageLimit(LIMITS.indexPageMax, LIMITS.indexPageDefault),
  cursor: cursorParam,
});

// Examples a day apart (from = to is refused), and in the past, so the example request names sessions that can exist.
const rangeBound = (name: "from" | "to", description: string) =>
  Instant.optional().openapi({
    param: { name, in: "query" },
    description: `${description} From ${instantRange}.`,
    example: name === "from" ? "2026-11-26T00:00:00Z" : "2026-11-27T00:00:00Z",
  });

export const SearchQuery = z.object({
  from: rangeBound("from", "Sessions that started at or after this time (ISO 8601). Default: 24 hours before `to`."),
  to: rangeBound(
    "to",
    `Sessions that started before this time (ISO 8601). Default: now. At most ${LIMITS.indexRangeMaxDays} days after \`from\`.`,
  ),
  status: Status.optional().openapi({ param: { name: "status", in: "query" }, description: "Only sessions with a stamp of this label." }),
  persona_id: PersonaId.optional().openapi({ param: { name: "persona_id", in: "query" } }),
  end_reason: EndReason.optional().openapi({ param: { name: "end_reason", in: "query" }, description: "Only sessions ended this way." }),
  store_id: storeFilter("Only sessions in this store."),
  kiosk_id: KioskId.optional().openapi({ param: { name: "kiosk_id", in: "query" }, description: "Only sessions started at this kiosk." }),
  limit: pageLimit(LIMITS.indexPageMax, LIMITS.indexPageDefault),
  cursor: cursorParam,
});

const AsOf = Timestamp.nullable().openapi({
  description: "When the index last applied a change for this answer's data (null: never). Changes reach it within seconds.",
});

export const ActiveData = z
  .object({
    sessions: z.array(
      z.object({
        persona_id: z.string(),
        session_id: SessionId,
        started_at: Timestamp,
        status: z.string().openapi({ description: "The label of the session's latest stamp." }),
        status_since: Timestamp.openapi({ description: "The timestamp of that stamp." }),
        stamp_count: z.number().int(),
        ...Place,
      }),
    ),
    counts_by_status: z
      .record(z.string(), z.number().int())
      .openapi({ description: "Active sessions per current status: the whole tenant, or the store given." }),
    total_active: z.number().int(),
    as_of: AsOf,
    next_cursor: z.string().nullable(),
  })
  .openapi("ActiveSessions");

export const SearchData = z
  .object({
    sessions: z.array(
      z.object({
        persona_id: z.string(),
        session_id: SessionId,
        started_at: Timestamp,
        ended_at: Timestamp.nullable(),
        end_reason: EndReason.nullable(),
        stamp_count: z.number().int(),
        last_status: z.string(),
        ...Place,
      }),
    ),
    as_of: AsOf,
    next_cursor: z.string().nullable(),
  })
  .openapi("SessionSearch");

// Visit analytics (tenant-wide, from the tenant index).

const analyticsBound = (name: "from" | "to", description: string) =>
  Instant.openapi({
    param: { name, in: "query", required: true },
    description: `${description} From ${instantRange}.`,
    example: name === "from" ? "2026-11-01T00:00:00Z" : "2026-11-08T00:00:00Z",
  });

const storesRule = `store_id must be 1 to ${LIMITS.analyticsStoresMax} store ids`;
const AnalyticsRange = {
  from: analyticsBound("from", "Sessions that started at or after this time (ISO 8601 with a zone)."),
  to: analyticsBound("to", `Sessions that started before this time; at most ${LIMITS.indexRangeMaxDays} days after \`from\`.`),
  // Repeated in the query string (`store_id=A&store_id=B`).
  store_id: z
    .union([StoreId, z.array(StoreId).min(1, storesRule).max(LIMITS.analyticsStoresMax, storesRule)])
    .optional()
    .openapi({
      param: { name: "store_id", in: "query", style: "form", explode: true },
      type: "array",
      items: { type: "string" },
      maxItems: LIMITS.analyticsStoresMax,
      description: `Only sessions in these stores: the parameter repeated 1 to ${LIMITS.analyticsStoresMax} times.`,
      example: ["store-012"],
    }),
  tag: z
    .string()
    .min(1)
    .max(LIMITS.storeTagMaxChars)
    .optional()
    .openapi({ param: { name: "tag", in: "query" }, description: "Only sessions in the stores that have this tag now." }),
  kiosk_id: KioskId.optional().openapi({ param: { name: "kiosk_id", in: "query" }, description: "Only sessions started at this kiosk." }),
  group_by: z
    .enum(["store", "kiosk", "country", "tag"])
    .optional()
    .openapi({
      param: { name: "group_by", in: "query" },
      description:
        "Adds `groups`: the same figures per store, kiosk, store country or store tag (a store's first tag), the 100 largest by sessions, then one group with the rest.",
    }),
};

export const FunnelQuery = z.object({
  ...AnalyticsRange,
  // Repeated in the query string (`step=A&step=B`), so a label may hold any character.
  step: z.union([Status, z.array(Status)]).openapi({
    param: { name: "step", in: "query", required: true, style: "form", explode: true },
    type: "array",
    items: { type: "string" },
    minItems: LIMITS.funnelStepsMin,
    maxItems: LIMITS.funnelStepsMax,
    description: `The funnel's steps in order: the parameter repeated ${LIMITS.funnelStepsMin} to ${LIMITS.funnelStepsMax} times.`,
    example: ["CHAT", "SHOPPING", "PAYMENT", "COMPLETE"],
  }),
  within_seconds: wholeNumberParam(
    "within_seconds",
    { min: 1, max: LIMITS.indexRangeMaxDays * 86_400, digits: 8, message: "within_seconds must be a whole number of seconds" },
    { description: "A step counts only if it came at most this long after step 1.", example: 1800 },
  ),
});

export const DwellQuery = z.object(AnalyticsRange);

const intervalParam = (fallback: "hour" | "day") =>
  z
    .enum(["hour", "day"])
    .optional()
    .openapi({ param: { name: "interval", in: "query" }, description: `Bucket size (default ${fallback}).` });

/** A zone name parameter; the route checks it against the runtime's zones (a 400 naming it). */
const zoneParam = (name: string, description: string, example: string) =>
  z
    .string()
    .max(64)
    .optional()
    .openapi({ param: { name, in: "query" }, description, example });

export const PathsQuery = z.object({
  from: AnalyticsRange.from,
  to: AnalyticsRange.to,
  store_id: AnalyticsRange.store_id,
  tag: AnalyticsRange.tag,
  kiosk_id: AnalyticsRange.kiosk_id,
  limit: pageLimit(LIMITS.pathsPageMax, LIMITS.pathsPageDefault),
});

export const PathsData = z
  .object({
    paths: z.array(
      z.object({
        labels: z.array(z.string()).openapi({ description: "The session's first 10 labels in record order (ENTER first)." }),
        sessions: z.int(),
        share: z.number().openapi({ description: "sessions ÷ every session in range and scope" }),
      }),
    ),
    sessions: z.int().openapi({ description: "Sessions in range and scope (all paths)." }),
    statuses: z
      .array(z.string())
      .nullable()
      .openapi({ description: "The tenant's statuses setting, in its order (null: not set): a dashboard's default funnel." }),
    as_of: Timestamp.nullable(),
  })
  .openapi("Paths");

export const OccupancyAnalyticsQuery = z.object({
  from: AnalyticsRange.from,
  to: AnalyticsRange.to,
  store_id: AnalyticsRange.store_id,
  tag: AnalyticsRange.tag,
  kiosk_id: AnalyticsRange.kiosk_id,
  interval: intervalParam("hour"),
  tz: zoneParam("tz", "IANA time zone name the buckets are aligned to (default UTC).", "Europe/Paris"),
  group_by: AnalyticsRange.group_by,
});

const OccupancyBucket = z.object({
  start: z.string().openapi({ description: "The bucket's start as the zone's local time with its offset" }),
  peak: z
    .int()
    .nullable()
    .openapi({ description: "The most sessions present at any instant of the bucket; null for a bucket wholly in the future." }),
  average: z.number().nullable().openapi({
    description: "Present session-time ÷ the bucket's time in range (4 decimals); null for a bucket wholly in the future.",
  }),
});

export const OccupancyAnalyticsData = z
  .object({
    buckets: z.array(OccupancyBucket),
    groups: groupsOf({
      sessions: z.int().openapi({ description: "Sessions present at some instant of the range (what groups are ranked by)." }),
      buckets: z.array(OccupancyBucket),
    }),
    interval: z.enum(["hour", "day"]),
    tz: z.string(),
    as_of: Timestamp.nullable(),
  })
  .openapi("OccupancyAnalytics");

export const VisitsQuery = z.object({
  ...AnalyticsRange,
  interval: intervalParam("day"),
  tz: zoneParam(
    "tz",
    "IANA time zone name, as written, the buckets are aligned to (default UTC); offsets such as +05:30 and other letter cases (utc) are refused. `store`: each session in its own store's local time, buckets keyed by wall-clock time without an offset.",
    "Europe/Paris",
  ),
  fallback_tz: zoneParam(
    "fallback_tz",
    "With tz=store: the zone of sessions with no registered store (default UTC). Checked whenever given; used only with tz=store.",
    "UTC",
  ),
});

const Seconds = z.number().nullable();
/** A median or p90: a duration histogram's (docs/index-and-analytics.md, "Within 1%"). */
const quantile = <T extends z.ZodType>(schema: T, which: "median" | "p90") =>
  schema.openapi({ description: `Seconds: the ${which}, within 1% of the exact figure (from a duration histogram)` });

/** `groups` of a grouped analytics answer: present only with group_by. */
function groupsOf<T extends z.ZodRawShape>(figures: T) {
  return z
    .array(
      z.object({
        key: z.string().nullable().openapi({
          description: 'The store, kiosk, country or tag (null: sessions that have none); "other" for the group of the rest.',
        }),
        name: z.string().nullable().openapi({ description: "The store's name, the country's English name; null otherwise." }),
        other: z.boolean().openapi({ description: "true for the one group holding every group past the 100 largest." }),
        groups: z.int().openapi({ description: "How many groups this one holds (1, or more for the rest)." }),
        ...figures,
      }),
    )
    .optional()
    .openapi({
      description: `With group_by: the ${LIMITS.analyticsGroupsMax} largest groups by sessions, then at most one holding the rest; their counts add up to the totals.`,
    });
}

const FunnelStep = z.object({
  status: z.string(),
  sessions: z.number().int(),
  conversion_from_previous: z.number().nullable(),
  conversion_from_first: z.number().nullable(),
  median_seconds_from_previous: quantile(Seconds, "median"),
  p90_seconds_from_previous: quantile(Seconds, "p90"),
});

export const FunnelData = z
  .object({
    steps: z.array(FunnelStep),
    groups: groupsOf({ steps: z.array(FunnelStep) }),
    as_of: Timestamp.nullable(),
  })
  .openapi("Funnel");

const DwellStatus = z.object({
  status: z.string(),
  visits: z.number().int(),
  total_seconds: z.number(),
  median_seconds: quantile(z.number(), "median"),
  p90_seconds: quantile(z.number(), "p90"),
});

export const DwellData = z
  .object({
    statuses: z.array(DwellStatus),
    groups: groupsOf({ sessions: z.number().int(), statuses: z.array(DwellStatus) }),
    as_of: Timestamp.nullable(),
  })
  .openapi("Dwell");

const VisitsBucket = z.object({
  start: z.string().openapi({
    description:
      "The bucket's start as the zone's local time with its offset; with tz=store, the local wall-clock time without an offset (2026-04-17T10:00)",
    example: "2026-03-29T00:00:00+01:00",
  }),
  sessions: z.number().int(),
  median_duration_seconds: quantile(Seconds, "median"),
});

const visitsRange = {
  sessions: z.int().openapi({ description: "Sessions that started in range (every bucket's together)." }),
  median_duration_seconds: quantile(Seconds, "median").openapi({
    description: "The median duration of the ended ones over the whole range (within 1%; null: none ended).",
  }),
};

export const VisitsData = z
  .object({
    buckets: z.array(VisitsBucket),
    ...visitsRange,
    groups: groupsOf({ ...visitsRange, buckets: z.array(VisitsBucket) }),
    interval: z.enum(["hour", "day"]),
    tz: z.string(),
    fallback_tz: z.string().optional().openapi({ description: "With tz=store: the zone of sessions with no registered store." }),
    as_of: Timestamp.nullable(),
  })
  .openapi("Visits");
