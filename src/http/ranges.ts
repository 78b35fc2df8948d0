import { ApiError } from "../errors";
import { LIMITS } from "../limits";

/** A 400 VALIDATION_ERROR naming one field, shaped like the schema validators' own. */
export const invalid = (field: string, message: string) =>
  new ApiError("VALIDATION_ERROR", message, { fields: [{ path: field, message }] });

/** The `[from, to)` range of a tenant-wide query: `from` before `to`, at most the longest span apart. */
export function range({ from, to }: { from: number; to: number }): { from: number; to: number } {
  if (from >= to) throw invalid("from", "from must be before to.");
  if (to - from > LIMITS.indexRangeMaxDays * 86_400_000) {
    throw invalid("to", `The range from..to may span at most ${LIMITS.indexRangeMaxDays} days.`);
  }
  return { from, to };
}
