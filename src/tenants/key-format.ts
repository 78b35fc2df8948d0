/**
 * Registry keys: `psa_` + a public key id + `_` + a secret + a checksum, e.g.
 *
 *   psa_k3v9q2m7x1c8b4n6_<43 base62 characters of secret><6 base62 characters of CRC-32>
 *
 * - The prefix is theirs alone (static `SDK_KEYS` keys start `sk_`), so the Worker knows which
 *   kind it holds without a lookup, and a secret scanner can recognise a leaked key.
 * - The key id (16 of `0-9 a-z`, about 83 bits) is public: it names the key in listings, audit
 *   entries and revocations, and finds the key in one primary-key lookup.
 * - The secret is 43 base62 characters drawn uniformly: 62^43 > 2^256.
 * - The checksum is the CRC-32 of everything before it, in base62 (as GitHub's tokens do): a typo
 *   or a truncated paste is refused offline, before any storage is touched. It is not a secret:
 *   anyone can make a well-formed key, which is why failed authentications are rate limited.
 *
 * Base62 and one separator keep the key one "word": a double-click selects all of it.
 */
import { LIMITS } from "../limits";

/** A tenant id: the registry's and `SDK_KEYS`'. */
export const TENANT_ID = new RegExp(`^[a-z0-9_-]{1,${LIMITS.tenantIdMaxChars}}$`);

export const KEY_PREFIX = "psa_";
const KEY_ID_CHARS = 16;
const SECRET_CHARS = 43;
const CHECKSUM_CHARS = 6;

const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const KEY = new RegExp(`^${KEY_PREFIX}([0-9a-z]{${KEY_ID_CHARS}})_([0-9A-Za-z]{${SECRET_CHARS}})([0-9A-Za-z]{${CHECKSUM_CHARS}})$`);
export const KEY_ID = new RegExp(`^[0-9a-z]{${KEY_ID_CHARS}}$`);

/** `count` characters of `alphabet`, each uniformly random (rejection sampling: no modulo bias). */
function randomString(alphabet: string, count: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < count) {
    for (const byte of crypto.getRandomValues(new Uint8Array(count * 2))) {
      if (byte < limit && out.length < count) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksum(body: string): string {
  let n = crc32(body);
  let out = "";
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/** The key made of an id and a secret, checksum included. */
export function formatKey(keyId: string, secret: string): string {
  const body = `${KEY_PREFIX}${keyId}_${secret}`;
  return body + checksum(body);
}

export function generateKey(): { keyId: string; key: string } {
  const keyId = randomString(BASE36, KEY_ID_CHARS);
  return { keyId, key: formatKey(keyId, randomString(BASE62, SECRET_CHARS)) };
}

export const looksLikeRegistryKey = (token: string) => token.startsWith(KEY_PREFIX);

/** The key id of a well-formed registry key whose checksum matches; null for anything else. */
export function parseKey(token: string): { keyId: string } | null {
  const match = KEY.exec(token);
  if (!match) return null;
  const body = token.slice(0, token.length - CHECKSUM_CHARS);
  return checksum(body) === match[3] ? { keyId: match[1]! } : null;
}
