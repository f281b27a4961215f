// The agent ramdisk's side of MachineOs: the same agent code as the simulator, but the disk it
// writes is a real block device. Images are written raw (the ramdisk carries no qemu-img), and
// the config drive goes where ironic-python-agent puts it for whole-disk images: a partition of
// its own at the end of the disk, found by the installed OS through its "config-2" label.
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { MachineOs } from '../../machine/boot-handlers.js';
import { realClock } from '../../machine/clock.js';
import type { MachineSpec } from '../../machine/model.js';

const MiB = 1024 * 1024;
/** IPA makes the config drive partition 64 MiB */
export const CONFIG_DRIVE_BYTES = 64 * MiB;

export class DiskWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiskWriteError';
  }
}

function writeAll(fd: number, data: Buffer, position: number): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off, position + off);
}

/**
 * Adds a primary MBR partition holding the last CONFIG_DRIVE_BYTES of the disk (1 MiB aligned)
 * and returns its byte offset. Refuses GPT and a full partition table rather than guess.
 */
export function addConfigDrivePartition(mbr: Buffer, diskBytes: number): { mbr: Buffer; offset: number } {
  if (mbr.length < 512 || mbr.readUInt16LE(510) !== 0xaa55)
    throw new DiskWriteError('the image has no MBR partition table: cannot add a config drive partition');
  const out = Buffer.from(mbr.subarray(0, 512));
  const entries = [0, 1, 2, 3].map((i) => 446 + i * 16);
  if (entries.some((e) => out[e + 4] === 0xee)) throw new DiskWriteError('GPT disks are not supported for the config drive yet');
  let end = 0;
  for (const e of entries) if (out[e + 4] !== 0) end = Math.max(end, (out.readUInt32LE(e + 8) + out.readUInt32LE(e + 12)) * 512);
  const free = entries.find((e) => out[e + 4] === 0);
  if (free === undefined) throw new DiskWriteError('the partition table is full: no room for the config drive partition');
  const offset = Math.floor((diskBytes - CONFIG_DRIVE_BYTES) / MiB) * MiB;
  if (offset < end) throw new DiskWriteError('the disk has no room after the image for the config drive');
  out.fill(0, free, free + 16);
  // CHS fields are unused by anything that matters today; LBA addressing only (0xfe/0xff/0xff)
  out.set([0xfe, 0xff, 0xff], free + 1);
  out[free + 4] = 0x83;
  out.set([0xfe, 0xff, 0xff], free + 5);
  out.writeUInt32LE(offset / 512, free + 8);
  out.writeUInt32LE(CONFIG_DRIVE_BYTES / 512, free + 12);
  return { mbr: out, offset };
}

export class BlockDeviceOs implements MachineOs {
  readonly clock = realClock;
  constructor(
    readonly spec: MachineSpec,
    private readonly log: (line: string) => void,
  ) {}

  private get root(): MachineSpec['disks'][number] {
    const d = this.spec.disks[0];
    if (!d) throw new DiskWriteError('this machine has no disks');
    return d;
  }

  async writeImage(
    url: string,
    bytes: number,
    _signal: AbortSignal,
    configDrive: Buffer | null,
    data?: Buffer,
    device?: string,
  ): Promise<void> {
    // the device the agent chose by the root device hints, else the first disk
    const disk = device ? this.spec.disks.find((d) => d.name === device || `/dev/${d.name}` === device) : this.root;
    if (!disk) throw new DiskWriteError(`this machine has no disk ${device}`);
    if (!data) throw new DiskWriteError('no image data to write');
    if (data.length >= 4 && data.readUInt32BE(0) === 0x514649fb)
      throw new DiskWriteError(`${url} is a qcow2 image: the Ferrite agent ramdisk writes raw images only`);
    if (bytes > disk.sizeBytes) throw new DiskWriteError(`image of ${bytes} bytes does not fit ${disk.name} (${disk.sizeBytes} bytes)`);
    const fd = openSync(disk.name, 'r+');
    try {
      writeAll(fd, data, 0);
      if (configDrive) {
        const { mbr, offset } = addConfigDrivePartition(data.subarray(0, 512), disk.sizeBytes);
        writeAll(fd, Buffer.concat([configDrive, Buffer.alloc(Math.max(0, 512 - (configDrive.length % 512)) % 512)]), offset);
        writeAll(fd, mbr, 0);
        this.log(`ironic-python-agent: config drive written to ${disk.name} at ${offset / MiB} MiB`);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Metadata erase, as IPA's erase_devices_metadata: the first and last MiB of every disk. */
  eraseDisks(): void {
    for (const d of this.spec.disks) {
      const fd = openSync(d.name, 'r+');
      try {
        const zero = Buffer.alloc(Math.min(MiB, d.sizeBytes));
        writeAll(fd, zero, 0);
        if (d.sizeBytes > 2 * MiB) writeAll(fd, zero, d.sizeBytes - MiB);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** The config drive partition, when the disk holds one (read back for tests and logs). */
  configDrive(): Buffer | null {
    const d = this.spec.disks[0];
    if (!d) return null;
    const fd = openSync(d.name, 'r');
    try {
      const mbr = Buffer.alloc(512);
      readSync(fd, mbr, 0, 512, 0);
      if (mbr.readUInt16LE(510) !== 0xaa55) return null;
      for (let i = 0; i < 4; i++) {
        const e = 446 + i * 16;
        if (mbr[e + 4] !== 0x83) continue;
        const start = mbr.readUInt32LE(e + 8) * 512;
        const head = Buffer.alloc(2048);
        readSync(fd, head, 0, 2048, start + 16 * 2048);
        if (head.subarray(40, 48).toString('latin1') !== 'config-2') continue;
        const buf = Buffer.alloc(mbr.readUInt32LE(e + 12) * 512);
        readSync(fd, buf, 0, buf.length, start);
        return buf;
      }
      return null;
    } finally {
      closeSync(fd);
    }
  }

  shutdown(): void {
    this.log('ironic-python-agent: powering off');
    spawn('sh', ['-c', 'sync; poweroff -f'], { stdio: 'inherit' });
  }

  reboot(): void {
    spawn('sh', ['-c', 'sync; reboot -f'], { stdio: 'inherit' });
  }
}
