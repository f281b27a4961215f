import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { poolRange, rangeSize } from './addresses.js';
import { AllocationError, addressName, allocate, preAllocated } from './allocator.js';

const fail = (f: () => unknown, reason: string) => assert.throws(f, (e: unknown) => e instanceof AllocationError && e.reason === reason);

describe('IP pool ranges', () => {
  it('walks start..end, subnet+1..last, and start bounded by its subnet', () => {
    assert.equal(rangeSize(poolRange({ start: '10.0.0.1', end: '10.0.0.10' }) as never), 10n);
    assert.equal(rangeSize(poolRange({ subnet: '10.0.0.0/30' }) as never), 3n);
    assert.equal(rangeSize(poolRange({ start: '10.0.0.250', end: '10.0.1.5', subnet: '10.0.0.0/24' }) as never), 6n);
    assert.equal(
      rangeSize(poolRange({ start: '10.0.1.1', subnet: '10.0.0.0/24' }) as never),
      0n,
      'a start outside its subnet gives nothing',
    );
  });

  it('refuses an entry without start or subnet, and an end before its start', () => {
    assert.match((poolRange({ end: '10.0.0.1' }) as { error: string }).error, /either Start or Subnet/);
    assert.match((poolRange({ start: '10.0.0.9', end: '10.0.0.1' }) as { error: string }).error, /before start/);
  });
});

describe('allocate', () => {
  const spec = { namePrefix: 'p', prefix: 24, gateway: '10.0.0.254', pools: [{ start: '10.0.0.1', end: '10.0.0.3' }] };

  it('gives the lowest free address, skipping taken and pre-allocated ones', () => {
    const used = new Map([['10.0.0.1', 'a']]);
    assert.deepEqual(allocate(spec, { claimName: 'b', used }), { address: '10.0.0.2', prefix: 24, gateway: '10.0.0.254' });
    const pre = { ...spec, preAllocations: { keep: '10.0.0.2' } };
    const used2 = new Map([...preAllocated(pre), ['10.0.0.1', 'a']]);
    assert.equal(allocate(pre, { claimName: 'b', used: used2 }).address, '10.0.0.3');
    assert.equal(allocate(pre, { claimName: 'keep', used: used2 }).address, '10.0.0.2');
  });

  it('reports exhaustion, a taken request, an out-of-range pre-allocation and a conflict', () => {
    const full = new Map([
      ['10.0.0.1', 'a'],
      ['10.0.0.2', 'b'],
      ['10.0.0.3', 'c'],
    ]);
    fail(() => allocate(spec, { claimName: 'd', used: full }), 'Exhausted');
    fail(() => allocate(spec, { claimName: 'd', used: full, requested: '10.0.0.2' }), 'RequestedNotAvailable');
    fail(() => allocate(spec, { claimName: 'd', used: new Map(), requested: 'x' }), 'InvalidRequest');
    fail(() => allocate({ ...spec, preAllocations: { d: '10.9.9.9' } }, { claimName: 'd', used: new Map() }), 'PreAllocationOutOfBounds');
    fail(
      () => allocate({ ...spec, preAllocations: { d: '10.0.0.1' } }, { claimName: 'd', used: new Map(), requested: '10.0.0.2' }),
      'Conflicting',
    );
  });

  it('allocates IPv6 and prints it in RFC 5952 form', () => {
    const v6 = { namePrefix: 'v6', prefix: 64, pools: [{ start: 'fd00:0:0:0::10', end: 'fd00::ffff' }] };
    const a = allocate(v6, { claimName: 'a', used: new Map([['fd00::10', 'x']]) });
    assert.equal(a.address, 'fd00::11');
    assert.equal(addressName('v6', a.address), 'v6-fd00--11');
  });

  it('starts at a random place with allocationStrategy random, and wraps around', () => {
    const r = { ...spec, allocationStrategy: 'random' as const };
    assert.equal(allocate(r, { claimName: 'a', used: new Map(), random: () => 2 }).address, '10.0.0.3');
    assert.equal(allocate(r, { claimName: 'a', used: new Map([['10.0.0.3', 'x']]), random: () => 2 }).address, '10.0.0.1');
  });

  it('takes a range’s own prefix, gateway and DNS over the pool’s', () => {
    const s = {
      ...spec,
      dnsServers: ['1.1.1.1'],
      pools: [{ start: '10.1.0.1', end: '10.1.0.1', prefix: 30, gateway: '10.1.0.2', dnsServers: ['9.9.9.9'] }],
    };
    assert.deepEqual(allocate(s, { claimName: 'a', used: new Map() }), {
      address: '10.1.0.1',
      prefix: 30,
      gateway: '10.1.0.2',
      dnsServers: ['9.9.9.9'],
    });
  });
});
