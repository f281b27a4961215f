import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergePatchFor } from './patch-helper.js';
import { semanticEqual } from './semantic.js';

describe('semantic equality', () => {
  it('ignores object key order at every depth, as a server that sorts keys returns them', () => {
    const mine = { status: { provisioning: { state: 'available', ID: 'x' }, conditions: [{ type: 'Ready', status: 'True' }] } };
    const sorted = { status: { conditions: [{ status: 'True', type: 'Ready' }], provisioning: { ID: 'x', state: 'available' } } };
    assert.notEqual(JSON.stringify(mine), JSON.stringify(sorted));
    assert.ok(semanticEqual(mine, sorted));
  });

  it('treats undefined as absent and keeps array order significant', () => {
    assert.ok(semanticEqual({ a: 1, b: undefined }, { a: 1 }));
    assert.ok(semanticEqual(undefined, null));
    assert.ok(!semanticEqual([1, 2], [2, 1]));
    assert.ok(!semanticEqual({ a: 1 }, { a: '1' }));
  });

  it('answers as comparing the JSON texts would, for every JSON quirk', () => {
    const same = (a: unknown, b: unknown) => assert.equal(semanticEqual(a, b), true, `${JSON.stringify(a)} = ${JSON.stringify(b)}`);
    const differ = (a: unknown, b: unknown) => assert.equal(semanticEqual(a, b), false, `${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
    same({ a: null }, { a: null });
    differ({ a: null }, {});
    differ({ a: null }, { a: undefined });
    same([undefined], [null]);
    same([() => 1], [null]);
    same({ f: () => 1, a: 1 }, { a: 1 });
    same({ n: Number.NaN }, { n: null });
    same({ d: new Date('2026-12-07T00:00:00Z') }, { d: '2026-12-07T00:00:00.000Z' });
    same(0, -0);
    differ([], {});
    differ({ a: [1] }, { a: { 0: 1 } });
    differ({ a: 1 }, { a: 1, b: 2 });
    differ({ a: 1, b: 2 }, { a: 1 });
    same({ a: 1, b: undefined }, { b: undefined, a: 1 });
    differ('1', 1);
    differ(true, 'true');
    same({ x: { y: [{ z: [1, { w: 'v' }] }] } }, { x: { y: [{ z: [1, { w: 'v' }] }] } });
    differ({ x: { y: [{ z: [1, { w: 'v' }] }] } }, { x: { y: [{ z: [1, { w: 'u' }] }] } });
  });

  it('a merge patch between key-reordered copies is empty', () => {
    const a = { spec: { image: { url: 'u', checksum: 'c' }, tags: [{ k: 1, v: 2 }] } };
    const b = { spec: { tags: [{ v: 2, k: 1 }], image: { checksum: 'c', url: 'u' } } };
    assert.equal(mergePatchFor(a, b), undefined);
  });
});
