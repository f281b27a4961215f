#!/usr/bin/env bash
# The README's first command as a newcomer meets it: a clone of this checkout's HEAD in a
# temporary folder, `npm ci` with optional dependencies left out (as on a machine where the native
# libvirt binding cannot build), `npm run build`, then `ferrite dev up` on the embedded defaults to
# its Ready line, and `--backend libvirt` refused in one line that says how to get the binding.
# Fails loudly at the first step that does not hold. Usage: scripts/check-fresh-clone.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/ferrite-fresh-clone.XXXXXX)
dev=$tmp/dev
cleanup() {
  if [ -d "$tmp/ferrite/dist" ]; then (cd "$tmp/ferrite" && node dist/cli/main.js dev down --data-dir "$dev" >/dev/null 2>&1) || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "check-fresh-clone: FAILED: $*" >&2
  exit 1
}
step() { echo "check-fresh-clone: $*"; }

git clone -q "$root" "$tmp/ferrite"
cd "$tmp/ferrite"
step "npm ci --omit=optional"
npm ci --omit=optional --no-audit --no-fund >"$tmp/npm-ci.log" 2>&1 || { tail -20 "$tmp/npm-ci.log" >&2; fail "npm ci --omit=optional"; }
[ ! -e node_modules/@unraid/libvirt ] || fail "the optional libvirt binding was installed despite --omit=optional"
step "npm run build"
npm run build >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; fail "npm run build without the optional dependencies"; }
step "ferrite dev up (embedded defaults)"
node dist/cli/main.js dev up --data-dir "$dev" --port 0 >"$tmp/up.log" 2>&1 || { tail -20 "$tmp/up.log" >&2; fail "dev up"; }
grep -q '^Ferrite dev environment is up' "$tmp/up.log" || { tail -20 "$tmp/up.log" >&2; fail "dev up printed no Ready line"; }
grep '^Ferrite dev environment is up' "$tmp/up.log"
node dist/cli/main.js dev down --data-dir "$dev" >/dev/null
step "bmc serve --backend libvirt without the binding"
set +e
out=$(node dist/cli/main.js bmc serve --backend libvirt --machines 1 --data-dir "$tmp/bmc" --port 0 --ipmi-base-port 0 2>&1)
code=$?
set -e
[ "$code" -eq 1 ] || fail "bmc serve --backend libvirt exited $code, not 1: $out"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "bmc serve --backend libvirt said more than one line: $out"
case $out in *scripts/install-vm.sh*) ;; *) fail "bmc serve --backend libvirt does not name scripts/install-vm.sh: $out" ;; esac
echo "$out"
step "passed"
