// Resolves a node's interfaces to implementations: one shared instance per protocol driver, so
// Redfish sessions and IPMI cipher-suite choices are reused across nodes and requests.
import { type BootInterface, FakeBoot, IpxeBoot, VirtualMediaBoot } from '../drivers/boot.js';
import type { BootDevice, ManagementInterface, OobInspect, PowerInterface, PowerTarget } from '../drivers/interfaces.js';
import { hardwareType } from '../drivers/interfaces.js';
import { IpmiDriver } from '../drivers/ipmi.js';
import { RedfishDriver } from '../drivers/redfish.js';
import { createRaidConfiguration, deleteRaidConfiguration, updateFirmware } from '../drivers/redfish-steps.js';
import { IronicError } from '../errors.js';
import type { Node } from '../model.js';

export type ConductorStep = (node: Node, args: Record<string, unknown>) => Promise<void>;

export interface DriverSet {
  power: PowerInterface;
  management: ManagementInterface;
  boot: BootInterface;
  inspect: OobInspect;
  redfish: RedfishDriver | null;
  conductorSteps: Map<string, ConductorStep>;
}

/** fake-hardware: power and boot device live in the node record, every call succeeds at once. */
class FakeHardware implements PowerInterface, ManagementInterface, OobInspect {
  validate(): void {}
  async getPowerState(node: Node): Promise<'power on' | 'power off'> {
    return node.power_state === 'power on' ? 'power on' : 'power off';
  }
  async setPowerState(node: Node, target: PowerTarget): Promise<void> {
    node.power_state = target === 'power on' ? 'power on' : 'power off';
  }
  async reboot(node: Node): Promise<void> {
    node.power_state = 'power on';
  }
  supportedBootDevices(): BootDevice[] {
    return ['pxe', 'disk', 'cdrom', 'bios', 'safe'];
  }
  async setBootDevice(node: Node, device: BootDevice, persistent: boolean): Promise<void> {
    node.driver_internal_info.fake_boot_device = { boot_device: device, persistent };
  }
  async getBootDevice(node: Node): Promise<{ boot_device: BootDevice | null; persistent: boolean | null }> {
    return (
      (node.driver_internal_info.fake_boot_device as { boot_device: BootDevice; persistent: boolean }) ?? {
        boot_device: null,
        persistent: null,
      }
    );
  }
  async inspect(): Promise<{ properties: Record<string, never>; macs: string[] }> {
    return { properties: {}, macs: [] };
  }
}

export class Drivers {
  readonly fake = new FakeHardware();
  readonly redfish: RedfishDriver;
  readonly ipmi: IpmiDriver;
  private readonly boots: Record<string, BootInterface> = {
    fake: new FakeBoot(),
    ipxe: new IpxeBoot(),
    pxe: new IpxeBoot(),
    'redfish-virtual-media': new VirtualMediaBoot(),
  };

  private readonly pollMs: number;

  constructor(opts: { powerTimeoutS: number; requestTimeoutMs: number; pollMs: number; retryDelayMs?: number }) {
    this.pollMs = opts.pollMs;
    this.redfish = new RedfishDriver(opts);
    this.ipmi = new IpmiDriver({ ...opts, retries: 1 });
  }

  forNode(node: Node): DriverSet {
    hardwareType(node.driver);
    const pick = (iface: string): PowerInterface & ManagementInterface => {
      if (iface === 'fake') return this.fake;
      if (iface === 'redfish') return this.redfish;
      if (iface === 'ipmitool') return this.ipmi;
      throw new IronicError('InvalidParameterValue', `Interface ${iface} is not implemented`);
    };
    const power = pick(node.power_interface);
    const management = pick(node.management_interface);
    const boot = this.boots[node.boot_interface];
    if (!boot) throw new IronicError('InvalidParameterValue', `Boot interface ${node.boot_interface} is not implemented`);
    const steps = new Map<string, ConductorStep>();
    if (node.bios_interface === 'redfish') {
      steps.set('bios.apply_configuration', async (n, args) => {
        const settings = (args.settings ?? []) as Array<{ name: string; value: unknown }>;
        if (!Array.isArray(settings) || settings.length === 0)
          throw new IronicError('InvalidParameterValue', 'bios.apply_configuration needs args.settings');
        const c = this.redfish.client(n);
        const sys = (await c.get(await c.system())).body;
        const bios = (sys.Bios as { '@odata.id'?: string } | undefined)?.['@odata.id'];
        if (!bios) throw new IronicError('UnsupportedDriverExtension', 'the BMC has no Bios resource');
        const biosRes = (await c.get(bios)).body;
        const settingsUri =
          (biosRes['@Redfish.Settings'] as { SettingsObject?: { '@odata.id'?: string } } | undefined)?.SettingsObject?.['@odata.id'] ??
          `${bios}/Settings`;
        await c.patch(settingsUri, { Attributes: Object.fromEntries(settings.map((s) => [s.name, s.value])) });
        // pending BIOS settings apply at the next boot
        await this.redfish.reboot(n, false);
        n.bios = await this.redfish.biosSettings(n);
      });
    }
    if (node.raid_interface === 'redfish') {
      steps.set('raid.delete_configuration', (n) => deleteRaidConfiguration(this.redfish, n, this.pollMs));
      steps.set('raid.create_configuration', (n) => createRaidConfiguration(this.redfish, n, this.pollMs));
    }
    if (node.firmware_interface === 'redfish')
      steps.set('firmware.update', (n, args) => updateFirmware(this.redfish, n, args, this.pollMs));
    if (node.bios_interface === 'fake') steps.set('bios.apply_configuration', async () => {});
    if (node.raid_interface === 'fake') {
      steps.set('raid.create_configuration', async () => {});
      steps.set('raid.delete_configuration', async () => {});
    }
    return {
      power,
      management,
      boot,
      inspect: node.inspect_interface === 'redfish' ? this.redfish : this.fake,
      redfish: node.management_interface === 'redfish' ? this.redfish : null,
      conductorSteps: steps,
    };
  }
}
