# Sourced by the install scripts: builds of the real peers and VM images live outside the clone,
# in $FERRITE_CACHE (default ~/.cache/ferrite), so a fresh clone on the same machine (as CI makes)
# reuses them. The clone reaches them through symlinks: .peers -> $FERRITE_CACHE/peers,
# .vm-images -> $FERRITE_CACHE/vm-images.
root=${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
FERRITE_CACHE=${FERRITE_CACHE:-${XDG_CACHE_HOME:-$home/.cache}/ferrite}
mkdir -p "$FERRITE_CACHE"

# link_cache NAME DIR: make $root/NAME a symlink to $FERRITE_CACHE/DIR (a real folder there is moved in)
link_cache() {
  local name=$1 dir=$FERRITE_CACHE/$2
  mkdir -p "$dir"
  if [ -L "$root/$name" ]; then
    [ "$(readlink -f "$root/$name")" = "$(readlink -f "$dir")" ] && return 0
    rm "$root/$name"
  elif [ -d "$root/$name" ]; then
    # an older checkout's own folder: what it holds is rebuilt in the cache (venvs name their own
    # path in every script, so a moved one would point back here)
    rm -rf "${root:?}/$name"
  fi
  ln -s "$dir" "$root/$name"
}

# stamp_ok FILE KEY: true when FILE holds KEY (the inputs of a build did not change)
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# need_go WHO: stop with a clear message when Go is missing (the peers are built from the Go module proxy)
need_go() {
  command -v go >/dev/null 2>&1 && return 0
  echo "$1: go is required (Debian: apt-get install golang-go)" >&2
  exit 1
}
