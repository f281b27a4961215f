#!/usr/bin/env bash
# Builds what the libvirt backend's VMs boot, from Debian packages (scripts/install-vm.sh installs
# them) and this checkout:
#   agent.kernel, agent.initramfs  the deploy ramdisk: busybox, Node and Ferrite's
#                                  ironic-python-agent (emulator/agent/vm) over the VM's real disks
#   os.img                         a tiny whole-disk OS image (MBR + syslinux + kernel + busybox)
#                                  that reads its config drive ("config-2") and runs the user data
#   SHA256SUMS
# Usage: scripts/build-vm-images.sh [OUTDIR]   (default .vm-images; skipped when up to date)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${1:-}" ]; then
  out=$(realpath -m "$1")
else
  # the default lives in the cache outside the clone (a fresh clone reuses an up-to-date build)
  # shellcheck source=scripts/cache.sh
  . "$root/scripts/cache.sh"
  link_cache .vm-images vm-images
  out=$FERRITE_CACHE/vm-images
fi
kver=$(ls /lib/modules | sort -V | tail -1)
kernel=/boot/vmlinuz-$kver
for t in busybox cpio gzip mkfs.vfat syslinux mcopy sfdisk; do
  command -v "$t" >/dev/null || { echo "build-vm-images: $t is missing: run scripts/install-vm.sh" >&2; exit 1; }
done
[ -r "$kernel" ] || { echo "build-vm-images: no kernel at $kernel: run scripts/install-vm.sh" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the agent as one file first (a second): whatever it imports, from any folder, is in its hash
(cd "$root" && npx --no-install esbuild emulator/agent/vm/main.ts --bundle --platform=node --format=esm --target=node20 \
  --outfile="$work/agent.mjs" --log-level=warning)

# rebuild only when an input changed: the kernel, this script, the agent bundle
stamp=$( (echo "$kver"; sha256sum "$0"; sha256sum < "$work/agent.mjs") | sha256sum | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -f "$out/os.img" ]; then
  echo "build-vm-images: $out is up to date"
  exit 0
fi
mkdir -p "$out"

# a root with busybox and the kernel modules a q35 VM needs (virtio disks and NICs, ISO 9660)
base_root() {
  local r=$1
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,etc,lib/modules,run}
  cp /bin/busybox "$r/bin/busybox"
  for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
  : > "$r/etc/modules.order"
  for m in virtio_pci virtio_blk virtio_net isofs; do
    modprobe --show-depends -S "$kver" "$m" | awk '$1 == "insmod" {print $2}' | while read -r ko; do
      local name; name=$(basename "$ko")
      [ -f "$r/lib/modules/$name" ] && continue
      cp "$ko" "$r/lib/modules/$name"
      echo "$name" >> "$r/etc/modules.order"
    done
  done
  cat > "$r/etc/udhcpc.sh" <<'S'
#!/bin/sh
case "$1" in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
    [ -n "$router" ] && route add default gw "${router%% *}" dev "$interface"
    ;;
esac
exit 0
S
  chmod +x "$r/etc/udhcpc.sh"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$r/etc/passwd"
  printf '127.0.0.1 localhost\n' > "$r/etc/hosts"
}

common_init='#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev; mount -t tmpfs tmpfs /tmp
for m in $(cat /etc/modules.order); do insmod "/lib/modules/$m" 2>/dev/null; done
ip link set lo up
'

# ---- the agent ramdisk ----
ar=$work/agent
base_root "$ar"
mkdir -p "$ar/opt/ferrite"
cp "$(readlink -f "$(command -v node)")" "$ar/usr/bin/node"
for lib in $(ldd "$ar/usr/bin/node" | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}'); do
  mkdir -p "$ar$(dirname "$lib")"; cp -L "$lib" "$ar$lib"
done
mkdir -p "$ar/lib64"; cp -L /lib64/ld-linux-x86-64.so.2 "$ar/lib64/"
cp "$work/agent.mjs" "$ar/opt/ferrite/agent.mjs"
cat > "$ar/init" <<EOF2
$common_init
echo "ferrite-agent-ramdisk: \$(uname -r), \$(grep MemTotal /proc/meminfo)"
for n in \$(ls /sys/class/net); do [ "\$n" = lo ] || ip link set "\$n" up; done
first=\$(ls /sys/class/net | grep -v '^lo\$' | head -1)
udhcpc -i "\$first" -q -n -t 20 -T 1 -s /etc/udhcpc.sh >/dev/null 2>&1 || echo "ferrite-agent-ramdisk: no DHCP answer on \$first"
echo "ferrite-agent-ramdisk: \$first \$(ip -4 -o addr show dev "\$first" | awk '{print \$4}')"
/usr/bin/node /opt/ferrite/agent.mjs
echo "ferrite-agent-ramdisk: the agent exited; powering off"
sync; poweroff -f
EOF2
chmod +x "$ar/init"
(cd "$ar" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/agent.initramfs"

# ---- the tiny OS ----
osr=$work/os
base_root "$osr"
cat > "$osr/init" <<EOF2
$common_init
echo "ferrite-os: booted from disk (\$(uname -r))"
cd=""
for b in \$(ls /sys/class/block); do
  mount -t iso9660 -o ro "/dev/\$b" /mnt 2>/dev/null || continue
  if [ -f /mnt/openstack/latest/meta_data.json ]; then cd=\$b; break; fi
  umount /mnt
done
if [ -z "\$cd" ]; then
  echo "ferrite-os: no config drive (config-2) found"
else
  # the first of the keys config drives name the host by (Ironic's, BMO's, cloud-init's)
  host=\$(for k in hostname local-hostname local_hostname name; do
    sed -n "s/.*\"\$k\": *\"\([^\"]*\)\".*/\\1/p" /mnt/openstack/latest/meta_data.json
  done | head -1)
  [ -n "\$host" ] && hostname "\$host"
  echo "ferrite-os: config drive on /dev/\$cd, hostname \${host:-unset}"
  ud=/mnt/openstack/latest/user_data
  if [ -f "\$ud" ]; then
    case "\$(head -c 2 "\$ud")" in
      '#!') cp "\$ud" /tmp/user-data; chmod +x /tmp/user-data; echo "ferrite-os: running user data"; /tmp/user-data 2>&1 ;;
      *) if head -1 "\$ud" | grep -q '^#cloud-config'; then
           echo "ferrite-os: cloud-config user data: running runcmd"
           sed -n '/^runcmd:/,/^[^ -]/p' "\$ud" | sed -n 's/^ *- *//p' | while read -r c; do sh -c "\$c" 2>&1; done
         else echo "ferrite-os: user data of an unknown kind left alone"; fi ;;
    esac
  fi
fi
echo "ferrite-os: ready"
while true; do sleep 3600; done
EOF2
chmod +x "$osr/init"
(cd "$osr" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/os.initramfs"
cat > "$work/syslinux.cfg" <<'S'
DEFAULT os
PROMPT 0
TIMEOUT 1
SERIAL 0 115200
LABEL os
  KERNEL /vmlinuz
  APPEND initrd=/initrd console=ttyS0 panic=-1
S
part_kib=$(( ( $(stat -c %s "$kernel") + $(stat -c %s "$work/os.initramfs") ) / 1024 + 4096 ))
mkfs.vfat -C -n FERRITEOS "$work/part.img" "$part_kib" >/dev/null
syslinux --install "$work/part.img"
mcopy -i "$work/part.img" "$kernel" ::/vmlinuz
mcopy -i "$work/part.img" "$work/os.initramfs" ::/initrd
mcopy -i "$work/part.img" "$work/syslinux.cfg" ::/syslinux.cfg
sectors=$(( part_kib * 2 ))
truncate -s $(( (2048 + sectors) * 512 )) "$work/os.img"
printf 'label: dos\nstart=2048, size=%d, type=c, bootable\n' "$sectors" | sfdisk -q "$work/os.img"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$work/os.img" bs=440 count=1 conv=notrunc status=none
dd if="$work/part.img" of="$work/os.img" bs=512 seek=2048 conv=notrunc status=none

cp "$kernel" "$out/agent.kernel"
mv "$work/agent.initramfs" "$out/agent.initramfs"
mv "$work/os.img" "$out/os.img"
chmod 644 "$out"/agent.kernel "$out"/agent.initramfs "$out"/os.img
(cd "$out" && sha256sum agent.kernel agent.initramfs os.img > SHA256SUMS)
echo "$stamp" > "$out/.stamp"
echo "build-vm-images: $out: agent.kernel $(du -h "$out/agent.kernel" | cut -f1), agent.initramfs $(du -h "$out/agent.initramfs" | cut -f1), os.img $(du -h "$out/os.img" | cut -f1)"
