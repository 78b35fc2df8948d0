#!/usr/bin/env bash
# Starts `npm run dev` on a free port with throwaway state, walks the seed's journey with the
# README's curl commands (demo key), onboards a tenant with the admin CLI (tenant, write key, stamps,
# revocation seen after the auth cache window), checks the served OpenAPI document in other people's
# tools (swagger-parser, Redocly lint, openapi-typescript + openapi-fetch), runs a plain JavaScript
# journey from the packed client package, and stops the server. Exits non-zero on any surprise.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
state=$(mktemp -d)
log="$state/dev.log"
# Its own process group, so the whole tree (npm, wrangler, workerd) stops together.
# A short auth cache window, so a revocation is seen quickly everywhere.
cache_seconds=2
setsid npm run dev -- --port "$port" --persist-to "$state/wrangler" --inspector-port 0 --var "AUTH_CACHE_SECONDS:$cache_seconds" >"$log" 2>&1 &
dev=$!
trap 'kill -TERM -- -$dev 2>/dev/null || true; wait $dev 2>/dev/null || true; rm -rf "$state"' EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  curl -s -o /dev/null "$base/healthz" && break
  sleep 0.5
done
curl -sf "$base/healthz" >/dev/null || { echo "smoke: dev server did not come up"; cat "$log"; exit 1; }

SDK_KEY=sk_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF
PERSONA_ID="smoke-$(date +%s)"
check() { # check <expected status> <curl args...>
  local want=$1; shift
  local out status
  out=$(curl -s -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  if [ "$status" != "$want" ]; then echo "smoke: expected $want, got $status for: $*"; echo "${out%$'\n'*}"; exit 1; fi
  echo "smoke: $status ${out%$'\n'*}" | cut -c1-160
}
check 201 -X POST "$base/v1/persona/$PERSONA_ID/session/start" -H "Authorization: Bearer $SDK_KEY"
for status in CHAT SHOPPING PAYMENT COMPLETE; do
  check 201 -X POST "$base/v1/persona/$PERSONA_ID/session/stamp" -H "Authorization: Bearer $SDK_KEY" \
    -H "Content-Type: application/json" -d "{\"status\": \"$status\", \"meta\": {\"zone\": \"wine\"}}"
done
check 200 "$base/v1/persona/$PERSONA_ID/session" -H "Authorization: Bearer $SDK_KEY"
check 200 -X POST "$base/v1/persona/$PERSONA_ID/session/end" -H "Authorization: Bearer $SDK_KEY"
check 404 "$base/v1/persona/$PERSONA_ID/session" -H "Authorization: Bearer $SDK_KEY"
check 401 "$base/v1/persona/$PERSONA_ID/session"
# The README's tenant-wide examples.
check 200 "$base/v1/sessions/active" -H "Authorization: Bearer $SDK_KEY"
check 200 "$base/v1/sessions?persona_id=$PERSONA_ID" -H "Authorization: Bearer $SDK_KEY"
check 200 "$base/v1/analytics/funnel?step=ENTER&step=SHOPPING&from=$(date -u +%FT00:00:00Z)&to=$(date -u -d tomorrow +%FT00:00:00Z)" \
  -H "Authorization: Bearer $SDK_KEY"

# The served document, as an integrator's tools see it. Saved where .redocly.lint-ignore.yaml expects it.
mkdir -p .tmp
curl -sf "$base/openapi.json" -o .tmp/openapi.json
npm run --silent openapi:validate -- .tmp/openapi.json
npm run --silent openapi:lint -- .tmp/openapi.json
# The client package's types are generated from it: the committed ones must be current.
client/node_modules/.bin/openapi-typescript .tmp/openapi.json -o "$state/schema.ts" >/dev/null
diff -q client/src/schema.ts "$state/schema.ts" >/dev/null ||
  { echo "smoke: client/src/schema.ts is not generated from the served document: npm run client:schema"; exit 1; }

# A client generated from the served document by standard tools, compiled strictly, walks a visit.
gen=examples/generated-client
npm ci --prefix "$gen" --no-audit --no-fund --silent
npm run --silent --prefix "$gen" generate -- "$base/openapi.json" -o schema.d.ts >/dev/null
npm run --silent --prefix "$gen" build
npm run --silent --prefix "$gen" journey -- "$base" "$SDK_KEY"

# The README's client example as pasted, from this checkout as `npm ci` left it (its prepare
# script built client/dist), on the Node found on PATH (in CI the machine's Node 20).
node examples/js-kiosk/journey.mjs "$base" "$SDK_KEY"
# The client package as npm ships it: packed, installed from the tarball in a scratch JavaScript
# project, run on the Node found on PATH (in CI the machine's Node 20: the package promises Node 20+).
npm run --silent build:client
# Its files import only each other, and only node.js (the `/node` entry) imports Node's built-ins.
node -e '
  const { readdirSync, readFileSync } = require("node:fs");
  for (const f of readdirSync("client/dist").filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(`client/dist/${f}`, "utf8");
    if (/\brequire\(/.test(text)) throw new Error(`smoke: client/dist/${f} calls require`);
    for (const [, spec] of text.matchAll(/\b(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      if (!spec.startsWith("./") && !(f === "node.js" && spec.startsWith("node:")))
        throw new Error(`smoke: client/dist/${f} imports ${spec}: the package imports nothing outside itself`);
    }
  }
' || exit 1
tarball=$(cd client && npm pack --silent --pack-destination "$state")
scratch="$state/js-kiosk"
mkdir -p "$scratch"
cp examples/js-kiosk/journey.mjs "$scratch/"
(
  cd "$scratch"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --silent "$state/$tarball"
  node journey.mjs "$base" "$SDK_KEY"
  # The kiosk recorder from the tarball, on its Node entry's file storage.
  cat >recorder.mjs <<'JS'
import { createKioskRecorder } from "@persona-session/client";
import { fileStorage } from "@persona-session/client/node";
const [base, key, dir] = process.argv.slice(2);
const recorder = createKioskRecorder({ baseUrl: base, key, storage: fileStorage(dir) });
const visit = recorder.persona(`smoke-recorder-${Date.now()}`);
await visit.start();
await visit.stamps([{ status: "CHAT" }, { status: "SHOPPING" }]);
await visit.end();
const status = await recorder.flush();
await recorder.close();
if (status.pending !== 0 || status.dead_letters !== 0 || !status.clock_synced) throw new Error(`recorder: ${JSON.stringify(status)}`);
console.log("smoke: the packed recorder delivered a visit from file storage");
JS
  node recorder.mjs "$base" "$SDK_KEY" "$state/recorder-queue"
)
# keygen: the entry it prints must be the hash of the key it prints.
generated=$(npm run --silent keygen -- smoke-tenant --read)
key=$(sed -n 's/^key: *//p' <<<"$generated")
entry=$(sed -n 's/^SDK_KEYS entry: *//p' <<<"$generated")
[[ "$key" =~ ^sk_[A-Za-z0-9_-]{43}$ ]] || { echo "smoke: keygen printed no valid key"; exit 1; }
[ "$entry" = "smoke-tenant:$(printf %s "$key" | sha256sum | cut -d' ' -f1):read" ] || { echo "smoke: keygen entry does not match its key"; exit 1; }

# Onboarding a tenant with the admin CLI (README "Onboard a tenant"), demo admin key.
export ADMIN_KEY=adm_demo_0123456789abcdefghijklmnopqrstuvwxyzABCDEF
admin() { npm run --silent admin -- --url "$base" "$@"; }
tenant="smoke-$(date +%s)"
admin tenants create "$tenant" --name "Smoke Stores" --idle-timeout 1800
if admin tenants create "$tenant" 2>"$state/dup.err"; then echo "smoke: a second create of $tenant succeeded"; exit 1; fi
grep -q "409 TENANT_EXISTS" "$state/dup.err" || { echo "smoke: the CLI did not report TENANT_EXISTS"; cat "$state/dup.err"; exit 1; }
created=$(admin keys create "$tenant" --scope write --label "smoke kiosk")
echo "$created" | grep -v '^key:'
reg_key=$(sed -n 's/^key: *//p' <<<"$created")
key_id=$(sed -n 's/^key_id: *//p' <<<"$created")
[[ "$reg_key" =~ ^psa_[0-9a-z]{16}_[0-9A-Za-z]{49}$ ]] || { echo "smoke: keys create printed no registry key"; exit 1; }
REG_PERSONA="smoke-reg-$(date +%s)"
check 201 -X POST "$base/v1/persona/$REG_PERSONA/session/start" -H "Authorization: Bearer $reg_key"
check 201 -X POST "$base/v1/persona/$REG_PERSONA/session/stamp" -H "Authorization: Bearer $reg_key" \
  -H "Content-Type: application/json" -d '{"status": "SHOPPING"}'
admin keys list "$tenant" | grep -q "$key_id.*active" || { echo "smoke: keys list does not show $key_id active"; exit 1; }
admin keys revoke "$tenant" "$key_id"
sleep $((cache_seconds + 1))
check 401 -X POST "$base/v1/persona/$REG_PERSONA/session/stamp" -H "Authorization: Bearer $reg_key" \
  -H "Content-Type: application/json" -d '{"status": "PAYMENT"}'
admin audit --tenant "$tenant" | grep -q "key.revoke" || { echo "smoke: the audit log has no key.revoke"; exit 1; }
# Stores from a CSV (docs/keys-and-tenants.md "Stores"): with the admin key, then with the tenant's own admin-scoped key.
cat >"$state/stores.csv" <<'CSV'
store_id,name,time_zone,country,tags,capacity
lyon-01,"Lyon, Part-Dieu",Europe/Paris,FR,region:south|format:mall,120
nyc-07,"The ""Flagship""",America/New_York,US,region:us,
tokyo-02,Shibuya,Asia/Tokyo,,,40
CSV
admin stores import "$state/stores.csv" --tenant "$tenant" | grep -q "3 stores: 3 created, 0 replaced, 0 unchanged" ||
  { echo "smoke: stores import did not create 3 stores"; exit 1; }
admin --json stores list --tenant "$tenant" >"$state/stores.json"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = [["lyon-01", "Lyon, Part-Dieu", "FR", "region:south|format:mall", 120], ["nyc-07", "The \"Flagship\"", "US", "region:us", null], ["tokyo-02", "Shibuya", null, "", 40]];
  const got = s.map((x) => [x.store_id, x.name, x.country, x.tags.join("|"), x.capacity]);
  if (JSON.stringify(got) !== JSON.stringify(want)) { console.error("smoke: stores as imported:", JSON.stringify(got)); process.exit(1); }
' "$state/stores.json"
printf 'store_id,name,time_zone\nok-1,Fine,UTC\nbad-1,Nowhere,Mars/Base\n' >"$state/bad.csv"
if admin stores import "$state/bad.csv" --tenant "$tenant" 2>"$state/bad.err"; then echo "smoke: a CSV with a bad zone was imported"; exit 1; fi
grep -q "line 3, time_zone" "$state/bad.err" && grep -q "nothing was stored" "$state/bad.err" ||
  { echo "smoke: the CLI did not name line 3's time_zone"; cat "$state/bad.err"; exit 1; }
own_admin=$(sed -n 's/^key: *//p' <<<"$(admin keys create "$tenant" --scope admin)")
SDK_KEY="$own_admin" ADMIN_KEY= admin stores import "$state/stores.csv" | grep -q "3 stores: 0 created, 0 replaced, 3 unchanged" ||
  { echo "smoke: stores import with the tenant's own key did not find its 3 stores unchanged"; exit 1; }
admin tenants disable "$tenant"
echo "smoke: ok"
