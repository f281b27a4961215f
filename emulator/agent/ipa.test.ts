import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INSPECTION_ATTEMPTS, inspectionData, inspectionRetryWaitMs, sendInspectionData } from './ipa.js';

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

describe("the inspection callback, retried as IPA's", () => {
  // a fake Ironic answering with the statuses given, one per attempt ('down' = connection refused)
  const run = async (answers: Array<number | 'down'>) => {
    const waits: number[] = [];
    const lines: string[] = [];
    let calls = 0;
    const sent = await sendInspectionData(
      async () => {
        const a = answers[Math.min(calls++, answers.length - 1)];
        if (a === 'down') throw new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:6385') });
        return { ok: a < 300, status: a, text: async () => (a === 503 ? 'No free conductor workers available' : 'Node not found') };
      },
      { sleep: async (ms) => void waits.push(ms), log: (l) => void lines.push(l), aborted: () => false },
    );
    return { sent, calls, waits, lines };
  };

  it('tries again after a 503 (Ironic out of workers) and a refused connection, with IPA’s waits', async () => {
    const r = await run([503, 'down', 503, 202]);
    assert.equal(r.sent, true);
    assert.equal(r.calls, 4);
    assert.deepEqual(r.waits, [5000, 5000, 6000]);
    assert.ok(r.lines.some((l) => l.includes('HTTP 503: No free conductor workers')));
  });

  it('stops after five attempts, having waited 5, 5, 6 and 12 s', async () => {
    const r = await run([503]);
    assert.equal(r.sent, false);
    assert.equal(r.calls, INSPECTION_ATTEMPTS);
    assert.deepEqual(r.waits, [5000, 5000, 6000, 12000]);
    assert.match(r.lines.at(-1) ?? '', /proceeding with lookup/);
  });

  it('takes a 4xx as final: one attempt, no wait', async () => {
    const r = await run([404, 202]);
    assert.equal(r.sent, false);
    assert.equal(r.calls, 1);
    assert.deepEqual(r.waits, []);
  });

  it('waits at most 30 s', () => {
    assert.equal(inspectionRetryWaitMs(10), 30_000);
  });
});
