#!/usr/bin/env bash
# Installs the real peer tools the interop tests drive. Idempotent; uses Debian packages.
set -euo pipefail

need_apt=()
if ! command -v kubectl >/dev/null 2>&1; then
  # Debian's kubectl (package kubernetes-client); machines from the Google Cloud SDK image ship a newer one
  need_apt+=(kubernetes-client)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
echo "kubectl: $(command -v kubectl)"

# client-go as a real Go peer (controller-runtime's protobuf bodies): built from the module proxy
if command -v go >/dev/null 2>&1; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  mkdir -p "$root/.peers"
  (cd "$root/test/peers/client-go" && go build -o "$root/.peers/client-go-peer" .)
  echo "client-go peer: $root/.peers/client-go-peer"
else
  echo "install-peers: go is required to build the client-go peer (Debian: apt-get install golang-go)" >&2
  exit 1
fi
