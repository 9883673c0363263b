#!/usr/bin/env bash
# The whole test suite (npm test): build, lint, type-check, then vitest inside a throwaway network namespace
# that holds only loopback, so no test can send a datagram or an IGMP/MLD membership out of a real interface.
# Multi-host tests build their own namespaces on top (test/harness/netns.ts). Without root it says so and
# runs the loopback-only part. Ends with the plain line "N passed, N failed", where a test file that fails to
# load counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "vault-multicast test suite on Node.js $(node --version) ($(command -v node))"

npm run --silent build
npx biome check .
node scripts/import-graph.mjs --quiet
npx tsc -p tsconfig.json --noEmit

mkdir -p .test-results
report=.test-results/vitest.json
rm -f "$report"
export NODE_OPTIONS="${NODE_OPTIONS:-} --unhandled-rejections=strict"

status=0
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns list >/dev/null 2>&1; then
  bash scripts/netns-gc.sh
  ns="vmt$$"
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip -n "$ns" link set lo up
  VM_TEST_NETNS="$ns" ip netns exec "$ns" npx vitest run --reporter=default --reporter=json \
    --outputFile.json="$report" "$@" || status=$?
else
  echo "not root (or no iproute2): network namespaces unavailable; running the loopback-only tests" >&2
  VM_NO_NETNS=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
fi

if [ -f "$report" ]; then
  node scripts/test-summary.mjs "$report"
else
  echo "0 passed, 1 failed"
  [ "$status" = 0 ] && status=1
fi
exit "$status"
