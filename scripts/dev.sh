#!/usr/bin/env bash
# npm run dev [-- wrangler dev flags]: serves the API on http://localhost:8787 in workerd.
# Without a .dev.vars, the committed demo tenant and admin key in .dev.vars.example are used.
# The tenant registry's D1 migrations are applied first, to the same local state that
# `wrangler dev` will use (its --persist-to, default .wrangler/state).
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
# Miniflare fetches a sample `request.cf` (geolocation) object from Cloudflare at start-up and prints
# a stack trace when offline; locally its placeholder serves, so do not ask.
export CLOUDFLARE_CF_FETCH_ENABLED=false
# The console (http://localhost:8787/console/) is static assets: build them first.
npm run --silent build:console

persist=()
argv=("$@")
for ((i = 0; i < ${#argv[@]}; i++)); do
  case "${argv[$i]}" in
    --persist-to) persist=(--persist-to "${argv[$((i + 1))]:-}") ;;
    --persist-to=*) persist=(--persist-to "${argv[$i]#--persist-to=}") ;;
  esac
done
# Non-interactive (no stdin, CI=true): wrangler applies without asking. Quiet unless it fails.
if ! out=$(CI=true wrangler d1 migrations apply DB --local "${persist[@]}" </dev/null 2>&1); then
  echo "$out" >&2
  echo "npm run dev: applying the registry's D1 migrations failed" >&2
  exit 1
fi
echo "npm run dev: registry migrations applied (migrations/ → local D1${persist:+ in ${persist[1]}})"

args=()
if [ ! -f .dev.vars ]; then
  args+=(--env-file .dev.vars.example)
fi
exec wrangler dev "${args[@]}" "$@"
