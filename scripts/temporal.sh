#!/usr/bin/env bash
# Temporal dev server (the CLI's `server start-dev`) on 127.0.0.1.
#
#   scripts/temporal.sh start|stop|status
#
# TEMPORAL_PORT      frontend gRPC port (default 7233)
# TEMPORAL_DB_FILE   SQLite file that keeps history across restarts (restart drills); default: in memory
# TEMPORAL_UI=1      also serve the Web UI on TEMPORAL_UI_PORT (default 8233); otherwise headless
#
# `start` returns at once when the server already answers; otherwise it starts it and waits until the health
# check says SERVING. The options only apply to a new server: stop it first to change them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=temporal
MATCH="server start-dev" # in the pid's command line: guards against a stale pid file
PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL="$WAIHU_VENV/bin/temporal"
START_TIMEOUT=60

healthy() {
  [[ "$("$TEMPORAL" operator cluster health --address "127.0.0.1:$PORT" 2>/dev/null)" == *SERVING* ]]
}

# register_search_attributes: the Waihu search attributes (workflows/search-attributes.ts). Idempotent: creating
# an attribute that exists with the same type succeeds.
register_search_attributes() {
  "$TEMPORAL" operator search-attribute create --address "127.0.0.1:$PORT" \
    --name WaihuTenant --type Keyword --name WaihuTask --type Keyword --name WaihuStatus --type Keyword >/dev/null
}

start() {
  local pid args started
  take_lock "$NAME"
  if pid=$(running_pid "$NAME" "$MATCH"); then
    healthy || wait_ready "$NAME" "$START_TIMEOUT" healthy # a start still under way
    register_search_attributes
    log "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  "$WAIHU_ROOT/scripts/install.sh" temporal
  ! port_open 127.0.0.1 "$PORT" ||
    die "127.0.0.1:$PORT is taken by another process (not in $(pidfile "$NAME")); stop it or set TEMPORAL_PORT"
  args=(server start-dev --ip 127.0.0.1 --port "$PORT" --namespace default --log-level warn)
  if [[ -n "${TEMPORAL_DB_FILE:-}" ]]; then
    mkdir -p "$(dirname "$TEMPORAL_DB_FILE")"
    args+=(--db-filename "$TEMPORAL_DB_FILE")
  fi
  if [[ "${TEMPORAL_UI:-}" == 1 ]]; then
    args+=(--ui-port "${TEMPORAL_UI_PORT:-8233}" --ui-disable-news-fetch)
  else
    args+=(--headless)
  fi
  started=$(now)
  start_bg "$NAME" "$TEMPORAL" "${args[@]}"
  wait_ready "$NAME" "$START_TIMEOUT" healthy
  register_search_attributes
  log "started (pid $(running_pid "$NAME")) on 127.0.0.1:$PORT in $(elapsed "$started")s"
  [[ "${TEMPORAL_UI:-}" != 1 ]] || log "Web UI on http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}"
}

status() {
  local pid
  if pid=$(running_pid "$NAME" "$MATCH") && healthy; then
    log "running (pid $pid), SERVING on 127.0.0.1:$PORT"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
start) start ;;
stop) stop_pidfile "$NAME" 20 "$MATCH" ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
