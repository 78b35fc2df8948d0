import { ApiError } from "../errors";

/**
 * Page cursors are opaque to clients (base64 of a kind and a position), so the position's form can
 * change without breaking them; a cursor this API did not give out is 400 VALIDATION_ERROR naming it.
 */
export function encodeCursor(kind: string, position: string): string {
  return btoa(`${kind}:${position}`).replace(/=+$/, "");
}

export function decodeCursor(kind: string, cursor: string, position: RegExp): RegExpExecArray {
  let decoded = "";
  try {
    decoded = atob(cursor);
  } catch {
    // fall through to the error below
  }
  const match = decoded.startsWith(`${kind}:`) ? position.exec(decoded.slice(kind.length + 1)) : null;
  if (!match) {
    throw new ApiError("VALIDATION_ERROR", "cursor is not a cursor this API gave out.", {
      fields: [{ path: "cursor", message: "invalid cursor" }],
    });
  }
  return match;
}
