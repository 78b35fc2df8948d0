/**
 * Schemas of the store registry's routes (/v1/stores and /admin/v1/tenants/{tenant_id}/stores):
 * validation, types and the OpenAPI document from one source. Limits come from src/limits.ts.
 */
import { z } from "@hono/zod-openapi";
import { COUNTRY_CODES } from "../countries";
import { StoreId } from "../fields";
import { LIMITS } from "../limits";
import { zoneFormat } from "../tenant-index/buckets";
import { Timestamp } from "./schemas";
import { PageQuery, TenantParams, text } from "./tenant-schemas";

const tagRule = `a tag must be 1 to ${LIMITS.storeTagMaxChars} characters with no control characters and no |`;
/** A tag: free text but `|`, which separates tags in the CLI's CSV. */
export const Tag = z
  .string()
  .regex(new RegExp(`^[^\\p{Cc}\\p{Cs}|]{1,${LIMITS.storeTagMaxChars}}$`, "u"), tagRule)
  .openapi({
    pattern: `^(?:[^\\x00-\\x1F\\x7F-\\x9F\\uD800-\\uDFFF|]|[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]){1,${LIMITS.storeTagMaxChars}}$`,
    minLength: 1,
    maxLength: LIMITS.storeTagMaxChars,
    example: "region:north",
  });

const zoneRule = "time_zone must be an IANA time zone name, such as Europe/Paris or America/New_York";
export const TimeZone = z
  .string()
  .refine((tz) => zoneFormat(tz) !== null, zoneRule)
  .openapi({ description: "An IANA time zone name: the store's local time (DST included).", maxLength: 64, example: "Europe/Paris" });

const countryRule = "country must be an ISO 3166-1 alpha-2 code, such as FR or US";
const Country = z
  .string()
  .refine((c) => COUNTRY_CODES.has(c), countryRule)
  .openapi({ description: "ISO 3166-1 alpha-2, uppercase (one of the 249 assigned codes).", pattern: "^[A-Z]{2}$", example: "FR" });

const tagsRule = `tags must be a list of at most ${LIMITS.storeTagsMax} distinct tags`;
const StoreFields = {
  name: text("name", LIMITS.storeNameMaxChars).openapi({ example: "Lyon Part-Dieu" }),
  time_zone: TimeZone,
  country: Country.nullable().optional(),
  tags: z
    .array(Tag, { error: tagsRule })
    .max(LIMITS.storeTagsMax, tagsRule)
    .refine((tags) => new Set(tags).size === tags.length, "tags must not repeat a tag")
    .optional()
    .openapi({ description: "For grouping and filtering (region, format, ...).", example: ["region:south", "format:mall"] }),
  capacity: z
    .int({ error: "capacity must be a whole number of people from 1" })
    .min(1, "capacity must be a whole number of people from 1")
    .max(1_000_000, "capacity must be at most 1000000")
    .nullable()
    .optional()
    .openapi({ description: "How many people the store holds: occupancy's utilization is active sessions ÷ capacity.", example: 120 }),
};

export const StoreBody = z.strictObject(StoreFields).openapi("StoreRequest", {
  description: "A store, whole: a field left out is cleared (country, tags, capacity), as a PUT replaces.",
});
export const BulkStoresBody = z
  .strictObject({
    stores: z
      .array(z.strictObject({ store_id: StoreId, ...StoreFields }))
      .min(1)
      .max(LIMITS.storesPerPut)
      .superRefine((stores, ctx) => {
        const seen = new Set<string>();
        stores.forEach((s, i) => {
          if (seen.has(s.store_id)) ctx.addIssue({ code: "custom", path: [i, "store_id"], message: "store_id is given twice" });
          seen.add(s.store_id);
        });
      }),
  })
  .openapi("BulkStoresRequest");

export const StoreParams = z.object({ store_id: StoreId.openapi({ param: { name: "store_id", in: "path" } }) });
export const TenantStoreParams = TenantParams.extend({ store_id: StoreId.openapi({ param: { name: "store_id", in: "path" } }) });

/** A store listing's query (the registry's and occupancy's): the tenant's paging, and a tag. */
export const StoreListQuery = PageQuery.extend({
  tag: Tag.optional().openapi({ param: { name: "tag", in: "query" }, description: "Only (registered) stores with this tag." }),
});
export const OccupancyQuery = StoreListQuery;

export const Occupancy = z
  .object({
    stores: z.array(
      z.object({
        store_id: z.string(),
        name: z
          .string()
          .nullable()
          .openapi({ description: "null: a store_id seen in an active session but not registered (deleted, say)." }),
        active: z.int().openapi({ description: "Active sessions in the store now." }),
        capacity: z.int().nullable(),
        utilization: z.number().nullable().openapi({ description: "active ÷ capacity, rounded to 4 decimals; null without a capacity." }),
        by_status: z.record(z.string(), z.int()).openapi({ description: "Its active sessions per current status." }),
      }),
    ),
    total_active: z.int().openapi({ description: "Active sessions in every store this query covers (all pages)." }),
    no_store_active: z.int().openapi({ description: "Active sessions whose start named no store (tenant-wide)." }),
    as_of: Timestamp.nullable().openapi({ description: "When the index last applied a change (null: never)." }),
    next_cursor: z.string().nullable(),
  })
  .openapi("Occupancy");

export const Store = z
  .object({
    store_id: z.string(),
    name: z.string(),
    time_zone: z.string(),
    country: z.string().nullable(),
    tags: z.array(z.string()),
    capacity: z.int().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Store");
export const StoreList = z.object({ stores: z.array(Store), next_cursor: z.string().nullable() }).openapi("StoreList");
export const BulkStoresResult = z
  .object({
    created: z.int().openapi({ description: "Stores that were not registered." }),
    replaced: z.int().openapi({ description: "Registered stores whose fields changed." }),
    unchanged: z.int().openapi({ description: "Registered stores given exactly as they were (nothing written, no audit entry)." }),
  })
  .openapi("BulkStoresResult");

/** A validated store body as the registry takes it: absent optional fields are cleared. */
export function storeInput(storeId: string, body: z.infer<typeof StoreBody>) {
  return {
    store_id: storeId,
    name: body.name,
    time_zone: body.time_zone,
    country: body.country ?? null,
    tags: body.tags ?? [],
    capacity: body.capacity ?? null,
  };
}
