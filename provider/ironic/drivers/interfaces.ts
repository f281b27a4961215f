// The driver seam: what the conductor asks of a node's hardware (power, boot device, virtual
// media, out-of-band inspection, BIOS, firmware) and which implementation each hardware type
// offers per interface, with Ironic's names and defaults.
import { IronicError } from '../errors.js';
import type { BiosSetting, FirmwareComponent, Node } from '../model.js';

export type PowerTarget = 'power on' | 'power off' | 'soft power off';
export type BootDevice = 'pxe' | 'disk' | 'cdrom' | 'bios' | 'safe' | 'wanboot' | 'uefi http';

export interface PowerInterface {
  validate(node: Node): void;
  getPowerState(node: Node): Promise<'power on' | 'power off'>;
  setPowerState(node: Node, target: PowerTarget, timeoutS?: number): Promise<void>;
  reboot(node: Node, soft: boolean, timeoutS?: number): Promise<void>;
}

export interface ManagementInterface {
  validate(node: Node): void;
  supportedBootDevices(node: Node): BootDevice[];
  setBootDevice(node: Node, device: BootDevice, persistent: boolean): Promise<void>;
  getBootDevice(node: Node): Promise<{ boot_device: BootDevice | null; persistent: boolean | null }>;
  /** virtual media (redfish): insert an image URL into a CD */
  insertMedia?(node: Node, url: string): Promise<void>;
  ejectMedia?(node: Node): Promise<void>;
  mediaState?(node: Node): Promise<Array<{ image: string | null; inserted: boolean; media_types: string[] }>>;
  injectNmi?(node: Node): Promise<void>;
}

export interface HardwareInventory {
  properties: { cpus?: number; memory_mb?: number; local_gb?: number; cpu_arch?: string };
  macs: string[];
}

export interface OobInspect {
  inspect(node: Node): Promise<HardwareInventory>;
}

export interface BiosInterface {
  biosSettings(node: Node): Promise<BiosSetting[]>;
}

export interface FirmwareInterface {
  firmwareComponents(node: Node, previous: FirmwareComponent[]): Promise<FirmwareComponent[]>;
}

export interface HardwareType {
  name: string;
  /** interface kind → supported implementations, the first being the default */
  supported: Record<InterfaceKind, string[]>;
}

export const INTERFACE_KINDS = [
  'bios',
  'boot',
  'console',
  'deploy',
  'firmware',
  'inspect',
  'management',
  'network',
  'power',
  'raid',
  'rescue',
  'storage',
  'vendor',
] as const;
export type InterfaceKind = (typeof INTERFACE_KINDS)[number];

const generic = {
  console: ['no-console'],
  network: ['noop'],
  rescue: ['no-rescue'],
  storage: ['noop'],
};

/** Hardware types with the interfaces Ferrite implements for them (defaults first, as Ironic resolves them). */
export const HARDWARE_TYPES: Record<string, HardwareType> = {
  'fake-hardware': {
    name: 'fake-hardware',
    supported: {
      ...generic,
      console: ['fake', 'no-console'],
      rescue: ['fake', 'no-rescue'],
      bios: ['fake', 'no-bios'],
      boot: ['fake', 'ipxe', 'pxe'],
      deploy: ['fake', 'direct', 'ramdisk', 'custom-agent'],
      firmware: ['fake', 'no-firmware'],
      inspect: ['fake', 'agent', 'no-inspect'],
      management: ['fake'],
      power: ['fake'],
      raid: ['fake', 'agent', 'no-raid'],
      vendor: ['fake', 'no-vendor'],
    },
  },
  ipmi: {
    name: 'ipmi',
    supported: {
      ...generic,
      bios: ['no-bios'],
      boot: ['ipxe', 'pxe'],
      deploy: ['direct', 'ramdisk', 'custom-agent'],
      firmware: ['no-firmware'],
      inspect: ['agent', 'no-inspect'],
      management: ['ipmitool'],
      power: ['ipmitool'],
      raid: ['no-raid', 'agent'],
      vendor: ['ipmitool', 'no-vendor'],
    },
  },
  redfish: {
    name: 'redfish',
    supported: {
      ...generic,
      bios: ['redfish', 'no-bios'],
      boot: ['ipxe', 'pxe', 'redfish-virtual-media'],
      deploy: ['direct', 'ramdisk', 'custom-agent'],
      firmware: ['redfish', 'no-firmware'],
      inspect: ['agent', 'redfish', 'no-inspect'],
      management: ['redfish'],
      power: ['redfish'],
      raid: ['redfish', 'agent', 'no-raid'],
      vendor: ['redfish', 'no-vendor'],
    },
  },
};

export function hardwareType(driver: string): HardwareType {
  // own keys only: "constructor" or "__proto__" name no hardware type
  const t = Object.hasOwn(HARDWARE_TYPES, driver) ? HARDWARE_TYPES[driver] : undefined;
  if (!t) throw new IronicError('DriverNotFound', `Could not find the following driver(s) or hardware type(s): ${driver}.`);
  return t;
}

/** Fills every interface left unset with the hardware type's default; refuses unsupported ones. */
export function resolveInterfaces(
  driver: string,
  requested: Partial<Record<string, unknown>>,
): Record<`${InterfaceKind}_interface`, string> {
  const t = hardwareType(driver);
  const out = {} as Record<`${InterfaceKind}_interface`, string>;
  for (const kind of INTERFACE_KINDS) {
    const key = `${kind}_interface` as const;
    const want = requested[key];
    if (want === undefined || want === null || want === '') out[key] = t.supported[kind][0];
    else if (typeof want !== 'string' || !t.supported[kind].includes(want))
      throw new IronicError(
        'InvalidParameterValue',
        `Could not find the following interface in the 'ironic.hardware.interfaces.${kind}' entrypoint: ${String(want)}. Valid interfaces are ${t.supported[kind].join(', ')}.`,
      );
    else out[key] = want;
  }
  return out;
}

export function requireInfo(node: Node, keys: string[], iface: string): void {
  const missing = keys.filter((k) => node.driver_info[k] === undefined || node.driver_info[k] === null || node.driver_info[k] === '');
  if (missing.length)
    throw new IronicError(
      'MissingParameterValue',
      `Missing the following ${iface} credentials in node's driver_info: ${missing.join(', ')}.`,
    );
}

export function infoStr(node: Node, key: string): string | undefined {
  const v = node.driver_info[key];
  return v === undefined || v === null ? undefined : String(v);
}
