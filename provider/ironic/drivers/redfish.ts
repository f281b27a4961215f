// The `redfish` hardware type: power, management (boot device, virtual media), out-of-band
// inspection, BIOS and firmware inventory over Redfish, as Ironic's redfish interfaces do them.
import { IronicError } from '../errors.js';
import type { BiosSetting, FirmwareComponent, Node } from '../model.js';
import { now } from '../model.js';
import type {
  BiosInterface,
  BootDevice,
  FirmwareInterface,
  HardwareInventory,
  ManagementInterface,
  OobInspect,
  PowerInterface,
  PowerTarget,
} from './interfaces.js';
import { infoStr, requireInfo } from './interfaces.js';
import { RedfishClient, RedfishHttpError } from './redfish-client.js';
import { bootModeOf, waitFor } from './util.js';

const TO_REDFISH: Partial<Record<BootDevice, string>> = {
  pxe: 'Pxe',
  disk: 'Hdd',
  cdrom: 'Cd',
  bios: 'BiosSetup',
  'uefi http': 'UefiHttp',
};
const FROM_REDFISH: Record<string, BootDevice> = { Pxe: 'pxe', Hdd: 'disk', Cd: 'cdrom', BiosSetup: 'bios', UefiHttp: 'uefi http' };

export class RedfishDriver implements PowerInterface, ManagementInterface, OobInspect, BiosInterface, FirmwareInterface {
  private readonly clients = new Map<string, RedfishClient>();

  constructor(private readonly opts: { powerTimeoutS: number; requestTimeoutMs: number; pollMs: number; retryDelayMs?: number }) {}

  validate(node: Node): void {
    requireInfo(node, ['redfish_address'], 'Redfish');
    const addr = infoStr(node, 'redfish_address') ?? '';
    try {
      const u = new URL(addr.includes('://') ? addr : `https://${addr}`);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new IronicError(
        'InvalidParameterValue',
        `Invalid Redfish address ${addr} set in driver_info/redfish_address on node ${node.uuid}`,
      );
    }
  }

  /** One client per node and credentials, so sessions are reused and dropped when credentials change. */
  client(node: Node): RedfishClient {
    this.validate(node);
    const raw = infoStr(node, 'redfish_address') ?? '';
    const address = raw.includes('://') ? raw : `https://${raw}`;
    const verify = infoStr(node, 'redfish_verify_ca');
    const verifyCa = verify === undefined || /^(true|1|yes|on)$/i.test(verify) ? true : /^(false|0|no|off)$/i.test(verify) ? false : verify;
    const auth = (infoStr(node, 'redfish_auth_type') ?? 'auto') as 'auto' | 'session' | 'basic';
    const key = JSON.stringify([
      node.uuid,
      address,
      infoStr(node, 'redfish_system_id'),
      infoStr(node, 'redfish_username'),
      infoStr(node, 'redfish_password'),
      verify,
      auth,
    ]);
    let c = this.clients.get(key);
    if (!c) {
      for (const [k, old] of this.clients)
        if (k.startsWith(`["${node.uuid}"`)) {
          void old.close();
          this.clients.delete(k);
        }
      c = new RedfishClient(
        {
          address,
          username: infoStr(node, 'redfish_username'),
          password: infoStr(node, 'redfish_password'),
          verifyCa,
          authType: auth,
          timeoutMs: this.opts.requestTimeoutMs,
          retries: 5,
          retryDelayMs: this.opts.retryDelayMs ?? 3000,
        },
        infoStr(node, 'redfish_system_id') ?? null,
      );
      this.clients.set(key, c);
    }
    return c;
  }

  async getPowerState(node: Node): Promise<'power on' | 'power off'> {
    const c = this.client(node);
    const s = await c.get(await c.system());
    const p = s.body.PowerState;
    return p === 'On' || p === 'PoweringOn' ? 'power on' : 'power off';
  }

  async setPowerState(node: Node, target: PowerTarget, timeoutS?: number): Promise<void> {
    const c = this.client(node);
    const sys = await c.system();
    const reset = target === 'power on' ? 'On' : target === 'power off' ? 'ForceOff' : 'GracefulShutdown';
    const want = target === 'power on' ? 'power on' : 'power off';
    if ((await this.getPowerState(node)) === want) return;
    if (want === 'power on') await this.restoreBootDevice(node);
    await c.post(`${sys}/Actions/ComputerSystem.Reset`, { ResetType: reset });
    await this.waitPower(node, want, timeoutS);
  }

  private async waitPower(node: Node, want: 'power on' | 'power off', timeoutS?: number): Promise<void> {
    const limit = (timeoutS ?? this.opts.powerTimeoutS) * 1000;
    const ok = await waitFor(async () => (await this.getPowerState(node)) === want, limit, this.opts.pollMs);
    if (!ok) throw new IronicError('PowerStateFailure', `Failed to set node power state to ${want} within ${limit / 1000} seconds.`);
  }

  async reboot(node: Node, soft: boolean, timeoutS?: number): Promise<void> {
    const c = this.client(node);
    const sys = await c.system();
    if ((await this.getPowerState(node)) === 'power on') {
      // off then on, as Ironic does, so boot settings made while on take effect on a fresh boot
      await c.post(`${sys}/Actions/ComputerSystem.Reset`, { ResetType: soft ? 'GracefulShutdown' : 'ForceOff' });
      await this.waitPower(node, 'power off', timeoutS);
    }
    await this.restoreBootDevice(node);
    await c.post(`${sys}/Actions/ComputerSystem.Reset`, { ResetType: 'On' });
    await this.waitPower(node, 'power on', timeoutS);
  }

  supportedBootDevices(): BootDevice[] {
    return ['pxe', 'disk', 'cdrom', 'bios', 'uefi http'];
  }

  async setBootDevice(node: Node, device: BootDevice, persistent: boolean): Promise<void> {
    let target = TO_REDFISH[device];
    if (!target) throw new IronicError('InvalidParameterValue', `Redfish does not support boot device ${device}`);
    const c = this.client(node);
    const sys = await c.system();
    const boot = ((await c.get(sys)).body.Boot ?? {}) as Record<string, unknown>;
    const allowed = boot['BootSourceOverrideTarget@Redfish.AllowableValues'] as string[] | undefined;
    // Supermicro boots virtual media only as UsbCd
    if (target === 'Cd' && allowed && !allowed.includes('Cd') && allowed.includes('UsbCd')) target = 'UsbCd';
    const mode = bootModeOf(node) === 'bios' ? 'Legacy' : 'UEFI';
    // the full triple every time: some BMCs (AMI, Supermicro) ignore a partial Boot object
    const patch = (enabled: string) =>
      c.patch(sys, { Boot: { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: enabled, BootSourceOverrideMode: mode } });
    delete node.driver_internal_info.redfish_boot_device_fallback;
    if (!persistent) {
      await patch('Once');
      return;
    }
    const allowedEnabled = boot['BootSourceOverrideEnabled@Redfish.AllowableValues'] as string[] | undefined;
    try {
      if (allowedEnabled && !allowedEnabled.includes('Continuous'))
        throw new RedfishHttpError(400, ['PropertyValueNotInList'], 'Continuous is not offered');
      await patch('Continuous');
    } catch (e) {
      if (!(e instanceof RedfishHttpError) || e.httpStatus >= 500) throw e;
      // BMCs without Continuous: boot once, and set it again before every power-on (as Ironic does)
      await patch('Once');
      node.driver_internal_info.redfish_boot_device_fallback = device;
    }
  }

  /** Re-applies a persistent boot device the BMC could only take as Once. */
  private async restoreBootDevice(node: Node): Promise<void> {
    const d = node.driver_internal_info.redfish_boot_device_fallback as BootDevice | undefined;
    if (d) {
      await this.setBootDevice(node, d, true);
      node.driver_internal_info.redfish_boot_device_fallback = d;
    }
  }

  async getBootDevice(node: Node): Promise<{ boot_device: BootDevice | null; persistent: boolean | null }> {
    const c = this.client(node);
    const boot = ((await c.get(await c.system())).body.Boot ?? {}) as Record<string, string>;
    if (boot.BootSourceOverrideEnabled === 'Disabled' || !boot.BootSourceOverrideTarget || boot.BootSourceOverrideTarget === 'None')
      return { boot_device: null, persistent: null };
    return {
      boot_device: FROM_REDFISH[boot.BootSourceOverrideTarget] ?? (boot.BootSourceOverrideTarget === 'UsbCd' ? 'cdrom' : null),
      persistent: boot.BootSourceOverrideEnabled === 'Continuous' || Boolean(node.driver_internal_info.redfish_boot_device_fallback),
    };
  }

  /** CD/DVD slots, the system's own first, then its managers' (where older BMCs keep them). */
  private async cdSlots(node: Node): Promise<Array<{ uri: string; body: Record<string, unknown> }>> {
    const c = this.client(node);
    const sys = await c.get(await c.system());
    const candidates: string[] = [];
    const vmSys = (sys.body.VirtualMedia as { '@odata.id'?: string } | undefined)?.['@odata.id'];
    if (vmSys) candidates.push(vmSys);
    const managers = ((sys.body.Links as Record<string, unknown> | undefined)?.ManagedBy ?? []) as Array<{ '@odata.id': string }>;
    for (const m of managers) {
      const mgr = await c.get(m['@odata.id']);
      const vm = (mgr.body.VirtualMedia as { '@odata.id'?: string } | undefined)?.['@odata.id'];
      if (vm) candidates.push(vm);
    }
    const out: Array<{ uri: string; body: Record<string, unknown> }> = [];
    for (const col of candidates) {
      const members = ((await c.get(col)).body.Members ?? []) as Array<{ '@odata.id': string }>;
      for (const m of members) {
        const vm = await c.get(m['@odata.id']);
        const types = (vm.body.MediaTypes ?? []) as string[];
        // Cisco advertises only DVD
        if (types.includes('CD') || types.includes('DVD')) out.push({ uri: m['@odata.id'], body: vm.body });
      }
    }
    if (!out.length) throw new IronicError('InvalidParameterValue', `No virtual media CD/DVD device found on node ${node.uuid}'s BMC`);
    return out;
  }

  private async cdSlot(node: Node): Promise<string> {
    return (await this.cdSlots(node))[0].uri;
  }

  private async eject(node: Node, slot: { uri: string; body: Record<string, unknown> }): Promise<void> {
    const c = this.client(node);
    const action = (slot.body.Actions as Record<string, { target?: string }> | undefined)?.['#VirtualMedia.EjectMedia']?.target;
    // an empty JSON body: iLO refuses EjectMedia without one
    if (action) await c.post(action, {});
    else await c.patch(slot.uri, { Image: null, Inserted: false });
  }

  async insertMedia(node: Node, url: string): Promise<void> {
    const c = this.client(node);
    let last: unknown = null;
    for (const slot of await this.cdSlots(node)) {
      try {
        // always eject first: iDRAC reports Inserted for a while after an eject, and the same URL must load afresh
        if (slot.body.Inserted || slot.body.Image) await this.eject(node, slot);
        const action = (slot.body.Actions as Record<string, { target?: string }> | undefined)?.['#VirtualMedia.InsertMedia']?.target;
        if (!action) {
          // no InsertMedia action (Lenovo SD530): PATCH the slot instead
          await c.patch(slot.uri, { Image: url, Inserted: true, WriteProtected: true });
          return;
        }
        try {
          await c.post(action, { Image: url, Inserted: true, WriteProtected: true });
        } catch (e) {
          // Supermicro rejects the optional Inserted/WriteProtected parameters
          if (
            !(
              e instanceof RedfishHttpError &&
              e.httpStatus === 400 &&
              e.messageIds.some((id) => /ParameterUnknown|PropertyUnknown/.test(id))
            )
          )
            throw e;
          await c.post(action, { Image: url });
        }
        return;
      } catch (e) {
        // a slot that refuses (internal-only slots, 405) is skipped for the next one
        if (!(e instanceof RedfishHttpError) || (e.httpStatus !== 400 && e.httpStatus !== 405)) throw e;
        last = e;
      }
    }
    throw last instanceof Error ? last : new IronicError('Internal', `no virtual media slot of node ${node.uuid} accepted ${url}`);
  }

  async ejectMedia(node: Node): Promise<void> {
    for (const slot of await this.cdSlots(node)) if (slot.body.Inserted || slot.body.Image) await this.eject(node, slot);
  }

  async mediaState(node: Node): Promise<Array<{ image: string | null; inserted: boolean; media_types: string[] }>> {
    const c = this.client(node);
    const vm = await c.get(await this.cdSlot(node));
    return [
      {
        image: (vm.body.Image as string) ?? null,
        inserted: Boolean(vm.body.Inserted),
        media_types: (vm.body.MediaTypes as string[]) ?? [],
      },
    ];
  }

  async injectNmi(node: Node): Promise<void> {
    const c = this.client(node);
    await c.post(`${await c.system()}/Actions/ComputerSystem.Reset`, { ResetType: 'Nmi' });
  }

  async inspect(node: Node): Promise<HardwareInventory> {
    const c = this.client(node);
    const sysPath = await c.system();
    const sys = (await c.get(sysPath)).body;
    const props: HardwareInventory['properties'] = {};
    const proc = sys.ProcessorSummary as { Count?: number; LogicalProcessorCount?: number } | undefined;
    if (proc?.Count) props.cpus = proc.LogicalProcessorCount ?? proc.Count;
    const mem = sys.MemorySummary as { TotalSystemMemoryGiB?: number } | undefined;
    if (mem?.TotalSystemMemoryGiB) props.memory_mb = Math.round(mem.TotalSystemMemoryGiB * 1024);
    const procs = sys.Processors as { '@odata.id'?: string } | undefined;
    if (procs?.['@odata.id']) {
      const first = (((await c.get(procs['@odata.id'])).body.Members ?? []) as Array<{ '@odata.id': string }>)[0];
      if (first) {
        const arch = (await c.get(first['@odata.id'])).body.ProcessorArchitecture;
        props.cpu_arch = arch === 'ARM' ? 'aarch64' : arch === 'x86' ? 'x86_64' : undefined;
      }
    }
    const storage = sys.Storage as { '@odata.id'?: string } | undefined;
    let smallest = 0;
    if (storage?.['@odata.id'])
      for (const s of ((await c.get(storage['@odata.id'])).body.Members ?? []) as Array<{ '@odata.id': string }>)
        for (const d of ((await c.get(s['@odata.id'])).body.Drives ?? []) as Array<{ '@odata.id': string }>) {
          const size = Number((await c.get(d['@odata.id'])).body.CapacityBytes ?? 0);
          // Ironic reports the smallest disk over 4 GiB, minus one GiB for partitioning
          if (size > 4 * 2 ** 30 && (!smallest || size < smallest)) smallest = size;
        }
    if (smallest) props.local_gb = Math.floor(smallest / 2 ** 30) - 1;
    const macs: string[] = [];
    const eth = sys.EthernetInterfaces as { '@odata.id'?: string } | undefined;
    if (eth?.['@odata.id'])
      for (const m of ((await c.get(eth['@odata.id'])).body.Members ?? []) as Array<{ '@odata.id': string }>) {
        const mac = (await c.get(m['@odata.id'])).body.MACAddress;
        if (typeof mac === 'string') macs.push(mac.toLowerCase());
      }
    return { properties: props, macs };
  }

  async biosSettings(node: Node): Promise<BiosSetting[]> {
    const c = this.client(node);
    const sys = (await c.get(await c.system())).body;
    const bios = (sys.Bios as { '@odata.id'?: string } | undefined)?.['@odata.id'];
    if (!bios) return [];
    const body = (await c.get(bios)).body;
    const attrs = (body.Attributes ?? {}) as Record<string, unknown>;
    const registry = typeof body.AttributeRegistry === 'string' ? await this.attributeRegistry(c, body.AttributeRegistry) : new Map();
    const at = now();
    return Object.entries(attrs).map(([name, v]) => ({
      name,
      value: v === null ? null : String(v),
      ...(registry.get(name) ?? {}),
      created_at: at,
      updated_at: null,
    }));
  }

  /**
   * The BIOS attribute registry the Bios resource names (as sushy's get_attribute_registry): its
   * entries give each setting's type, allowed values, bounds and read-only flag. A BMC without a
   * usable registry gives settings without them.
   */
  private async attributeRegistry(c: RedfishClient, id: string): Promise<Map<string, Partial<BiosSetting>>> {
    const out = new Map<string, Partial<BiosSetting>>();
    try {
      const files = ((await c.get('/redfish/v1/Registries')).body.Members ?? []) as Array<{ '@odata.id': string }>;
      for (const f of files) {
        const file = (await c.get(f['@odata.id'])).body;
        if (file.Registry !== id.replace(/\.\d+$/, '') && file.Id !== id && file.Registry !== id) continue;
        const uri = ((file.Location ?? []) as Array<{ Uri?: string; Language?: string }>).find(
          (l) => !l.Language || l.Language === 'en',
        )?.Uri;
        if (!uri) continue;
        const reg = (await c.get(uri)).body;
        const entries = ((reg.RegistryEntries as { Attributes?: Array<Record<string, unknown>> } | undefined)?.Attributes ?? []) as Array<
          Record<string, unknown>
        >;
        for (const a of entries) {
          const num = (k: string) => (typeof a[k] === 'number' ? (a[k] as number) : null);
          out.set(String(a.AttributeName), {
            attribute_type: typeof a.Type === 'string' ? a.Type : null,
            allowable_values: Array.isArray(a.Value) ? (a.Value as Array<{ ValueName?: string }>).map((v) => String(v.ValueName)) : null,
            lower_bound: num('LowerBound'),
            upper_bound: num('UpperBound'),
            min_length: num('MinLength'),
            max_length: num('MaxLength'),
            read_only: typeof a.ReadOnly === 'boolean' ? a.ReadOnly : null,
            reset_required: typeof a.ResetRequired === 'boolean' ? a.ResetRequired : null,
            unique: typeof a.IsSystemUniqueProperty === 'boolean' ? a.IsSystemUniqueProperty : null,
          });
        }
        break;
      }
    } catch (e) {
      if (!(e instanceof RedfishHttpError)) throw e;
    }
    return out;
  }

  async firmwareComponents(node: Node, previous: FirmwareComponent[]): Promise<FirmwareComponent[]> {
    const c = this.client(node);
    const sys = (await c.get(await c.system())).body;
    const at = now();
    const out: FirmwareComponent[] = [];
    const prev = new Map(previous.map((p) => [p.component, p]));
    const add = (component: string, version: unknown) => {
      if (typeof version !== 'string' || !version) return;
      const p = prev.get(component);
      out.push({
        component,
        initial_version: p?.initial_version ?? version,
        current_version: version,
        last_version_flashed: p?.last_version_flashed ?? null,
        created_at: p?.created_at ?? at,
        updated_at: p && p.current_version !== version ? at : (p?.updated_at ?? null),
      });
    };
    add('bios', sys.BiosVersion);
    const mgr = (((sys.Links as Record<string, unknown> | undefined)?.ManagedBy ?? []) as Array<{ '@odata.id': string }>)[0];
    if (mgr) add('bmc', (await c.get(mgr['@odata.id'])).body.FirmwareVersion);
    return out;
  }
}
