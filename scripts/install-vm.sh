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

# the binding builds from source (its prebuilt download needs github.com); rebuild if npm ci ran before libvirt-dev existed
if [ -d "$root/node_modules" ] && [ ! -f "$root/node_modules/@unraid/libvirt/build/Release/libvirt.node" ]; then
  (cd "$root" && npm rebuild @unraid/libvirt --foreground-scripts >/dev/null 2>&1) || {
    echo "install-vm: building @unraid/libvirt failed; run: npm rebuild @unraid/libvirt --foreground-scripts" >&2
    exit 1
  }
fi
echo "install-vm: libvirt $(virsh -c qemu:///system version | awk '/Using library/ {print $4}'), QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}')"
