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

  it('a merge patch between key-reordered copies is empty', () => {
    const a = { spec: { image: { url: 'u', checksum: 'c' }, tags: [{ k: 1, v: 2 }] } };
    const b = { spec: { tags: [{ v: 2, k: 1 }], image: { checksum: 'c', url: 'u' } } };
    assert.equal(mergePatchFor(a, b), undefined);
  });
});
