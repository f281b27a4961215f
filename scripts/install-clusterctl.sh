#!/usr/bin/env bash
# Builds clusterctl (sigs.k8s.io/cluster-api/cmd/clusterctl) from the Go module proxy into
# $FERRITE_CACHE/peers/clusterctl (the clone's .peers/clusterctl): the release test renders
# Ferrite's cluster template and components with it. Rebuilt only when the version changes;
# first build about 2 minutes on 2 cores.
#
# The cluster-api module's go.mod replaces sigs.k8s.io/cluster-api/api with a path inside its
# repository, so `go install …@v` refuses it; a wrapper module requires it and replaces that module
# with its published release instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$root/scripts/cache.sh"
link_cache .peers peers

CAPI_VERSION=${CAPI_VERSION:-v1.14.2}
out=$FERRITE_CACHE/peers/clusterctl
work=$FERRITE_CACHE/clusterctl-build
mkdir -p "$out" "$work"

need_go install-clusterctl
want="clusterctl=$CAPI_VERSION $(go env GOVERSION)"
if stamp_ok "$out/.ferrite-stamp" "$want" && [ -x "$out/clusterctl" ]; then
  echo "clusterctl: $out/clusterctl ($CAPI_VERSION; cached)"
  exit 0
fi
began=$SECONDS
export GOFLAGS=-mod=mod
mod=$(go mod download -json "sigs.k8s.io/cluster-api@$CAPI_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
if [ -z "$mod" ] || [ ! -f "$mod" ]; then
  echo "install-clusterctl: could not download sigs.k8s.io/cluster-api@$CAPI_VERSION from the module proxy" >&2
  exit 1
fi
{
  echo "module ferrite.local/clusterctl-build"
  echo
  grep -m1 '^go ' "$mod"
  echo
  echo "require sigs.k8s.io/cluster-api $CAPI_VERSION"
  echo
  # every `sigs.k8s.io/cluster-api/X => ./X` becomes the published module of the same version
  sed -n 's|^replace[[:space:]]*\(sigs\.k8s\.io/cluster-api/[A-Za-z0-9/._-]*\) => \./.*$|replace \1 => \1 '"$CAPI_VERSION"'|p' "$mod"
} > "$work/go.mod"
cat > "$work/tools.go" <<'GO'
//go:build tools

// Package tools only names the command this module builds.
package tools

import _ "sigs.k8s.io/cluster-api/cmd/clusterctl"
GO
rm -f "$work/go.sum"
(cd "$work" && go mod tidy >/dev/null && go build -trimpath -ldflags "-X sigs.k8s.io/cluster-api/version.gitVersion=$CAPI_VERSION" -o "$out/clusterctl" sigs.k8s.io/cluster-api/cmd/clusterctl)
echo "$want" > "$out/.ferrite-stamp"
echo "clusterctl: built $out/clusterctl ($CAPI_VERSION) in $((SECONDS - began)) s"
