#!/usr/bin/env bash
# Runs one command inside a throwaway namespace with only loopback up, the way scripts/test.sh runs the suite:
#   bash scripts/in-netns.sh npx vitest run test/integration/listener.test.ts
set -euo pipefail
ns="vmt$$"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip -n "$ns" link set lo up
VM_TEST_NETNS="$ns" ip netns exec "$ns" "$@"
