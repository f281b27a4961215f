#!/usr/bin/env bash
# Installs and starts what the libvirt/QEMU backend and its tests need, from Debian packages,
# without systemd: QEMU (TCG is enough), libvirt's daemons, iPXE option ROMs, the build tools for
# the agent ramdisk and the tiny OS image (busybox, a Debian kernel, syslinux, mtools), and the
# native libvirt binding (@unraid/libvirt, an optional npm dependency that needs libvirt-dev).
# Idempotent: a second run only checks that the daemons are up.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(qemu-system-x86 qemu-utils ipxe-qemu libvirt-daemon-system libvirt-clients libvirt-dev dnsmasq-base
  busybox-static linux-image-amd64 syslinux syslinux-common isolinux mtools dosfstools genisoimage cpio fdisk ovmf grub-efi-amd64-bin grub-common)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-vm: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's image forbids service starts (policy-rc.d) and PID 1 is not systemd: start the daemons by hand
if ! pgrep -x virtlogd >/dev/null; then virtlogd -d; fi
if ! pgrep -x libvirtd >/dev/null; then libvirtd -d; fi
for _ in $(seq 1 50); do
  [ -S /run/libvirt/libvirt-sock ] && break
  sleep 0.1
done
virsh -c qemu:///system version >/dev/null

# The native libvirt binding (@unraid/libvirt, an optional npm dependency) builds from source: its
# prebuilt download needs a host this machine cannot reach, and the build needs libvirt-dev. npm ci
# silently skips it when the build fails (or with --omit=optional), so install it here — at the
# version package-lock.json pins — and fail loudly unless it really loads.
if [ -d "$root/node_modules" ]; then
  version=$(node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/@unraid/libvirt"];if(!p)process.exit(1);console.log(p.version)' "$root/package-lock.json") || {
    echo "install-vm: package-lock.json does not pin @unraid/libvirt" >&2
    exit 1
  }
  loads() { (cd "$root" && node --input-type=module -e "await import('@unraid/libvirt')" >/dev/null 2>&1); }
  if ! loads; then
    echo "install-vm: building @unraid/libvirt@$version from source"
    if [ -d "$root/node_modules/@unraid/libvirt" ]; then
      (cd "$root" && npm rebuild @unraid/libvirt --foreground-scripts) >/tmp/ferrite-libvirt-build.log 2>&1 || true
    else
      # --no-save keeps package.json and the lock untouched; the version is the lock's
      (cd "$root" && npm install --no-save --no-audit --no-fund --include=optional --foreground-scripts "@unraid/libvirt@$version") \
        >/tmp/ferrite-libvirt-build.log 2>&1 || true
    fi
    if ! loads; then
      echo "install-vm: the libvirt binding @unraid/libvirt@$version did not build or does not load; build log: /tmp/ferrite-libvirt-build.log" >&2
      tail -n 20 /tmp/ferrite-libvirt-build.log >&2 || true
      exit 1
    fi
  fi
  echo "install-vm: libvirt binding @unraid/libvirt@$version loads"
else
  echo "install-vm: no node_modules yet: run npm ci, then this script again to build the libvirt binding" >&2
fi
echo "install-vm: libvirt $(virsh -c qemu:///system version | awk '/Using library/ {print $4}'), QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')"
