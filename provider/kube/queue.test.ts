import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from './queue.js';

describe('work queue', () => {
  it('queues a key once and holds re-adds while it is processed', async () => {
    const q = new WorkQueue('t');
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    q.add('a'); // re-added while in flight: not handed out twice
    assert.equal(await q.get(), 'b');
    assert.equal(q.length, 0);
    q.done('a');
    assert.equal(q.length, 1, 'the re-add is queued once processing is done');
    assert.equal(await q.get(), 'a');
    q.done('a');
    q.done('b');
    q.shutdown();
    assert.equal(await q.get(), undefined);
  });

  it('hands a key to a waiting worker immediately', async () => {
    const q = new WorkQueue('t');
    const p = q.get();
    q.add('x');
    assert.equal(await p, 'x');
  });

  it('backs off exponentially per item until forgotten', async () => {
    const q = new WorkQueue('t', { baseDelayMs: 5, maxDelayMs: 40 });
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => q.backoff(n)),
      [5, 10, 20, 40, 40],
    );
    const t0 = performance.now();
    q.addRateLimited('k');
    q.addRateLimited('k'); // a pending delayed add is not duplicated
    assert.equal(await q.get(), 'k');
    assert.ok(performance.now() - t0 >= 4);
    assert.equal(q.failuresOf('k'), 2);
    q.forget('k');
    assert.equal(q.failuresOf('k'), 0);
    q.shutdown();
  });

  it('a retry given its own cap waits no longer than that, however often it failed', async () => {
    const q = new WorkQueue('t');
    for (let i = 0; i < 19; i++) q.addRateLimited('busy'); // the first is due in 5 ms, the rest merge into it
    assert.equal(await q.get(), 'busy');
    q.done('busy');
    // the 20th failure: 5 ms·2^19 uncapped, about 45 minutes
    const t0 = performance.now();
    q.addRateLimited('busy', 50);
    const got = await Promise.race([q.get(), new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2000).unref())]);
    assert.equal(got, 'busy');
    assert.ok(performance.now() - t0 >= 45, 'it still waited its capped backoff');
    assert.equal(q.failuresOf('busy'), 20, 'the failures still count');
    q.shutdown();
  });

  it('a sooner requeueAfter replaces a later pending one', async () => {
    const q = new WorkQueue('t');
    q.addAfter('a', 60_000);
    q.addAfter('a', 10);
    const started = performance.now();
    assert.equal(await q.get(), 'a');
    assert.ok(performance.now() - started < 5_000, 'the 10 ms delay fired, not the 60 s one');
    q.done('a');
    q.shutdown();
  });
});
