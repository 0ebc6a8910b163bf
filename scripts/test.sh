#!/usr/bin/env bash
# The whole test suite, on the real servers:   bash scripts/test.sh
#
# Installs what is missing (npm packages, Temporal, FerretDB, the Asterisk chroot; all cached in $WAIHU_CACHE),
# starts the servers it needs unless they already run, builds and lints, runs every jest tier (unit, workflow on
# the time-skipping server, end to end on FerretDB + Temporal + Asterisk + sipp), stops the servers it started,
# and ends with one line: "N passed, N failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$WAIHU_ROOT"

t0=$(now)
bash scripts/node-deps.sh
bash scripts/install.sh all

# The tests use their own databases, task queues, tenants, ARI apps and SIP ports, so they can share servers that
# are already running (for example those of scripts/run.sh). Servers this script starts, it stops at exit.
started=()
cleanup() {
  local s
  for s in "${started[@]}"; do
    bash "scripts/$s.sh" stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

ensure() {
  local name=$1
  if ! bash "scripts/$name.sh" status >/dev/null 2>&1; then
    started+=("$name")
  fi
  bash "scripts/$name.sh" start
}
unset MONGODB_URI ARI_URL # the tests always run on the embedded servers
export TEMPORAL_ADDRESS=127.0.0.1:${TEMPORAL_PORT:-7233}
export TEMPORAL_TEST_ADDRESS=127.0.0.1:${TEMPORAL_TEST_PORT:-7244}
export TEST_MONGODB_BASE=mongodb://127.0.0.1:${FERRETDB_PORT:-27017}
export ASTERISK_ROOT
# A FerretDB started here keeps its data in a throwaway directory, emptied first; a running one is reused.
if ! bash scripts/ferretdb.sh status >/dev/null 2>&1; then
  export FERRETDB_DATA="$WAIHU_RUN/ferretdb-test"
  rm -rf "$FERRETDB_DATA"
fi
ensure ferretdb
ensure temporal
# The time-skipping server keeps state between runs (its clock, time-skipping locks): always start a fresh one.
bash scripts/temporal-test-server.sh stop >/dev/null 2>&1 || true
started+=(temporal-test-server)
bash scripts/temporal-test-server.sh start
ensure asterisk
log "servers ready after $(elapsed "$t0")s"

report="$WAIHU_RUN/jest-report.json"
rm -f "$report"
checks_passed=0
checks_failed=0
check() {
  local name=$1
  shift
  if "$@"; then
    log "check $name: passed"
    checks_passed=$((checks_passed + 1))
  else
    log "check $name: FAILED"
    checks_failed=$((checks_failed + 1))
  fi
}
# Static checks count as tests: a build or lint failure fails the suite.
check build npm run --silent build
check lint npm run --silent lint
check shellcheck shellcheck scripts/*.sh .ci/run docker/asterisk/entrypoint.sh
# jest: one process, tiers in sequence (2 cores; the end-to-end tests place real calls).
set +e
npx jest --runInBand --json --outputFile="$report" "$@"
jest_rc=$?
set -e

# shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
read -r jest_passed jest_failed < <(node -e '
  const fs = require("fs");
  const f = process.argv[1];
  if (!fs.existsSync(f)) { console.log("0 1"); process.exit(0); }
  const r = JSON.parse(fs.readFileSync(f, "utf8"));
  // A suite that failed to run (syntax error, failing beforeAll) counts as a failure even with no test results.
  const broken = r.testResults.filter((s) => s.status === "failed" && s.assertionResults.every((a) => a.status !== "failed")).length;
  console.log(`${r.numPassedTests} ${r.numFailedTests + broken}`);
' "$report")
if ((jest_rc != 0 && jest_failed == 0)); then
  jest_failed=1 # jest failed without a failing test (e.g. no tests found): never report green
fi
log "suite finished in $(elapsed "$t0")s"
passed=$((jest_passed + checks_passed))
failed=$((jest_failed + checks_failed))
echo "$passed passed, $failed failed"
((failed == 0))
