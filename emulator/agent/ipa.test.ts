import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectionData } from './ipa.js';

describe('inspection data', () => {
  it('root_disk is one object, as ironic-python-agent sends it: the smallest disk of 4 GiB or more', () => {
    const GiB = 2 ** 30;
    const disks = [
      { name: '/dev/sda', size: 960 * GiB },
      { name: '/dev/sdb', size: 2 * GiB },
      { name: '/dev/nvme0n1', size: 480 * GiB },
    ];
    const d = inspectionData({ disks });
    assert.deepEqual(d.root_disk, { name: '/dev/nvme0n1', size: 480 * GiB });
    assert.equal(inspectionData({ disks: [{ name: '/dev/sdb', size: GiB }] }).root_disk, null);
  });
});
