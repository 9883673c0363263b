#!/usr/bin/env bash
# Builds pinned helm, helm-unittest and actionlint (which checks .github/workflows) binaries from the Go module
# proxy into .cache/bin (kept between runs on
# a machine that keeps its work tree; a fresh machine builds them once, a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION=v3.19.0
HELM_UNITTEST_VERSION=v1.0.3
ACTIONLINT_VERSION=v1.7.12
bin="$PWD/.cache/bin"
mkdir -p "$bin"
export GOFLAGS=-mod=mod

# Built with the ldflags helm's own Makefile sets: `helm version` reports the pinned version, and `helm template`
# assumes the Kubernetes version of helm's client-go (1.34 for v3.19) instead of v1.20, which fails the chart's
# kubeVersion ">=1.25" unless --kube-version is given. The stamp records version and flags, so a helm built
# earlier without them is rebuilt once.
HELM_KUBE_MINOR=34
helm_stamp="$HELM_VERSION kube=1.$HELM_KUBE_MINOR"
if ! grep -qx "$helm_stamp" "$bin/.helm-version" 2>/dev/null || ! [ -x "$bin/helm" ]; then
  ldflags="-w -s -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$HELM_KUBE_MINOR"
  done
  # Built beside the binary and renamed over it, so a helm already in use is never half written.
  tmp=$(mktemp -d "$bin/.helm-build.XXXXXX")
  GOBIN="$tmp" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv -f "$tmp/helm" "$bin/helm" && rmdir "$tmp"
  echo "$helm_stamp" > "$bin/.helm-version"
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

if ! grep -qx "$ACTIONLINT_VERSION" "$bin/.actionlint-version" 2>/dev/null || ! [ -x "$bin/actionlint" ]; then
  GOBIN="$bin" go install -trimpath \
    -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  echo "$ACTIONLINT_VERSION" > "$bin/.actionlint-version"
fi
"$bin/helm" version --short
"$bin/actionlint" -version | head -1
