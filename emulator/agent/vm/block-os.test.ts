import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildIso } from '../../../lib/iso9660.js';
import { addConfigDrivePartition, BlockDeviceOs, CONFIG_DRIVE_BYTES, DiskWriteError } from './block-os.js';
import { readHardware } from './hardware.js';

const MiB = 1024 * 1024;
function mbr(parts: Array<[type: number, start: number, sectors: number]>): Buffer {
  const b = Buffer.alloc(512);
  parts.forEach(([type, start, sectors], i) => {
    b[446 + i * 16 + 4] = type;
    b.writeUInt32LE(start, 446 + i * 16 + 8);
    b.writeUInt32LE(sectors, 446 + i * 16 + 12);
  });
  b.writeUInt16LE(0xaa55, 510);
  return b;
}

describe('config drive partition (as IPA adds it to whole-disk images)', () => {
  it('adds a 64 MiB partition, MiB-aligned, at the end of the disk in the first free slot', () => {
    const { mbr: out, offset } = addConfigDrivePartition(mbr([[0x0c, 2048, 20480]]), 1e9);
    assert.equal(offset % MiB, 0);
    assert.ok(offset + CONFIG_DRIVE_BYTES <= 1e9);
    assert.equal(out[462 + 4], 0x83);
    assert.equal(out.readUInt32LE(462 + 8), offset / 512);
    assert.equal(out.readUInt32LE(462 + 12), CONFIG_DRIVE_BYTES / 512);
    assert.equal(out[446 + 4], 0x0c, 'the image’s own partition is untouched');
  });

  it('refuses what IPA refuses: no MBR, GPT, four partitions, no room', () => {
    assert.throws(() => addConfigDrivePartition(Buffer.alloc(512), 1e9), DiskWriteError);
    assert.throws(() => addConfigDrivePartition(mbr([[0xee, 1, 100]]), 1e9), /GPT/);
    assert.throws(
      () =>
        addConfigDrivePartition(
          mbr([
            [0x83, 1, 1],
            [0x83, 2, 1],
            [0x83, 3, 1],
            [0x83, 4, 1],
          ]),
          1e9,
        ),
      /full/,
    );
    assert.throws(() => addConfigDrivePartition(mbr([[0x83, 2048, 1e9 / 512]]), 1e9), /no room/);
  });

  it('writes image and config drive to a block device (a file here) and reads the drive back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrite-blockos-'));
    try {
      const dev = join(dir, 'vda');
      writeFileSync(dev, Buffer.alloc(100 * MiB));
      const spec = { ...readHardware(join(dir, 'nosys'), join(dir, 'noproc')) };
      spec.disks = [
        {
          id: 'Disk.0',
          name: dev,
          sizeBytes: 100 * MiB,
          mediaType: 'SSD',
          protocol: 'SATA',
          rotational: false,
          serial: '',
          wwn: '',
          model: 'test',
          writeMBps: 1e9,
        },
      ];
      const os = new BlockDeviceOs(spec, () => {});
      const image = Buffer.concat([mbr([[0x0c, 2048, 4096]]), Buffer.alloc(4 * MiB - 512, 7)]);
      const cd = buildIso('config-2', [{ path: 'openstack/latest/meta_data.json', data: Buffer.from('{"hostname":"h"}') }]);
      await os.writeImage('http://x/os.img', image.length, new AbortController().signal, cd, image);
      const disk = readFileSync(dev);
      assert.equal(disk[600], 7, 'the image is on the disk');
      const back = os.configDrive();
      assert.ok(back);
      assert.deepEqual(back.subarray(0, cd.length), cd);
      os.eraseDisks();
      assert.equal(readFileSync(dev).readUInt16LE(510), 0, 'metadata erase wiped the partition table');
      await assert.rejects(
        os.writeImage('http://x/q.qcow2', 10, new AbortController().signal, null, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0])),
        /qcow2/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
