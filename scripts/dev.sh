#!/usr/bin/env bash
# npm run dev [-- wrangler dev flags]: serves the API on http://localhost:8787 in workerd.
# Without a .dev.vars, the committed demo tenant in .dev.vars.example is used.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
# The console (http://localhost:8787/console/) is static assets: build them first.
npm run --silent build:console
args=()
if [ ! -f .dev.vars ]; then
  args+=(--env-file .dev.vars.example)
fi
exec wrangler dev "${args[@]}" "$@"
