#!/usr/bin/env bash
# npm run dev [-- wrangler dev flags]: serves the API on http://localhost:8787 in workerd.
# Without a .dev.vars, the committed demo tenant in .dev.vars.example is used.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
args=()
if [ ! -f .dev.vars ]; then
  args+=(--env-file .dev.vars.example)
fi
exec wrangler dev "${args[@]}" "$@"
