import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloneJson } from './clone.js';

describe('cloneJson', () => {
  it('copies nested objects and arrays: a change to the copy never reaches the original', () => {
    const o = { metadata: { labels: { a: '1' }, finalizers: ['x'] }, spec: { list: [{ n: 1 }, null, 'two', 3, true] } };
    const c = cloneJson(o);
    assert.deepEqual(c, o);
    c.metadata.labels.a = '2';
    c.metadata.finalizers.push('y');
    (c.spec.list[0] as { n: number }).n = 9;
    assert.equal(o.metadata.labels.a, '1');
    assert.deepEqual(o.metadata.finalizers, ['x']);
    assert.deepEqual(o.spec.list[0], { n: 1 });
    assert.notEqual(c.spec, o.spec);
  });

  it('keeps a "__proto__" key from JSON as data, without changing the copy\'s prototype', () => {
    const o = JSON.parse('{"a":{"__proto__":{"polluted":true}}}') as { a: Record<string, unknown> };
    const c = cloneJson(o);
    assert.equal(Object.getPrototypeOf(c.a), Object.prototype);
    assert.deepEqual(Object.keys(c.a), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('passes primitives and null through, and keeps keys whose value is undefined (as structuredClone does)', () => {
    assert.equal(cloneJson(5), 5);
    assert.equal(cloneJson('s'), 's');
    assert.equal(cloneJson(null), null);
    const c = cloneJson({ a: undefined, b: 1 });
    assert.deepEqual(Object.keys(c), ['a', 'b']);
  });
});
