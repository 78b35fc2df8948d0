// npm run keygen -- <tenant_id> [--read]   or   npm run keygen -- --admin
// Prints a fresh static SDK key (shown once: store it in the kiosk) and the SDK_KEYS entry that
// accepts it; with --admin, an admin key for /admin/v1 and its ADMIN_KEYS entry. Registry keys
// are made by the API instead (npm run admin -- keys create <tenant> --scope ...).
import { createHash, randomBytes } from "node:crypto";

const args = process.argv.slice(2);
const sha = (key) => createHash("sha256").update(key).digest("hex");
if (args.includes("--admin")) {
  const key = `adm_${randomBytes(32).toString("base64url")}`;
  console.log(`admin key:        ${key}`);
  console.log(`ADMIN_KEYS entry: ${sha(key)}`);
  console.log("Add the entry to ADMIN_KEYS (comma-separated); the key itself is not stored anywhere.");
  process.exit(0);
}
const readOnly = args.includes("--read");
const tenant = args.find((a) => !a.startsWith("--"));
if (!tenant || !/^[a-z0-9_-]{1,64}$/.test(tenant)) {
  console.error("usage: npm run keygen -- <tenant_id> [--read]   (tenant_id: 1 to 64 of a-z 0-9 _ -)\n       npm run keygen -- --admin");
  process.exit(2);
}
const key = `sk_${randomBytes(32).toString("base64url")}`;
console.log(`key:            ${key}`);
console.log(`SDK_KEYS entry: ${tenant}:${sha(key)}${readOnly ? ":read" : ""}`);
console.log("Add the entry to SDK_KEYS (comma-separated); the key itself is not stored anywhere.");
