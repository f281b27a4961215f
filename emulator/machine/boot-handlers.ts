// What runs after firmware picks a boot device. The Ironic and cluster issues plug in the agent
// and the installed OS here; until then the defaults only record what a real machine would show.
import type { Clock } from './clock.js';
import type { BootMode, BootTarget, MachineSpec, SoftwareRaidState, VirtualMediaState } from './model.js';

/** What software running on the machine (the agent, the installed OS) can do to its hardware. */
export interface MachineOs {
  readonly spec: MachineSpec;
  readonly clock: Clock;
  /** writes an image of `bytes` to a disk (`disk`, a device name like /dev/sdb; the first one when
   * absent) at its speed; the config drive lands in a partition. `data` is the downloaded image,
   * for an OS whose disk is real (the agent ramdisk in a VM). */
  writeImage(url: string, bytes: number, signal: AbortSignal, configDrive: Buffer | null, data?: Buffer, disk?: string): Promise<void>;
  eraseDisks(): void;
  /** Linux software RAID on the disks, where the machine can hold it (not a VM's real disks) */
  softwareRaid?: {
    list(): SoftwareRaidState[];
    /** replaces whatever md devices exist with these */
    set(volumes: SoftwareRaidState[]): void;
  };
  /** the config drive partition written with the installed image, if any */
  configDrive(): Buffer | null;
  /** the OS asks for power off / reboot (ACPI from inside) */
  shutdown(): void;
  reboot(): void;
}

export interface BootContext {
  machineName: string;
  machineUuid: string;
  device: BootTarget;
  mode: BootMode;
  /** the NIC MAC a network boot uses (first NIC with link) */
  bootMac: string | null;
  /** for Cd/Usb/Floppy: the virtual media slot, fetched and ready */
  media: VirtualMediaState | null;
  httpBootUri: string | null;
  installedImage: { url: string; bootable: boolean } | null;
  /** aborted when the machine powers off or resets: long-running handlers must stop */
  signal: AbortSignal;
  console(line: string): void;
  os: MachineOs;
}

export type BootOutcome = { booted: true; what: string } | { booted: false; reason: string };
export type BootHandler = (ctx: BootContext) => Promise<BootOutcome>;
export type BootKind = 'network' | 'media' | 'disk' | 'setup';

export function bootKind(device: BootTarget): BootKind | null {
  switch (device) {
    case 'Pxe':
    case 'UefiHttp':
      return 'network';
    case 'Cd':
    case 'Usb':
    case 'Floppy':
      return 'media';
    case 'Hdd':
      return 'disk';
    case 'BiosSetup':
    case 'UefiShell':
    case 'Diags':
      return 'setup';
    default:
      return null;
  }
}

const defaults: Record<BootKind, BootHandler> = {
  async network(ctx) {
    const how = ctx.device === 'UefiHttp' ? `UEFI HTTP boot${ctx.httpBootUri ? ` from ${ctx.httpBootUri}` : ''}` : `PXE (${ctx.mode})`;
    ctx.console(`>>Start ${how} over ${ctx.bootMac ?? 'no NIC'}`);
    return { booted: false, reason: 'no DHCP offer received: no provisioning network is attached to this machine' };
  },
  async media(ctx) {
    const m = ctx.media;
    if (!m?.inserted) return { booted: false, reason: `no media in virtual ${ctx.device}` };
    ctx.console(`Booting from virtual ${ctx.device}: ${m.image}`);
    return { booted: true, what: `virtual media image ${m.image}` };
  },
  async disk(ctx) {
    if (!ctx.installedImage?.bootable) return { booted: false, reason: 'no bootable operating system on the disks' };
    ctx.console(`Booting installed OS (${ctx.installedImage.url})`);
    return { booted: true, what: `installed OS from ${ctx.installedImage.url}` };
  },
  async setup(ctx) {
    ctx.console(`Entering ${ctx.device === 'BiosSetup' ? 'firmware setup' : ctx.device}`);
    return { booted: true, what: ctx.device === 'BiosSetup' ? 'firmware setup' : ctx.device };
  },
};

/** Per-fleet handler table; a handler set for a kind replaces the recording default. */
export class BootHandlers {
  private readonly table = new Map<BootKind, BootHandler>();
  set(kind: BootKind, handler: BootHandler): void {
    this.table.set(kind, handler);
  }
  clear(kind: BootKind): void {
    this.table.delete(kind);
  }
  get(kind: BootKind): BootHandler {
    return this.table.get(kind) ?? defaults[kind];
  }
}
