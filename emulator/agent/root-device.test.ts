// The agent's install-device choice, as ironic-python-agent makes it with ironic-lib's hints.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { NoRootDeviceError, selectRootDevice } from './root-device.js';

const GiB = 2 ** 30;
const disks = [
  {
    name: '/dev/sda',
    model: 'Samsung SSD 870',
    vendor: 'ATA',
    size: 480 * GiB,
    rotational: false,
    serial: 'S1',
    wwn: '0x5000',
    hctl: '0:0:0:0',
    by_path: '/dev/disk/by-path/pci-1',
  },
  {
    name: '/dev/sdb',
    model: 'WDC WD20',
    vendor: 'WDC',
    size: 2000 * GiB,
    rotational: true,
    serial: 'W2',
    wwn: '0x5001',
    hctl: '1:0:0:0',
    by_path: '/dev/disk/by-path/pci-2',
  },
  { name: '/dev/sdc', model: 'tiny', vendor: 'ATA', size: 2 * GiB, rotational: false, serial: 'T3', wwn: '0x5002', hctl: '2:0:0:0' },
];

it('without hints: the smallest disk of at least 4 GiB', () => {
  assert.equal(selectRootDevice(disks, null).name, '/dev/sda');
  assert.equal(selectRootDevice(disks, {}).name, '/dev/sda');
  assert.throws(() => selectRootDevice([disks[2]], null), NoRootDeviceError);
});

it("matches ironic-lib's operators: s==, s!=, <in>, <or>, sizes in GiB, booleans, bare values", () => {
  const pick = (h: Record<string, unknown>) => selectRootDevice(disks, h).name;
  assert.equal(pick({ name: 's== /dev/sdb' }), '/dev/sdb');
  assert.equal(pick({ name: 'sdb' }), '/dev/sdb', 'a name without /dev/ is the same device');
  assert.equal(pick({ serial: 's!= S1' }), '/dev/sdb');
  assert.equal(pick({ model: '<in> WD' }), '/dev/sdb');
  assert.equal(pick({ wwn: '<or> 0x9999 <or> 0x5001' }), '/dev/sdb');
  assert.equal(pick({ size: '>= 1000' }), '/dev/sdb');
  assert.equal(pick({ size: 480 }), '/dev/sda');
  assert.equal(pick({ size: '< 10' }), '/dev/sdc');
  assert.equal(pick({ rotational: 'true' }), '/dev/sdb');
  assert.equal(pick({ rotational: false, size: '> 100' }), '/dev/sda', 'every hint must hold');
  assert.equal(pick({ by_path: 's== /dev/disk/by-path/pci-2' }), '/dev/sdb');
  assert.equal(pick({ hctl: 's== 2:0:0:0' }), '/dev/sdc');
});

it("no match is IPA's DeviceNotFound, naming the hints as Python prints them", () => {
  assert.throws(
    () => selectRootDevice(disks, { serial: 's== NOPE', rotational: true }),
    (e: Error) =>
      e instanceof NoRootDeviceError &&
      e.message === "No suitable device was found for deployment using these hints {'serial': 's== NOPE', 'rotational': True}",
  );
  assert.throws(() => selectRootDevice(disks, { unknown_hint: 'x' }), NoRootDeviceError, 'a hint the agent does not know matches nothing');
});
