// Inventory, settings and asynchronous work: what Ironic's redfish inspect, bios, raid, firmware
// and management interfaces read and write, including the 202 + task monitor protocol.
import type { CheckContext } from '../context.js';
import { errorMessage, is2xx, odataId, type RfResponse } from '../redfish-client.js';
import { type Check, fail, pass, skipped, warn } from '../types.js';

type Obj = Record<string, unknown>;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/** Follows a 202's task monitor until it is done; the final answer and what was seen. */
async function followTask(ctx: CheckContext, r: RfResponse, timeoutMs: number): Promise<{ done: RfResponse | null; error: string | null }> {
  const loc = r.headers.location;
  if (!loc) return { done: null, error: `${r.status} without a Location task monitor` };
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await ctx.redfish.get(loc);
    if (m.status !== 202) {
      const state = (m.body as Obj | undefined)?.TaskState;
      if (m.status === 200 && state && state !== 'Completed') {
        if (['Exception', 'Killed', 'Cancelled'].includes(String(state))) return { done: m, error: `the task ended ${String(state)}` };
        if (Date.now() > end) return { done: null, error: `the task was still ${String(state)} after ${timeoutMs} ms` };
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      return { done: m, error: is2xx(m) ? null : `the task monitor answered ${m.status}` };
    }
    if (Date.now() > end) return { done: null, error: `the task monitor still answered 202 after ${timeoutMs} ms` };
    await new Promise((res) => setTimeout(res, 500));
  }
}

async function member(ctx: CheckContext, coll: string): Promise<Obj[]> {
  const c = await ctx.redfish.get(coll);
  if (c.status !== 200) return [];
  const out: Obj[] = [];
  for (const m of ((c.body as Obj).Members as Obj[] | undefined) ?? []) {
    const r = await ctx.redfish.get(odataId(m));
    if (r.status === 200) out.push(r.body as Obj);
  }
  return out;
}

export const settingsChecks: Check[] = [
  {
    id: 'C26',
    name: 'inventory',
    why: 'out-of-band inspection fills memory, CPUs, NIC MACs and the root disk size from these properties',
    protects: 'ironic redfish inspect.py',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const sys = await ctx.system();
      const problems: string[] = [];
      const mem = (sys.MemorySummary as Obj | undefined)?.TotalSystemMemoryGiB;
      if (typeof mem !== 'number' || mem <= 0) problems.push('MemorySummary.TotalSystemMemoryGiB');
      const cpus = (sys.ProcessorSummary as Obj | undefined)?.Count;
      if (typeof cpus !== 'number' || cpus <= 0) problems.push('ProcessorSummary.Count');
      const nics = odataId(sys.EthernetInterfaces) ? await member(ctx, odataId(sys.EthernetInterfaces)) : [];
      const macs = nics.map((n) => String(n.MACAddress ?? n.PermanentMACAddress ?? ''));
      if (!macs.length || macs.some((m) => !MAC.test(m))) problems.push('EthernetInterfaces MACAddress');
      let disks = 0;
      if (odataId(sys.Storage)) {
        for (const st of await member(ctx, odataId(sys.Storage)))
          for (const d of (st.Drives as Obj[] | undefined) ?? []) {
            const r = await ctx.redfish.get(odataId(d));
            if (r.status === 200 && typeof (r.body as Obj).CapacityBytes === 'number') disks++;
          }
      }
      if (!disks && odataId(sys.SimpleStorage))
        for (const ss of await member(ctx, odataId(sys.SimpleStorage)))
          disks += ((ss.Devices as Obj[] | undefined) ?? []).filter((d) => typeof d.CapacityBytes === 'number').length;
      if (!disks) problems.push('a disk with CapacityBytes (Storage Drives or SimpleStorage Devices)');
      if (problems.length) return fail(`inspection cannot read ${problems.join(', ')}`);
      return pass(`${String(mem)} GiB, ${String(cpus)} CPUs, ${macs.length} NIC(s), ${disks} disk(s)`);
    },
  },
  {
    id: 'C27',
    name: 'bios-settings',
    why: 'BIOS settings are PATCHed as pending and must be applied by the next reset',
    protects: 'ironic redfish bios.py apply_configuration (reboot, then verify)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = await ctx.system();
      if (!odataId(sys.Bios)) return warn('no Bios resource: BIOS settings cannot be managed');
      const bios = await ctx.redfish.json(odataId(sys.Bios));
      const settings = odataId((bios['@Redfish.Settings'] as Obj | undefined)?.SettingsObject);
      if (!settings) return fail('Bios has no @Redfish.Settings.SettingsObject');
      const attrs = (bios.Attributes ?? {}) as Obj;
      const [name, value] = Object.entries(attrs).find(([, v]) => typeof v === 'boolean' || v === 'Enabled' || v === 'Disabled') ?? [];
      if (!name) return skipped('no boolean or Enabled/Disabled attribute to toggle safely');
      const flipped = typeof value === 'boolean' ? !value : value === 'Enabled' ? 'Disabled' : 'Enabled';
      const r = await ctx.patch(settings, { Attributes: { [name]: flipped } });
      if (!is2xx(r)) return fail(`PATCH ${settings} {${name}: ${String(flipped)}} answered ${r.status}: ${errorMessage(r)}`);
      // Ironic's reboot: off, then on
      if ((await ctx.powerState()) === 'On') {
        const off = await ctx.reset('ForceOff', 'Off');
        if (off.error) return fail(`power off to apply: ${off.error}`);
      }
      const on = await ctx.reset('On', 'On', 6);
      if (on.error) return fail(`power on to apply: ${on.error}`);
      const applied = await ctx.waitFor(
        async () => ((await ctx.redfish.json(odataId(sys.Bios))).Attributes as Obj)?.[name] === flipped || undefined,
        ctx.opts.bootTimeoutMs,
      );
      // put it back (pending until the harness's restore or the next reset)
      await ctx.patch(settings, { Attributes: { [name]: value } });
      if (!applied) return fail(`${name} was set pending but still reads ${String(value)} after a reset`);
      return pass(`${name} pending → applied by the next reset`);
    },
  },
  {
    id: 'C28',
    name: 'secure-boot',
    why: 'Ironic turns UEFI secure boot on or off per image and polls until the BMC reflects it',
    protects: 'ironic redfish management set_secure_boot_state',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = await ctx.system();
      if (!odataId(sys.SecureBoot)) return warn('no SecureBoot resource: secure boot cannot be managed');
      const sb = await ctx.redfish.json(odataId(sys.SecureBoot));
      if (typeof sb.SecureBootEnable !== 'boolean') return fail('SecureBoot has no SecureBootEnable');
      const want = !sb.SecureBootEnable;
      const r = await ctx.patch(odataId(sys.SecureBoot), { SecureBootEnable: want });
      if (!is2xx(r)) return warn(`SecureBootEnable is not writable (${r.status}: ${errorMessage(r)})`);
      const now = (await ctx.redfish.json(odataId(sys.SecureBoot))).SecureBootEnable;
      await ctx.patch(odataId(sys.SecureBoot), { SecureBootEnable: sb.SecureBootEnable });
      if (now !== want) return fail(`PATCH SecureBootEnable ${want} answered ${r.status} but reads ${String(now)}`);
      return pass(`SecureBootEnable toggles ${String(sb.SecureBootEnable)} → ${want} and back`);
    },
  },
  {
    id: 'C29',
    name: 'raid',
    why: 'RAID is built by creating volumes; Ironic needs the apply times the collection supports and a task to follow',
    protects: 'ironic redfish raid.py (OperationApplyTimeSupport, 202 + TaskMonitor)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = await ctx.system();
      if (!odataId(sys.Storage)) return warn('no Storage: RAID cannot be managed');
      const storages = await member(ctx, odataId(sys.Storage));
      const st = storages.find((s) => odataId(s.Volumes) && ((s.Drives as Obj[] | undefined) ?? []).length);
      if (!st) return warn('no Storage with Volumes and Drives');
      const vols = await ctx.redfish.json(odataId(st.Volumes));
      const support = vols['@Redfish.OperationApplyTimeSupport'] as Obj | undefined;
      if (!support) return fail('the Volumes collection has no @Redfish.OperationApplyTimeSupport');
      const drive = odataId(((st.Drives as Obj[]) ?? [])[0]);
      const size = (await ctx.redfish.json(drive)).CapacityBytes;
      const before = ((vols.Members as Obj[] | undefined) ?? []).map(odataId);
      // the payload Ironic's raid.py builds for a one-disk RAID0 logical disk
      const r = await ctx.redfish.request('POST', odataId(st.Volumes), {
        body: {
          Name: 'ferrite-conformance',
          RAIDType: 'RAID0',
          ...(typeof size === 'number' ? { CapacityBytes: size } : {}),
          Links: { Drives: [{ '@odata.id': drive }] },
        },
      });
      if (r.status === 202) {
        const t = await followTask(ctx, r, 120_000);
        if (t.error) return fail(`volume create: ${t.error}`);
      } else if (r.status !== 201) return fail(`POST Volumes answered ${r.status}: ${errorMessage(r)}`);
      const after = ((await ctx.redfish.json(odataId(st.Volumes))).Members as Obj[] | undefined)?.map(odataId) ?? [];
      const made = after.find((v) => !before.includes(v));
      if (!made) return fail(`POST Volumes answered ${r.status} but no new volume appeared`);
      const del = await ctx.redfish.request('DELETE', made);
      if (del.status === 202) {
        const t = await followTask(ctx, del, 120_000);
        if (t.error) return fail(`volume delete: ${t.error}`);
      } else if (!is2xx(del)) return fail(`DELETE ${made} answered ${del.status}: ${errorMessage(del)}`);
      return pass(`volume created (${r.status}) and deleted (${del.status}); apply times ${JSON.stringify(support.SupportedValues ?? [])}`);
    },
  },
  {
    id: 'C30',
    name: 'firmware-task',
    why: 'firmware updates are long: SimpleUpdate must answer 202 with a task monitor Ironic can poll',
    protects: 'ironic redfish firmware.py / management update_firmware, sushy TaskMonitor',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      if (!ctx.http) return skipped('needs the harness HTTP server (--http-address)');
      const us = await ctx.redfish.get('/redfish/v1/UpdateService');
      if (us.status !== 200) return warn(`no UpdateService (${us.status}): firmware cannot be updated through Redfish`);
      const action = ((us.body as Obj).Actions as Obj | undefined)?.['#UpdateService.SimpleUpdate'] as Obj | undefined;
      if (!action?.target) return fail('UpdateService has no SimpleUpdate action');
      // the harness's kernel stand-in is not a firmware image: a careful BMC refuses it in the task
      const r = await ctx.redfish.request('POST', String(action.target), {
        body: { ImageURI: `${ctx.http.url}/vmlinuz`, TransferProtocol: 'HTTP' },
      });
      if (r.status === 204 || r.status === 200)
        return fail(`SimpleUpdate answered ${r.status}: no task to follow, Ironic cannot know when it ends`);
      if (r.status !== 202) return warn(`SimpleUpdate with a non-firmware image was refused up front (${r.status}: ${errorMessage(r)})`);
      const t = await followTask(ctx, r, 120_000);
      if (!t.done) return fail(t.error ?? 'the task never ended');
      return pass(
        `SimpleUpdate answered 202 + task monitor; the task ended (${String((t.done.body as Obj | undefined)?.TaskState ?? t.done.status)})`,
      );
    },
  },
  {
    id: 'C31',
    name: 'task-monitor',
    why: 'every 202 must carry a Location to poll; sushy blocks on it',
    protects: 'sushy connector (202 + Location), TaskMonitor',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = await ctx.system();
      if (!odataId(sys.Bios)) return skipped('no Bios to produce an asynchronous request with');
      const bios = await ctx.redfish.json(odataId(sys.Bios));
      const settings = odataId((bios['@Redfish.Settings'] as Obj | undefined)?.SettingsObject);
      const attrs = (bios.Attributes ?? {}) as Obj;
      const [name, value] = Object.entries(attrs)[0] ?? [];
      if (!settings || !name) return skipped('no BIOS settings object to PATCH');
      const r = await ctx.patch(settings, { Attributes: { [name]: value } });
      if (r.status !== 202) return skipped(`the BMC answered the settings PATCH with ${r.status}, not 202: nothing asynchronous to follow`);
      if (!r.headers.location) return fail('a 202 answer carries no Location');
      const m = await ctx.redfish.get(r.headers.location);
      if (m.status !== 200 && m.status !== 202 && m.status !== 204) return fail(`the task monitor answered ${m.status}`);
      return pass(`202 with Location ${r.headers.location}; the monitor answers ${m.status}`);
    },
  },
  {
    id: 'C35',
    name: 'manager-clock',
    why: 'Ironic reads and sets the BMC clock (set/verify_bmc_clock); a wrong clock breaks TLS and logs',
    protects: 'ironic redfish management set_bmc_clock',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = await ctx.system();
      const mgr = odataId(((sys.Links as Obj | undefined)?.ManagedBy as Obj[] | undefined)?.[0]);
      if (!mgr) return fail('the System names no manager (Links.ManagedBy)');
      const m = await ctx.redfish.json(mgr);
      if (typeof m.DateTime !== 'string') return fail('the Manager has no DateTime');
      const r = await ctx.patch(mgr, { DateTime: new Date().toISOString().replace(/\.\d+Z$/, '+00:00') });
      if (!is2xx(r)) return warn(`DateTime is readable (${m.DateTime}) but not writable (${r.status}: ${errorMessage(r)})`);
      return pass(`DateTime ${String(m.DateTime)} readable and writable`);
    },
  },
];
