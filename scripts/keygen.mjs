// npm run keygen -- <tenant_id> [--read]
// Prints a fresh SDK key (shown once: store it in the kiosk) and the SDK_KEYS entry that accepts it.
import { createHash, randomBytes } from "node:crypto";

const args = process.argv.slice(2);
const readOnly = args.includes("--read");
const tenant = args.find((a) => !a.startsWith("--"));
if (!tenant || !/^[a-z0-9_-]{1,64}$/.test(tenant)) {
  console.error("usage: npm run keygen -- <tenant_id> [--read]   (tenant_id: 1 to 64 of a-z 0-9 _ -)");
  process.exit(2);
}
const key = `sk_${randomBytes(32).toString("base64url")}`;
const hash = createHash("sha256").update(key).digest("hex");
console.log(`key:            ${key}`);
console.log(`SDK_KEYS entry: ${tenant}:${hash}${readOnly ? ":read" : ""}`);
console.log("Add the entry to SDK_KEYS (comma-separated); the key itself is not stored anywhere.");
