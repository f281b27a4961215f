// Linux software RAID as ironic-python-agent builds it from a node's target_raid_config: one or
// two md devices over partitions of the same disks (or of the disks physical_disks' hints pick),
// the first RAID-1, at most one of size MAX; and which device the image then goes to — the volume
// marked is_root_volume (even over root device hints), else the device the hints (or, without
// them, the smallest of 4 GiB or more) choose, leaving out volumes marked false with their disks.
// Validation messages are IPA's.
import type { SoftwareRaidState } from '../machine/model.js';
import { type InventoryDisk, NoRootDeviceError, selectRootDevice } from './root-device.js';

const GiB = 2 ** 30;
const LEVELS = ['0', '1', '1+0'];

export class SoftwareRaidError extends Error {
  readonly reason = 'SoftwareRAIDError';
}

interface LogicalDisk {
  size_gb?: number | 'MAX' | null;
  raid_level?: string;
  controller?: string;
  is_root_volume?: boolean;
  physical_disks?: Array<Record<string, unknown>>;
}

/** The md devices the target configuration asks for, or IPA's validation errors. */
export function planSoftwareRaid(nodeUuid: string, config: unknown, disks: InventoryDisk[]): SoftwareRaidState[] {
  const logical = ((config as { logical_disks?: LogicalDisk[] } | null)?.logical_disks ?? []) as LogicalDisk[];
  if (!Array.isArray(logical) || logical.length === 0) throw new SoftwareRaidError('RAID config contains no logical disks');
  const errs: string[] = [];
  if (logical.length > 2) errs.push('Software RAID configuration requires one or two logical disks');
  if (logical.some((d) => d.controller !== 'software'))
    errs.push("Software RAID configuration requires all logical disks to have 'controller'='software'");
  if (logical.filter((d) => d.is_root_volume).length > 1)
    errs.push('Software RAID configuration allows only one logical disk to be marked as is_root_volume');
  for (const d of logical)
    if (d.physical_disks !== undefined && (!Array.isArray(d.physical_disks) || d.physical_disks.length < 2))
      errs.push(
        'The physical_disks parameter for software RAID must be a list with at least 2 items, each specifying a disk in the device hints format',
      );
  if (logical[0].raid_level !== '1') errs.push('Software RAID Configuration requires RAID-1 for the first logical disk');
  if (logical.length === 2) {
    if (logical[0].size_gb === 'MAX' && logical[1].size_gb === 'MAX')
      errs.push("Software RAID can have only one RAID device with size 'MAX'");
    if (!LEVELS.includes(String(logical[1].raid_level)))
      errs.push(`Software RAID configuration does not support RAID level ${logical[1].raid_level}`);
  }
  if (errs.length) throw new SoftwareRaidError(`Could not validate Software RAID config for ${nodeUuid}: ${errs.join('; ')}`);

  const used = new Map<string, number>(); // bytes already partitioned per disk
  const parts = new Map<string, number>(); // partitions made per disk
  return logical.map((d, i) => {
    let members: InventoryDisk[];
    try {
      members = d.physical_disks?.length ? d.physical_disks.map((h) => selectRootDevice(disks, h)) : disks;
    } catch (e) {
      if (e instanceof NoRootDeviceError) throw new SoftwareRaidError(`No disk for software RAID device md${i}: ${e.message}`);
      throw e;
    }
    const level = String(d.raid_level);
    const need = level === '1+0' ? 4 : 2;
    if (members.length < need)
      throw new SoftwareRaidError(`RAID-${level} needs at least ${need} disks, this machine has ${members.length}`);
    const free = Math.min(...members.map((m) => m.size - (used.get(m.name) ?? 0)));
    const part = d.size_gb === 'MAX' || d.size_gb === null || d.size_gb === undefined ? free : Number(d.size_gb) * GiB;
    if (part > free || part <= 0)
      throw new SoftwareRaidError(`Not enough space on ${members.map((m) => m.name).join(', ')} for software RAID device md${i}`);
    const names = members.map((m) => {
      used.set(m.name, (used.get(m.name) ?? 0) + part);
      const n = (parts.get(m.name) ?? 0) + 1;
      parts.set(m.name, n);
      return `${m.name}${/nvme/.test(m.name) ? 'p' : ''}${n}`;
    });
    const size = level === '0' ? part * members.length : level === '1+0' ? (part * members.length) / 2 : part;
    return {
      name: `/dev/md${i}`,
      level,
      sizeBytes: size,
      members: names,
      ...(d.is_root_volume !== undefined ? { rootVolume: Boolean(d.is_root_volume) } : {}),
    };
  });
}

/** Where the image goes on a machine with software RAID. */
export function softwareRaidRoot(raid: SoftwareRaidState[], disks: InventoryDisk[], hints?: Record<string, unknown> | null): string {
  const root = raid.find((v) => v.rootVolume === true);
  if (root) return root.name;
  const excluded = raid.filter((v) => v.rootVolume === false);
  const holders = new Set(excluded.flatMap((v) => v.members.map((p) => p.replace(/p?\d+$/, ''))));
  const candidates = [
    ...raid.filter((v) => v.rootVolume !== false).map((v) => ({ name: v.name, size: v.sizeBytes })),
    ...disks.filter((d) => !holders.has(d.name)),
  ];
  return selectRootDevice(candidates, hints).name;
}
