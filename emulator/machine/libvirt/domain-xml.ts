// The libvirt domain a fleet machine becomes: hardware from the fleet file (vCPUs, memory, NICs,
// qcow2 disks), SMBIOS from the machine's identity, and the boot configuration the firmware is
// asked to follow on this power-on (device order, virtual CD, legacy BIOS or OVMF).
//
// NICs use QEMU's user-mode network, passed as QEMU arguments because libvirt's <interface
// type='user'> cannot set the DHCP boot file: the first NIC's DHCP offers the provisioning
// network's iPXE script, and the host's loopback is reachable from the guest at 10.0.2.2.
import type { BootTarget, MachineSpec } from '../model.js';

export const FERRITE_NS = 'https://ferrite.dev/libvirt/1';
/** where QEMU's user-mode network shows the host's loopback to the guest */
export const HOST_ALIAS = '10.0.2.2';
/** the port ironic-python-agent listens on inside the guest */
export const AGENT_PORT = 9999;

export interface DomainRuntime {
  /** files of this VM: disks, serial log, NVRAM */
  dir: string;
  disks: string[];
  serialLog: string;
  /** devices in firmware order (Pxe, Cd, Hdd …) */
  bootOrder: BootTarget[];
  /** ISO in the virtual CD, if any */
  cdrom: string | null;
  uefi: { loader: string; nvram: string } | null;
  /** DHCP boot file offered on the first NIC (the iPXE script) */
  bootFile: string | null;
  /** host port forwarded to the agent's port in the guest */
  agentHostPort: number;
  /** hardware acceleration; without it QEMU emulates the CPU (TCG) */
  kvm: boolean;
  memoryMiB: number;
  vcpus: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** Loopback URLs name the host; inside the VM the host is at HOST_ALIAS. */
export function guestUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]') {
      u.hostname = HOST_ALIAS;
      return u.toString();
    }
  } catch {}
  return url;
}

export function domainXml(spec: MachineSpec, rt: DomainRuntime): string {
  const { vcpus, memoryMiB: memMiB } = rt;
  const order = (t: BootTarget) => {
    const i = rt.bootOrder.indexOf(t);
    return i < 0 ? null : i + 1;
  };
  const diskOrder = order('Hdd');
  const cdOrder = rt.cdrom ? (order('Cd') ?? order('Usb')) : null;
  const netOrder = order('Pxe') ?? order('UefiHttp');
  const disks = rt.disks.map((path, i) =>
    [
      `    <disk type='file' device='disk'>`,
      `      <driver name='qemu' type='qcow2' cache='unsafe'/>`,
      `      <source file='${esc(path)}'/>`,
      `      <target dev='vd${String.fromCharCode(97 + i)}' bus='virtio'/>`,
      `      <serial>${esc(spec.disks[i]?.serial ?? `disk${i}`)}</serial>`,
      i === 0 && diskOrder ? `      <boot order='${diskOrder}'/>` : '',
      `    </disk>`,
    ]
      .filter(Boolean)
      .join('\n'),
  );
  const cd = [
    `    <disk type='file' device='cdrom'>`,
    `      <driver name='qemu' type='raw'/>`,
    rt.cdrom ? `      <source file='${esc(rt.cdrom)}'/>` : '',
    `      <target dev='sda' bus='sata'/>`,
    `      <readonly/>`,
    cdOrder ? `      <boot order='${cdOrder}'/>` : '',
    `    </disk>`,
  ]
    .filter(Boolean)
    .join('\n');
  const qemuArgs: string[] = [];
  spec.nics.forEach((n, i) => {
    const opts = [`user`, `id=ferrite${i}`];
    if (i === 0) {
      opts.push(`hostfwd=tcp:127.0.0.1:${rt.agentHostPort}-:${AGENT_PORT}`);
      if (rt.bootFile) opts.push(`bootfile=${rt.bootFile.replace(/,/g, ',,')}`);
    }
    qemuArgs.push('-netdev', opts.join(','));
    // a fixed slot on the root bus, clear of the ports libvirt numbers from 0x1
    const dev = [`virtio-net-pci`, `netdev=ferrite${i}`, `mac=${n.mac}`, `bus=pcie.0`, `addr=0x${(0x0a + i).toString(16)}`];
    if (i === 0 && netOrder) dev.push(`bootindex=${netOrder}`);
    qemuArgs.push('-device', dev.join(','));
  });
  const smbios = (k: string, v: string) => `        <entry name='${k}'>${esc(v)}</entry>`;
  return [
    `<domain type='${rt.kvm ? 'kvm' : 'qemu'}' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>`,
    `  <name>${esc(spec.name)}</name>`,
    `  <uuid>${spec.uuid}</uuid>`,
    `  <metadata><ferrite:machine xmlns:ferrite='${FERRITE_NS}' created='true'/></metadata>`,
    `  <memory unit='MiB'>${memMiB}</memory>`,
    `  <vcpu>${vcpus}</vcpu>`,
    `  <sysinfo type='smbios'>`,
    `    <system>`,
    smbios('manufacturer', spec.manufacturer),
    smbios('product', spec.model),
    smbios('serial', spec.serial),
    smbios('uuid', spec.uuid),
    `    </system>`,
    `    <oemStrings>`,
    `      <entry>ferrite.agent-url=http://127.0.0.1:${rt.agentHostPort}</entry>`,
    `      <entry>ferrite.host-alias=${HOST_ALIAS}</entry>`,
    `    </oemStrings>`,
    `  </sysinfo>`,
    `  <os>`,
    `    <type arch='x86_64' machine='q35'>hvm</type>`,
    rt.uefi ? `    <loader readonly='yes' type='pflash'>${esc(rt.uefi.loader)}</loader>` : '',
    rt.uefi ? `    <nvram>${esc(rt.uefi.nvram)}</nvram>` : '',
    `    <smbios mode='sysinfo'/>`,
    `    <bios useserial='yes'/>`,
    `  </os>`,
    `  <features><acpi/><apic/></features>`,
    rt.kvm ? `  <cpu mode='host-passthrough'/>` : `  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>restart</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    disks.join('\n'),
    cd,
    `    <serial type='file'><source path='${esc(rt.serialLog)}' append='on'/><target port='0'/></serial>`,
    `    <controller type='usb' model='none'/>`,
    `    <memballoon model='none'/>`,
    `  </devices>`,
    `  <qemu:commandline>`,
    ...qemuArgs.map((a) => `    <qemu:arg value='${esc(a)}'/>`),
    `  </qemu:commandline>`,
    `</domain>`,
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}
