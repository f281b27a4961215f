// What the agent ramdisk reports about the machine it runs on, read from the kernel (/sys, /proc)
// rather than a fleet file: the inventory Ironic gets from a VM is the VM's own.
import { readdirSync, readFileSync } from 'node:fs';
import { DEFAULT_BIOS, DEFAULT_TIMINGS, type DiskSpec, type MachineSpec, type NicSpec } from '../../machine/model.js';

function read(path: string, fallback = ''): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** Block devices that are disks (not partitions, loops, RAM disks or CD-ROMs). */
export function diskNames(sys = '/sys'): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(`${sys}/block`);
  } catch {}
  return names.filter((n) => /^(vd[a-z]+|sd[a-z]+|nvme\d+n\d+|xvd[a-z]+)$/.test(n)).sort();
}

export function readHardware(sys = '/sys', proc = '/proc'): MachineSpec {
  const nics: NicSpec[] = [];
  let ifaces: string[] = [];
  try {
    ifaces = readdirSync(`${sys}/class/net`).sort();
  } catch {}
  for (const n of ifaces) {
    if (n === 'lo') continue;
    const mac = read(`${sys}/class/net/${n}/address`);
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) continue;
    const speed = Number(read(`${sys}/class/net/${n}/speed`, '-1'));
    nics.push({ id: n, mac, speedMbps: speed > 0 ? speed : 1000, linkUp: read(`${sys}/class/net/${n}/carrier`, '0') === '1' });
  }
  const disks: DiskSpec[] = diskNames(sys).map((n, i) => {
    const rot = read(`${sys}/block/${n}/queue/rotational`, '0') === '1';
    return {
      id: `Disk.${i}`,
      name: `/dev/${n}`,
      sizeBytes: Number(read(`${sys}/block/${n}/size`, '0')) * 512,
      mediaType: rot ? 'HDD' : 'SSD',
      protocol: n.startsWith('nvme') ? 'NVMe' : 'SATA',
      rotational: rot,
      serial: read(`${sys}/block/${n}/serial`) || read(`${sys}/block/${n}/device/serial`),
      wwn: read(`${sys}/block/${n}/device/wwid`) || read(`${sys}/block/${n}/wwid`),
      model: read(`${sys}/block/${n}/device/model`) || (n.startsWith('vd') ? 'Virtio Block Device' : 'Disk'),
      // the agent's simulated-time waits must cost nothing on a real disk: the real write takes its own time
      writeMBps: 1e9,
    };
  });
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(read(`${proc}/meminfo`))?.[1] ?? 0);
  const cpuinfo = read(`${proc}/cpuinfo`);
  const cpus = (cpuinfo.match(/^processor\s*:/gm) ?? []).length || 1;
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? 0);
  return {
    uuid: read(`${sys}/class/dmi/id/product_uuid`).toLowerCase() || '00000000-0000-0000-0000-000000000000',
    name: read(`${proc}/sys/kernel/hostname`, 'localhost'),
    manufacturer: read(`${sys}/class/dmi/id/sys_vendor`, 'unknown'),
    model: read(`${sys}/class/dmi/id/product_name`, 'unknown'),
    serial: read(`${sys}/class/dmi/id/product_serial`),
    cpu: {
      sockets: 1,
      coresPerSocket: cpus,
      threadsPerCore: 1,
      model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
      arch: 'x86',
      speedMHz: Math.round(mhz) || 1000,
    },
    // the inventory reports memory as DIMMs × size: one "DIMM" of the whole, in MiB precision
    memory: { dimms: 1, dimmGiB: Math.round(memKb / 1024) / 1024 },
    nics,
    disks,
    biosDefaults: { ...DEFAULT_BIOS },
    firmware: [{ id: 'BIOS', name: 'System BIOS', version: read(`${sys}/class/dmi/id/bios_version`, 'unknown'), updateable: false }],
    timings: { ...DEFAULT_TIMINGS },
  };
}

/** SMBIOS type 11 (OEM strings): how the BMC emulator tells the agent where Ironic can reach it. */
export function oemStrings(sys = '/sys'): Map<string, string> {
  const out = new Map<string, string>();
  let entries: string[] = [];
  try {
    entries = readdirSync(`${sys}/firmware/dmi/entries`).filter((e) => e.startsWith('11-'));
  } catch {}
  for (const e of entries) {
    let raw: Buffer;
    try {
      raw = readFileSync(`${sys}/firmware/dmi/entries/${e}/raw`);
    } catch {
      continue;
    }
    // formatted area (its length is byte 1), then NUL-terminated strings
    for (const s of raw.subarray(raw[1]).toString('latin1').split('\0')) {
      const i = s.indexOf('=');
      if (i > 0) out.set(s.slice(0, i), s.slice(i + 1));
    }
  }
  return out;
}
