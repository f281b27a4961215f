import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseFleet, resolveFleet } from './config.js';

it('a disk keeps the write speed the fleet file gives it; the type decides only when none is given', () => {
  const f = resolveFleet(
    parseFleet(`machines:
  - name: a
    disks: [{ sizeGB: 20, writeMBps: 1 }, { sizeGB: 20, type: hdd }, { sizeGB: 20, type: nvme }, { sizeGB: 20 }, { sizeGB: 20, type: hdd, writeMBps: 7 }]
`),
  );
  assert.deepEqual(
    f.machines[0].spec.disks.map((d) => d.writeMBps),
    [1, 180, 2000, 500, 7],
  );
});
