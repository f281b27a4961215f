#!/usr/bin/env bash
# Installs OpenStack Ironic from PyPI into .peers/ironic for the side-by-side benchmark
# (scripts/bench/ironic.ts). Its own venv: Ironic pins library versions the interop peers don't.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.peers/ironic"
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install -q --disable-pip-version-check "ironic==39.0.0"
echo "OpenStack Ironic: $venv/bin/ironic ($("$venv/bin/pip" show ironic | sed -n 's/^Version: //p'))"
