// Ironic's inspection inventory → the BareMetalHost HardwareDetails shape, field by field as
// upstream's hardwaredetails package maps it.
import type { HardwareDetails } from '../api/metal3.io/v1alpha1/baremetalhost.js';

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown) =>
  typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined;

export function hardwareDetailsFrom(body: { inventory?: Obj; plugin_data?: Obj }): HardwareDetails {
  const inv = body.inventory ?? {};
  const plugin = body.plugin_data ?? {};
  const allIfaces = (plugin.all_interfaces ?? {}) as Record<string, { pxe_enabled?: boolean }>;
  const lldp = (plugin.parsed_lldp ?? {}) as Record<string, Obj>;
  const cpu = (inv.cpu ?? {}) as Obj;
  const mem = (inv.memory ?? {}) as Obj;
  const vendor = (inv.system_vendor ?? {}) as Obj;
  const fw = (vendor.firmware ?? {}) as Obj;
  const nics = ((inv.interfaces ?? []) as Obj[]).map((i) => {
    const name = String(i.name ?? '');
    const l = lldp[name];
    const speed = num(i.speed_mbps);
    return {
      name,
      model: [str(i.vendor), str(i.product)].filter(Boolean).join(' ') || undefined,
      mac: str(i.mac_address),
      ip: str(i.ipv4_address) ?? str(i.ipv6_address),
      speedGbps: speed === undefined ? undefined : Math.floor(speed / 1000),
      pxe: allIfaces[name]?.pxe_enabled ?? false,
      ...(str(i.pci_address) ? { pciAddress: str(i.pci_address) } : {}),
      ...(l
        ? {
            vlanId: num(l.switch_port_untagged_vlan_id),
            lldp: { switchID: str(l.switch_chassis_id), portID: str(l.switch_port_id), switchSystemName: str(l.switch_system_name) },
          }
        : {}),
    };
  });
  const storage = ((inv.disks ?? []) as Obj[]).map((d) => {
    const name = String(d.name ?? '');
    return {
      name,
      ...(str(d.by_path) ? { alternateNames: [String(d.by_path)] } : {}),
      rotational: Boolean(d.rotational),
      type: (name.startsWith('/dev/nvme') ? 'NVME' : d.rotational ? 'HDD' : 'SSD') as 'NVME' | 'HDD' | 'SSD',
      sizeBytes: num(d.size) ?? 0,
      vendor: str(d.vendor),
      model: str(d.model),
      serialNumber: str(d.serial),
      wwn: str(d.wwn),
      wwnVendorExtension: str(d.wwn_vendor_extension),
      wwnWithExtension: str(d.wwn_with_extension),
      hctl: str(d.hctl),
    };
  });
  return prune({
    systemVendor: {
      manufacturer: str(vendor.manufacturer),
      productName: str(vendor.product_name),
      serialNumber: str(vendor.serial_number),
    },
    firmware: { bios: { date: str(fw.build_date), vendor: str(fw.vendor), version: str(fw.version) } },
    ramMebibytes: num(mem.physical_mb) ?? 0,
    nics,
    storage,
    cpu: {
      arch: str(cpu.architecture),
      model: str(cpu.model_name),
      clockMegahertz: num(cpu.frequency),
      flags: Array.isArray(cpu.flags) ? [...(cpu.flags as string[])].sort() : undefined,
      count: num(cpu.count),
    },
    hostname: str(inv.hostname),
  }) as HardwareDetails;
}

/** Drops undefined keys so the stored object has only what Ironic reported. */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v && typeof v === 'object') {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = prune(x);
    return out;
  }
  return v;
}
