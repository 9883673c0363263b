#!/usr/bin/env bash
# Copies the project's alert rules and Grafana dashboards into the Helm chart, which can only package files
# under its own directory. Run it after changing config/prometheus/alerts.yaml or dashboards/*.json; a test
# (test/packaging/chart-files.test.ts) fails while the copies differ. `--check` only reports the difference.
set -euo pipefail
cd "$(dirname "$0")/.."
chart=helm/vault-multicast/files

check=0
[ "${1:-}" = --check ] && check=1

status=0
sync() {
  local src=$1 dst=$2
  if ! cmp -s "$src" "$dst"; then
    if [ "$check" = 1 ]; then
      echo "out of date: $dst (from $src)" >&2
      status=1
    else
      mkdir -p "$(dirname "$dst")"
      cp "$src" "$dst"
      echo "updated $dst"
    fi
  fi
}

sync config/prometheus/alerts.yaml "$chart/alerts.yaml"
for f in dashboards/*.json; do
  sync "$f" "$chart/dashboards/$(basename "$f")"
done
# A dashboard removed from the project must leave the chart too.
for f in "$chart"/dashboards/*.json; do
  [ -e "$f" ] || continue
  if ! [ -e "dashboards/$(basename "$f")" ]; then
    if [ "$check" = 1 ]; then
      echo "stale: $f (no dashboards/$(basename "$f"))" >&2
      status=1
    else
      rm "$f"
      echo "removed $f"
    fi
  fi
done
exit "$status"
