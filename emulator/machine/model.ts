// The machine model: fixed hardware (MachineSpec) and everything that changes and persists
// (MachineState). Names follow Redfish where Redfish has one, so the BMC fronts map 1:1.

export const BootTargets = ['None', 'Pxe', 'Hdd', 'Cd', 'Usb', 'Floppy', 'BiosSetup', 'UefiHttp', 'UefiShell', 'Diags'] as const;
export type BootTarget = (typeof BootTargets)[number];
export const BootEnabledValues = ['Disabled', 'Once', 'Continuous'] as const;
export type BootEnabled = (typeof BootEnabledValues)[number];
export const BootModes = ['UEFI', 'Legacy'] as const;
export type BootMode = (typeof BootModes)[number];
export type PowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';
export const IndicatorLeds = ['Lit', 'Blinking', 'Off'] as const;
export type IndicatorLed = (typeof IndicatorLeds)[number];
export type BiosValue = string | number | boolean;

export interface NicSpec {
  id: string;
  mac: string;
  speedMbps: number;
  linkUp: boolean;
}

export interface DiskSpec {
  id: string;
  name: string;
  sizeBytes: number;
  /** Redfish Drive.MediaType */
  mediaType: 'HDD' | 'SSD';
  protocol: 'SATA' | 'SAS' | 'NVMe';
  rotational: boolean;
  serial: string;
  wwn: string;
  model: string;
  /** simulated sustained write speed, MB/s */
  writeMBps: number;
}

export interface FirmwareSpec {
  id: string;
  name: string;
  version: string;
  updateable: boolean;
}

export interface MachineSpec {
  uuid: string;
  name: string;
  manufacturer: string;
  model: string;
  serial: string;
  cpu: { sockets: number; coresPerSocket: number; threadsPerCore: number; model: string; arch: 'x86' | 'ARM'; speedMHz: number };
  memory: { dimms: number; dimmGiB: number };
  nics: NicSpec[];
  disks: DiskSpec[];
  biosDefaults: Record<string, BiosValue>;
  firmware: FirmwareSpec[];
  timings: Timings;
}

/** Simulated durations in ms (of clock time, so scaled by the fleet's time scale). */
export interface Timings {
  powerOn: number;
  powerOff: number;
  gracefulShutdown: number;
  post: number;
  mediaFetch: number;
  firmwareFlash: number;
  volumeCreate: number;
}

export interface VirtualMediaState {
  id: 'Cd' | 'Floppy';
  image: string | null;
  imageName: string | null;
  inserted: boolean;
  writeProtected: boolean;
  userName: string | null;
  password: string | null;
  transferProtocolType: string | null;
  transferMethod: string | null;
  verifyCertificate: boolean;
  /** where the fetched image lives on disk, once complete */
  localPath: string | null;
  fetch: 'idle' | 'fetching' | 'ready' | 'failed';
  fetchError: string | null;
  bytes: number;
}

export interface VolumeState {
  id: string;
  name: string;
  capacityBytes: number;
  raidType: string;
  drives: string[];
}

/** A Linux software RAID (md) device the agent built from partitions on the machine's disks. */
export interface SoftwareRaidState {
  /** /dev/md0, /dev/md1, … */
  name: string;
  level: string;
  sizeBytes: number;
  /** the member partitions, e.g. /dev/sda1 */
  members: string[];
  /** the target configuration's is_root_volume, as the agent that built it recorded it */
  rootVolume?: boolean;
}

export interface LogEntry {
  id: number;
  created: string;
  severity: 'OK' | 'Warning' | 'Critical';
  messageId: string;
  message: string;
  args: string[];
}

export interface BootRecord {
  at: string;
  device: BootTarget;
  mode: BootMode;
  source: 'override-once' | 'override-continuous' | 'boot-order';
  outcome: string;
}

export interface MachineState {
  power: PowerState;
  boot: {
    overrideTarget: BootTarget;
    overrideEnabled: BootEnabled;
    overrideMode: BootMode;
    httpBootUri: string | null;
    bootOrder: BootTarget[];
  };
  media: VirtualMediaState[];
  bios: { attributes: Record<string, BiosValue>; pending: Record<string, BiosValue> | null };
  /** enabled applies at the next boot, when it becomes currentBoot */
  secureBoot: { enabled: boolean; currentBoot: boolean };
  indicatorLed: IndicatorLed;
  firmware: FirmwareSpec[];
  volumes: VolumeState[];
  /** software RAID devices (absent in state saved before they existed) */
  softwareRaid?: SoftwareRaidState[];
  /** what the simulated disk holds, written by the machine-side agent (Ironic issue) */
  installedImage: { url: string; bootable: boolean; writtenAt: string; bytes?: number; configDrive?: string | null; disk?: string } | null;
  /** what is running now (set by the boot that succeeded; cleared at power-off) */
  running: string | null;
  bootCount: number;
  lastBoot: BootRecord | null;
  /** when firmware last started (power-on or reset): Redfish LastResetTime */
  lastResetAt?: string;
  bootHistory: BootRecord[];
  console: string[];
  events: LogEntry[];
  nextEventId: number;
}

export const CONSOLE_LINES = 2000;
export const EVENT_ENTRIES = 500;
export const BOOT_HISTORY = 50;

export function emptyMedia(id: 'Cd' | 'Floppy'): VirtualMediaState {
  return {
    id,
    image: null,
    imageName: null,
    inserted: false,
    writeProtected: true,
    userName: null,
    password: null,
    transferProtocolType: null,
    transferMethod: null,
    verifyCertificate: false,
    localPath: null,
    fetch: 'idle',
    fetchError: null,
    bytes: 0,
  };
}

export function initialState(spec: MachineSpec): MachineState {
  return {
    power: 'Off',
    boot: { overrideTarget: 'None', overrideEnabled: 'Disabled', overrideMode: 'UEFI', httpBootUri: null, bootOrder: ['Hdd', 'Pxe', 'Cd'] },
    media: [emptyMedia('Cd'), emptyMedia('Floppy')],
    bios: { attributes: { ...spec.biosDefaults }, pending: null },
    secureBoot: { enabled: false, currentBoot: false },
    indicatorLed: 'Off',
    firmware: spec.firmware.map((f) => ({ ...f })),
    volumes: [],
    installedImage: null,
    running: null,
    bootCount: 0,
    lastBoot: null,
    bootHistory: [],
    console: [],
    events: [],
    nextEventId: 1,
  };
}

export const DEFAULT_TIMINGS: Timings = {
  powerOn: 1000,
  powerOff: 1000,
  gracefulShutdown: 5000,
  post: 10000,
  mediaFetch: 2000,
  firmwareFlash: 30000,
  volumeCreate: 5000,
};

export const DEFAULT_BIOS: Record<string, BiosValue> = {
  BootMode: 'Uefi',
  ProcTurboMode: 'Enabled',
  ProcVirtualization: 'Enabled',
  SriovGlobalEnable: 'Disabled',
  L2Cache: '10x256 KB',
  NumCores: 8,
  QuietBoot: true,
  EmbeddedSata: 'Raid',
  NicBoot1: 'NetworkBoot',
  NicBoot2: 'Disabled',
};
