#!/usr/bin/env bash
# Builds a real Kubernetes control plane from the Go module proxy: kube-apiserver and
# kube-controller-manager from k8s.io/kubernetes, and etcd from go.etcd.io/etcd/server/v3.
# They land in $FERRITE_CACHE/peers/kube (the clone's .peers/kube) and are rebuilt only when the
# versions below change. First build: about 8–12 minutes on 2 cores; later runs: a second.
#
# k8s.io/kubernetes' own go.mod replaces its staging modules (k8s.io/api, k8s.io/client-go, …)
# with paths inside its repository, which a module download does not have, so it cannot be built
# with `go install k8s.io/kubernetes/cmd/...@v`. A small wrapper module requires it and replaces
# each staging module with its published v0.x release instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/cache.sh
. "$root/scripts/cache.sh"
link_cache .peers peers

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
out=$FERRITE_CACHE/peers/kube
work=$FERRITE_CACHE/kube-build
mkdir -p "$out" "$work"

need_go install-kube
export GOFLAGS=-mod=mod
staging_version=v0.${KUBE_VERSION#v1.}

want="kube=$KUBE_VERSION etcd=$ETCD_VERSION $(go env GOVERSION)"
if stamp_ok "$out/.ferrite-stamp" "$want" && [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ] && [ -x "$out/etcd" ]; then
  echo "kube: $out (kube-apiserver $KUBE_VERSION, kube-controller-manager, etcd $ETCD_VERSION; cached)"
  exit 0
fi

began=$SECONDS
# --- kube-apiserver and kube-controller-manager ---
kw=$work/kubernetes
mkdir -p "$kw"
mod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
if [ -z "$mod" ] || [ ! -f "$mod" ]; then
  echo "install-kube: could not download k8s.io/kubernetes@$KUBE_VERSION from the module proxy" >&2
  exit 1
fi
go_line=$(grep -m1 '^go ' "$mod")
{
  echo "module ferrite.local/kube-build"
  echo
  echo "$go_line"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  # every `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X v0.N.P`
  sed -n 's|^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*$|\t\1 => \1 '"$staging_version"'|p' "$mod"
  echo ")"
} > "$kw/go.mod"
# a placeholder package: the wrapper builds its dependency's commands, not code of its own
cat > "$kw/doc.go" <<'EOF'
// Package kubebuild only anchors the module that builds k8s.io/kubernetes' commands.
package kubebuild
EOF
(
  cd "$kw"
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBE_VERSION"
  # the version the binaries report (kubectl version, /version) is stamped as Kubernetes' Makefile does
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -ldflags "$ldflags" -o "$out/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager
)

# --- etcd: its main is one call into etcdmain ---
ew=$work/etcd
mkdir -p "$ew"
cat > "$ew/go.mod" <<EOF
module ferrite.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
cat > "$ew/main.go" <<'EOF'
// Command etcd runs etcd's own entry point (the upstream binary's main does the same).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
(
  cd "$ew"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" .
)

"$out/kube-apiserver" --version
"$out/etcd" --version | head -n 1
echo "$want" > "$out/.ferrite-stamp"
echo "kube: $out built in $((SECONDS - began)) s"
