#!/usr/bin/env bash
# Installs the real peer tools the interop tests drive. Idempotent; uses Debian packages.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$root/scripts/cache.sh"
link_cache .peers peers
peers=$FERRITE_CACHE/peers

need_apt=()
if ! command -v kubectl >/dev/null 2>&1; then
  # Debian's kubectl (package kubernetes-client); machines from the Google Cloud SDK image ship a newer one
  need_apt+=(kubernetes-client)
fi
# ipmitool drives the IPMI BMC emulator (lanplus, as Ironic's ipmitool driver does)
command -v ipmitool >/dev/null 2>&1 || need_apt+=(ipmitool)
# genisoimage (isoinfo) reads the config drives and boot ISOs Ferrite's Ironic writes
command -v isoinfo >/dev/null 2>&1 || need_apt+=(genisoimage)
# headless Chromium renders the conformance harness's HTML report in its test (and takes the screenshot)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
echo "kubectl: $(command -v kubectl)"
echo "ipmitool: $(command -v ipmitool)"

# Python peers in a venv of their own: sushy (Ironic's Redfish library), sushy-tools and pyghmi
# (the baselines the BMC benchmark compares against) and DMTF's Redfish validators.
# The venv is made at its real path in the cache (a venv's scripts name their own path), and
# pip runs only when the requirements changed.
venv="$peers/venv"
want=$( (python3 --version; cat "$root/scripts/peers-requirements.txt") | sha256sum | cut -c1-16)
if [ -x "$venv/bin/python" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then rm -rf "$venv"; fi
if ! stamp_ok "$venv/.ferrite-stamp" "$want"; then
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/scripts/peers-requirements.txt"
  echo "$want" > "$venv/.ferrite-stamp"
fi
echo "python peers: $venv (baremetal: $venv/bin/baremetal)"

# client-go as a real Go peer (controller-runtime's protobuf bodies): built from the module proxy
if command -v go >/dev/null 2>&1; then
  # go build reuses its own cache (~/.cache/go-build) and the module cache: fast when unchanged
  (cd "$root/test/peers/client-go" && go build -o "$peers/client-go-peer" .)
  echo "client-go peer: $peers/client-go-peer"
  # upstream's Bare Metal Operator, run INSTEAD of Ferrite's controllers by test/upstream-bmo.test.ts.
  # Its go.mod replaces its own apis and pkg/hardwareutils modules with paths inside the repository,
  # so a small wrapper module builds it, pinning those two (and ironic-standalone-operator's api) to
  # versions the module proxy serves.
  bmo_version=v0.13.2
  bmo_want="bmo=$bmo_version apis=$bmo_version hardwareutils=v0.5.1 isoapi=v0.8.0 $(go env GOVERSION)"
  if ! stamp_ok "$peers/.bmo-stamp" "$bmo_want" || [ ! -x "$peers/baremetal-operator" ]; then
    bw=$FERRITE_CACHE/bmo-build
    mkdir -p "$bw"
    cat > "$bw/go.mod" <<EOF_MOD
module ferrite.local/bmo-build

go 1.25.0

require github.com/metal3-io/baremetal-operator $bmo_version

replace (
	github.com/metal3-io/baremetal-operator/apis => github.com/metal3-io/baremetal-operator/apis $bmo_version
	github.com/metal3-io/baremetal-operator/pkg/hardwareutils => github.com/metal3-io/baremetal-operator/pkg/hardwareutils v0.5.1
	github.com/metal3-io/ironic-standalone-operator/api => github.com/metal3-io/ironic-standalone-operator/api v0.8.0
)
EOF_MOD
    echo 'package bmobuild' > "$bw/doc.go"
    rm -f "$bw/go.sum"
    (cd "$bw" && GOFLAGS=-mod=mod go get "github.com/metal3-io/baremetal-operator@$bmo_version" &&
      GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$peers/baremetal-operator" github.com/metal3-io/baremetal-operator)
    echo "$bmo_want" > "$peers/.bmo-stamp"
  fi
  echo "upstream baremetal-operator $bmo_version: $peers/baremetal-operator"
else
  echo "install-peers: go is required to build the client-go peer (Debian: apt-get install golang-go)" >&2
  exit 1
fi
