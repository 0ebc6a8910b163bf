#!/usr/bin/env bash
# Stop every server the scripts started (demo callee, Asterisk, Temporal, the test server, FerretDB).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for s in demo-callee asterisk temporal temporal-test-server ferretdb; do
  bash "$s.sh" stop || true
done
