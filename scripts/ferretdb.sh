#!/usr/bin/env bash
# FerretDB (MongoDB wire protocol over SQLite) on 127.0.0.1, the test stand-in for MongoDB.
#
#   scripts/ferretdb.sh start|stop|status
#
# FERRETDB_PORT   port (default 27017); connect with mongodb://127.0.0.1:27017/<db>
# FERRETDB_DATA   SQLite directory (default $WAIHU_CACHE/data/ferretdb); delete it for an empty database
# MONGODB_URI     when set to anything but this server (127.0.0.1 or localhost on FERRETDB_PORT), an external
#                 MongoDB is in use and this script does nothing
#
# FerretDB 1.24 lacks transactions, $lookup, change streams, TTL and partial indexes: see infra-notes.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=ferretdb
MATCH=ferretdb
PORT="${FERRETDB_PORT:-27017}"
DATA="${FERRETDB_DATA:-$WAIHU_CACHE/data/ferretdb}"
START_TIMEOUT=30

external() {
  if [[ -n "${MONGODB_URI:-}" ]] && ! is_local_address "$MONGODB_URI" "$PORT"; then
    log "MONGODB_URI points to an external MongoDB; not managing FerretDB"
    return 0
  fi
  return 1
}

start() {
  local pid started
  external && return 0
  take_lock "$NAME"
  if pid=$(running_pid "$NAME" "$MATCH"); then
    port_open 127.0.0.1 "$PORT" || wait_ready "$NAME" "$START_TIMEOUT" port_open 127.0.0.1 "$PORT"
    log "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  "$WAIHU_ROOT/scripts/install.sh" ferretdb
  ! port_open 127.0.0.1 "$PORT" ||
    die "127.0.0.1:$PORT is taken by another process (not in $(pidfile "$NAME")); stop it or set FERRETDB_PORT"
  mkdir -p "$DATA"
  DATA=$(cd "$DATA" && pwd) # the SQLite URL needs an absolute directory ending in /
  started=$(now)
  # --debug-addr=- : the debug HTTP server's default, 127.0.0.1:8088, is Asterisk ARI's port.
  # synchronous(normal): WAL commits are fsynced at checkpoints, not one by one (README, "Data layout").
  start_bg "$NAME" "$WAIHU_BIN/ferretdb" --handler=sqlite --sqlite-url="file:$DATA/?_pragma=synchronous(normal)" \
    --listen-addr="127.0.0.1:$PORT" --state-dir="$DATA" --debug-addr=- --telemetry=disable --log-level=warn
  wait_ready "$NAME" "$START_TIMEOUT" port_open 127.0.0.1 "$PORT"
  log "started (pid $(running_pid "$NAME")) on 127.0.0.1:$PORT in $(elapsed "$started")s, data in $DATA"
}

status() {
  local pid
  external && return 0
  if pid=$(running_pid "$NAME" "$MATCH") && port_open 127.0.0.1 "$PORT"; then
    log "running (pid $pid) on 127.0.0.1:$PORT"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
start) start ;;
stop) external || stop_pidfile "$NAME" 15 "$MATCH" ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
