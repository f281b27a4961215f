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
