/**
 * The field rules every plane shares, as zod schemas (validation, types and the document): a
 * status label, an instant, how a session ends. Here so the edge and the planes below it take
 * them from one place without importing each other.
 */
import { z } from "@hono/zod-openapi";
import { LIMITS } from "./limits";

/**
 * The status rule as the document states it. JSON Schema patterns are ECMA-262 without flags, and
 * validators differ on whether they add `u`; this one means the same either way: without `u` a
 * character outside the BMP is a surrogate pair (the second alternative), with `u` it is one code
 * point (the first). Both refuse control characters (Cc) and lone surrogates (Cs), as the `u`
 * regex that validates requests does (a test holds the two to the same answers).
 */
export const STATUS_PATTERN = `^(?:[^\\x00-\\x1F\\x7F-\\x9F\\uD800-\\uDFFF]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]){1,${LIMITS.statusMaxChars}}$`;

/** The status rule requests are validated with: no control characters, no lone surrogates, 1 to 64 code points. */
export const STATUS_REGEX = new RegExp(`^[^\\p{Cc}\\p{Cs}]{1,${LIMITS.statusMaxChars}}$`, "u");

export const Status = z
  .string()
  .regex(STATUS_REGEX, `status must be 1 to ${LIMITS.statusMaxChars} characters with no control characters`)
  .openapi({
    description: [
      "Status label, freely defined by the tenant; stored exactly as given.",
      `1 to ${LIMITS.statusMaxChars} characters counted as Unicode code points (as JSON Schema counts: an emoji is one),`,
      "with no control characters and no lone surrogates. A tool that counts UTF-16 units instead would take fewer characters outside the BMP.",
    ].join(" "),
    pattern: STATUS_PATTERN,
    minLength: 1,
    maxLength: LIMITS.statusMaxChars,
    example: "SHOPPING",
  });

export const instantRange = `${new Date(LIMITS.instantMinMs).toISOString().slice(0, 19)}Z to ${new Date(LIMITS.instantMaxMs).toISOString().slice(0, 19)}Z`;

/**
 * `format: date-time` (RFC 3339) also allows a lowercase `t` and `z` and a leap second (`:60`),
 * which the parser below refuses; the document states the narrower rule with this pattern (the
 * format still checks the calendar: 2026-02-30 is not a date). Held to the parser by a test.
 */
export const INSTANT_PATTERN =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]+)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$";

/**
 * Every instant a client sends: RFC 3339 with a zone, from 2000 to 3000 (LIMITS.instantMinMs,
 * instantMaxMs); outside them a 400 names the field.
 */
export const Instant = z.iso
  .datetime({ offset: true })
  .refine(
    (value) => {
      const at = Date.parse(value);
      return at >= LIMITS.instantMinMs && at <= LIMITS.instantMaxMs;
    },
    { message: `must be an instant from ${instantRange}` },
  )
  .openapi({ pattern: INSTANT_PATTERN });

/** How a session ended: the client ended it, or it went idle past the tenant's timeout. */
export const END_REASONS = ["client", "idle_timeout"] as const;
export const EndReason = z.enum(END_REASONS);
export type EndReason = z.infer<typeof EndReason>;

/** A store's or kiosk's id: 1 to 64 of A-Z a-z 0-9 _ . - (safe in a URL path, a CSV cell, a file name). */
export const STORE_ID = new RegExp(`^[A-Za-z0-9_.-]{1,${LIMITS.storeIdMaxChars}}$`);

const placeId = (field: string, example: string) =>
  z
    .string()
    .regex(STORE_ID, `${field} must be 1 to ${LIMITS.storeIdMaxChars} characters of A-Z a-z 0-9 _ . -`)
    .openapi({ minLength: 1, maxLength: LIMITS.storeIdMaxChars, example });

export const StoreId = placeId("store_id", "store-012");
export const KioskId = placeId("kiosk_id", "kiosk-3");
