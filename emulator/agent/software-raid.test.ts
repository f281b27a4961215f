import assert from 'node:assert/strict';
import { it } from 'node:test';
import { planSoftwareRaid, SoftwareRaidError, softwareRaidRoot } from './software-raid.js';

const GiB = 2 ** 30;
const disks = [
  { name: '/dev/sda', size: 100 * GiB, serial: 'A', rotational: false },
  { name: '/dev/sdb', size: 120 * GiB, serial: 'B', rotational: false },
  { name: '/dev/sdc', size: 500 * GiB, serial: 'C', rotational: true },
];
const sw = (o: Record<string, unknown>) => ({ controller: 'software', ...o });

it('builds md devices from partitions of the same disks, the MAX one taking what the smallest member has left', () => {
  const md = planSoftwareRaid(
    'n',
    { logical_disks: [sw({ size_gb: 10, raid_level: '1' }), sw({ size_gb: 'MAX', raid_level: '0' })] },
    disks,
  );
  assert.deepEqual(
    md.map((v) => [v.name, v.members, v.sizeBytes / GiB]),
    [
      ['/dev/md0', ['/dev/sda1', '/dev/sdb1', '/dev/sdc1'], 10],
      ['/dev/md1', ['/dev/sda2', '/dev/sdb2', '/dev/sdc2'], 90 * 3],
    ],
  );
  const picked = planSoftwareRaid(
    'n',
    { logical_disks: [sw({ size_gb: 'MAX', raid_level: '1', physical_disks: [{ serial: 's== C' }, { name: 's== /dev/sdb' }] })] },
    disks,
  );
  assert.deepEqual(picked[0].members, ['/dev/sdc1', '/dev/sdb1'], 'physical_disks hints choose the members');
  assert.equal(picked[0].sizeBytes, 120 * GiB);
});

it("refuses what IPA's validation refuses, with its messages", () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ logical_disks: [] }, /RAID config contains no logical disks/],
    [{ logical_disks: [sw({ size_gb: 10, raid_level: '0' })] }, /requires RAID-1 for the first logical disk/],
    [{ logical_disks: [{ size_gb: 10, raid_level: '1' }] }, /requires all logical disks to have 'controller'='software'/],
    [
      { logical_disks: [sw({ size_gb: 'MAX', raid_level: '1' }), sw({ size_gb: 'MAX', raid_level: '1' })] },
      /only one RAID device with size 'MAX'/,
    ],
    [
      {
        logical_disks: [
          sw({ size_gb: 5, raid_level: '1', is_root_volume: true }),
          sw({ size_gb: 5, raid_level: '1', is_root_volume: true }),
        ],
      },
      /only one logical disk to be marked as is_root_volume/,
    ],
    [{ logical_disks: [sw({ size_gb: 5, raid_level: '1', physical_disks: [{ serial: 's== A' }] })] }, /at least 2 items/],
    [{ logical_disks: [sw({ size_gb: 500, raid_level: '1' })] }, /Not enough space/],
  ];
  for (const [cfg, why] of bad)
    assert.throws(
      () => planSoftwareRaid('node-1', cfg, disks),
      (e: unknown) => e instanceof SoftwareRaidError && why.test(e.message),
    );
});

it('installs onto the root volume, even over hints; without one, guesses while leaving out volumes marked false', () => {
  const md = planSoftwareRaid(
    'n',
    {
      logical_disks: [
        sw({ size_gb: 10, raid_level: '1', is_root_volume: false }),
        sw({ size_gb: 50, raid_level: '1', is_root_volume: true }),
      ],
    },
    disks.slice(0, 2),
  );
  assert.equal(softwareRaidRoot(md, disks.slice(0, 2)), '/dev/md1');
  assert.equal(softwareRaidRoot(md, disks.slice(0, 2), { name: 's== /dev/sda' }), '/dev/md1');
  const unmarked = md.map((v) => ({ ...v, rootVolume: undefined }));
  assert.equal(softwareRaidRoot(unmarked, disks.slice(0, 2)), '/dev/md0', 'the smallest device of 4 GiB or more');
  const md0NotRoot = [{ ...md[0] }, { ...md[1], rootVolume: undefined }];
  assert.equal(softwareRaidRoot(md0NotRoot, disks), '/dev/md1', 'md0 and its disks are left out');
});
