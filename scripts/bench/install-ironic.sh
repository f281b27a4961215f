#!/usr/bin/env bash
# Installs OpenStack Ironic from PyPI into .peers/ironic for the side-by-side benchmark
# (scripts/bench/ironic.ts). Its own venv: Ironic pins library versions the interop peers don't.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/cache.sh
. "$root/scripts/cache.sh"
link_cache .peers peers
venv="$FERRITE_CACHE/peers/ironic"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv
fi
want=$( (python3 --version; echo "ironic==39.0.0") | sha256sum | cut -c1-16)
if ! stamp_ok "$venv/.ferrite-stamp" "$want"; then
  if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
  "$venv/bin/pip" install -q --disable-pip-version-check "ironic==39.0.0"
  echo "$want" > "$venv/.ferrite-stamp"
fi
echo "OpenStack Ironic: $venv/bin/ironic ($("$venv/bin/pip" show ironic | sed -n 's/^Version: //p'))"
