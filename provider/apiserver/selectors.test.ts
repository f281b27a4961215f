import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import { fromLabelSelectorObject, matchLabels, parseFieldSelector, parseLabelSelector, supportedFields } from './selectors.js';

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', 'example.com/role': 'x' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web, db)', true],
    ['app notin (web)', false],
    ['tier,app=web', true],
    ['!tier', false],
    ['missing', false],
    ['!missing', true],
    ['example.com/role=x,app in (web)', true],
    ['app=db', false],
  ];
  for (const [sel, want] of cases) {
    it(`"${sel}" → ${want}`, () => assert.equal(matchLabels(parseLabelSelector(sel), l), want));
  }
  it('rejects malformed selectors with BadRequest', () => {
    for (const bad of ['app in (web', 'a b c', 'Bad Key=1', 'app=va lue']) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) => e instanceof ApiError && e.code === 400,
        bad,
      );
    }
  });
  it('converts metav1.LabelSelector objects', () => {
    const sel = fromLabelSelectorObject({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }],
    });
    assert.equal(matchLabels(sel, l), true);
    assert.equal(matchLabels(sel, { app: 'web', tier: 'back' }), false);
  });
});

describe('field selectors', () => {
  it('accepts the fields a kind supports and rejects the rest', () => {
    const ev = supportedFields('', 'events');
    assert.deepEqual(parseFieldSelector('involvedObject.name=a,type!=Warning', ev), [
      { field: 'involvedObject.name', op: '=', value: 'a' },
      { field: 'type', op: '!=', value: 'Warning' },
    ]);
    assert.throws(() => parseFieldSelector('spec.foo=1', supportedFields('x.io', 'things')), /field label not supported: spec.foo/);
  });
});
