/** What the paged and ranged routes share: the range rule, opaque cursors, freshness. */
import { ApiError } from "../errors";
import { iso } from "../ids";
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

/**
 * Page cursors: a position this API gave out, opaque to clients (base64 of `kind:part:part`).
 * `decode` takes the pattern of the parts after `kind:`; anything else is a 400 naming `cursor`.
 */
export const cursor = {
  encode: (kind: string, ...parts: (string | number)[]) => btoa([kind, ...parts].join(":")).replace(/=+$/, ""),
  decode(kind: string, value: string, parts: RegExp): string[] {
    let decoded = "";
    try {
      decoded = atob(value);
    } catch {
      // refused below
    }
    const match = decoded.startsWith(`${kind}:`) ? parts.exec(decoded.slice(kind.length + 1)) : null;
    if (!match) throw invalid("cursor", "cursor is not a cursor this API gave out for this route.");
    return match.slice(1);
  },
};

/** `as_of`: the latest time any of the shards read applied a change (null: none ever did). */
export function asOf(times: (number | null)[]): string | null {
  const known = times.filter((t): t is number => t !== null);
  return known.length ? iso(Math.max(...known)) : null;
}
