#!/usr/bin/env bash
# Removes namespaces left behind by test runs whose process is gone. Names carry the creating PID:
# vmt<pid> (scripts/test.sh, in-netns.sh) and vm[lbh]<pid base 36>_<n>... (test/harness/netns.ts).
set -u
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^vm[tlbh]' || true); do
  case "$ns" in
    vmt*) pid="${ns#vmt}" ;;
    *) tag="${ns:3}"; pid=$((36#${tag%%_*})) ;;
  esac
  [ -d "/proc/$pid" ] && continue
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
done
