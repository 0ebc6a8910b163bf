#!/usr/bin/env bash
# Asterisk 22 with ARI, in the Debian sid chroot that install.sh builds ($WAIHU_CACHE/asterisk-root).
#
#   scripts/asterisk.sh start|stop|status
#   scripts/asterisk.sh cli "COMMAND"     run an Asterisk CLI command, e.g. cli "core show channels count"
#   scripts/asterisk.sh root              print the chroot's path (for `chroot "$(…root)" espeak-ng …`)
#
# ARI_USERNAME / ARI_PASSWORD   the ARI user (default waihu / waihu-secret); ARI is http://127.0.0.1:8088
# ASTERISK_SIP_PORT             PJSIP UDP port on 127.0.0.1 (default 5060)
# ASTERISK_VERBOSE              console verbosity in $WAIHU_RUN/asterisk.log (default 0; 3 shows each call)
# ARI_URL                       when set to anything but 127.0.0.1:8088 / localhost:8088, an external Asterisk is
#                               in use and start/stop/status do nothing
#
# At start, /etc/asterisk in the chroot is replaced by the templates of config/asterisk/ with the variables above
# filled in, so nothing of the package's sample configuration applies. The options only apply to a new server:
# stop it first to change them.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=asterisk
MATCH="/usr/sbin/asterisk -f" # in the pid's command line: guards against a stale pid file
ROOT="$ASTERISK_ROOT"
TEMPLATES="$WAIHU_ROOT/config/asterisk"
ARI_PORT=8088
START_TIMEOUT=60

export ARI_USERNAME="${ARI_USERNAME:-waihu}"
export ARI_PASSWORD="${ARI_PASSWORD:-waihu-secret}"
export ASTERISK_SIP_PORT="${ASTERISK_SIP_PORT:-5060}"
export ASTERISK_VERBOSE="${ASTERISK_VERBOSE:-0}"
# The embedded server listens on loopback only (SIP, RTP, ARI); docker/asterisk/entrypoint.sh binds the container's
# network instead.
export ASTERISK_BIND=127.0.0.1
TEMPLATE_VARS=(ARI_USERNAME ARI_PASSWORD ASTERISK_SIP_PORT ASTERISK_VERBOSE ASTERISK_BIND)

external() {
  if [[ -n "${ARI_URL:-}" ]] && ! is_local_address "$ARI_URL" "$ARI_PORT"; then
    log "ARI_URL points to an external Asterisk; not managing Asterisk"
    return 0
  fi
  return 1
}

ari_ready() {
  curl -sf -o /dev/null --max-time 2 -u "$ARI_USERNAME:$ARI_PASSWORD" "http://127.0.0.1:$ARI_PORT/ari/asterisk/info"
}

# render DIR: fill the templates of config/asterisk/ into DIR. A ${VAR} of TEMPLATE_VARS becomes VAR's value
# (what envsubst does, with sed so that the chroot and the host need nothing more).
render() {
  local dir=$1 var value script=() file
  [[ "$ARI_USERNAME" =~ ^[A-Za-z0-9_.-]+$ ]] || die "ARI_USERNAME may hold only letters, digits and _ . -"
  [[ "$ARI_PASSWORD" != *[$';\n\r']* && -n "$ARI_PASSWORD" ]] ||
    die "ARI_PASSWORD must be non-empty, without ';' (a comment in ari.conf) or line breaks"
  [[ "$ASTERISK_SIP_PORT" =~ ^[0-9]+$ && "$ASTERISK_VERBOSE" =~ ^[0-9]+$ ]] ||
    die "ASTERISK_SIP_PORT and ASTERISK_VERBOSE must be numbers"
  for var in "${TEMPLATE_VARS[@]}"; do
    value=${!var}
    value=${value//\\/\\\\} # escape what is special in a sed replacement: \ & and the | delimiter
    value=${value//&/\\&}
    value=${value//|/\\|}
    script+=(-e "s|\\\${$var}|$value|g")
  done
  rm -rf "$dir"
  mkdir -p "$dir"
  for file in "$TEMPLATES"/*.conf; do
    sed "${script[@]}" "$file" >"$dir/$(basename "$file")"
  done
  # Dialplan variables of extensions.conf are Asterisk's own, filled in at call time; every other ${...} is ours.
  if grep -n '[$]{' "$dir"/*.conf | grep -v -E '^[^:]*extensions\.conf:[0-9]+:.*[$][{](WAIHU_ARI_APP|AMDSTATUS|AMDCAUSE)[}]' >&2; then
    die "config/asterisk uses a variable that scripts/asterisk.sh does not fill in (lines above)"
  fi
}

# install_config DIR: make DIR's files the whole of the chroot's /etc/asterisk, readable by its asterisk user.
install_config() {
  local dir=$1
  find "$ROOT/etc/asterisk" -mindepth 1 -delete
  cp "$dir"/*.conf "$ROOT/etc/asterisk/"
  chroot "$ROOT" chown -R asterisk:asterisk /etc/asterisk
  chmod 0640 "$ROOT/etc/asterisk"/*.conf
}

start() {
  local pid started rendered="$WAIHU_RUN/asterisk-etc"
  external && return 0
  take_lock "$NAME"
  if pid=$(running_pid "$NAME" "$MATCH"); then
    ari_ready || wait_ready "$NAME" "$START_TIMEOUT" ari_ready # a start still under way
    render "$rendered.check"
    diff -rq "$rendered.check" "$ROOT/etc/asterisk" >/dev/null ||
      log "warning: config/asterisk or its variables changed since Asterisk started; stop and start to apply"
    rm -rf "$rendered.check"
    log "already running (pid $pid); ARI on http://127.0.0.1:$ARI_PORT"
    return 0
  fi
  "$WAIHU_ROOT/scripts/install.sh" asterisk
  ! port_open 127.0.0.1 "$ARI_PORT" ||
    die "127.0.0.1:$ARI_PORT is taken by another process (not in $(pidfile "$NAME")); is an Asterisk or a FerretDB without --debug-addr=- running?"
  render "$rendered"
  install_config "$rendered"
  rm -rf "$rendered"
  started=$(now)
  # chroot execs Asterisk, so $! is Asterisk's pid. -U/-G drop root for the root's own asterisk user (never -U root:
  # Asterisk then drops root's capabilities and can no longer read its asterisk-owned files). No /proc or /dev mount.
  start_bg "$NAME" chroot "$ROOT" /usr/sbin/asterisk -f -n -U asterisk -G asterisk
  wait_ready "$NAME" "$START_TIMEOUT" ari_ready
  # ARI can answer while later modules still load; this returns once every module is in.
  timeout 30 chroot "$ROOT" /usr/sbin/asterisk -rx "core waitfullybooted" >/dev/null ||
    fail_start "$NAME" "asterisk did not report fully booted"
  log "started (pid $(running_pid "$NAME")) in $(elapsed "$started")s; ARI on http://127.0.0.1:$ARI_PORT," \
    "PJSIP on udp 127.0.0.1:$ASTERISK_SIP_PORT"
}

status() {
  local pid
  external && return 0
  if pid=$(running_pid "$NAME" "$MATCH") && ari_ready; then
    log "running (pid $pid); ARI on http://127.0.0.1:$ARI_PORT"
  else
    log "not running"
    return 1
  fi
}

cli() {
  (($#)) || die "usage: $0 cli \"COMMAND\""
  running_pid "$NAME" "$MATCH" >/dev/null || die "Asterisk is not running (scripts/asterisk.sh start)"
  chroot "$ROOT" /usr/sbin/asterisk -rx "$*"
}

case "${1:-}" in
start) start ;;
stop) external || stop_pidfile "$NAME" 20 "$MATCH" ;;
status) status ;;
cli)
  shift
  cli "$@"
  ;;
root) printf '%s\n' "$ROOT" ;;
*) die "usage: $0 start|stop|status|cli \"COMMAND\"|root" ;;
esac
