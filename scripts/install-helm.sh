#!/usr/bin/env bash
# Builds pinned helm and helm-unittest binaries from the Go module proxy into .cache/bin (kept between runs on
# a machine that keeps its work tree; a fresh machine builds them once, about two minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION=v3.19.0
HELM_UNITTEST_VERSION=v1.0.3
bin="$PWD/.cache/bin"
mkdir -p "$bin"
export GOBIN="$bin" GOFLAGS=-mod=mod
if ! "$bin/helm" version --short 2>/dev/null | grep -q "$HELM_VERSION"; then
  go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
if ! [ -x "$bin/helm-unittest" ] || ! grep -q "$HELM_UNITTEST_VERSION" "$bin/.helm-unittest-version" 2>/dev/null; then
  go install "github.com/helm-unittest/helm-unittest/cmd/helm-unittest@$HELM_UNITTEST_VERSION"
  echo "$HELM_UNITTEST_VERSION" > "$bin/.helm-unittest-version"
fi
"$bin/helm" version --short
