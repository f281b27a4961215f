// Conductor-side clean/service steps of the redfish interfaces: RAID (delete and create volumes
// from target_raid_config) and firmware updates (UpdateService.SimpleUpdate per component), each
// followed through the BMC's task monitor.
import { IronicError } from '../errors.js';
import type { Node } from '../model.js';
import { now } from '../model.js';
import type { RedfishDriver } from './redfish.js';
import { waitForTask } from './redfish-client.js';

const RAID_TYPES: Record<string, string> = {
  '0': 'RAID0',
  '1': 'RAID1',
  '5': 'RAID5',
  '1+0': 'RAID10',
  '6': 'RAID6',
  '5+0': 'RAID50',
  '6+0': 'RAID60',
};
const TASK_TIMEOUT_MS = 30 * 60_000;

type Members = Array<{ '@odata.id': string }>;

async function storages(rf: RedfishDriver, node: Node): Promise<string[]> {
  const c = rf.client(node);
  const sys = (await c.get(await c.system())).body;
  const st = (sys.Storage as { '@odata.id'?: string } | undefined)?.['@odata.id'];
  if (!st) throw new IronicError('UnsupportedDriverExtension', `Node ${node.uuid}'s BMC has no Storage: RAID is not possible over Redfish`);
  return (((await c.get(st)).body.Members ?? []) as Members).map((m) => m['@odata.id']);
}

export async function deleteRaidConfiguration(rf: RedfishDriver, node: Node, pollMs: number): Promise<void> {
  const c = rf.client(node);
  for (const s of await storages(rf, node)) {
    const vols = ((await c.get(s)).body.Volumes as { '@odata.id'?: string } | undefined)?.['@odata.id'];
    if (!vols) continue;
    for (const v of ((await c.get(vols)).body.Members ?? []) as Members)
      await waitForTask(c, await c.request('DELETE', v['@odata.id']), TASK_TIMEOUT_MS, pollMs);
  }
  node.raid_config = {};
}

export async function createRaidConfiguration(rf: RedfishDriver, node: Node, pollMs: number): Promise<void> {
  const disks = ((node.target_raid_config as { logical_disks?: Array<Record<string, unknown>> }).logical_disks ?? []) as Array<
    Record<string, unknown>
  >;
  if (!disks.length)
    throw new IronicError(
      'MissingParameterValue',
      `Node ${node.uuid} has no target_raid_config: set it with PUT /v1/nodes/${node.uuid}/states/raid first`,
    );
  const c = rf.client(node);
  const [storage] = await storages(rf, node);
  const st = (await c.get(storage)).body;
  const drives = await Promise.all(
    ((st.Drives ?? []) as Members).map(async (d) => ({
      id: d['@odata.id'],
      size: Number((await c.get(d['@odata.id'])).body.CapacityBytes ?? 0),
    })),
  );
  const volumes = (st.Volumes as { '@odata.id'?: string } | undefined)?.['@odata.id'];
  if (!volumes) throw new IronicError('UnsupportedDriverExtension', `Storage ${storage} has no Volumes collection`);
  const created: Array<Record<string, unknown>> = [];
  let next = 0;
  for (const d of disks) {
    const level = String(d.raid_level);
    const type = RAID_TYPES[level];
    if (!type) throw new IronicError('InvalidParameterValue', `RAID level ${level} is not supported over Redfish`);
    const count = Number(d.number_of_physical_disks ?? (level === '0' ? 1 : level === '1' ? 2 : level === '1+0' ? 4 : 3));
    const chosen = drives.slice(next, next + count);
    if (chosen.length < count)
      throw new IronicError(
        'InvalidParameterValue',
        `Not enough physical disks for RAID ${level}: ${count} needed, ${drives.length - next} left`,
      );
    next += count;
    const raw = chosen.reduce((s, x) => s + x.size, 0);
    const usable = level === '1' ? raw / count : level === '1+0' ? raw / 2 : level === '5' ? (raw * (count - 1)) / count : raw;
    const size = d.size_gb === 'MAX' || d.size_gb === null ? Math.floor(usable) : Number(d.size_gb) * 2 ** 30;
    const body = {
      Name: String(d.volume_name ?? `ironic-${created.length}`),
      CapacityBytes: size,
      RAIDType: type,
      Links: { Drives: chosen.map((x) => ({ '@odata.id': x.id })) },
    };
    await waitForTask(c, await c.post(volumes, body), TASK_TIMEOUT_MS, pollMs);
    created.push({ ...d, size_gb: Math.floor(size / 2 ** 30), controller: storage });
  }
  node.raid_config = { logical_disks: created };
}

export async function updateFirmware(rf: RedfishDriver, node: Node, args: Record<string, unknown>, pollMs: number): Promise<void> {
  const settings = (args.settings ?? []) as Array<{ component?: string; url?: string }>;
  if (!Array.isArray(settings) || !settings.length)
    throw new IronicError('InvalidParameterValue', 'firmware.update needs args.settings: [{component, url}]');
  const c = rf.client(node);
  const svc = (await c.get('/redfish/v1/UpdateService')).body;
  const action = (svc.Actions as Record<string, { target?: string }> | undefined)?.['#UpdateService.SimpleUpdate']?.target;
  if (!action) throw new IronicError('UnsupportedDriverExtension', "the BMC's UpdateService has no SimpleUpdate action");
  const invUri = (svc.FirmwareInventory as { '@odata.id'?: string } | undefined)?.['@odata.id'];
  const inventory = invUri
    ? await Promise.all(
        (((await c.get(invUri)).body.Members ?? []) as Members).map(async (m) => ({
          id: m['@odata.id'],
          body: (await c.get(m['@odata.id'])).body,
        })),
      )
    : [];
  // a BMC fronting several systems lists every system's firmware: keep what relates to this one
  const sysPath = await c.system();
  const managers = ((((await c.get(sysPath)).body.Links as Record<string, unknown> | undefined)?.ManagedBy ?? []) as Members).map(
    (m) => m['@odata.id'],
  );
  const mine = new Set([sysPath, ...managers]);
  const related = (x: { body: Record<string, unknown> }) => ((x.body.RelatedItem ?? []) as Members).some((r) => mine.has(r['@odata.id']));
  const scoped = inventory.some(related) ? inventory.filter(related) : inventory;
  for (const s of settings) {
    if (!s.component || !s.url) throw new IronicError('InvalidParameterValue', 'each firmware.update setting needs component and url');
    const want =
      s.component === 'bmc'
        ? /bmc|manager|idrac|ilo/i
        : s.component === 'bios'
          ? /bios|uefi/i
          : new RegExp(s.component.replace(/^nic:/, ''), 'i');
    const target = scoped.find((x) => want.test(String(x.body.Id ?? '')) || want.test(String(x.body.Name ?? '')));
    if (!target)
      throw new IronicError('InvalidParameterValue', `No firmware component matching "${s.component}" on node ${node.uuid}'s BMC`);
    await waitForTask(c, await c.post(action, { ImageURI: s.url, Targets: [target.id] }), TASK_TIMEOUT_MS, pollMs);
  }
  const before = node.firmware ?? [];
  node.firmware = await rf.firmwareComponents(node, before);
  const at = now();
  for (const f of node.firmware) {
    const old = before.find((b) => b.component === f.component);
    if (old && old.current_version !== f.current_version) Object.assign(f, { last_version_flashed: f.current_version, updated_at: at });
    else if (!old && settings.some((s) => s.component === f.component))
      Object.assign(f, { last_version_flashed: f.current_version, updated_at: at });
  }
}
