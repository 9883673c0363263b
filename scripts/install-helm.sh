#!/usr/bin/env bash
# Builds pinned helm and helm-unittest binaries from the Go module proxy into .cache/bin (kept between runs on
# a machine that keeps its work tree; a fresh machine builds them once, a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION=v3.19.0
HELM_UNITTEST_VERSION=v1.0.3
bin="$PWD/.cache/bin"
mkdir -p "$bin"
export GOFLAGS=-mod=mod

# A helm built by `go install` reports only "v3.19" (no ldflags), so the pinned version is kept in a stamp file.
if ! grep -qx "$HELM_VERSION" "$bin/.helm-version" 2>/dev/null || ! [ -x "$bin/helm" ]; then
  GOBIN="$bin" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$bin/.helm-version"
fi

# helm-unittest's go.mod has replace directives, so `go install pkg@version` refuses it: build it as the
# main module from the source the module proxy serves.
if ! grep -qx "$HELM_UNITTEST_VERSION" "$bin/.helm-unittest-version" 2>/dev/null || ! [ -x "$bin/helm-unittest" ]; then
  dir=$(go mod download -json "github.com/helm-unittest/helm-unittest@$HELM_UNITTEST_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  src=$(mktemp -d)
  cp -r "$dir/." "$src"
  chmod -R u+w "$src"
  (cd "$src" && go build -o "$bin/helm-unittest" ./cmd/helm-unittest)
  rm -rf "$src"
  echo "$HELM_UNITTEST_VERSION" > "$bin/.helm-unittest-version"
fi
"$bin/helm" version --short
