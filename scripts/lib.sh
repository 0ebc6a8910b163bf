# shellcheck shell=bash
# Shared helpers for Waihu's infrastructure scripts. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Layout (all outside the checkout, so a fresh CI clone reuses what an earlier run built):
#   $WAIHU_CACHE                 downloads and builds (default ~/.cache/waihu); deleting it forces a full rebuild
#   $WAIHU_CACHE/venv            Python venv holding the Temporal CLI and the time-skipping test server
#   $WAIHU_CACHE/bin/ferretdb    FerretDB built from the Go module proxy
#   $WAIHU_CACHE/asterisk-root   Debian sid chroot with Asterisk, espeak-ng and sox
#   $WAIHU_CACHE/chromium-root   Debian sid chroot with Chromium (only for the Swagger UI browser test)
#   $WAIHU_RUN                   runtime state: <name>.pid and <name>.log per server (default $WAIHU_CACHE/run)

WAIHU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WAIHU_CACHE="${WAIHU_CACHE:-$HOME/.cache/waihu}"
WAIHU_RUN="${WAIHU_RUN:-$WAIHU_CACHE/run}"
WAIHU_VENV="$WAIHU_CACHE/venv"
WAIHU_BIN="$WAIHU_CACHE/bin"
ASTERISK_ROOT="$WAIHU_CACHE/asterisk-root"
CHROMIUM_ROOT="$WAIHU_CACHE/chromium-root"
export WAIHU_ROOT WAIHU_CACHE WAIHU_RUN WAIHU_VENV WAIHU_BIN ASTERISK_ROOT CHROMIUM_ROOT

mkdir -p "$WAIHU_CACHE" "$WAIHU_RUN"

# Note for checks: never `cmd | grep -q` under pipefail. grep -q exits at the first match, cmd may then die of
# SIGPIPE, and the pipeline fails although the text was there. Capture the output and compare instead.

# log MESSAGE...: timestamped line on stderr (stdout stays free for values a caller may capture).
log() {
  printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "$(basename "$0" .sh)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# now: seconds since the epoch with milliseconds, for step timings.
now() {
  date +%s.%3N
}

# elapsed START: seconds since START (from `now`), one decimal.
elapsed() {
  awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'
}

# port_open HOST PORT: true when a TCP connection to HOST:PORT succeeds.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# wait_for_port HOST PORT TIMEOUT_SECONDS
wait_for_port() {
  wait_for_cmd "port_open $1 $2" "$3"
}

# wait_for_cmd "COMMAND" TIMEOUT_SECONDS: re-run COMMAND (evaluated by bash, output discarded) every 0.2 s
# until it succeeds; false after the timeout.
wait_for_cmd() {
  local cmd=$1 timeout=$2 deadline
  deadline=$(($(date +%s) + timeout))
  until eval "$cmd" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      return 1
    fi
    sleep 0.2
  done
}

# pid_alive PID [PATTERN]: true when PID is a live process and, when PATTERN is given, its command line contains
# PATTERN. The pattern guards against a stale pid file whose number the kernel has since given to another program.
pid_alive() {
  local pid=$1 pattern=${2:-}
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A zombie (exited, not yet reaped by its parent) still answers kill -0.
  [[ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 1
  [[ -z "$pattern" ]] || [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$pattern"* ]]
}

pidfile() {
  printf '%s/%s.pid' "$WAIHU_RUN" "$1"
}

logfile() {
  printf '%s/%s.log' "$WAIHU_RUN" "$1"
}

# running_pid NAME [PATTERN]: print the pid of server NAME if its pid file names a live process; false otherwise.
running_pid() {
  local pid
  pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
  pid_alive "$pid" "${2:-}" || return 1
  printf '%s\n' "$pid"
}

# stop_pidfile NAME [TIMEOUT_SECONDS] [PATTERN]: SIGTERM the process in NAME's pid file, wait for it to exit,
# SIGKILL it after the timeout (default 15 s), remove the pid file. Idempotent.
stop_pidfile() {
  local name=$1 timeout=${2:-15} pattern=${3:-} pid deadline
  if ! pid=$(running_pid "$name" "$pattern"); then
    rm -f "$(pidfile "$name")"
    log "$name is not running"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$(($(date +%s) + timeout))
  while pid_alive "$pid"; do
    if (($(date +%s) >= deadline)); then
      log "$name did not exit within ${timeout}s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  rm -f "$(pidfile "$name")"
  log "$name stopped"
}

# start_bg NAME COMMAND...: start COMMAND detached from the terminal, output to NAME's log (the previous log is
# kept as NAME.log.1), pid in NAME's pid file. COMMAND must exec the server itself so that $! is the server's pid.
start_bg() {
  local name=$1 log
  shift
  log=$(logfile "$name")
  [[ ! -f "$log" ]] || mv -f "$log" "$log.1"
  printf '# %s: %s\n' "$(date '+%F %T')" "$*" >"$log"
  nohup "$@" </dev/null >>"$log" 2>&1 9>&- &
  printf '%s\n' "$!" >"$(pidfile "$name")"
}

# wait_ready NAME TIMEOUT_SECONDS CHECK...: wait until the command CHECK succeeds while NAME's process lives.
# When the process dies, or after the timeout, stop it and fail with the log tail.
wait_ready() {
  local name=$1 timeout=$2 deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    running_pid "$name" >/dev/null || fail_start "$name" "$name exited during start"
    (($(date +%s) < deadline)) || fail_start "$name" "$name was not ready within ${timeout}s"
    sleep 0.2
  done
}

# take_lock NAME: hold an exclusive lock until this script exits, so that two starts (or installs) running at
# once, e.g. from parallel test suites, do not both start a server or build into the same place.
# The lock is fd 9, which start_bg closes for the server: a server that inherited it would hold the lock forever.
take_lock() {
  exec 9>"$WAIHU_RUN/$1.lock"
  flock 9
}

# fail_start NAME MESSAGE: a start that did not become ready: stop what was started, show the log tail, fail.
fail_start() {
  local name=$1 message=$2
  log "$message; last lines of $(logfile "$name"):"
  tail -n 40 "$(logfile "$name")" >&2 || true
  stop_pidfile "$name" 10 >/dev/null 2>&1 || true
  exit 1
}

# is_local_address URL_OR_HOSTPORT PORT: true when it points to this machine's loopback on PORT
# (127.0.0.1, localhost or [::1]; the port defaults to PORT when the URL has none).
is_local_address() {
  local value=$1 port=$2 hostport host p
  hostport=${value#*://}      # drop the scheme
  hostport=${hostport#*@}     # drop user:password@
  hostport=${hostport%%[/?]*} # drop the path and query
  hostport=${hostport%%,*}    # a MongoDB seed list: judge by its first host
  if [[ "$hostport" =~ ^\[(.*)\](:([0-9]+))?$ ]]; then
    host=${BASH_REMATCH[1]} p=${BASH_REMATCH[3]}
  else
    host=${hostport%%:*}
    p=${hostport#"$host"}
    p=${p#:}
  fi
  [[ "$host" == 127.0.0.1 || "$host" == localhost || "$host" == ::1 ]] && [[ "${p:-$port}" == "$port" ]]
}

# ensure_apt PACKAGE...: install the Debian packages that are not installed yet; `apt-get update` runs once,
# and only when something is missing.
ensure_apt() {
  local pkg missing=()
  for pkg in "$@"; do
    [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || die "need root to apt-get install ${missing[*]}"
  log "apt-get install ${missing[*]}"
  if [[ -z "${WAIHU_APT_UPDATED:-}" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    WAIHU_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# assert_no_mounts DIR: refuse to go on when anything is mounted below DIR. Copying or deleting a tree with /proc
# or /dev mounted inside follows into the host (a copy once filled the disk).
assert_no_mounts() {
  local dir
  dir=$(realpath -m "$1")
  if awk -v d="$dir/" 'index($2 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
    die "something is mounted under $dir; unmount it first (see /proc/self/mounts)"
  fi
}
