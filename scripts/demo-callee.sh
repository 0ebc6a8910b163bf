#!/usr/bin/env bash
# The demo carrier of scripts/run.sh: one sipp callee that answers every call (test/sipp/answer.xml) on
# 127.0.0.1:5072, the default SIP_DEFAULT_TARGET, so a campaign started from Swagger UI really talks to someone.
#
#   scripts/demo-callee.sh start|stop|status
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=demo-callee
MATCH="sipp -sf"
PORT=5072

start() {
  local pid
  take_lock "$NAME"
  if pid=$(running_pid "$NAME" "$MATCH"); then
    log "already running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  "$WAIHU_ROOT/scripts/install.sh" host
  start_bg "$NAME" sipp -sf "$WAIHU_ROOT/test/sipp/answer.xml" -i 127.0.0.1 -p "$PORT" -mp 6000 -cp 8889 -nostdin
  sleep 0.5
  running_pid "$NAME" "$MATCH" >/dev/null || fail_start "$NAME" "sipp exited during start"
  log "answering callee on 127.0.0.1:$PORT (pid $(running_pid "$NAME"))"
}

case "${1:-}" in
start) start ;;
stop) stop_pidfile "$NAME" 5 "$MATCH" ;;
status)
  if running_pid "$NAME" "$MATCH" >/dev/null; then
    log "running"
  else
    log "not running"
    exit 1
  fi
  ;;
*)
  echo "usage: $0 start|stop|status" >&2
  exit 2
  ;;
esac
