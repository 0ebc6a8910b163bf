#!/usr/bin/env bash
# Install the project's npm dependencies with npm's cache in $WAIHU_CACHE/npm, only when package-lock.json changed
# since the last install (a stamp in node_modules records its hash).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$WAIHU_ROOT"
command -v node >/dev/null || die "Node.js 20 is required (see .nvmrc)"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.waihu-lock-hash
if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]]; then
  exit 0
fi
t0=$(now)
log "npm ci (cache $WAIHU_CACHE/npm)"
npm ci --cache "$WAIHU_CACHE/npm" --prefer-offline --no-audit --no-fund --loglevel=error >&2
printf '%s\n' "$want" >"$stamp"
log "npm ci done in $(elapsed "$t0")s"
