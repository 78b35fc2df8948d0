import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";
import type { AppEnv } from "./context";

const JSON_TYPE = /^application\/json\s*(;.*)?$/i;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Reads a stream into one buffer, giving up (null) as soon as it passes `maxBytes`, so a
 * chunked body with no Content-Length cannot make the Worker buffer more than the limit.
 */
async function readAtMost(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<ArrayBuffer | null> {
  if (!stream) return new ArrayBuffer(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out.buffer;
}

const bodyReaders = new WeakSet<MiddlewareHandler<AppEnv>>();

/** Whether a middleware is a `jsonBody` (a route with a JSON body must run one before its validator). */
export const readsJsonBody = (middleware: MiddlewareHandler<AppEnv>) => bodyReaders.has(middleware);

/**
 * Reads a JSON request body before the route's validator runs, so faults come out in the
 * documented order: 415 (not JSON), then 413 (too large), then 400 INVALID_JSON; schema errors
 * follow from the route's validator (validation.ts) as 400 VALIDATION_ERROR. An absent body reads
 * as `{}`.
 */
export function jsonBody(options: { maxBytes: number }): MiddlewareHandler<AppEnv> {
  const reader: MiddlewareHandler<AppEnv> = async (c, next) => {
    const type = c.req.header("content-type");
    if (type !== undefined && !JSON_TYPE.test(type)) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
    const tooLarge = () =>
      new ApiError("PAYLOAD_TOO_LARGE", `The request body must be at most ${options.maxBytes} bytes.`, { max_bytes: options.maxBytes });
    const length = c.req.header("content-length");
    if (length !== undefined && Number(length) > options.maxBytes) throw tooLarge();
    // With a declared length within the limit the runtime enforces it, so one read is safe and
    // cheapest; a body of unknown length is streamed and cut off at the limit.
    const raw = length !== undefined ? await c.req.raw.arrayBuffer() : await readAtMost(c.req.raw.body, options.maxBytes);
    if (raw === null || raw.byteLength > options.maxBytes) throw tooLarge();
    if (raw.byteLength > 0 && type === undefined) throw new ApiError("UNSUPPORTED_MEDIA_TYPE");
    let json: unknown = {};
    if (raw.byteLength > 0) {
      try {
        json = JSON.parse(decoder.decode(raw));
      } catch {
        throw new ApiError("INVALID_JSON");
      }
    }
    // Parsed once: the route's validator checks this value against its schema.
    c.set("json", json);
    c.set("rawBody", raw);
    await next();
  };
  bodyReaders.add(reader);
  return reader;
}
