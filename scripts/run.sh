#!/usr/bin/env bash
# Run the service (API + worker) with embedded defaults:   bash scripts/run.sh
#
# Installs what is missing (cached in $WAIHU_CACHE), starts every server that is not configured elsewhere, builds,
# then runs the API and the worker in the foreground until Ctrl-C:
#   - FerretDB on 127.0.0.1:27017 with data kept in $WAIHU_CACHE/data/ferretdb   (skipped when MONGODB_URI is set)
#   - Temporal dev server on 127.0.0.1:7233 with its Web UI on :8233, history kept in
#     $WAIHU_CACHE/data/temporal.db                                               (skipped when TEMPORAL_ADDRESS is set)
#   - Asterisk 22 with ARI on 127.0.0.1:8088 in the Debian sid chroot             (skipped when ARI_URL is set)
#   - a demo carrier: a sipp callee that answers, on 127.0.0.1:5072, where calls go by default
#                                                                                 (skipped when SIP_DEFAULT_TARGET is set)
# The API listens on http://127.0.0.1:3000 (Swagger UI at /docs). Servers started here keep running after Ctrl-C
# so the next start is instant; stop them with `bash scripts/stop-all.sh`.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WAIHU_ROOT"

bash scripts/node-deps.sh
bash scripts/install.sh all

[[ -n "${MONGODB_URI:-}" ]] || bash scripts/ferretdb.sh start
if [[ -z "${TEMPORAL_ADDRESS:-}" ]]; then
  TEMPORAL_DB_FILE="$WAIHU_CACHE/data/temporal.db" TEMPORAL_UI=1 bash scripts/temporal.sh start
fi
if [[ -z "${ARI_URL:-}" ]]; then
  bash scripts/asterisk.sh start
  # Prompts are synthesised inside the Asterisk root (Debian sid's espeak-ng reads Mandarin correctly).
  export TTS_CHROOT="${TTS_CHROOT:-$ASTERISK_ROOT}"
fi
if [[ -z "${SIP_DEFAULT_TARGET:-}" ]]; then
  bash scripts/demo-callee.sh start
fi

npm run --silent build

pids=()
shutdown() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap shutdown INT TERM EXIT

node dist/activities/worker.js &
pids+=($!)
node dist/api/main.js &
pids+=($!)
log "API on http://${API_HOST:-127.0.0.1}:${API_PORT:-3000} (Swagger UI: /docs, health: /health); Temporal Web UI on http://127.0.0.1:8233"
# Stop both when either exits: a service with half its processes is not a service.
wait -n
log "a service process exited; stopping the other"
